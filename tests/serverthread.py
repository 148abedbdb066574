"""A real server for tests that talk raw HTTP: the full app (web, API, all three channels) on a
loopback port, run by an event loop in a background thread, with local fakes of the Telegram
Bot API, the Zalo OA API and the Zalo Bot API on another port, so every route is live."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.config import Settings
from bot.server import create_app
from bot.storage import Storage
from bot.web._runtime import server_options

TELEGRAM_TOKEN = "123456:FUZZ-telegram-token-aaaaaaaaaaaaaaaaaaaa"
TELEGRAM_SECRET = "fuzz_telegram_secret"
ZALO_APP_ID = "2553928453557884079"
ZALO_OA_SECRET = "fuzz-oa-secret-key"
ZALO_BOT_TOKEN = "987:fuzz-zalo-bot-token"
ZALO_BOT_SECRET = "fuzz-zalo-bot-secret"
STAFF_CHAT = 1001


class FakePlatforms:
    """Answers every Bot API / OA API call with a success of the expected shape."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        path = request.path
        method = path.rsplit("/", 1)[-1]
        self.calls.append(method)
        if path.startswith("/v3.0/oa/"):
            return web.json_response({"error": 0, "message": "Success", "data": {}})
        if path.startswith("/v4/oa/access_token"):
            return web.json_response({"access_token": "fresh-access", "refresh_token": "fresh-refresh", "expires_in": "90000"})
        if path.startswith("/zbot"):
            return web.json_response({"ok": True, "result": {"message_id": "1"}})
        # Telegram Bot API
        if method == "getMe":
            return web.json_response({"ok": True, "result": {
                "id": 123456, "is_bot": True, "first_name": "TTHC", "username": "tthc_test_bot",
                "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}})
        if method in ("sendMessage", "sendPhoto"):
            return web.json_response({"ok": True, "result": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}})
        return web.json_response({"ok": True, "result": True})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread:
    """`start()` the fakes and the app on loopback ports; `stop()` shuts both down in order."""

    def __init__(self, tmp: Path, **settings: Any) -> None:
        self.tmp = tmp
        self.overrides = settings
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test-server", daemon=True)
        self.fakes = FakePlatforms()
        self.port = 0
        self.app: web.Application | None = None
        self._runners: list[web.AppRunner] = []

    def call(self, fn: Callable[[], Any], timeout: float = 60) -> Any:
        """Run coroutine function `fn` on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(fn(), self.loop).result(timeout)

    def start(self) -> ServerThread:
        self.thread.start()
        self.call(self._start)
        return self

    async def _start(self) -> None:
        fake_runner = web.AppRunner(self.fakes.app, access_log=None)
        await fake_runner.setup()
        fake_port = free_port()
        await web.TCPSite(fake_runner, "127.0.0.1", fake_port).start()
        self._runners.append(fake_runner)
        fake = f"http://127.0.0.1:{fake_port}"
        values: dict[str, Any] = dict(
            db=str(self.tmp / "server.db"),
            public_url="https://bot.example.gov.vn",
            telegram_token=TELEGRAM_TOKEN, telegram_webhook_secret=TELEGRAM_SECRET, telegram_api_base=f"{fake}/bot",
            zalo_oa_app_id=ZALO_APP_ID, zalo_oa_secret_key=ZALO_OA_SECRET, zalo_oa_access_token="fuzz-access",
            zalo_oa_api_base=fake, zalo_oauth_base=fake,
            zalo_bot_token=ZALO_BOT_TOKEN, zalo_bot_webhook_secret=ZALO_BOT_SECRET, zalo_bot_api_base=f"{fake}/zbot",
            staff_chats=f"telegram:{STAFF_CHAT}",
        )
        values.update(self.overrides)
        settings = Settings(**values)
        self.app = create_app(settings, storage=Storage(values["db"]))
        # The connection handling of `tthc-bot serve` (idle and unfinished requests closed).
        runner = web.AppRunner(self.app, handle_signals=False, **server_options(settings))
        await runner.setup()
        self.port = free_port()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        self._runners.insert(0, runner)
        from bot.channels._telegram import TELEGRAM

        await asyncio.wait_for(self.app[TELEGRAM].ready.wait(), 30)

    def stop(self) -> None:
        async def _stop() -> None:
            for runner in self._runners:
                await runner.cleanup()
            if self.app is not None:
                from bot.web._keys import STORAGE

                self.app[STORAGE].close()

        try:
            self.call(_stop)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)


class Records(logging.Handler):
    """Collects log records (for "nothing went wrong" checks)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def errors(self) -> list[str]:
        out = []
        for r in self.records:
            if r.levelno >= logging.ERROR:
                exc = r.exc_info[1] if r.exc_info else None
                out.append(f"{r.name}: {r.getMessage()}" + (f" ({type(exc).__name__}: {str(exc)[:200]})" if exc else ""))
        return out
