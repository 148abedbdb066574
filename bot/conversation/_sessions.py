"""Conversations: the one service every face answers through (the web API, the terminal and
every channel). It loads a chat's state, runs the assistant, saves the state, one message of a
chat at a time; on the server, within the limits and on the worker thread of a `Gate`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from ..core import Answer, ConversationState
from ._assistant import Assistant

log = logging.getLogger(__name__)

MAX_MEMORY_SESSIONS = 10_000


@runtime_checkable
class SessionStore(Protocol):
    """Where per-chat state is kept (bot.storage's `Storage` fits; `MemorySessions` without a
    database)."""

    #: False when the state is lost at a restart (memory).
    persistent: bool
    #: True when replicas share it (PostgreSQL): then it is asked from a thread, never the loop.
    shared: bool

    def get_session(self, key: str) -> dict[str, Any] | None:
        """The saved state of a chat, or None."""

    def save_session(self, key: str, state: dict[str, Any]) -> None:
        """Save (replace) the state of a chat."""

    def first_delivery(self, source: str, event_id: str) -> bool | None:
        """True the first time event `event_id` of `source` is recorded, False for a redelivery;
        None when this store keeps no record of events."""


class MemorySessions:
    """A bounded in-memory `SessionStore` (the least recently used chats are forgotten)."""

    persistent = False
    shared = False

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

    def first_delivery(self, source: str, event_id: str) -> bool | None:
        return None  # the channels' own memory of recent events is all there is


class Gate(Protocol):
    """The server's limits and worker thread (bot.web's Runtime fits)."""

    async def limit_user(self, key: str, text: str, lang: Callable[[], str | None], repeat: bool = False) -> Answer | None:
        """None when chat `key` may be answered; else the answer to send instead ("slow down",
        or a silent one unless `repeat`). `lang()` gives the chat's language when one is needed."""

    async def answer(self, key: str, channel: str, fn: Callable[..., Answer], *args: Any,
                     per_key: int | None = None, bounded: bool = True, inline: bool = False) -> Answer:
        """`fn(*args)` on the worker thread (or here when `inline`), counted and timed; raises
        the gate's Busy when it is full."""


class Live(Protocol):
    """The assistant being served: swapped in place when the knowledge is reloaded."""

    @property
    def current(self) -> Assistant: ...


class Conversations:
    """Runs one message of one chat through the assistant: load state, answer, save state.

    Messages of the same chat are handled one at a time (a lock per chat), so two quick
    webhook calls cannot overwrite each other's state within this process (across replicas
    the state is shared, and the later of two messages answered at the same instant on two
    replicas is the one whose state is kept: docs/replicas.md). With a `Gate` (the server's),
    each chat is held to TTHC_USER_MESSAGES_PER_MINUTE (one polite "slow down", then silence
    while over it), the assistant runs on the gate's worker thread (the event loop stays free),
    and answers are counted in the metrics.
    """

    def __init__(self, assistant: Assistant | Live, store: SessionStore, gate: Gate | None = None) -> None:
        self._assistant = assistant
        self.store = store
        self.gate = gate
        self._locks: dict[str, asyncio.Lock] = {}

    @property
    def assistant(self) -> Assistant:
        """The assistant answering now (after a reload, the new one)."""
        a = self._assistant
        return a if isinstance(a, Assistant) else a.current

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            if len(self._locks) > MAX_MEMORY_SESSIONS:
                for k in [k for k, v in self._locks.items() if not v.locked()]:
                    del self._locks[k]
            lock = self._locks[key] = asyncio.Lock()
        return lock

    def state(self, key: str) -> ConversationState:
        """The chat's saved state (a fresh one for a new chat, or when it cannot be read)."""
        try:
            return ConversationState.from_dict(self.store.get_session(key) or {})
        except Exception:
            log.exception("sessions: could not read a session; starting afresh")
            return ConversationState()

    def _save(self, key: str, state: ConversationState) -> None:
        self.store.save_session(key, state.to_dict())

    async def answer(
        self, key: str | None, text: str, lang: str | None = None, *,
        chat: tuple[str, str] | None = None,
        channel_state: Callable[[Answer], dict[str, Any]] | None = None,
        client: str | None = None, address: str | None = None,
    ) -> Answer:
        """The answer to `text` in chat `key`, its state loaded and saved around it (`key` None:
        a one-off question, no state kept). `chat` is (channel, chat id): the address a dossier
        subscription notifies. `channel_state(answer)`, when given, is stored as the state's
        `channel` (adapter data such as numbered choices); no flow reads it.

        `client` (the web API's caller, by address) answers through the gate's bounded queue,
        limited per client, and cheap answers inline; the gate's Busy is raised when it is full.
        Otherwise (the channels) the gate's queue waits. A chat over its limit gets an answer of
        intent "limited": "slow down" the first time, then a silent one that faces do not send."""
        gate = self.gate
        if gate is not None and key is not None:
            limited = await gate.limit_user(key, text, lambda: lang or self.state(key).lang, repeat=client is not None)
            if limited is not None:
                return limited
        remote = self.store.shared
        channel = chat[0] if chat else (key or "web").partition(":")[0]
        async with self._lock(key) if key is not None else contextlib.nullcontext():
            if key is None:
                state = ConversationState()
            elif remote:  # a database across the network (PostgreSQL) is asked from a thread
                state = await asyncio.to_thread(self.state, key)
            else:
                state = self.state(key)
            assistant = self.assistant
            if gate is None:
                answer = assistant.reply(text, state, lang, chat, address)
            elif client is not None:
                answer = await gate.answer(client, channel, assistant.reply, text, state, lang, chat, address,
                                           inline=assistant.cheap(text, state))
            else:
                answer = await gate.answer(key or channel, channel, assistant.reply, text, state, lang, chat, address,
                                           per_key=0, bounded=False)
            if channel_state is not None:
                state.channel = channel_state(answer)
            if key is not None:
                try:
                    if remote:
                        await asyncio.to_thread(self._save, key, state)
                    else:
                        self._save(key, state)
                except Exception:
                    log.exception("sessions: could not save a session")
            return answer
