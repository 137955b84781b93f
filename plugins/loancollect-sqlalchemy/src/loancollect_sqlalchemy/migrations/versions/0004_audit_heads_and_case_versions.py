"""Anchored, signed event streams and versioned cases.

- ``lc_stream_heads``: one row per stream (tenant, loan) with its last ``seq`` and
  ``hash`` (and a ``mac`` when signed), created here for every existing stream from
  its last stored event, and written with every append from now on;
- ``lc_events.mac``: each event's signature under the audit key (``NULL``: unsigned);
- ``lc_cases.version``: counted up by every save (``1`` for existing cases).

With an audit key at migration time (``migrate.upgrade(url, audit_key=...)``, which a
:class:`~loancollect_sqlalchemy.SqlStore` opened with a key passes, or the plug-in's
command line with ``$LOANCOLLECT_AUDIT_KEY``), every existing stream that verifies is
signed, events and head. Without one the heads are left unsigned and the migration
says so (a note, logged as a warning): sign them later with ``loancollect verify
--sign`` and the key. A stream whose chain is already broken is anchored as it is,
left unsigned and named in a note.

Downgrading is refused while any event or head is signed: revision 0003 has no
place for the signatures.

Revision ID: 0004
Revises: 0003
Create Date: 2025-11-24
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LOG = logging.getLogger("loancollect_sqlalchemy.migrations")


def _note(text: str) -> None:
    """Tell whoever runs the migration (``migrate.upgrade`` returns the notes)."""
    _LOG.warning("%s", text)
    config = op.get_context().config
    if config is not None:
        config.attributes.setdefault("notes", []).append(text)


def upgrade() -> None:
    """Add the heads, the signatures and the case versions; anchor (and sign) the streams."""
    op.add_column(
        "lc_cases", sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1"))
    )
    op.add_column("lc_events", sa.Column("mac", sa.String(64), nullable=True))
    op.create_table(
        "lc_stream_heads",
        sa.Column("loan_id", sa.String(128), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("mac", sa.String(64), nullable=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "loan_id", name=op.f("pk_lc_stream_heads")),
    )
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "INSERT INTO lc_stream_heads (tenant_id, loan_id, seq, hash, mac) "
            "SELECT e.tenant_id, e.loan_id, e.seq, e.hash, NULL FROM lc_events e "
            "JOIN (SELECT tenant_id, loan_id, max(seq) AS seq FROM lc_events "
            "GROUP BY tenant_id, loan_id) last "
            "ON e.tenant_id = last.tenant_id AND e.loan_id = last.loan_id AND e.seq = last.seq"
        )
    )
    streams = bind.execute(sa.text("SELECT count(*) FROM lc_stream_heads")).scalar_one()
    if not streams:
        return
    from loancollect.domain.events import StreamProblem
    from loancollect.ports import AuditKey
    from loancollect_sqlalchemy.audit import sign_streams

    config = op.get_context().config
    key = config.attributes.get("audit_key") if config is not None else None
    if not isinstance(key, AuditKey):
        _note(
            f"0004: {streams} event stream head(s) created unsigned (no audit key at "
            "migration time); deletion and truncation are detected from now on; sign "
            "them with the key: loancollect verify --db URL --sign"
        )
        return
    skipped: list[StreamProblem] = []
    signed = sign_streams(bind, tenant=None, key=key, skipped=skipped)
    if skipped:
        names = ", ".join(f"{p.tenant}/{p.loan_id}" for p in skipped[:10])
        more = " …" if len(skipped) > 10 else ""
        _note(
            f"0004: {signed} event stream(s) anchored and signed; {len(skipped)} do not "
            f"verify and were left unsigned ({names}{more}): see loancollect verify"
        )


def downgrade() -> None:
    """Drop the heads, the signatures and the versions (refused while anything is signed)."""
    bind = op.get_bind()
    signed = bind.execute(
        sa.text(
            "SELECT (SELECT count(*) FROM lc_events WHERE mac IS NOT NULL) + "
            "(SELECT count(*) FROM lc_stream_heads WHERE mac IS NOT NULL)"
        )
    ).scalar_one()
    if signed:
        raise RuntimeError(
            f"{signed} event(s) and stream head(s) are signed; revision 0003 has no place "
            "for the signatures"
        )
    op.drop_table("lc_stream_heads")
    with op.batch_alter_table("lc_events") as batch:
        batch.drop_column("mac")
    with op.batch_alter_table("lc_cases") as batch:
        batch.drop_column("version")
