"""Operations: health probes, backups, and the locks replicas take across processes (the
leadership of the jobs that must run once, and named locks such as the Zalo OA token refresh)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ._backends import SQLiteBackend
from ._base import StorageBase


class OpsRepository(StorageBase):
    def health(self, full: bool = False) -> str | None:
        """None when the database answers (and, when `full`, passes SQLite's quick_check, or on
        PostgreSQL is not a read-only standby); else what is wrong."""
        return self.backend.health(full)

    def backup(self, target: str | Path) -> int:
        """A consistent copy of the whole SQLite database in `target` (SQLite's online backup,
        one step, so it is a snapshot even while the server writes), written beside it first
        and then renamed into place; return its size in bytes. A PostgreSQL database is backed
        up with pg_dump (`tthc-bot backup` runs it; docs/replicas.md)."""
        backend = self.backend
        if not isinstance(backend, SQLiteBackend):
            raise NotImplementedError("a PostgreSQL database is backed up with pg_dump (docs/replicas.md)")
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        dest = sqlite3.connect(str(partial))
        try:
            with backend.lock:
                backend.db.conn.backup(dest)
            dest.execute("PRAGMA journal_mode = DELETE")
            ok = dest.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dest.close()
        if ok != "ok":
            partial.unlink(missing_ok=True)
            raise sqlite3.DatabaseError(f"the copy failed its integrity check: {ok}")
        partial.replace(target)
        return target.stat().st_size

    # -- across replicas ----------------------------------------------------------------------

    def try_lead(self, name: str) -> bool:
        """True while this process leads `name` (taking the lead when nobody has it). On
        PostgreSQL a session advisory lock on a connection of its own: when the leader dies,
        its connection closes and the next replica to ask takes over. On SQLite the process
        leads at once."""
        return self.backend.try_lead(name)

    def resign(self, name: str) -> None:
        """Give up the lead of `name` (another replica takes it at its next try)."""
        self.backend.resign(name)

    def try_lock(self, name: str) -> object | None:
        """Take the named lock across replicas now, or None when another holds it; give it back
        with `unlock(handle)` (a replica that dies releases it)."""
        return self.backend.try_lock(name)

    def unlock(self, handle: object) -> None:
        """Release a lock taken with `try_lock`."""
        self.backend.unlock(handle)
