"""Tenants: a ``tenant_id`` on every table, leading every key and index.

Existing rows belong to the tenant ``'default'``. Each table gets the column
(``NOT NULL``, filled through a temporary server default that is dropped again:
writers must always name their tenant), its primary key becomes
``(tenant_id, <old key>)``, the foreign keys become ``(tenant_id, <id>)`` pairs,
and the indexes the queries use (the daily due selection, the open outbox, the
payments and outbox of a loan, the loans of a borrower) get ``tenant_id`` in
front, so a tenant's query reads only its part of each index.

PostgreSQL alters the tables in place (adding a column with a default writes no
rows). SQLite cannot change a primary key, so each table is rebuilt once
(Alembic's batch mode: copy into a new table, drop the old, rename); foreign key
enforcement is off while that runs (see :mod:`loancollect_sqlalchemy.migrate`) and
the result is checked with ``PRAGMA foreign_key_check`` before the commit.

Downgrading is refused while any record belongs to another tenant than
``'default'``: revision 0001 has no place for it.

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-20
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_TENANT = "default"

# table -> its primary key columns after the tenant (the same before and after)
KEYS: dict[str, list[str]] = {
    "lc_borrowers": ["id"],
    "lc_loans": ["id"],
    "lc_payments": ["id"],
    "lc_cases": ["loan_id"],
    "lc_outbox": ["key"],
    "lc_events": ["loan_id", "seq"],
}
# name -> (table, columns after the tenant, partial-index condition or None)
INDEXES: dict[str, tuple[str, list[str], str | None]] = {
    "ix_lc_loans_borrower_id": ("lc_loans", ["borrower_id"], None),
    "ix_lc_payments_loan": ("lc_payments", ["loan_id", "value_date", "id"], None),
    "ix_lc_cases_due": ("lc_cases", ["next_review_date", "loan_id"], "closed_on IS NULL"),
    "ix_lc_outbox_loan_id": ("lc_outbox", ["loan_id"], None),
    "ix_lc_outbox_open": ("lc_outbox", ["created_on", "key"], "status IN ('pending', 'retry')"),
}
# (table, name in 0001, name in 0002, local column, referred table)
FOREIGN_KEYS = [
    (
        "lc_loans",
        "fk_lc_loans_borrower_id_lc_borrowers",
        "fk_lc_loans_tenant_id_lc_borrowers",
        "borrower_id",
        "lc_borrowers",
    ),
    (
        "lc_payments",
        "fk_lc_payments_loan_id_lc_loans",
        "fk_lc_payments_tenant_id_lc_loans",
        "loan_id",
        "lc_loans",
    ),
]


def _where(condition: str | None) -> dict[str, Any]:
    if condition is None:
        return {}
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def _sqlite() -> bool:
    return op.get_context().dialect.name == "sqlite"


def upgrade() -> None:
    """Apply this revision."""
    for name, (table, _, condition) in INDEXES.items():
        op.drop_index(name, table_name=table, **_where(condition))
    if not _sqlite():
        for table, old, _, _, _ in FOREIGN_KEYS:
            op.drop_constraint(old, table, type_="foreignkey")
    for table, key in KEYS.items():
        op.add_column(
            table,
            sa.Column(
                "tenant_id", sa.String(length=64), nullable=False, server_default=DEFAULT_TENANT
            ),
        )
        foreign = [fk for fk in FOREIGN_KEYS if fk[0] == table]
        if _sqlite():
            # one rebuild of the table with its new keys (SQLite cannot alter keys)
            with op.batch_alter_table(table, recreate="always") as batch:
                batch.alter_column("tenant_id", server_default=None)
                batch.drop_constraint(f"pk_{table}", type_="primary")
                batch.create_primary_key(f"pk_{table}", ["tenant_id", *key])
                for _, old, new, column, referred in foreign:
                    batch.drop_constraint(old, type_="foreignkey")
                    batch.create_foreign_key(
                        new, referred, ["tenant_id", column], ["tenant_id", "id"]
                    )
        else:
            op.alter_column(table, "tenant_id", server_default=None)
            op.drop_constraint(f"pk_{table}", table, type_="primary")
            op.create_primary_key(f"pk_{table}", table, ["tenant_id", *key])
    if not _sqlite():
        for table, _, new, column, referred in FOREIGN_KEYS:
            op.create_foreign_key(new, table, referred, ["tenant_id", column], ["tenant_id", "id"])
    for name, (table, columns, condition) in INDEXES.items():
        op.create_index(name, table, ["tenant_id", *columns], unique=False, **_where(condition))
    if _sqlite():
        broken = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"tenant migration broke foreign keys: {broken[:5]}")


def downgrade() -> None:
    """Revert this revision (refused while records of other tenants exist)."""
    bind = op.get_bind()
    for table in KEYS:
        found = bind.execute(
            sa.text(f"SELECT DISTINCT tenant_id FROM {table} WHERE tenant_id <> :t LIMIT 5"),
            {"t": DEFAULT_TENANT},
        ).scalars()
        others = sorted(found)
        if others:
            raise RuntimeError(
                f"cannot downgrade below revision 0002: {table} holds records of tenants "
                f"{others} besides {DEFAULT_TENANT!r}, which revision 0001 cannot keep apart"
            )
    for name, (table, _, condition) in INDEXES.items():
        op.drop_index(name, table_name=table, **_where(condition))
    if not _sqlite():
        for table, _, new, _, _ in FOREIGN_KEYS:
            op.drop_constraint(new, table, type_="foreignkey")
    for table, key in KEYS.items():
        foreign = [fk for fk in FOREIGN_KEYS if fk[0] == table]
        if _sqlite():
            with op.batch_alter_table(table, recreate="always") as batch:
                batch.drop_constraint(f"pk_{table}", type_="primary")
                batch.create_primary_key(f"pk_{table}", key)
                for _, old, new, column, referred in foreign:
                    batch.drop_constraint(new, type_="foreignkey")
                    batch.create_foreign_key(old, referred, [column], ["id"])
                batch.drop_column("tenant_id")
        else:
            op.drop_constraint(f"pk_{table}", table, type_="primary")
            op.create_primary_key(f"pk_{table}", table, key)
            op.drop_column(table, "tenant_id")
    if not _sqlite():
        for table, old, _, column, referred in FOREIGN_KEYS:
            op.create_foreign_key(old, table, referred, [column], ["id"])
    for name, (table, columns, condition) in INDEXES.items():
        op.create_index(name, table, columns, unique=False, **_where(condition))
    if _sqlite():
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"downgrade broke foreign keys: {broken[:5]}")
