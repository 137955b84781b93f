"""SQL storage for loancollect: SQLite (the embedded default) and PostgreSQL.

    from loancollect_sqlalchemy import SqlStore
    store = SqlStore("sqlite:///collect.db")   # migrated to the newest schema
    with store() as uow:
        uow.loans.add(loan)
        uow.commit()

Through the registry: ``open_storage(make_plugin_manager(), "sqlite:///collect.db")``.
"""

from loancollect_sqlalchemy.repository import SqlStore, SqlUnitOfWork, make_engine

__all__ = ["SqlStore", "SqlUnitOfWork", "__version__", "make_engine"]

__version__ = "0.1.0"
