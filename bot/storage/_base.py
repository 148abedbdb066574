"""The plumbing every repository of the storage shares: the backend, reads, writes, transactions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..config import is_postgres, shown
from ._backends import BUSY_TIMEOUT, Backend, Params, Result, open_backend
from ._migrations import MIGRATIONS, Migration, migrate, schema_version


class StorageBase:
    """The database behind the repositories. One instance per process; safe to share between
    threads."""

    def __init__(self, path: str | Path = ":memory:", migrations: list[Migration] | None = None,
                 busy_timeout: float = BUSY_TIMEOUT, pool_size: int | None = None) -> None:
        self.backend: Backend = open_backend(path, busy_timeout, pool_size)
        #: The SQLite file (or ":memory:"), or the PostgreSQL URL without its password.
        self.path = str(path) if not is_postgres(str(path)) else shown(str(path))
        #: True when replicas on several machines can share this database (PostgreSQL).
        self.shared = self.backend.shared
        #: Kept across restarts (a database, unlike the channels' memory without one).
        self.persistent = True
        self.dialect = self.backend.dialect
        try:
            self.applied = migrate(self.backend, MIGRATIONS if migrations is None else migrations)
        except BaseException:
            self.backend.close()
            raise

    @property
    def db(self) -> Any:
        """The sqlite-utils Database (SQLite only: tests and one-off inspection)."""
        db = getattr(self.backend, "db", None)
        if db is None:
            raise AttributeError("db: only an SQLite storage has a sqlite-utils Database")
        return db

    def close(self) -> None:
        """Close the connection(s)."""
        self.backend.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[Any]:
        """A write transaction: on SQLite BEGIN IMMEDIATE (concurrent writers queue rather than
        fail), on PostgreSQL one pooled connection for the thread; nested use becomes a
        savepoint. Commits on success, rolls back on any exception. `lock` names a lock held
        until the commit, so writers of the same name across replicas go one at a time (on
        SQLite the write lock already does that)."""
        with self.backend.transaction(lock):
            yield self

    def _rows(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        return self.backend.rows(sql, params)

    def _one(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        rows = self.backend.rows(sql, params)
        return rows[0] if rows else None

    def _write(self, sql: str, params: Params = ()) -> Result:
        """One write statement, committed (or part of the open transaction)."""
        return self.backend.write(sql, params)

    def migrate(self, migrations: list[Migration]) -> int:
        """Apply the migrations not applied yet; return the schema version."""
        migrate(self.backend, migrations)
        return self.schema_version

    @property
    def schema_version(self) -> int:
        """The highest migration applied (0 for a new database)."""
        return schema_version(self.backend)

    def table_names(self) -> list[str]:
        """The tables of the database, by name."""
        return self.backend.table_names()
