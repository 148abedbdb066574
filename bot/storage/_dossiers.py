"""Dossiers, their status history and supplement requests, subscriptions, notices to the applicant
(unsubscribe tokens, stops, delivery results), and lookup attempts."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from ..core._clock import iso
from ._base import StorageBase


class DossierRepository(StorageBase):
    DOSSIER_FIELDS = (
        "code", "procedure_code", "procedure_name", "applicant", "phone", "email", "received_at",
        "due_at", "returned_at", "status", "department", "officer", "supplement", "secret",
        "channel", "consent", "fingerprint",
    )

    def get_dossier(self, code: str) -> dict[str, Any] | None:
        """The dossier row with this (normalised) code, or None."""
        return self._one("SELECT * FROM dossiers WHERE code = ?", (code,))

    def save_dossier(self, record: dict[str, Any], now: datetime) -> None:
        """Insert or update a dossier from a dict with DOSSIER_FIELDS."""
        values = [record.get(f) for f in self.DOSSIER_FIELDS]
        cols = ", ".join(self.DOSSIER_FIELDS)
        marks = ", ".join("?" for _ in self.DOSSIER_FIELDS)
        updates = ", ".join(f"{f} = excluded.{f}" for f in self.DOSSIER_FIELDS if f != "code")
        self._write(
            f"INSERT INTO dossiers ({cols}, created_at, updated_at) VALUES ({marks}, ?, ?) "
            f"ON CONFLICT (code) DO UPDATE SET {updates}, updated_at = excluded.updated_at",
            (*values, iso(now), iso(now)),
        )

    def dossiers(self, statuses: tuple[int, ...] | None = None) -> list[dict[str, Any]]:
        """All dossiers (optionally only those with one of `statuses`), by code."""
        if statuses:
            marks = ", ".join("?" for _ in statuses)
            return self._rows(f"SELECT * FROM dossiers WHERE status IN ({marks}) ORDER BY code", tuple(statuses))
        return self._rows("SELECT * FROM dossiers ORDER BY code")

    def count_dossiers(self) -> int:
        """How many dossiers are stored."""
        row = self._one("SELECT COUNT(*) AS n FROM dossiers")
        return int(row["n"]) if row else 0

    def add_status(self, code: str, old_status: int | None, status: int, at: datetime, source: str) -> int:
        """Record a status change; return its id."""
        result = self._write(
            "INSERT INTO status_history (code, old_status, status, at, source) VALUES (?, ?, ?, ?, ?) RETURNING id",
            (code, old_status, status, iso(at), source),
        )
        return int(result.rows[0]["id"]) if result.rows else 0

    def status_history(self, code: str) -> list[dict[str, Any]]:
        """A dossier's status changes, oldest first."""
        return self._rows("SELECT * FROM status_history WHERE code = ? ORDER BY id", (code,))

    def status_changes(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Every status change with start <= at < end, oldest first."""
        return self._rows(
            "SELECT * FROM status_history WHERE at >= ? AND at < ? ORDER BY id", (iso(start), iso(end))
        )

    def add_supplement(
        self, code: str, requested_at: datetime, content: str, old_due: str | None, new_due: str | None
    ) -> int:
        """Record a request for more papers, with the due date before and after it."""
        result = self._write(
            "INSERT INTO supplements (code, requested_at, content, old_due_at, new_due_at) VALUES (?, ?, ?, ?, ?) "
            "RETURNING id",
            (code, iso(requested_at), content, old_due, new_due),
        )
        return int(result.rows[0]["id"]) if result.rows else 0

    def set_supplement_due(self, supplement_id: int, new_due: str | None) -> None:
        """Record the due date a supplement request moved the dossier to."""
        self._write("UPDATE supplements SET new_due_at = ? WHERE id = ?", (new_due, supplement_id))

    def supplements_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Supplement requests made with start <= requested_at < end."""
        return self._rows(
            "SELECT * FROM supplements WHERE requested_at >= ? AND requested_at < ? ORDER BY id",
            (iso(start), iso(end)),
        )

    def supplements(self, code: str | None = None) -> list[dict[str, Any]]:
        """Supplement requests (of one dossier, or all), oldest first."""
        if code is None:
            return self._rows("SELECT * FROM supplements ORDER BY id")
        return self._rows("SELECT * FROM supplements WHERE code = ? ORDER BY id", (code,))

    # -- subscriptions ----------------------------------------------------------------------

    def subscribe(self, code: str, channel: str, chat_id: str, lang: str, now: datetime) -> bool:
        """Subscribe a chat to a dossier's news; False when it already was (language updated)."""
        with self.transaction():
            cur = self._write(
                "INSERT INTO subscriptions (code, channel, chat_id, lang, created_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (code, channel, str(chat_id), lang, iso(now)),
            )
            if cur.rowcount:
                return True
            self._write(
                "UPDATE subscriptions SET lang = ? WHERE code = ? AND channel = ? AND chat_id = ?",
                (lang, code, channel, str(chat_id)),
            )
            return False

    def unsubscribe(self, code: str, channel: str, chat_id: str) -> bool:
        """Stop a chat's news about a dossier; False when it was not subscribed."""
        cur = self._write(
            "DELETE FROM subscriptions WHERE code = ? AND channel = ? AND chat_id = ?", (code, channel, str(chat_id))
        )
        return bool(cur.rowcount)

    def subscribers(self, code: str) -> list[dict[str, Any]]:
        """The chats subscribed to a dossier."""
        return self._rows("SELECT * FROM subscriptions WHERE code = ? ORDER BY id", (code,))

    def subscriptions_of(self, channel: str, chat_id: str) -> list[dict[str, Any]]:
        """The dossiers one chat is subscribed to."""
        return self._rows("SELECT * FROM subscriptions WHERE channel = ? AND chat_id = ? ORDER BY id",
                          (channel, str(chat_id)))

    # -- notices to the applicant (phone, email on the record) ------------------------------

    def notice_token(self, code: str) -> str:
        """The unguessable token of the dossier's unsubscribe link (made on first use)."""
        row = self._one("SELECT notice_token FROM dossiers WHERE code = ?", (code,))
        if row and row["notice_token"]:
            return str(row["notice_token"])
        token = secrets.token_urlsafe(24)
        self._write("UPDATE dossiers SET notice_token = ? WHERE code = ? AND notice_token IS NULL", (token, code))
        row = self._one("SELECT notice_token FROM dossiers WHERE code = ?", (code,))
        return str(row["notice_token"]) if row and row["notice_token"] else token

    def dossier_by_notice_token(self, token: str) -> dict[str, Any] | None:
        """The dossier whose unsubscribe link carries `token`, or None."""
        if not token:
            return None
        return self._one("SELECT * FROM dossiers WHERE notice_token = ?", (token,))

    def stop_notices(self, code: str, now: datetime) -> bool:
        """The applicant asked for no more notices about this dossier; False when already so."""
        cur = self._write("UPDATE dossiers SET notices_stopped = ? WHERE code = ? AND notices_stopped IS NULL",
                          (iso(now), code))
        return bool(cur.rowcount)

    def notices_stopped(self, code: str) -> bool:
        """True when the applicant stopped this dossier's notices."""
        row = self._one("SELECT notices_stopped FROM dossiers WHERE code = ?", (code,))
        return bool(row and row["notices_stopped"])

    def record_delivery(self, at: datetime, channel: str, result: str, code: str | None = None,
                        outbox_id: int | None = None, error_code: str | None = None, detail: str | None = None) -> None:
        """Remember one delivery attempt of a notice: sent, retry, dead or stopped, and why."""
        self._write(
            "INSERT INTO deliveries (at, outbox_id, code, channel, result, error_code, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (iso(at), outbox_id, code, channel, result, error_code, (detail or "")[:500] or None),
        )

    def deliveries(self, code: str | None = None) -> list[dict[str, Any]]:
        """Delivery attempts (of one dossier, or all), oldest first."""
        if code is None:
            return self._rows("SELECT * FROM deliveries ORDER BY id")
        return self._rows("SELECT * FROM deliveries WHERE code = ? ORDER BY id", (code,))

    def delivery_counts(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Delivery attempts (since `since`) by channel, result and error code, most first."""
        where, params = ("WHERE at >= ? ", (iso(since),)) if since is not None else ("", ())
        return self._rows(
            f"SELECT channel, result, error_code, COUNT(*) AS n FROM deliveries {where}"
            "GROUP BY channel, result, error_code ORDER BY n DESC, channel, result", params)

    def prune_deliveries(self, before: datetime) -> int:
        """Forget delivery attempts older than `before`; return how many."""
        return int(self._write("DELETE FROM deliveries WHERE at < ?", (iso(before),)).rowcount)

    # -- lookup attempts --------------------------------------------------------------------

    def record_lookup(self, code: str, at: datetime, ok: bool, client: str | None = None,
                      refused: bool = False) -> None:
        """Remember one lookup of a code, whether its secret was right, and who tried (an
        address or a chat, when known). `refused`: tried while the code was locked, and not let
        through (ok -1: a miss of the client's, not one more of the code's)."""
        self._write("INSERT INTO lookup_attempts (code, at, ok, client) VALUES (?, ?, ?, ?)",
                    (code, iso(at), -1 if refused else int(ok), client))

    def lookup_failures(self, code: str, since: datetime) -> list[datetime]:
        """Times of wrong secrets for a code since `since` and after its last right one, oldest
        first. "After" is the order of the attempts (their ids), not their times: a second
        holds many attempts."""
        rows = self._rows(
            "SELECT at FROM lookup_attempts WHERE code = ? AND ok = 0 AND at >= ? AND id > "
            "COALESCE((SELECT MAX(id) FROM lookup_attempts WHERE code = ? AND ok = 1), 0) ORDER BY id",
            (code, iso(since), code),
        )
        return [datetime.fromisoformat(r["at"]) for r in rows]

    def client_failures(self, client: str, since: datetime) -> list[datetime]:
        """Times of wrong secrets (for any code) given by one client since `since`, oldest first;
        its right ones do not wipe them."""
        rows = self._rows(
            "SELECT at FROM lookup_attempts WHERE client = ? AND ok <= 0 AND at >= ? ORDER BY id",
            (client, iso(since)),
        )
        return [datetime.fromisoformat(r["at"]) for r in rows]

    def known_secrets(self, tokens: set[str]) -> set[str]:
        """Those of `tokens` that are some dossier's lookup secret (MaTraCuu) as stored."""
        if not tokens:
            return set()
        some = sorted(tokens)[:200]
        marks = ", ".join("?" for _ in some)
        return {r["secret"] for r in self._rows(f"SELECT secret FROM dossiers WHERE secret IN ({marks})", tuple(some))}

    def prune_lookups(self, before: datetime) -> int:
        """Forget lookup attempts older than `before`; return how many."""
        return int(self._write("DELETE FROM lookup_attempts WHERE at < ?", (iso(before),)).rowcount)
