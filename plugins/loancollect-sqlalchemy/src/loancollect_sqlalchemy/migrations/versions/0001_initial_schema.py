"""Initial schema: borrowers, loans, payments, cases, outbox, events.

Revision ID: 0001
Revises:
Create Date: 2025-03-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
UTC = sa.DateTime(timezone=True)

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "lc_borrowers",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=16), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("contact_points", JSON, nullable=False),
        sa.Column("national_id", sa.String(length=64), nullable=True),
        sa.Column("income_minor", sa.BigInteger(), nullable=True),
        sa.Column("income_currency", sa.String(length=3), nullable=True),
        sa.Column("debt_service_minor", sa.BigInteger(), nullable=True),
        sa.Column("debt_service_currency", sa.String(length=3), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lc_borrowers")),
    )
    op.create_table(
        "lc_cases",
        sa.Column("loan_id", sa.String(length=128), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("stage_since", sa.Date(), nullable=True),
        sa.Column("segment", sa.String(length=64), nullable=True),
        sa.Column("variant", sa.String(length=64), nullable=True),
        sa.Column("arrangements", JSON, nullable=False),
        sa.Column("holds", JSON, nullable=False),
        sa.Column("contacts", JSON, nullable=False),
        sa.Column("flags", JSON, nullable=False),
        sa.Column("last_actions", JSON, nullable=False),
        sa.Column("next_review_date", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("loan_id", name=op.f("pk_lc_cases")),
    )
    op.create_index(
        "ix_lc_cases_due",
        "lc_cases",
        ["next_review_date", "loan_id"],
        unique=False,
        sqlite_where=sa.text("closed_on IS NULL"),
        postgresql_where=sa.text("closed_on IS NULL"),
    )

    op.create_table(
        "lc_events",
        sa.Column("loan_id", sa.String(length=128), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("at", sa.String(length=64), nullable=True),
        sa.Column("at_utc", UTC, nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("loan_id", "seq", name=op.f("pk_lc_events")),
    )
    op.create_table(
        "lc_outbox",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("loan_id", sa.String(length=128), nullable=False),
        sa.Column("action", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", UTC, nullable=True),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("sent_at", UTC, nullable=True),
        sa.Column("result", JSON, nullable=True),
        sa.Column("lease_until", UTC, nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_lc_outbox")),
    )
    op.create_index(op.f("ix_lc_outbox_loan_id"), "lc_outbox", ["loan_id"], unique=False)
    op.create_index(
        "ix_lc_outbox_open",
        "lc_outbox",
        ["created_on", "key"],
        unique=False,
        sqlite_where=sa.text("status IN ('pending', 'retry')"),
        postgresql_where=sa.text("status IN ('pending', 'retry')"),
    )

    op.create_table(
        "lc_loans",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("borrower_id", sa.String(length=128), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("principal_minor", sa.BigInteger(), nullable=False),
        sa.Column("annual_rate", sa.String(length=40), nullable=False),
        sa.Column("disbursement_date", sa.Date(), nullable=False),
        sa.Column("installments", JSON, nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("day_count", sa.String(length=16), nullable=True),
        sa.Column("penalty", JSON, nullable=True),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("tolerance_minor", sa.BigInteger(), nullable=True),
        sa.Column("private_lending", sa.Boolean(), nullable=False),
        sa.Column("contract_date", sa.Date(), nullable=True),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["borrower_id"], ["lc_borrowers.id"], name=op.f("fk_lc_loans_borrower_id_lc_borrowers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lc_loans")),
    )
    op.create_index(op.f("ix_lc_loans_borrower_id"), "lc_loans", ["borrower_id"], unique=False)

    op.create_table(
        "lc_payments",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("loan_id", sa.String(length=128), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("received_at", UTC, nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["lc_loans.id"], name=op.f("fk_lc_payments_loan_id_lc_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lc_payments")),
    )
    op.create_index(
        "ix_lc_payments_loan", "lc_payments", ["loan_id", "value_date", "id"], unique=False
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_lc_payments_loan", table_name="lc_payments")

    op.drop_table("lc_payments")
    op.drop_index(op.f("ix_lc_loans_borrower_id"), table_name="lc_loans")

    op.drop_table("lc_loans")
    op.drop_index(
        "ix_lc_outbox_open",
        table_name="lc_outbox",
        sqlite_where=sa.text("status IN ('pending', 'retry')"),
        postgresql_where=sa.text("status IN ('pending', 'retry')"),
    )
    op.drop_index(op.f("ix_lc_outbox_loan_id"), table_name="lc_outbox")

    op.drop_table("lc_outbox")
    op.drop_table("lc_events")
    op.drop_index(
        "ix_lc_cases_due",
        table_name="lc_cases",
        sqlite_where=sa.text("closed_on IS NULL"),
        postgresql_where=sa.text("closed_on IS NULL"),
    )

    op.drop_table("lc_cases")
    op.drop_table("lc_borrowers")
