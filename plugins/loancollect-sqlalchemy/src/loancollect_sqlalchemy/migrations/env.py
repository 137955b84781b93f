"""Alembic environment: runs on the connection :mod:`loancollect_sqlalchemy.migrate` passes in.

There is no ``alembic.ini``: the configuration is built in code, the version
table is ``lc_alembic_version`` (so a host application's own Alembic history is
left alone), and only online migrations are supported.
"""

from __future__ import annotations

from alembic import context

from loancollect_sqlalchemy.tables import metadata

VERSION_TABLE = "lc_alembic_version"

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - guarded by migrate.py
    raise RuntimeError("run the migrations through loancollect_sqlalchemy.migrate")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
