"""Per-chat conversation state, seen-event memory and log hygiene shared by the channel adapters.

State lives in the SQLite `Storage` (bot/storage.py) when the app has one (`app[STORAGE]`), so a
restart or a second process keeps the conversation; otherwise in a bounded in-memory store.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from aiohttp import web

from ..web._keys import ENGINE, STORAGE

log = logging.getLogger(__name__)

MAX_MEMORY_SESSIONS = 10_000
MAX_SEEN_EVENTS = 20_000


@runtime_checkable
class SessionStore(Protocol):
    """Where per-chat state is kept: `Storage` fits this protocol as it is."""

    def get_session(self, key: str) -> dict[str, Any] | None:
        """The saved state of a chat, or None."""

    def save_session(self, key: str, state: dict[str, Any]) -> None:
        """Save (replace) the state of a chat."""


class MemorySessions:
    """A bounded in-memory `SessionStore` (the least recently used chats are forgotten)."""

    persistent = False

    def __init__(self, limit: int = MAX_MEMORY_SESSIONS) -> None:
        self.limit = limit
        self._data: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def get_session(self, key: str) -> dict[str, Any] | None:
        state = self._data.get(key)
        if state is None:
            return None
        self._data.move_to_end(key)
        return dict(state)

    def save_session(self, key: str, state: dict[str, Any]) -> None:
        self._data[key] = dict(state)
        self._data.move_to_end(key)
        while len(self._data) > self.limit:
            self._data.popitem(last=False)


class Conversations:
    """Runs one message of one chat through the engine: load state, answer, save state.

    Messages of the same chat are handled one at a time (a lock per chat), so two quick
    webhook calls cannot overwrite each other's state within this process.
    """

    def __init__(self, engine: Any, store: SessionStore) -> None:
        self.engine = engine
        self.store = store
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            if len(self._locks) > MAX_MEMORY_SESSIONS:
                for k in [k for k, v in self._locks.items() if not v.locked()]:
                    del self._locks[k]
            lock = self._locks[key] = asyncio.Lock()
        return lock

    def state(self, key: str) -> dict[str, Any]:
        """A copy of the chat's saved state ({} for a new chat)."""
        try:
            return dict(self.store.get_session(key) or {})
        except Exception:
            log.exception("sessions: could not read a session; starting afresh")
            return {}

    async def answer(
        self,
        key: str,
        text: str,
        lang: str | None = None,
        channel_state: Callable[[Any], dict[str, Any]] | None = None,
        chat: tuple[str, str] | None = None,
    ) -> Any:
        """The engine's Answer to `text` in chat `key`, its state loaded and saved around it.
        `chat` is (channel, chat id): the address a dossier subscription notifies.
        `channel_state(answer)`, when given, is stored under the state's "channel" key (adapter
        data such as numbered choices); the engine never reads it."""
        async with self._lock(key):
            state = self.state(key)
            answer = self.engine.answer(text, state, lang=lang, chat=chat)
            if channel_state is not None:
                state["channel"] = channel_state(answer)
            try:
                self.store.save_session(key, state)
            except Exception:
                log.exception("sessions: could not save a session")
            return answer


_MEMORY: web.AppKey[MemorySessions] = web.AppKey("channel_memory_sessions")


def session_store(app: web.Application) -> SessionStore:
    """The app's Storage when it has one with sessions, else one in-memory store per app."""
    storage = app.get(STORAGE)
    if storage is not None and hasattr(storage, "get_session") and hasattr(storage, "save_session"):
        return storage  # type: ignore[no-any-return]
    memory = app.get(_MEMORY)
    if memory is None:
        memory = MemorySessions()
        app[_MEMORY] = memory
    return memory


class AppSessions:
    """The session store of an app, looked up at each call: a Storage attached to the app
    after the channels were set up is used as soon as it is there."""

    def __init__(self, app: web.Application) -> None:
        self.app = app

    @property
    def persistent(self) -> bool:
        """True when sessions go to the SQLite Storage."""
        return not isinstance(session_store(self.app), MemorySessions)

    def get_session(self, key: str) -> dict[str, Any] | None:
        return session_store(self.app).get_session(key)

    def save_session(self, key: str, state: dict[str, Any]) -> None:
        session_store(self.app).save_session(key, state)


def conversations(app: web.Application) -> Conversations:
    """A `Conversations` over the app's engine and session store."""
    return Conversations(app[ENGINE], AppSessions(app))


class SeenEvents:
    """Remembers event ids (e.g. Zalo msg_id) so a redelivered event is not answered twice.

    In memory for speed, and in the Storage's sessions table when there is one, so another
    process or a restarted one recognises the event too.
    """

    def __init__(self, store: SessionStore | None, namespace: str, limit: int = MAX_SEEN_EVENTS) -> None:
        self.store = store
        self.namespace = namespace
        self.limit = limit
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_time(self, event_id: str) -> bool:
        """True the first time `event_id` is offered, False ever after (and records it)."""
        if event_id in self._seen:
            return False
        self._seen[event_id] = None
        while len(self._seen) > self.limit:
            self._seen.popitem(last=False)
        if self.store is not None and getattr(self.store, "persistent", True):
            key = f"seen:{self.namespace}:{event_id}"
            try:
                if self.store.get_session(key) is not None:
                    return False
                self.store.save_session(key, {"seen": True})
            except Exception:
                log.exception("sessions: could not record a seen event")
        return True


# -- log hygiene ----------------------------------------------------------------------------

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
_INSTALLED = False
REDACTED = "[redacted]"


def hide_in_logs(*secrets: str) -> None:
    """Make sure none of `secrets` (tokens, webhook secrets) ever appears in a log record:
    every record whose message or traceback contains one is rewritten with it replaced.
    httpx logs each request URL (which holds the Telegram token) at INFO; it is also set to
    WARNING."""
    global _INSTALLED
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with _SECRETS_LOCK:
        _SECRETS.update(s for s in secrets if s and len(s) >= 6)
        if _INSTALLED:
            return
        _INSTALLED = True
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if _SECRETS:
                _redact(record)
            return record

        logging.setLogRecordFactory(factory)


def redact(text: str) -> str:
    """`text` with every registered secret replaced."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _redact(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:
        message = str(record.msg)
    if any(s in message for s in _SECRETS):
        record.msg = redact(message)
        record.args = None
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if any(s in text for s in _SECRETS):
            record.exc_text = redact(text)
    if record.stack_info and any(s in record.stack_info for s in _SECRETS):
        record.stack_info = redact(record.stack_info)


def chat_ref(channel: str, chat_id: object) -> str:
    """A short one-way reference to a chat for logs (never the raw id)."""
    return hashlib.sha256(f"tthc:{channel}:{chat_id}".encode()).hexdigest()[:10]
