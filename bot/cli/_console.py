"""`tthc-bot staff add|passwd|disable|list`: the staff console's accounts."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any


def register(sub: Any) -> None:
    staff = sub.add_parser("staff", help="accounts of the staff console (/staff/): add, passwd, disable, list")
    ssub = staff.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
    add = ssub.add_parser("add", help="create an account (the password is asked, or read from standard input)")
    add.add_argument("user")
    add.add_argument("--role", choices=("admin", "officer"), required=True, help="admin (also sees the audit) or officer")
    add.add_argument("--department", default=None, help="the officer's department (shown first on Today)")
    add.set_defaults(func=_add)
    passwd = ssub.add_parser("passwd", help="set a new password for an account (and enable it again)")
    passwd.add_argument("user")
    passwd.set_defaults(func=_passwd)
    disable = ssub.add_parser("disable", help="disable an account: it can no longer log in")
    disable.add_argument("user")
    disable.set_defaults(func=_disable)
    listing = ssub.add_parser("list", help="list the accounts")
    listing.set_defaults(func=_list)


def _storage() -> Any:
    from ..config import Settings
    from ..storage import Storage

    settings = Settings.from_env()
    return Storage(settings.db, pool_size=settings.db_pool)


def _password() -> str:
    """From a prompt (twice) on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise ValueError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _hashed() -> str | None:
    from ..console._auth import hash_password

    try:
        return hash_password(_password())
    except ValueError as exc:
        print(f"tthc-bot staff: {exc}", file=sys.stderr)
        return None


def _now() -> Any:
    from ..core import now_vn

    return now_vn()


def _add(args: argparse.Namespace) -> int:
    user = args.user.strip()
    if not user or len(user) > 64 or any(c.isspace() for c in user):
        print("tthc-bot staff add: a user name is 1 to 64 characters without spaces", file=sys.stderr)
        return 2
    hashed = _hashed()
    if hashed is None:
        return 2
    with _storage() as storage:
        if not storage.add_staff(user, hashed, args.role, args.department, _now()):
            print(f"tthc-bot staff add: {user} exists already (use `tthc-bot staff passwd {user}`)", file=sys.stderr)
            return 1
        storage.add_audit(_now(), "cli", "staff_add", f"{user} {args.role} {args.department or ''}".strip())
    print(f"{user}: {args.role}" + (f", {args.department}" if args.department else ""))
    return 0


def _passwd(args: argparse.Namespace) -> int:
    with _storage() as storage:
        if storage.staff_account(args.user) is None:
            print(f"tthc-bot staff passwd: no account {args.user}", file=sys.stderr)
            return 1
        hashed = _hashed()
        if hashed is None:
            return 2
        storage.set_staff_password(args.user, hashed, _now())
        storage.add_audit(_now(), "cli", "staff_passwd", args.user)
    print(f"{args.user}: password changed")
    return 0


def _disable(args: argparse.Namespace) -> int:
    with _storage() as storage:
        if not storage.disable_staff(args.user, _now()):
            print(f"tthc-bot staff disable: no account {args.user}", file=sys.stderr)
            return 1
        storage.add_audit(_now(), "cli", "staff_disable", args.user)
    print(f"{args.user}: disabled")
    return 0


def _list(args: argparse.Namespace) -> int:
    with _storage() as storage:
        for a in storage.staff_accounts():
            state = "disabled" if a["disabled"] else "active"
            print(f"{a['username']:20} {a['role']:8} {state:9} {a['department'] or ''}")
    return 0
