"""The outbox: notifications waiting for delivery, each under an idempotency key.

A delivery loop claims due rows (`claim`): it marks them 'sending' with a claim token and the
time, in one statement, so no other loop takes them; on PostgreSQL the rows are picked with
FOR UPDATE SKIP LOCKED, so replicas claiming at the same moment take different rows rather than
wait on each other. The claimer renews its lease while it sends (`renew`) and settles the row
(`mark_sent`, `mark_failed`, `release`); a row whose lease ran out (its sender died) is claimed
again by anyone.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from ..core._clock import iso, iso_us
from ._base import StorageBase

OPEN_STATES = ("pending", "sending")
# A row of a thread waits for the older rows of its thread (the same dossier's notices on one
# channel and address) to be sent or given up.
_IN_ORDER = (
    " AND (thread IS NULL OR NOT EXISTS (SELECT 1 FROM outbox older WHERE older.thread = outbox.thread"
    " AND older.id < outbox.id AND older.state IN ('pending', 'sending')))"
)


class OutboxRepository(StorageBase):
    def enqueue(self, key: str, channel: str, chat_id: str, payload: dict[str, Any], now: datetime,
                thread: str | None = None) -> bool:
        """Queue a notification under an idempotency key; False when that key is queued already.
        Rows of one `thread` (a dossier's notices on one channel and address) are claimed in
        order: none while an older one of its thread is still pending or being sent."""
        cur = self._write(
            "INSERT INTO outbox (key, channel, chat_id, payload, next_attempt_at, created_at, thread) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (key, channel, str(chat_id), json.dumps(payload, ensure_ascii=False), iso(now), iso(now), thread),
        )
        return bool(cur.rowcount)

    def claim(
        self, now: datetime, lease: timedelta, channels: tuple[str, ...] | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Atomically take notifications due for delivery: pending ones whose time has come, and
        ones left 'sending' longer than `lease` (their sender died). Each claimed row is marked
        'sending' and its attempts counted before this returns, so no other process takes it;
        it carries a fresh `claim` token for `renew` and the marks. Take only what is sent at
        once (the notifier takes one row at a time): a row waiting behind others would outlive
        its lease and be taken again elsewhere."""
        params: list[Any] = [iso(now), iso_us(now - lease)]
        only = ""
        if channels is not None:
            if not channels:
                return []
            only = f" AND channel IN ({', '.join('?' for _ in channels)})"
            params.extend(channels)
        token = secrets.token_hex(8)
        result = self._write(
            "UPDATE outbox SET state = 'sending', claimed_at = ?, claim = ?, attempts = attempts + 1 "
            "WHERE id IN (SELECT id FROM outbox WHERE ((state = 'pending' AND next_attempt_at <= ?) "
            f"OR (state = 'sending' AND claimed_at <= ?)){only}{_IN_ORDER} ORDER BY id LIMIT {int(limit)}"
            f"{self.backend.skip_locked}) RETURNING *",
            (iso_us(now), token, *params),
        )
        rows = sorted(result.rows, key=lambda r: int(r["id"]))
        for row in rows:
            row["payload"] = json.loads(row["payload"])
        return rows

    @staticmethod
    def _claimed(claim: str | None) -> tuple[str, tuple[Any, ...]]:
        # With a claim token, a mark applies only while the row is still this claim's.
        return (" AND state = 'sending' AND claim = ?", (claim,)) if claim is not None else ("", ())

    def renew(self, outbox_id: int, claim: str, now: datetime) -> bool:
        """Extend the lease of a row being sent (from `now`); False when the claim was lost."""
        cur = self._write(
            "UPDATE outbox SET claimed_at = ? WHERE id = ? AND state = 'sending' AND claim = ?",
            (iso_us(now), outbox_id, claim),
        )
        return bool(cur.rowcount)

    def mark_sent(self, outbox_id: int, now: datetime, claim: str | None = None) -> bool:
        """A notification was delivered (False when `claim` no longer holds the row)."""
        only, extra = self._claimed(claim)
        cur = self._write(
            f"UPDATE outbox SET state = 'sent', sent_at = ?, last_error = NULL WHERE id = ?{only}",
            (iso(now), outbox_id, *extra),
        )
        return bool(cur.rowcount)

    def mark_failed(self, outbox_id: int, error: str, retry_at: datetime | None, claim: str | None = None) -> bool:
        """A delivery failed: retry at `retry_at`, or give up ('dead') when it is None."""
        only, extra = self._claimed(claim)
        if retry_at is None:
            cur = self._write(f"UPDATE outbox SET state = 'dead', last_error = ? WHERE id = ?{only}",
                              (error[:500], outbox_id, *extra))
        else:
            cur = self._write(
                f"UPDATE outbox SET state = 'pending', next_attempt_at = ?, last_error = ? WHERE id = ?{only}",
                (iso(retry_at), error[:500], outbox_id, *extra),
            )
        return bool(cur.rowcount)

    def release(self, outbox_id: int, attempts_back: bool = True, claim: str | None = None) -> None:
        """Put a claimed notification back untried (e.g. no sender for its channel here)."""
        minus = f", attempts = {self.backend.greatest}(attempts - 1, 0)" if attempts_back else ""
        only, extra = self._claimed(claim)
        self._write(f"UPDATE outbox SET state = 'pending'{minus} WHERE id = ?{only}", (outbox_id, *extra))

    def outbox(self, state: str | None = None) -> list[dict[str, Any]]:
        """Outbox rows (optionally in one state), oldest first, payloads decoded."""
        if state:
            rows = self._rows("SELECT * FROM outbox WHERE state = ? ORDER BY id", (state,))
        else:
            rows = self._rows("SELECT * FROM outbox ORDER BY id")
        for row in rows:
            row["payload"] = json.loads(row["payload"])
        return rows

    def outbox_counts(self) -> dict[str, int]:
        """How many notifications are in each state."""
        return {r["state"]: int(r["n"]) for r in self._rows("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")}
