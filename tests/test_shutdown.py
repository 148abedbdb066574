"""Shutdown and crashes: `tthc-bot serve` as a real process delivering queued notifications to a
local fake of the Zalo Bot API.

- SIGTERM while a notification is being sent: that delivery finishes, the others stay queued
  (pending), the process exits 0, and a restart sends the rest: each exactly once.
- kill -9 while a notification is being sent (before the platform accepted it): after a restart
  every notification arrives, each exactly once.
- SIGTERM while the reply to a user's message is being sent: the reply goes out before the
  process exits.

Nothing waits on the clock to decide an outcome: the fake holds one message until the test
releases it, and the test waits for events (a log line, a closed connection, a count).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from serverthread import free_port

from bot.core import now_vn
from bot.storage import Storage

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "4242:shutdown-test-token"
CHAT = "chat-1"
N = 6
HELD = "notification 3"
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class FakeZaloBot:
    """sendMessage that records what it accepted; the message `hold` waits for `release()`, and
    is accepted only if the bot's connection is still open then."""

    def __init__(self, hold: str | None, hold_chat: str | None = None) -> None:
        self.hold = hold
        self.hold_chat = hold_chat
        self.accepted: list[str] = []
        self.replies: list[str] = []
        self.held: web.Request | None = None
        self.loop = asyncio.new_event_loop()
        self._release: asyncio.Event | None = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.port = free_port()

    async def method(self, request: web.Request) -> web.Response:
        body = await request.json()
        if request.match_info["method"] != "sendMessage":
            return web.json_response({"ok": True, "result": True})
        text = body["text"]
        held = text == self.hold or (self.hold_chat is not None and body.get("chat_id") == self.hold_chat)
        if held and self._release is not None and not self._release.is_set():
            self.held = request
            await self._release.wait()
            if request.transport is None or request.transport.is_closing():
                return web.json_response({"ok": False}, status=499)  # the bot is gone: never accepted
        (self.accepted if body.get("chat_id") == CHAT else self.replies).append(text)
        return web.json_response({"ok": True, "result": {"message_id": str(len(self.accepted))}})

    def start(self) -> FakeZaloBot:
        self.thread.start()

        async def up() -> None:
            self._release = asyncio.Event()
            app = web.Application()
            app.router.add_post("/bot{token}/{method}", self.method)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()

        asyncio.run_coroutine_threadsafe(up(), self.loop).result(10)
        return self

    def release(self) -> None:
        assert self._release is not None
        self.loop.call_soon_threadsafe(self._release.set)

    def connection_closed(self) -> bool:
        return self.held is not None and (self.held.transport is None or self.held.transport.is_closing())

    def stop(self) -> None:
        self.release()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Server:
    """`python -m bot serve` on a free port, its log lines collected."""

    def __init__(self, db: Path, fake: FakeZaloBot) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TTHC_", "TELEGRAM_", "ZALO_"))}
        env.update(TTHC_DB=str(db), TTHC_HOST="127.0.0.1", TTHC_PORT=str(self.port), TTHC_OUTBOX_LEASE="6",
                   ZALO_BOT_TOKEN=TOKEN, ZALO_BOT_WEBHOOK_SECRET="shutdown-test-secret",
                   ZALO_BOT_API_BASE=f"http://127.0.0.1:{fake.port}", PYTHONUNBUFFERED="1",
                   PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        wait_for(self.healthy, "the server to answer /healthz")

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError("the server exited:\n" + "\n".join(self.lines[-30:]))
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def logged(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def fake() -> Iterator[FakeZaloBot]:
    fake = FakeZaloBot(hold=HELD).start()
    yield fake
    fake.stop()


def queue(db: Path) -> None:
    with Storage(db) as storage:
        now = now_vn()
        for i in range(1, N + 1):
            storage.enqueue(f"test:{i}", "zalo_bot", CHAT, {"text": f"notification {i}"}, now)


def states(db: Path) -> dict[str, str]:
    with Storage(db) as storage:
        return {row["payload"]["text"]: row["state"] for row in storage.outbox()}


def test_sigterm_finishes_the_delivery_in_flight_and_keeps_the_rest(tmp_path: Path, fake: FakeZaloBot) -> None:
    db = tmp_path / "bot.db"
    queue(db)
    server = Server(db, fake)
    try:
        wait_for(lambda: fake.held is not None, "the third notification to be in flight")
        assert fake.accepted == ["notification 1", "notification 2"]
        server.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: server.logged("outbox: stopping"), "the server to start its orderly stop")
        fake.release()  # the platform now accepts the message in flight
        assert server.proc.wait(30) == 0, "\n".join(server.lines[-30:])
    finally:
        server.stop()
    assert fake.accepted == ["notification 1", "notification 2", "notification 3"]
    after = states(db)
    assert [after[f"notification {i}"] for i in range(1, N + 1)] == ["sent"] * 3 + ["pending"] * 3

    server = Server(db, fake)
    try:
        wait_for(lambda: len(fake.accepted) == N, "the rest to be delivered after the restart")
        # Accepted by the platform, then marked sent: stopping in between would leave it 'sending'.
        wait_for(lambda: set(states(db).values()) == {"sent"}, "the last one to be marked sent")
    finally:
        server.stop()
    assert sorted(fake.accepted) == [f"notification {i}" for i in range(1, N + 1)], "each exactly once"
    assert set(states(db).values()) == {"sent"}


def test_kill_9_loses_nothing_and_sends_nothing_twice(tmp_path: Path, fake: FakeZaloBot) -> None:
    db = tmp_path / "bot.db"
    queue(db)
    server = Server(db, fake)
    try:
        wait_for(lambda: fake.held is not None, "the third notification to be in flight")
        server.proc.kill()  # SIGKILL: no cleanup at all
        server.proc.wait(10)
    finally:
        server.stop()
    wait_for(fake.connection_closed, "the fake to see the connection drop")
    fake.release()
    assert fake.accepted == ["notification 1", "notification 2"]
    before = states(db)
    assert before["notification 1"] == before["notification 2"] == "sent"
    assert before["notification 3"] == "sending", "claimed by the dead process"

    server = Server(db, fake)
    try:
        # Rows claimed by the dead process are taken again once their lease (6 s here) is over.
        wait_for(lambda: len(fake.accepted) >= N, "every notification after the restart")
        wait_for(lambda: set(states(db).values()) == {"sent"}, "the last one to be marked sent")
        assert server.healthy()
    finally:
        server.stop()
    assert sorted(fake.accepted) == [f"notification {i}" for i in range(1, N + 1)], "each exactly once"
    assert set(states(db).values()) == {"sent"}



def test_sigterm_finishes_the_reply_being_sent(tmp_path: Path) -> None:
    fake = FakeZaloBot(hold=None, hold_chat="user-1").start()
    server = Server(tmp_path / "bot.db", fake)
    try:
        update = {"event_name": "message.text.received", "message": {
            "message_id": "m1", "date": 0, "text": "gia han gpld mat bao lau",
            "from": {"id": "user-1", "is_bot": False}, "chat": {"id": "user-1", "chat_type": "PRIVATE"}}}
        req = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/zalo-bot/webhook", data=json.dumps(update).encode(), method="POST",
            headers={"Content-Type": "application/json", "X-Bot-Api-Secret-Token": "shutdown-test-secret"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
        wait_for(lambda: fake.held is not None, "the reply to be in flight")
        server.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: server.logged("outbox: stopping"), "the server to start its orderly stop")
        fake.release()
        assert server.proc.wait(30) == 0, "\n".join(server.lines[-30:])
    finally:
        server.stop()
        fake.stop()
    assert fake.replies and "1.014201" in fake.replies[0], "the reply went out before the process ended"
