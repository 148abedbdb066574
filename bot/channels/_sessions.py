"""Per-chat conversation state, seen-event memory and log hygiene shared by the channel adapters.

State lives in the `Storage` (bot/storage/, SQLite or PostgreSQL) when the app has one
(`app[STORAGE]`), so a restart, a second process or another replica keeps the conversation;
otherwise in a bounded in-memory store.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from aiohttp import web

from .. import logs
from ..web._keys import ENGINE, STORAGE
from ..web._limits import Verdict
from ..web._runtime import RUNTIME, Runtime

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
        self._lock = threading.Lock()  # the engine's worker thread and the event loop share it

    def get_session(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            state = self._data.get(key)
            if state is None:
                return None
            self._data.move_to_end(key)
            return dict(state)

    def save_session(self, key: str, state: dict[str, Any]) -> None:
        with self._lock:
            self._data[key] = dict(state)
            self._data.move_to_end(key)
            while len(self._data) > self.limit:
                self._data.popitem(last=False)


class Conversations:
    """Runs one message of one chat through the engine: load state, answer, save state.

    Messages of the same chat are handled one at a time (a lock per chat), so two quick
    webhook calls cannot overwrite each other's state within this process (across replicas
    the state is shared, and the later of two messages answered at the same instant on two
    replicas is the one whose state is kept: docs/replicas.md). With a `Runtime`
    (the server's), each chat is held to TTHC_USER_MESSAGES_PER_MINUTE (one polite "slow down",
    then silence while over it), the engine runs on the answer gate's worker thread (the event
    loop stays free), and answers are counted in the metrics.
    """

    def __init__(self, engine: Any, store: SessionStore, runtime: Runtime | None = None) -> None:
        self.engine = engine
        self.store = store
        self.runtime = runtime
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
        data such as numbered choices); the engine never reads it.
        A chat over its limit gets an answer of intent "limited": "slow down" the first time,
        then an empty reply (`silent`) that adapters do not send."""
        runtime = self.runtime
        if runtime is not None:
            verdict = await runtime.user_limit.check(key)
            if verdict is not Verdict.OK:
                runtime.metrics.limited.inc("user")
                if verdict is Verdict.DROP:
                    return runtime.limited_answer(text, lang, quiet=True)
                return runtime.limited_answer(text, lang or self.state(key).get("lang"))
        remote = bool(getattr(self.store, "shared", False))
        async with self._lock(key):
            # A database across the network (PostgreSQL) is asked from a thread, not the loop.
            state = await asyncio.to_thread(self.state, key) if remote else self.state(key)
            if runtime is None:
                answer = self.engine.answer(text, state, lang=lang, chat=chat)
            else:
                # The engine on the worker thread; the state is read and saved here.
                channel = chat[0] if chat else key.partition(":")[0]
                answer = await runtime.answer(key, channel, self._engine_answer, text, state, lang, chat,
                                              per_key=0, bounded=False)
            if channel_state is not None:
                state["channel"] = channel_state(answer)
            try:
                if remote:
                    await asyncio.to_thread(self.store.save_session, key, state)
                else:
                    self.store.save_session(key, state)
            except Exception:
                log.exception("sessions: could not save a session")
            return answer

    def _engine_answer(self, text: str, state: dict[str, Any], lang: str | None, chat: tuple[str, str] | None) -> Any:
        return self.engine.answer(text, state, lang=lang, chat=chat)


def silent(answer: Any) -> bool:
    """True for an answer with nothing to send (a message dropped by the rate limit)."""
    reply = answer.reply
    return not reply.text and not reply.buttons and getattr(reply, "image", None) is None


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
        """True when sessions go to the Storage."""
        return not isinstance(session_store(self.app), MemorySessions)

    @property
    def shared(self) -> bool:
        """True when the Storage is a database shared by replicas (PostgreSQL)."""
        return bool(getattr(session_store(self.app), "shared", False))

    def get_session(self, key: str) -> dict[str, Any] | None:
        return session_store(self.app).get_session(key)

    def save_session(self, key: str, state: dict[str, Any]) -> None:
        session_store(self.app).save_session(key, state)

    def first_delivery(self, source: str, event_id: str) -> bool | None:
        """The Storage's inbox verdict on an event (True the first time), or None when the app
        has no Storage with an inbox."""
        store = session_store(self.app)
        record = getattr(store, "first_delivery", None)
        return None if record is None else bool(record(source, event_id))


def conversations(app: web.Application) -> Conversations:
    """A `Conversations` over the app's engine (swapped in place on a knowledge reload), its
    session store and, in the server, its Runtime (limits, answer gate, metrics)."""
    return Conversations(app[ENGINE], AppSessions(app), app.get(RUNTIME))


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
    INSERT, bot/storage.py), so another process or a restarted one recognises the event too.
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
        if self.store is not None and getattr(self.store, "persistent", True):
            try:
                record = getattr(self.store, "first_delivery", None)
                verdict = record(self.namespace, key) if record is not None else None
                if verdict is not None:
                    return bool(verdict)
                # A store without an inbox: the sessions table (not atomic across processes).
                seen_key = f"seen:{self.namespace}:{key}"
                if self.store.get_session(seen_key) is not None:
                    return False
                self.store.save_session(seen_key, {"seen": True})
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
