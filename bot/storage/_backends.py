"""The two databases the storage runs on, behind one small interface.

- `SQLiteBackend`: one file (the default), one connection per process shared by its threads
  under a lock, WAL mode so other processes (the importer, a backup) can read and write too.
- `PostgresBackend`: `TTHC_DB=postgresql://user:pass@host:port/db`, through a psycopg 3
  connection pool, so several replicas of the bot share one database.

The repositories (the other modules of this package) write their SQL once, in the SQL both
understand, with `?` placeholders; `PostgresBackend` rewrites the placeholders (and doubles
`%`) before psycopg sees them. Table definitions use a few type words that each backend maps
(`ddl`): TEXT (on PostgreSQL: TEXT COLLATE "C", so text sorts and compares byte by byte as in
SQLite: timestamps are ISO text), REAL and INTEGER PRIMARY KEY AUTOINCREMENT.

Locks across replicas (`transaction(lock=…)`, `try_lock`, leadership) are PostgreSQL advisory
locks; on SQLite there is one process (or a few on one machine, serialised by SQLite's write
lock), and they are granted at once.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from ..config import is_postgres, shown

#: How long a statement waits for another connection's write lock before "database is locked"
#: (SQLite), or for a free connection of the pool (PostgreSQL).
BUSY_TIMEOUT = 5.0
#: Connections a replica keeps open to PostgreSQL at most (TTHC_DB_POOL).
POOL_SIZE = 10

Params = Sequence[Any] | dict[str, Any]


def lock_key(name: str) -> int:
    """A named lock as PostgreSQL's advisory locks want it: a signed 64-bit number."""
    return int.from_bytes(hashlib.sha256(f"tthc-bot:{name}".encode()).digest()[:8], "big", signed=True)


@dataclass
class Result:
    """What a write did: rows changed, and the rows of its RETURNING clause (if any)."""

    rowcount: int
    rows: list[dict[str, Any]] = field(default_factory=list)


class SQLiteBackend:
    """One SQLite file (or ":memory:"): a single connection shared by the process's threads."""

    dialect = "sqlite"
    shared = False  #: replicas on other machines cannot share it
    skip_locked = ""  #: SQLite's writers queue on BEGIN IMMEDIATE: no row locks to skip
    least, greatest = "MIN", "MAX"

    def __init__(self, path: str | Path, busy_timeout: float = BUSY_TIMEOUT) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=busy_timeout, check_same_thread=False)
        self.db = Database(conn)
        self.lock = threading.RLock()
        if self.path != ":memory:":
            self.db.enable_wal()
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")

    def ddl(self, sql: str) -> str:
        return sql

    def close(self) -> None:
        with self.lock:
            self.db.close()

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[None]:
        # BEGIN IMMEDIATE takes SQLite's write lock at once: concurrent writers (other threads
        # wait on our lock, other processes on SQLite's) queue rather than fail. `lock` needs
        # nothing more here: the write lock already serialises every writer.
        with self.lock:
            if self.db.conn.in_transaction:
                with self.db.atomic():
                    yield
                return
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.db.rollback()
                raise
            else:
                self.db.commit()

    def rows(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        # Our reads are plain SELECTs: run them on the connection directly (sqlite-utils'
        # query() wraps each in a savepoint: three statements a read).
        with self.lock:
            cursor = self.db.conn.execute(sql, params)
            keys = [d[0] for d in cursor.description]
            return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]

    def write(self, sql: str, params: Params = ()) -> Result:
        """One write statement, committed (or part of the open transaction)."""
        with self.lock:
            conn = self.db.conn
            if conn.in_transaction:
                return self._run(conn, sql, params)
            # A single statement is atomic on its own: no BEGIN IMMEDIATE round trip needed.
            try:
                result = self._run(conn, sql, params)
            except BaseException:
                if conn.in_transaction:
                    conn.rollback()
                raise
            conn.commit()
            return result

    @staticmethod
    def _run(conn: sqlite3.Connection, sql: str, params: Params) -> Result:
        cursor = conn.execute(sql, params)
        if cursor.description is None:
            return Result(cursor.rowcount)
        keys = [d[0] for d in cursor.description]
        rows = [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]
        return Result(len(rows), rows)

    def table_names(self) -> list[str]:
        return [r["name"] for r in self.rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]

    # -- health ----------------------------------------------------------------------------

    def health(self, full: bool) -> str | None:
        """None when the database answers (and, when `full`, passes SQLite's quick_check); else
        what is wrong. Runs on a read-only connection of its own (for a file database), so it
        never waits for this process's writers and sees the file, not this connection's cache."""
        probes = ["SELECT MAX(version) FROM schema_version"] + [
            f"SELECT * FROM {table} ORDER BY rowid DESC LIMIT 1" for table in ("dossiers", "sessions", "outbox")
        ]
        try:
            if self.path == ":memory:":
                with self.lock:
                    return self._health(self.db.conn, probes, full)
            # This process's own connection answers too (unless a long write holds it: busy is
            # not broken).
            if self.lock.acquire(timeout=1.0):
                try:
                    self.db.conn.execute("SELECT 1").fetchall()
                finally:
                    self.lock.release()
            conn = sqlite3.connect(Path(self.path).resolve().as_uri() + "?mode=ro", uri=True, timeout=BUSY_TIMEOUT)
            try:
                return self._health(conn, probes, full)
            finally:
                conn.close()
        except sqlite3.Error as exc:
            return f"{type(exc).__name__}: {str(exc)[:200]}"

    @staticmethod
    def _health(conn: sqlite3.Connection, probes: list[str], full: bool) -> str | None:
        for sql in probes:
            conn.execute(sql).fetchall()
        if full:
            found = [str(r[0]) for r in conn.execute("PRAGMA quick_check(5)").fetchall()]
            if found != ["ok"]:
                return "quick_check: " + "; ".join(found)[:300]
        return None

    # -- locks across processes: one process, granted at once ----------------------------------

    def try_lead(self, name: str) -> bool:
        return True

    def resign(self, name: str) -> None:
        return None

    def try_lock(self, name: str) -> object | None:
        return name

    def unlock(self, handle: object) -> None:
        return None


_PLACEHOLDER = re.compile(r"\?")


@lru_cache(maxsize=512)
def pg_sql(sql: str) -> str:
    """A statement written for both databases, as psycopg wants it: `?` → `%s`, `%` → `%%`."""
    return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))


def pg_ddl(sql: str) -> str:
    """A table definition with the portable type words, in PostgreSQL's."""
    sql = re.sub(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", sql)
    sql = re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', sql)
    return re.sub(r"\bREAL\b", "DOUBLE PRECISION", sql)


class PostgresBackend:
    """A PostgreSQL database through a psycopg connection pool (autocommit connections; a
    transaction binds one connection to the thread that opened it, nested ones are savepoints)."""

    dialect = "postgresql"
    shared = True
    skip_locked = " FOR UPDATE SKIP LOCKED"
    least, greatest = "LEAST", "GREATEST"

    def __init__(self, url: str, pool_size: int = POOL_SIZE, timeout: float = BUSY_TIMEOUT) -> None:
        import psycopg
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        self._psycopg = psycopg
        self.url = url
        self.path = shown(url)
        self._local = threading.local()
        # Leadership and named locks hold a connection of their own (a session's advisory lock
        # lives as long as its connection: a replica that dies releases it).
        self._held: dict[str, Any] = {}
        self._held_lock = threading.Lock()
        self._leading: set[str] = set()
        self.pool = ConnectionPool(
            url, min_size=1, max_size=max(2, int(pool_size)), timeout=max(timeout, 1.0) * 2,
            kwargs={"autocommit": True, "row_factory": dict_row, "application_name": "tthc-bot"},
            name="tthc-bot", open=False,
        )
        try:
            self.pool.open(wait=True, timeout=30)
            where = self.rows("SELECT current_database() AS db, current_schema() AS schema")[0]
        except Exception:
            self.pool.close()
            raise
        #: Advisory locks are per server: their names carry the database and schema, so two
        #: deployments (or test schemas) on one server never share a lock.
        self.namespace = f"{where['db']}.{where['schema']}"

    def ddl(self, sql: str) -> str:
        return pg_ddl(sql)

    def _key(self, name: str) -> int:
        return lock_key(f"{self.namespace}:{name}")

    def close(self) -> None:
        with self._held_lock:
            for conn in self._held.values():
                try:
                    conn.close()
                except Exception:  # pragma: no cover - closing anyway
                    pass
            self._held.clear()
        self.pool.close()

    @contextmanager
    def _conn(self) -> Iterator[Any]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        with self.pool.connection() as conn:
            yield conn

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[None]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            with conn.transaction():  # a savepoint
                if lock:
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._key(lock),))
                yield
            return
        with self.pool.connection() as conn:
            self._local.conn = conn
            try:
                with conn.transaction():
                    if lock:  # held until the commit: writers of the same name queue
                        conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._key(lock),))
                    yield
            finally:
                self._local.conn = None

    def rows(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        with self._conn() as conn:
            cursor = conn.execute(pg_sql(sql), params)
            return list(cursor.fetchall()) if cursor.description is not None else []

    def write(self, sql: str, params: Params = ()) -> Result:
        with self._conn() as conn:
            cursor = conn.execute(pg_sql(sql), params)
            if cursor.description is None:
                return Result(max(cursor.rowcount, 0))
            rows = list(cursor.fetchall())
            return Result(len(rows), rows)

    def table_names(self) -> list[str]:
        return [r["name"] for r in self.rows(
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() "
            "ORDER BY table_name")]

    # -- health ----------------------------------------------------------------------------

    def health(self, full: bool) -> str | None:
        """None when the database answers and takes writes (not a standby); else what is wrong."""
        try:
            with self.pool.connection(timeout=BUSY_TIMEOUT) as conn:
                conn.execute("SELECT MAX(version) FROM schema_version").fetchall()
                for table in ("dossiers", "sessions", "outbox"):
                    conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchall()
                standby: Any = conn.execute("SELECT pg_is_in_recovery() AS r").fetchone() if full else None
                if standby and standby["r"]:
                    return "the database is a read-only standby"
        except Exception as exc:
            return f"{type(exc).__name__}: {str(exc)[:200]}"
        return None

    # -- locks across replicas: advisory locks on a connection of their own --------------------

    def _connect(self) -> Any:
        return self._psycopg.connect(self.url, autocommit=True, connect_timeout=10, application_name="tthc-bot",
                                     keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3)

    def try_lead(self, name: str) -> bool:
        """True while this process holds the leadership `name` (taking it when free). A
        session's advisory lock lasts as long as its connection: while that connection answers
        the lock is still ours; when it broke, the lock went with it (and another replica may
        have it now)."""
        with self._held_lock:
            key = f"lead:{name}"
            conn = self._held.get(key)
            if conn is not None:
                try:
                    conn.execute("SELECT 1").fetchone()
                except self._psycopg.Error:
                    self._drop(key)
                    self._leading.discard(name)
                    raise
                if name in self._leading:
                    return True
            else:
                conn = self._held[key] = self._connect()
            try:
                got = bool(conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key(name),)).fetchone()[0])
            except self._psycopg.Error:
                self._drop(key)
                raise
            if got:
                self._leading.add(name)
            return got

    def _drop(self, key: str) -> None:
        conn = self._held.pop(key, None)
        if conn is not None:
            try:
                conn.close()
            except Exception:  # pragma: no cover - it is broken already
                pass

    def resign(self, name: str) -> None:
        """Give the leadership up (closing its connection releases the lock)."""
        with self._held_lock:
            self._leading.discard(name)
            self._drop(f"lead:{name}")

    def try_lock(self, name: str) -> object | None:
        """A named lock across replicas, or None when another one holds it now; release it
        with `unlock(handle)`. It holds a connection of its own until then."""
        conn = self._connect()
        try:
            if conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key(name),)).fetchone()[0]:
                return conn
        except BaseException:
            conn.close()
            raise
        conn.close()
        return None

    def unlock(self, handle: object) -> None:
        close = getattr(handle, "close", None)
        if close is not None:
            close()  # the session's advisory lock goes with its connection


Backend = SQLiteBackend | PostgresBackend


def open_backend(db: str | Path, busy_timeout: float = BUSY_TIMEOUT, pool_size: int | None = None) -> Backend:
    """The backend `db` (TTHC_DB) names: a postgresql:// URL, or an SQLite file path."""
    if is_postgres(db):
        import os

        size = pool_size or int(os.environ.get("TTHC_DB_POOL") or POOL_SIZE)
        return PostgresBackend(str(db), pool_size=size, timeout=busy_timeout)
    return SQLiteBackend(db, busy_timeout)
