"""Case work: the assignment, agency placement, legal matter, charge-off and sale.

The engine's case commands (``loancollect.domain.commands``) keep these on the
case; they are stored together in one JSON document, ``NULL`` for the cases that
have none (almost all), so the daily case rows stay as narrow as they were.

Revision ID: 0003
Revises: 0002
Create Date: 2025-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    """Add ``lc_cases.work``."""
    op.add_column("lc_cases", sa.Column("work", JSON, nullable=True))


def downgrade() -> None:
    """Drop ``lc_cases.work`` (refused while any case has work recorded)."""
    bind = op.get_bind()
    used = bind.execute(sa.text("SELECT count(*) FROM lc_cases WHERE work IS NOT NULL")).scalar()
    if used:
        raise RuntimeError(
            f"{used} case(s) have an assignment, placement, legal matter, charge-off or "
            "sale recorded; revision 0002 has no place for them"
        )
    with op.batch_alter_table("lc_cases") as batch:
        batch.drop_column("work")
