"""`tthc-bot backup FILE`: a consistent copy of the database, safe while the bot runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    """Register the operations commands."""
    backup = sub.add_parser(
        "backup",
        help="copy the database (TTHC_DB) to FILE consistently, also while the bot is running",
        description="Copy the whole SQLite database with SQLite's online backup: a consistent snapshot even "
        "while `tthc-bot serve` writes to it. The copy is checked (integrity_check) and only then put in place.",
    )
    backup.add_argument("file", help="where to write the copy (replaced if it exists)")
    backup.add_argument("--db", help="database file (default: TTHC_DB)")
    backup.set_defaults(func=_backup)


def _backup(args: argparse.Namespace) -> int:
    from .config import Settings
    from .storage import Storage

    db = Path(args.db or Settings.from_env().db)
    target = Path(args.file)
    if not db.is_file():
        print(f"error: no database at {db}", file=sys.stderr)
        return 2
    if target.resolve() == db.resolve():
        print("error: the copy must go to another file than the database", file=sys.stderr)
        return 2
    with Storage(db) as storage:
        size = storage.backup(target)
    print(f"{db} → {target}: {size:,} bytes, integrity ok")
    return 0
