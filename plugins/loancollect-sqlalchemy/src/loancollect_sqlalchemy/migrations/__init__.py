"""Alembic migrations of the plug-in schema, run through loancollect_sqlalchemy.migrate."""
