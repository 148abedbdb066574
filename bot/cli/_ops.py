"""Operations commands: `tthc-bot backup FILE` (a consistent copy of the database, safe while
the bot runs) and `tthc-bot db migrate|status` (the schema, on SQLite or PostgreSQL)."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    """Register the operations commands."""
    backup = sub.add_parser(
        "backup",
        help="copy the database (TTHC_DB) to FILE consistently, also while the bot is running",
        description="Copy the whole SQLite database with SQLite's online backup: a consistent snapshot even "
        "while `tthc-bot serve` writes to it. The copy is checked (integrity_check) and only then put in place. "
        "A PostgreSQL database (TTHC_DB=postgresql://…) is copied with pg_dump --format=custom "
        "(restore with pg_restore).",
    )
    backup.add_argument("file", help="where to write the copy (replaced if it exists)")
    backup.add_argument("--db", help="database file or postgresql:// URL (default: TTHC_DB)")
    backup.set_defaults(func=_backup)

    db = sub.add_parser("db", help="the database's schema: apply migrations, show the version",
                        description="The schema grows by numbered migrations, the same for SQLite and "
                        "PostgreSQL. `tthc-bot serve` applies them on start too; with several replicas run "
                        "`tthc-bot db migrate` once before starting the new version (docs/replicas.md).")
    what = db.add_subparsers(dest="db_command", metavar="WHAT")
    migrate = what.add_parser("migrate", help="apply the migrations not applied yet")
    migrate.add_argument("--db", help="database file or postgresql:// URL (default: TTHC_DB)")
    migrate.set_defaults(func=_migrate)
    status = what.add_parser("status", help="the schema version and the migrations applied")
    status.add_argument("--db", help="database file or postgresql:// URL (default: TTHC_DB)")
    status.set_defaults(func=_status)
    db.set_defaults(func=lambda args: (db.print_help(), 2)[1])


def _db(args: argparse.Namespace) -> str:
    from ..config import Settings

    return str(args.db or Settings.from_env().db)


def _migrate(args: argparse.Namespace) -> int:
    from ..storage import MIGRATIONS, Storage, shown

    db = _db(args)
    with Storage(db) as storage:
        applied = storage.applied
        version = storage.schema_version
    for m in applied:
        print(f"applied {m.version}: {m.name}")
    print(f"{shown(db)}: schema version {version} ({'up to date' if version >= MIGRATIONS[-1].version else 'newer code needed'})"
          + ("" if applied else ", nothing to apply"))
    return 0


def _status(args: argparse.Namespace) -> int:
    from ..storage import MIGRATIONS, Storage, is_postgres, shown

    db = _db(args)
    if not is_postgres(db) and not Path(db).is_file():
        print(f"error: no database at {db}", file=sys.stderr)
        return 2
    # Opening applies what is missing: show what was there first.
    with Storage(db, migrations=[]) as storage:
        rows = storage._rows("SELECT version, name, applied_at FROM schema_version ORDER BY version")
        backend = storage.dialect
    for row in rows:
        print(f"{row['version']:>3}  {row['applied_at']}  {row['name']}")
    known = MIGRATIONS[-1].version
    have = rows[-1]["version"] if rows else 0
    state = "up to date" if have == known else (f"{known - have} to apply (tthc-bot db migrate)" if have < known
                                                 else "newer than this code")
    print(f"{shown(db)} ({backend}): schema version {have}, this code knows {known}: {state}")
    return 0


def _backup(args: argparse.Namespace) -> int:
    from ..storage import Storage, is_postgres, shown

    db = _db(args)
    target = Path(args.file)
    if is_postgres(db):
        return _pg_dump(db, target, shown(db))
    source = Path(db)
    if not source.is_file():
        print(f"error: no database at {source}", file=sys.stderr)
        return 2
    if target.resolve() == source.resolve():
        print("error: the copy must go to another file than the database", file=sys.stderr)
        return 2
    with Storage(source) as storage:
        size = storage.backup(target)
    print(f"{source} → {target}: {size:,} bytes, integrity ok")
    return 0


def _pg_dump(url: str, target: Path, name: str) -> int:
    """pg_dump --format=custom of the database into `target` (written beside it, then renamed)."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        print("error: pg_dump not found (install postgresql-client)", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    done = subprocess.run([pg_dump, "--format=custom", "--no-owner", f"--file={partial}", f"--dbname={url}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        print(f"error: pg_dump failed: {done.stderr.strip()[:500]}", file=sys.stderr)
        return 1
    partial.replace(target)
    print(f"{name} → {target}: {target.stat().st_size:,} bytes (pg_dump custom format; restore with pg_restore)")
    return 0
