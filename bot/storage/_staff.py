"""The staff console's records: accounts (argon2 hashes, role, department), login attempts (for
the lock after wrong passwords), the audit of staff actions, and secrets the server makes once
(the console's cookie key when TTHC_STAFF_SECRET is not set)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..core._clock import iso
from ._base import StorageBase


class StaffRepository(StorageBase):
    # -- accounts ------------------------------------------------------------------------------

    def staff_account(self, username: str) -> dict[str, Any] | None:
        """One account by its user name (case as given at creation), or None."""
        return self._one("SELECT * FROM staff_accounts WHERE username = ?", (username,))

    def staff_accounts(self) -> list[dict[str, Any]]:
        """Every account, by user name (without the hashes)."""
        return self._rows(
            "SELECT username, role, department, disabled, created_at, updated_at FROM staff_accounts ORDER BY username"
        )

    def add_staff(self, username: str, password_hash: str, role: str, department: str | None, now: datetime) -> bool:
        """Create an account; False (nothing changed) when the name is taken."""
        cur = self._write(
            "INSERT INTO staff_accounts (username, password_hash, role, department, disabled, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, 0, ?, ?) ON CONFLICT DO NOTHING",
            (username, password_hash, role, department, iso(now), iso(now)),
        )
        return bool(cur.rowcount)

    def set_staff_password(self, username: str, password_hash: str, now: datetime) -> bool:
        """Replace an account's password hash (and enable it again); False when there is none."""
        cur = self._write(
            "UPDATE staff_accounts SET password_hash = ?, disabled = 0, updated_at = ? WHERE username = ?",
            (password_hash, iso(now), username),
        )
        return bool(cur.rowcount)

    def disable_staff(self, username: str, now: datetime) -> bool:
        """Disable an account (it can no longer log in); False when there is none."""
        cur = self._write("UPDATE staff_accounts SET disabled = 1, updated_at = ? WHERE username = ?",
                          (iso(now), username))
        return bool(cur.rowcount)

    # -- logins --------------------------------------------------------------------------------

    def record_staff_login(self, username: str, at: datetime, ok: bool, client: str | None = None) -> None:
        """Remember a login attempt (right or wrong password)."""
        self._write("INSERT INTO staff_logins (username, at, ok, client) VALUES (?, ?, ?, ?)",
                    (username, iso(at), int(ok), client))

    def staff_login_failures(self, username: str, since: datetime) -> list[str]:
        """Times (ISO) of the wrong passwords for `username` since `since` and since its last
        successful login, oldest first."""
        last_ok = self._one("SELECT MAX(at) AS at FROM staff_logins WHERE username = ? AND ok = 1", (username,))
        start = max(iso(since), str(last_ok["at"])) if last_ok and last_ok["at"] else iso(since)
        rows = self._rows("SELECT at FROM staff_logins WHERE username = ? AND ok = 0 AND at > ? ORDER BY at",
                          (username, start))
        return [str(r["at"]) for r in rows]

    # -- audit ---------------------------------------------------------------------------------

    def add_audit(self, at: datetime, username: str, action: str, detail: str = "") -> None:
        """Record a staff action: who, what, when."""
        self._write("INSERT INTO staff_audit (at, username, action, detail) VALUES (?, ?, ?, ?)",
                    (iso(at), username, action, detail[:1000]))

    def audit(self, limit: int = 100, action: str | None = None) -> list[dict[str, Any]]:
        """The latest staff actions (of one kind, when `action` is given), newest first."""
        if action is None:
            return self._rows("SELECT * FROM staff_audit ORDER BY id DESC LIMIT ?", (limit,))
        return self._rows("SELECT * FROM staff_audit WHERE action = ? ORDER BY id DESC LIMIT ?", (action, limit))

    # -- server secrets ------------------------------------------------------------------------

    def server_secret(self, name: str, make: str, now: datetime) -> str:
        """The secret `name`, stored as `make` when there is none yet (the first replica to ask
        wins: every replica then reads the same one)."""
        self._write("INSERT INTO server_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (name, make, iso(now)))
        row = self._one("SELECT value FROM server_secrets WHERE name = ?", (name,))
        assert row is not None
        return str(row["value"])

    # -- complaints and handed-over conversations, as the console sees them ---------------------

    def staff_complaints(self, since: datetime) -> list[dict[str, Any]]:
        """Complaints not closed, and any filed since `since`; newest first."""
        return self._rows("SELECT * FROM complaints WHERE status <> 'closed' OR at >= ? ORDER BY at DESC, ref",
                          (iso(since),))

    def set_complaint_status(self, ref: str, status: str, old: tuple[str, ...]) -> bool:
        """Move a complaint to `status` when it is in one of `old`; False otherwise."""
        marks = ", ".join("?" for _ in old)
        cur = self._write(f"UPDATE complaints SET status = ? WHERE ref = ? AND status IN ({marks})",
                          (status, ref.upper(), *old))
        return bool(cur.rowcount)

    def handover_chats(self, since: datetime) -> list[dict[str, Any]]:
        """The handed-over conversations bound since `since`: staff chat, ticket (or forwarded
        message id), the user's channel and chat, the latest binding; newest first."""
        return self._rows(
            "SELECT staff_channel, staff_chat, message_id, channel, chat_id, at FROM handover_messages "
            "WHERE at >= ? ORDER BY at DESC", (iso(since),))
