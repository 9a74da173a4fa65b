"""SQL state for the services: SQLite by default, PostgreSQL in prod, through SQLAlchemy."""

from __future__ import annotations

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from mlplatform.errors import ConfigError


def default_url(filename: str) -> str:
    """SQLite in the working directory, e.g. `sqlite:///pipelines.db`."""
    return f"sqlite:///{filename}"


def make_engine(url: str) -> Engine:
    """An engine for `url`. SQLite gets WAL and a busy timeout so threads and restarts share it safely."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"--db {url!r} is not an SQLAlchemy URL (try sqlite:///state.db or postgresql://...)") from None
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record):
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)
