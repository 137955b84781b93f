"""The plug-in's own tables (SQLAlchemy Core), one :class:`~sqlalchemy.MetaData`.

The domain's frozen attrs classes are not mapped: :mod:`loancollect_sqlalchemy.mapping`
translates rows to values and back. Conventions:

- money is an integer count of minor units (``*_minor``, BIGINT) beside a
  ``currency`` column; rates are exact decimal text (never float);
- instants are stored in UTC (:class:`UtcDateTime`) and come back time-zone aware;
  an event keeps its instant as ISO text too, because its hash covers the offset;
- nested values that are never queried (installments, contact points,
  arrangements, holds, contacts, the planned action) are JSON documents;
- a case has a ``version``, counted up by every save; a save of a case read in the
  same unit of work is refused if the version moved (revision 0004);
- every event stream has a *head* (``lc_stream_heads``): its last ``seq`` and
  ``hash``, written in the transaction of every append, and with an audit key a
  ``mac`` on the head and on every event (revision 0004);
- every table has a ``tenant_id`` (the last column, since revision 0002). It leads
  every primary key, foreign key, unique key and index, so each tenant's records
  form their own key space (one loan id may exist in two tenants) and every query
  of a unit of work, which filters on its tenant, reads its tenant's part of an
  index only.

The Alembic migrations in :mod:`loancollect_sqlalchemy.migrations` must produce
exactly this schema; a test compares them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

__all__ = [
    "JSON",
    "UtcDateTime",
    "borrowers",
    "cases",
    "events",
    "loans",
    "metadata",
    "outbox",
    "payments",
    "stream_heads",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)
"""Every table of the plug-in."""

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
"""A JSON document (JSONB on PostgreSQL)."""


class UtcDateTime(sa.TypeDecorator[dt.datetime]):
    """A time-zone-aware instant stored in UTC; naive values are refused."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        """Aware → UTC (naive UTC on SQLite, which has no zone type)."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: pass a time-zone-aware one")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Back to an aware UTC datetime."""
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def _id(name: str, *args: Any, **kw: Any) -> sa.Column[str]:
    return sa.Column(name, sa.String(128), *args, **kw)


def _tenant() -> sa.Column[str]:
    return sa.Column("tenant_id", sa.String(64), nullable=False)


borrowers = sa.Table(
    "lc_borrowers",
    metadata,
    _id("id", nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("jurisdiction", sa.String(16), nullable=False),
    sa.Column("time_zone", sa.String(64), nullable=False),
    sa.Column("locale", sa.String(16), nullable=False),
    sa.Column("contact_points", JSON, nullable=False),
    sa.Column("national_id", sa.String(64), nullable=True),
    sa.Column("income_minor", sa.BigInteger, nullable=True),
    sa.Column("income_currency", sa.String(3), nullable=True),
    sa.Column("debt_service_minor", sa.BigInteger, nullable=True),
    sa.Column("debt_service_currency", sa.String(3), nullable=True),
    _tenant(),
    sa.PrimaryKeyConstraint("tenant_id", "id"),
)

loans = sa.Table(
    "lc_loans",
    metadata,
    _id("id", nullable=False),
    _id("borrower_id", nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("principal_minor", sa.BigInteger, nullable=False),
    sa.Column("annual_rate", sa.String(40), nullable=False),
    sa.Column("disbursement_date", sa.Date, nullable=False),
    sa.Column("installments", JSON, nullable=False),
    sa.Column("method", sa.String(32), nullable=False),
    sa.Column("frequency", sa.String(16), nullable=False),
    sa.Column("day_count", sa.String(16), nullable=True),
    sa.Column("penalty", JSON, nullable=True),
    sa.Column("grace_days", sa.Integer, nullable=False),
    sa.Column("tolerance_minor", sa.BigInteger, nullable=True),
    sa.Column("private_lending", sa.Boolean, nullable=False),
    sa.Column("contract_date", sa.Date, nullable=True),
    sa.Column("product", sa.String(64), nullable=False),
    _tenant(),
    sa.PrimaryKeyConstraint("tenant_id", "id"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "borrower_id"], ["lc_borrowers.tenant_id", "lc_borrowers.id"]
    ),
    sa.Index("ix_lc_loans_borrower_id", "tenant_id", "borrower_id"),
)

payments = sa.Table(
    "lc_payments",
    metadata,
    _id("id", nullable=False),
    _id("loan_id", nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("value_date", sa.Date, nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("reference", sa.Text, nullable=False),
    _tenant(),
    sa.PrimaryKeyConstraint("tenant_id", "id"),
    sa.ForeignKeyConstraint(["tenant_id", "loan_id"], ["lc_loans.tenant_id", "lc_loans.id"]),
    sa.Index("ix_lc_payments_loan", "tenant_id", "loan_id", "value_date", "id"),
)

cases = sa.Table(
    "lc_cases",
    metadata,
    _id("loan_id", nullable=False),
    sa.Column("stage", sa.String(64), nullable=False),
    sa.Column("stage_since", sa.Date, nullable=True),
    sa.Column("segment", sa.String(64), nullable=True),
    sa.Column("variant", sa.String(64), nullable=True),
    sa.Column("arrangements", JSON, nullable=False),
    sa.Column("holds", JSON, nullable=False),
    sa.Column("contacts", JSON, nullable=False),
    sa.Column("flags", JSON, nullable=False),
    sa.Column("last_actions", JSON, nullable=False),
    sa.Column("next_review_date", sa.Date, nullable=True),
    sa.Column("closed_on", sa.Date, nullable=True),
    # assignment, placement, legal matter, charge-off, sale (NULL when none: most cases)
    sa.Column("work", JSON, nullable=True),
    # counted up by every save: a save of a case read before another unit of work saved
    # it is refused (ConcurrentUpdateError)
    sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
    _tenant(),
    sa.PrimaryKeyConstraint("tenant_id", "loan_id"),
    # The daily selection: open cases by review date (partial: closed cases drop out).
    sa.Index(
        "ix_lc_cases_due",
        "tenant_id",
        "next_review_date",
        "loan_id",
        sqlite_where=sa.text("closed_on IS NULL"),
        postgresql_where=sa.text("closed_on IS NULL"),
    ),
)

outbox = sa.Table(
    "lc_outbox",
    metadata,
    sa.Column("key", sa.String(255), nullable=False),
    _id("loan_id", nullable=False),
    sa.Column("action", JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("next_attempt_at", UtcDateTime, nullable=True),
    sa.Column("created_on", sa.Date, nullable=False),
    sa.Column("sent_at", UtcDateTime, nullable=True),
    sa.Column("result", JSON, nullable=True),
    # A worker's claim on an open entry while it sends (PostgreSQL workers only).
    sa.Column("lease_until", UtcDateTime, nullable=True),
    _tenant(),
    sa.PrimaryKeyConstraint("tenant_id", "key"),
    sa.Index("ix_lc_outbox_loan_id", "tenant_id", "loan_id"),
    sa.Index(
        "ix_lc_outbox_open",
        "tenant_id",
        "created_on",
        "key",
        sqlite_where=sa.text("status IN ('pending', 'retry')"),
        postgresql_where=sa.text("status IN ('pending', 'retry')"),
    ),
)

events = sa.Table(
    "lc_events",
    metadata,
    _id("loan_id", nullable=False),
    sa.Column("seq", sa.Integer, nullable=False, autoincrement=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("on", sa.Date, nullable=False),
    sa.Column("at", sa.String(64), nullable=True),
    sa.Column("at_utc", UtcDateTime, nullable=True),
    sa.Column("data", JSON, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    # HMAC-SHA-256 of (tenant, loan, seq, hash) under the audit key; NULL: unsigned
    sa.Column("mac", sa.String(64), nullable=True),
    _tenant(),
    sa.PrimaryKeyConstraint("tenant_id", "loan_id", "seq"),
)

stream_heads = sa.Table(
    "lc_stream_heads",
    metadata,
    _id("loan_id", nullable=False),
    sa.Column("seq", sa.Integer, nullable=False, autoincrement=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("mac", sa.String(64), nullable=True),
    _tenant(),
    sa.PrimaryKeyConstraint("tenant_id", "loan_id"),
)
"""Where each event stream ends, written with every append (see
:mod:`loancollect_sqlalchemy.audit`)."""
