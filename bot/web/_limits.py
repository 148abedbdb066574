"""Limits that keep one flood from starving everyone else.

- `RateLimiter`: a token bucket per key (a chat, an IP address): `per_minute` messages a minute,
  with bursts up to the same number. The first message over the limit is told to slow down
  (`WARN`), the ones after it are dropped quietly (`DROP`) until the bucket refills, so a
  flooding chat gets one polite reply, not one per message.
- `AnswerGate`: the answer engine is synchronous CPU work (about a millisecond a question); it
  runs on one worker thread so the event loop keeps answering HTTP while it matches. The gate
  bounds how many calls may wait for that thread (all together, and per key), so a burst is
  refused at once (`Busy`) instead of queueing without end, and one client can hold at most
  `per_key` places in the queue.

The answer gate is per process. The rate limits are per process and in memory on SQLite (one
process); on PostgreSQL (`SharedRateLimiter`) the buckets live in the database, so replicas
behind one load balancer count a chat's or an address's messages together.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from enum import Enum
from typing import Any, TypeVar

from aiohttp import web

from ..storage import Storage
from ._keys import SETTINGS

T = TypeVar("T")
log = logging.getLogger("bot.web")
MAX_KEYS = 100_000
#: The session ids the web chat makes (and /api/ask and /api/messages accept): ASCII letters,
#: digits, ".", "_" and "-" only (no lone surrogate, no other script's digits).
SESSION_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}\Z")
#: Largest request body any route accepts (bigger ones get 413).
MAX_BODY = 1024 * 1024


class Verdict(Enum):
    """What to do with one message."""

    OK = "ok"
    WARN = "warn"  # over the limit: say "slow down" once
    DROP = "drop"  # still over the limit after the warning: ignore quietly


class RateLimiter:
    """A token bucket per key: `per_minute` a minute, bursts up to `per_minute`; 0 = no limit."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_KEYS) -> None:
        self.per_minute = max(0, int(per_minute))
        self.capacity = float(self.per_minute)
        self.rate = self.per_minute / 60.0
        self.clock = clock
        self.max_keys = max_keys
        # key -> [tokens, last refill time, warned (0/1)]
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def _tokens(self, bucket: list[float] | None, now: float) -> float:
        if bucket is None:
            return self.capacity
        return min(self.capacity, bucket[0] + (now - bucket[1]) * self.rate)

    def hit(self, key: str) -> Verdict:
        """Count one message of `key` and say whether it may go on."""
        if not self.enabled:
            return Verdict.OK
        now = self.clock()
        bucket = self._buckets.get(key)
        tokens = self._tokens(bucket, now)
        if tokens >= 1.0:
            verdict, tokens, warned = Verdict.OK, tokens - 1.0, 0.0
        else:
            warned = 1.0
            verdict = Verdict.DROP if bucket is not None and bucket[2] else Verdict.WARN
        if bucket is None:
            self._buckets[key] = [tokens, now, warned]
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            bucket[0], bucket[1], bucket[2] = tokens, now, warned
            self._buckets.move_to_end(key)
        return verdict

    def retry_after(self, key: str) -> int:
        """Whole seconds until `key` may send again (at least 1)."""
        if not self.enabled:
            return 1
        tokens = self._tokens(self._buckets.get(key), self.clock())
        return max(1, math.ceil((1.0 - tokens) / self.rate)) if tokens < 1.0 else 1

    async def check(self, key: str) -> Verdict:
        """`hit(key)` from the event loop (in memory: at once)."""
        return self.hit(key)


class SharedRateLimiter(RateLimiter):
    """The same token bucket per key, counted in the database (`Storage.rate_hit`: one
    statement a message), so every replica on one PostgreSQL database sees the same count.
    `scope` keeps the buckets of different limits apart ("user", "ip", "pictures"). Should the
    database not answer, the process's own bucket decides meanwhile (a limit, not an outage)."""

    def __init__(self, per_minute: int, storage: Any, scope: str, *, clock: Callable[[], float] = time.time,
                 max_keys: int = MAX_KEYS) -> None:
        super().__init__(per_minute, clock=clock, max_keys=max_keys)
        self.storage = storage
        self.scope = scope
        self._left: OrderedDict[str, float] = OrderedDict()  # tokens left at the last count, for Retry-After
        self._failing = False

    def hit(self, key: str) -> Verdict:
        if not self.enabled:
            return Verdict.OK
        try:
            tokens, refused = self.storage.rate_hit(f"{self.scope}:{key}", self.capacity, self.rate, self.clock())
        except Exception as exc:
            if not self._failing:
                log.warning("rate limits: the database did not count (%s); this process counts alone meanwhile",
                            type(exc).__name__)
                self._failing = True
            return super().hit(key)
        self._failing = False
        self._left[key] = tokens
        self._left.move_to_end(key)
        while len(self._left) > self.max_keys:
            self._left.popitem(last=False)
        if refused == 0:
            return Verdict.OK
        return Verdict.WARN if refused == 1 else Verdict.DROP

    def retry_after(self, key: str) -> int:
        if not self.enabled:
            return 1
        tokens = self._left.get(key)
        if tokens is None:
            return super().retry_after(key)
        return max(1, math.ceil((1.0 - tokens) / self.rate)) if tokens < 1.0 else 1

    async def check(self, key: str) -> Verdict:
        """`hit(key)` on a worker thread: the event loop never waits for the database."""
        if not self.enabled:
            return Verdict.OK
        return await asyncio.to_thread(self.hit, key)


def rate_limiter(per_minute: int, storage: Storage | None, scope: str) -> RateLimiter:
    """A limiter counted in the database when `storage` is shared by replicas (PostgreSQL),
    else in this process's memory."""
    if storage is not None and storage.shared:
        return SharedRateLimiter(per_minute, storage, scope)
    return RateLimiter(per_minute)


class Busy(Exception):
    """The gate is full: for this client (`scope` "client") or for everyone ("server")."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"busy ({scope})")
        self.scope = scope


class AnswerGate:
    """Runs synchronous work (the engine) off the event loop, with a bounded queue."""

    def __init__(self, max_waiting: int = 256, per_key: int = 0, workers: int = 1) -> None:
        self.max_waiting = max(1, int(max_waiting))
        self.per_key = max(0, int(per_key))
        self._executor = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="tthc-answer")
        self._inflight: dict[str, int] = {}
        self.waiting = 0

    async def run(
        self, key: str, fn: Callable[..., T], *args: Any, per_key: int | None = None, bounded: bool = True,
    ) -> T:
        """`fn(*args)` on the worker thread. Raises `Busy` at once when `key` already has
        `per_key` calls waiting (0: no per-key bound) or, when `bounded`, the queue holds
        `max_waiting` (chat channels pass bounded=False: one message per chat waits at most)."""
        limit = self.per_key if per_key is None else per_key
        if bounded and self.waiting >= self.max_waiting:
            raise Busy("server")
        mine = self._inflight.get(key, 0)
        if limit and mine >= limit:
            raise Busy("client")
        self.waiting += 1
        self._inflight[key] = mine + 1
        try:
            loop = asyncio.get_running_loop()
            # In a copy of the caller's context: who is asking (set by the request) goes along.
            ctx = contextvars.copy_context()
            return await loop.run_in_executor(self._executor, ctx.run, functools.partial(fn, *args))
        finally:
            self.waiting -= 1
            left = self._inflight[key] - 1
            if left:
                self._inflight[key] = left
            else:
                del self._inflight[key]

    def close(self) -> None:
        """Finish the work already handed over, then stop the worker thread."""
        self._executor.shutdown(wait=True)


#: Seconds a client may take to send a request body (TTHC_BODY_TIMEOUT sets the server's).
BODY_TIMEOUT = 20.0


async def read_body(request: Any, timeout: float | None = None) -> bytes:
    """The request's body, read within `timeout` seconds (the server's TTHC_BODY_TIMEOUT when
    None): a client that trickles its body is answered 408 and its connection closed, instead
    of holding a handler for ever. Bodies over MAX_BODY raise 413 as `request.read()` does."""
    if timeout is None:
        settings = request.app.get(SETTINGS)
        timeout = float(settings.body_timeout) if settings is not None else BODY_TIMEOUT
    try:
        async with asyncio.timeout(timeout):
            return bytes(await request.read())
    except TimeoutError:
        raise web.HTTPRequestTimeout(text="request body too slow", headers={"Connection": "close"}) from None
