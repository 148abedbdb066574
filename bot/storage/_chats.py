"""What the chats share across processes and replicas: conversation state, messages waiting for
web-chat sessions, the inbox of webhook events already handled, and rate limits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..core import _json
from ..core._clock import VN_TZ, iso
from ._base import StorageBase


class ChatRepository(StorageBase):
    # -- chat sessions ----------------------------------------------------------------------

    def get_session(self, key: str) -> dict[str, Any] | None:
        """The saved conversation state of a chat, or None."""
        row = self._one("SELECT state FROM sessions WHERE key = ?", (key,))
        return _json.loads(row["state"]) if row else None

    def save_session(self, key: str, state: dict[str, Any], now: datetime | None = None) -> None:
        """Save (replace) the conversation state of a chat."""
        self._write(
            "INSERT INTO sessions (key, state, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            (key, _json.dumps_str(state), iso(now or datetime.now(VN_TZ))),
        )

    def prune_sessions(self, before: datetime, keep: tuple[str, ...] = ()) -> int:
        """Forget sessions not updated since `before`, except keys starting with one of `keep`;
        return how many."""
        sql = "DELETE FROM sessions WHERE updated_at < ?" + " AND key NOT LIKE ? ESCAPE '\\'" * len(keep)
        likes = tuple(k.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for k in keep)
        return int(self._write(sql, (iso(before), *likes)).rowcount)

    # -- messages for web-chat sessions ------------------------------------------------------

    def put_web_message(self, session: str, payload: dict[str, Any], now: datetime | None = None) -> None:
        """Keep a message (a Reply's payload) for a web-chat session until the page fetches it."""
        self._write(
            "INSERT INTO web_inbox (session, payload, created_at) VALUES (?, ?, ?)",
            (session, _json.dumps_str(payload), iso(now or datetime.now(VN_TZ))),
        )

    def take_web_messages(self, session: str, limit: int = 20) -> list[dict[str, Any]]:
        """The messages waiting for a web-chat session, oldest first, removed as they are taken
        (in one statement: two replicas asked at once never hand out the same message)."""
        # Pages ask every few seconds and mostly find nothing: look before writing.
        if not self._rows("SELECT 1 FROM web_inbox WHERE session = ? LIMIT 1", (session,)):
            return []
        result = self._write(
            "DELETE FROM web_inbox WHERE id IN (SELECT id FROM web_inbox WHERE session = ? ORDER BY id "
            f"LIMIT {int(limit)}{self.backend.skip_locked}) RETURNING id, payload",
            (session,),
        )
        return [_json.loads(r["payload"]) for r in sorted(result.rows, key=lambda r: int(r["id"]))]

    def prune_web_messages(self, before: datetime) -> int:
        """Forget messages no page fetched since `before`; return how many."""
        return int(self._write("DELETE FROM web_inbox WHERE created_at < ?", (iso(before),)).rowcount)

    # -- inbox: webhook events already handled ----------------------------------------------

    def first_delivery(self, source: str, event_id: str, now: datetime | None = None) -> bool:
        """Record that event `event_id` of `source` (telegram, zalo-oa, zalo-bot) arrived: True
        the first time, False for a redelivery or a replay (one INSERT … ON CONFLICT DO NOTHING,
        so two processes or replicas receiving the same event cannot both see it first)."""
        cur = self._write(
            "INSERT INTO inbox (source, event_id, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (source, event_id, iso(now or datetime.now(VN_TZ))),
        )
        return bool(cur.rowcount)

    def prune_inbox(self, before: datetime) -> int:
        """Forget events handled before `before`; return how many."""
        return int(self._write("DELETE FROM inbox WHERE at < ?", (iso(before),)).rowcount)

    # -- rate limits shared by replicas -----------------------------------------------------

    def rate_hit(self, key: str, capacity: float, rate: float, now: float) -> tuple[float, int]:
        """Count one message of `key` against a token bucket of `capacity` tokens refilled at
        `rate` a second (`now`: seconds since the epoch), in one statement, so replicas count
        together. Returns (tokens left, refusals in a row): 0 refusals means the message may go
        on; 1 is the first one over the limit."""
        least, greatest = self.backend.least, self.backend.greatest
        avail = f"{least}(?, rate_limits.tokens + {greatest}(excluded.at - rate_limits.at, 0) * ?)"
        result = self._write(
            "INSERT INTO rate_limits (key, tokens, at, refused) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET "
            f"tokens = {avail} - CASE WHEN {avail} >= 1 THEN 1 ELSE 0 END, "
            f"refused = CASE WHEN {avail} >= 1 THEN 0 ELSE rate_limits.refused + 1 END, "
            "at = excluded.at RETURNING tokens, refused",
            (key, max(capacity - 1.0, 0.0), float(now), 0 if capacity >= 1 else 1,
             capacity, rate, capacity, rate, capacity, rate),
        )
        row = result.rows[0]
        return float(row["tokens"]), int(row["refused"])

    def prune_rate_limits(self, before: float) -> int:
        """Forget buckets last counted before `before` (seconds since the epoch: full again)."""
        return int(self._write("DELETE FROM rate_limits WHERE at < ?", (float(before),)).rowcount)
