"""The guide's records: questions answered with low confidence, 👍/👎 votes, complaints, and the
handover of a chat to staff (which forwarded message in a staff chat belongs to which user)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from ..core._clock import iso
from ._base import StorageBase


class GuideRepository(StorageBase):
    # -- guide: unanswered questions, feedback, complaints, handover ---------------------------

    def record_unanswered(self, at: datetime, channel: str, text: str, intent: str, score: float | None) -> None:
        """Remember a question the bot answered with low confidence (text already masked)."""
        self._write(
            "INSERT INTO unanswered (at, channel, text, intent, score) VALUES (?, ?, ?, ?, ?)",
            (iso(at), channel, text, intent, score),
        )

    def unanswered(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Questions recorded with start <= at < end, oldest first."""
        return self._rows("SELECT * FROM unanswered WHERE at >= ? AND at < ? ORDER BY id", (iso(start), iso(end)))

    def add_feedback(self, at: datetime, channel: str, vote: int, intent: str, code: str | None, text: str | None) -> None:
        """Store a 👍 (1) or 👎 (-1) on an answer."""
        self._write(
            "INSERT INTO feedback (at, channel, vote, intent, code, text) VALUES (?, ?, ?, ?, ?, ?)",
            (iso(at), channel, vote, intent, code, text),
        )

    def feedback(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Votes with start <= at < end, oldest first."""
        return self._rows("SELECT * FROM feedback WHERE at >= ? AND at < ? ORDER BY id", (iso(start), iso(end)))

    #: The letters of a complaint reference's random part: no 0/O, 1/I to misread on the phone.
    REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    REF_LENGTH = 6

    def add_complaint(self, prefix: str, at: datetime, channel: str, chat_id: str, lang: str, topic: str,
                      text: str, contact: str | None) -> str:
        """Store a complaint under `prefix` + 6 random letters and digits (30 bits from
        `secrets`: neither sequential nor guessable from another reference); return the reference."""
        for _ in range(32):
            ref = prefix + "".join(secrets.choice(self.REF_ALPHABET) for _ in range(self.REF_LENGTH))
            cur = self._write(
                "INSERT INTO complaints (ref, at, channel, chat_id, lang, topic, text, contact) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (ref, iso(at), channel, str(chat_id), lang, topic, text, contact),
            )
            if cur.rowcount:
                return ref
        raise RuntimeError("no free complaint reference")  # pragma: no cover - 2^30 a day

    def complaint(self, ref: str) -> dict[str, Any] | None:
        """One complaint by its reference."""
        return self._one("SELECT * FROM complaints WHERE ref = ?", (ref.upper(),))

    def complaints(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Complaints with start <= at < end, oldest first."""
        return self._rows("SELECT * FROM complaints WHERE at >= ? AND at < ? ORDER BY at, ref", (iso(start), iso(end)))

    def link_handover(self, staff_channel: str, staff_chat: str, message_id: str, channel: str, chat_id: str,
                      at: datetime) -> bool:
        """Bind ticket `message_id` in a staff chat to a user's chat (staff replies go there).
        A ticket is never taken from another chat: False, and nothing changed, when it belongs
        to one already; True when it is new or already this chat's."""
        key = (staff_channel, str(staff_chat), str(message_id))
        with self.transaction():
            cur = self._write(
                "INSERT INTO handover_messages (staff_channel, staff_chat, message_id, channel, chat_id, at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", (*key, channel, str(chat_id), iso(at)),
            )
            if cur.rowcount:
                return True
            row = self._one(
                "SELECT channel, chat_id FROM handover_messages WHERE staff_channel = ? AND staff_chat = ? AND message_id = ?",
                key,
            )
            if row is None or (row["channel"], row["chat_id"]) != (channel, str(chat_id)):
                return False
            self._write(
                "UPDATE handover_messages SET at = ? WHERE staff_channel = ? AND staff_chat = ? AND message_id = ?",
                (iso(at), *key),
            )
            return True

    def handover_ticket(self, staff_channel: str, staff_chat: str, channel: str, chat_id: str) -> str | None:
        """The ticket bound most recently to a user's chat in a staff chat, or None."""
        row = self._one(
            "SELECT message_id FROM handover_messages WHERE staff_channel = ? AND staff_chat = ? AND channel = ? "
            "AND chat_id = ? ORDER BY at DESC LIMIT 1",
            (staff_channel, str(staff_chat), channel, str(chat_id)),
        )
        return str(row["message_id"]) if row else None

    def handover_target(self, staff_channel: str, staff_chat: str, message_id: str) -> tuple[str, str] | None:
        """(channel, chat id) of the user whose forwarded message this is, or None."""
        row = self._one(
            "SELECT channel, chat_id FROM handover_messages WHERE staff_channel = ? AND staff_chat = ? AND message_id = ?",
            (staff_channel, str(staff_chat), str(message_id)),
        )
        return (row["channel"], row["chat_id"]) if row else None

    def prune_questions(self, before: datetime) -> int:
        """Forget recorded questions (unanswered ones, 👍/👎 votes: they keep masked texts) from
        before `before`; return how many."""
        removed = 0
        with self.transaction():
            tables = set(self.table_names())
            for table in ("unanswered", "feedback"):
                if table in tables:
                    removed += int(self._write(f"DELETE FROM {table} WHERE at < ?", (iso(before),)).rowcount)
        return removed
