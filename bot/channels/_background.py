"""Background work of the webhook channels: a webhook answers 200 at once and the reply is sent
afterwards (Zalo wants its webhook answered within seconds), tracked so shutdown can wait."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, Protocol, TypeVar

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

log = logging.getLogger(__name__)


class Background:
    """A set of running tasks: started with `spawn`, awaited (up to a limit) by `drain`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run `coro` in the background; its exceptions are logged, never raised."""
        task = asyncio.create_task(self._guard(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guard(self, coro: Coroutine[Any, Any, Any]) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("%s: error while handling an event: %s", self.name, type(exc).__name__, exc_info=exc)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for the running tasks (cancelling those still running after `timeout` seconds)."""
        if not self._tasks:
            return
        done, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def idle(self) -> None:
        """Return once no task is running (for tests and orderly shutdown)."""
        while self._tasks:
            await asyncio.gather(*set(self._tasks), return_exceptions=True)


class Lifecycle(Protocol):
    """A channel the server starts with the app and stops at shutdown."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


C = TypeVar("C", bound=Lifecycle)


def mount(app: web.Application, key: web.AppKey[C], channel: C, path: str, handler: Handler) -> C:
    """Put `channel` in the app under `key`, route `POST path` to `handler`, and start/stop the
    channel with the app (cleanup_ctx)."""
    app[key] = channel
    app.router.add_post(path, handler)

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        await channel.start()
        yield
        await channel.stop()

    app.cleanup_ctx.append(lifetime)
    return channel
