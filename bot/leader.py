"""One leader among the replicas, for the jobs that must run once: the staff digest, the Zalo OA
token refresh ahead of expiry, and registering the webhooks (Telegram setWebhook, Zalo Bot).

On PostgreSQL the leader holds an advisory lock on a connection of its own
(`Storage.try_lead`); every replica asks every TTHC_LEADER_INTERVAL seconds, so when the leader
dies (its connection closes with it, even on kill -9) another one takes over within that time
and runs the jobs' hand-over callbacks (`on_elected`: e.g. setWebhook again). On SQLite the one
process leads at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from aiohttp import web

log = logging.getLogger("bot.leader")

#: The leadership's name (one per database).
NAME = "jobs"
INTERVAL = 5.0

Callback = Callable[[], Awaitable[None]]


class Leases(Protocol):
    """Where the lease is kept (bot.storage's `Storage` fits)."""

    #: True when replicas share the database (PostgreSQL): several can try to lead.
    shared: bool

    def try_lead(self, name: str) -> bool:
        """Take or renew lease `name`: True while this process holds it."""

    def resign(self, name: str) -> None:
        """Give the lease up (at shutdown)."""


class Leader:
    """Whether this replica leads, and what to do each time it becomes the leader."""

    def __init__(self, storage: Leases, interval: float = INTERVAL, name: str = NAME) -> None:
        self.storage = storage
        self.interval = max(0.05, float(interval))
        self.name = name
        self.is_leader = False
        self._callbacks: list[Callback] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def on_elected(self, callback: Callback) -> None:
        """Run `callback()` (in the background) whenever this replica becomes the leader, and
        now when it already is."""
        self._callbacks.append(callback)
        if self.is_leader:
            self._spawn(callback)

    def _spawn(self, callback: Callback) -> None:
        async def guarded() -> None:
            try:
                await callback()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("leader: a job failed on election")

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def elect_once(self) -> bool:
        """Ask for (or confirm) the lead now; True when this replica leads."""
        try:
            leading = bool(await asyncio.to_thread(self.storage.try_lead, self.name))
        except Exception as exc:  # the database is away: not the leader until it answers
            log.warning("leader: the database did not answer (%s)", type(exc).__name__)
            leading = False
        if leading and not self.is_leader:
            self.is_leader = True
            if self.storage.shared:
                log.info("leader: this replica now runs the digest, token refresh and webhook registration")
            for callback in list(self._callbacks):
                self._spawn(callback)
        elif not leading and self.is_leader:
            self.is_leader = False
            log.warning("leader: lost the lead (another replica takes the jobs over)")
        return leading

    async def run(self, stop: asyncio.Event) -> None:
        """Ask every `interval` seconds until `stop`; then give the lead up."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
            if not stop.is_set():
                await self.elect_once()

    async def close(self) -> None:
        """Stop the election callbacks still running and give up the lead."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.is_leader:
            self.is_leader = False
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.storage.resign, self.name)


LEADER: web.AppKey[Leader] = web.AppKey("leader", Leader)


def install(app: web.Application, storage: Leases, interval: float = INTERVAL) -> Leader:
    """Put a Leader in `app` (before the channels and dossier loops, so they can ask it): it asks
    for the lead once before the server takes requests, then every `interval` seconds."""
    leader = Leader(storage, interval)
    app[LEADER] = leader

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        await leader.elect_once()
        task = asyncio.get_running_loop().create_task(leader.run(stop), name="tthc-leader")
        try:
            yield
        finally:
            stop.set()
            await task
            await leader.close()

    app.cleanup_ctx.append(lifetime)
    return leader


def leader_of(app: web.Application) -> Leader | None:
    """The app's Leader (None for an app without a storage)."""
    return app.get(LEADER)


def leads(app: web.Application) -> bool:
    """True when this process runs the once-only jobs (always, without a Leader)."""
    leader = app.get(LEADER)
    return leader is None or leader.is_leader
