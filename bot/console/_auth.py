"""Accounts, sessions and CSRF for the staff console.

- Passwords are hashed with argon2id (argon2-cffi's defaults: memory-hard).
- 5 wrong passwords within 15 minutes lock the account for 15 minutes (counted since its last
  successful login), whoever types them; a locked account refuses even the right password.
- Sessions live in an encrypted, signed cookie (aiohttp-session's EncryptedCookieStorage, Fernet):
  its key is derived from TTHC_STAFF_SECRET, or generated once and kept in the database, so
  replicas share it and a restart keeps everyone logged in.
- Every form carries the session's CSRF token; a POST without it is refused (403).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

ROLES = ("admin", "officer")
MAX_FAILURES = 5
LOCK = timedelta(minutes=15)
MIN_PASSWORD = 8
MAX_PASSWORD = 256
#: A session lasts a working day at most.
SESSION_AGE = 12 * 3600

_hasher = PasswordHasher()
# A hash to verify against when the user does not exist, so both cases take as long.
_DUMMY = _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    """The argon2id hash of `password` (ValueError when too short or too long)."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValueError(f"a password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches the hash (always False, in the same time, without a hash)."""
    try:
        return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def cookie_key(storage: Any, configured: str, now: datetime) -> bytes:
    """The 32-byte key of the session cookies: from TTHC_STAFF_SECRET when set, else the
    database's (generated on first use)."""
    if configured:
        return hashlib.sha256(b"tthc-bot staff console:" + configured.encode()).digest()
    stored = storage.server_secret("staff_cookie_key", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(), now)
    return base64.urlsafe_b64decode(stored)


@dataclass(frozen=True)
class Login:
    """What a login attempt gave: the account, or why not."""

    account: dict[str, Any] | None
    error: str = ""


def check_login(storage: Any, username: str, password: str, now: datetime, client: str | None = None) -> Login:
    """Check a user name and password, record the attempt, apply the lock."""
    username = username.strip()[:64]
    failures = storage.staff_login_failures(username, now - LOCK) if username else []
    if len(failures) >= MAX_FAILURES:
        verify_password(None, password)
        storage.record_staff_login(username, now, False, client)
        return Login(None, "Tài khoản tạm khoá 15 phút vì nhập sai mật khẩu nhiều lần.")
    account = storage.staff_account(username) if username else None
    ok = verify_password(account["password_hash"] if account else None, password[:MAX_PASSWORD])
    if account is not None and account["disabled"]:
        ok = False
    storage.record_staff_login(username or "-", now, ok, client)
    if not ok or account is None:
        if len(failures) + 1 >= MAX_FAILURES:
            return Login(None, "Tài khoản tạm khoá 15 phút vì nhập sai mật khẩu nhiều lần.")
        return Login(None, "Sai tên đăng nhập hoặc mật khẩu.")
    return Login(account)


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
