"""What the channel adapters share: the app's `Conversations` (bot.conversation), chat and event
ids from webhooks, seen-event memory against redeliveries, and log hygiene."""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict

from aiohttp import web

from .. import logs
from ..conversation import Conversations, MemorySessions, SessionStore
from ..web._keys import CONVERSATIONS

log = logging.getLogger(__name__)

MAX_SEEN_EVENTS = 20_000


def conversations(app: web.Application) -> Conversations:
    """The app's one `Conversations` service (bot.server makes it)."""
    return app[CONVERSATIONS]


_PLAIN_ID = re.compile(r"[A-Za-z0-9_.:@+=-]{1,128}")


def plain_id(value: object) -> str | None:
    """A chat or user id from a webhook as text, when it is a plain ASCII id (letters, digits,
    a few signs, at most 128): None for anything else (a lone surrogate, another script's
    digits, a structure), so no odd id reaches a session key, the database or a log."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value)
    return text if _PLAIN_ID.fullmatch(text) else None


def event_key(event_id: object) -> str:
    """An event id as stored: plain ASCII ids (Telegram update_id, Zalo msg_id) as they are,
    anything else (too long, other scripts, control characters, lone surrogates) as a digest,
    so every id can be recorded and no odd id slips past the replay check."""
    text = str(event_id)
    if _PLAIN_ID.fullmatch(text):
        return text
    return "h:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def derived_event_id(*parts: object) -> str:
    """A stable id for an event that carries none (a Zalo event without msg_id, a Zalo Bot
    message without message_id): a digest of its content and timestamp, the same for every
    redelivery or replay of the same event."""
    import json

    raw = json.dumps(list(parts), sort_keys=True, ensure_ascii=True, default=str, separators=(",", ":"))
    return "d:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


class SeenEvents:
    """Remembers event ids (Telegram update_id, Zalo msg_id…) so a redelivered or replayed
    event is not answered twice.

    In memory for speed, and in the Storage's inbox table when there is one (one atomic
    INSERT, bot/storage/_chats.py), so another process or a restarted one recognises the event too.
    """

    def __init__(self, store: SessionStore | None, namespace: str, limit: int = MAX_SEEN_EVENTS) -> None:
        self.store = store
        self.namespace = namespace
        self.limit = limit
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_time(self, event_id: object) -> bool:
        """True the first time `event_id` is offered, False ever after (and records it)."""
        key = event_key(event_id)
        if key in self._seen:
            return False
        self._seen[key] = None
        while len(self._seen) > self.limit:
            self._seen.popitem(last=False)
        if self.store is not None and self.store.persistent:
            try:
                verdict = self.store.first_delivery(self.namespace, key)
                if verdict is not None:
                    return verdict
            except Exception as exc:
                log.warning("sessions: could not record a seen event (%s)", type(exc).__name__)
        return True


# -- log hygiene ----------------------------------------------------------------------------

REDACTED = logs.REDACTED


def hide_in_logs(*secrets: str) -> None:
    """Make sure none of `secrets` (tokens, webhook secrets) ever appears in a log record
    (see bot/logs.py: phone and identity numbers, credentials in URLs and headers are
    redacted too). httpx logs each request URL (which holds the Telegram token) at INFO; it is
    also set to WARNING."""
    logs.hide(*secrets)


def redact(text: str) -> str:
    """`text` with every registered secret (and personal number) replaced."""
    return logs.redact(text)


def chat_ref(channel: str, chat_id: object) -> str:
    """A short one-way reference to a chat for logs (never the raw id)."""
    return hashlib.sha256(f"tthc:{channel}:{chat_id}".encode()).hexdigest()[:10]


__all__ = [
    "Conversations", "MemorySessions", "REDACTED", "SeenEvents", "SessionStore", "chat_ref", "conversations",
    "derived_event_id", "event_key", "hide_in_logs", "plain_id", "redact",
]
