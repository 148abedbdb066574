"""Two `tthc-bot serve` replicas on one real PostgreSQL (TTHC_TEST_PG; .ci/run starts it), each a
process of its own, as behind a load balancer:

- a follow-up question asked on the other replica keeps the conversation's context;
- 5 wrong secrets for a dossier, split across the replicas, lock the code on both;
- a per-address limit is counted by both replicas together;
- 400 Telegram updates to one replica plus 100 redeliveries of them to the other, at the same
  time, give 400 answers (the inbox: one INSERT … ON CONFLICT DO NOTHING per update);
- a notification being sent when its replica is killed with kill -9 is delivered once, by the
  other replica, which also takes the lead over and registers the webhook again.

The fakes of the Telegram and Zalo Bot APIs run in this process; nothing waits on the clock to
decide an outcome (the tests wait for events: a log line, a held request, a count).
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
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from pgtest import fresh_schema
from serverthread import free_port

from bot.core import now_vn
from bot.dossiers import import_records
from bot.storage import Storage

ROOT = Path(__file__).resolve().parents[1]
TG_TOKEN = "4242:replica-test-token"
TG_SECRET = "replica_test_secret"
ZB_TOKEN = "777:replica-zalo-bot-token"
ZB_SECRET = "replica-zalo-bot-secret"
CODE = "H42.25-260213-0001"
SECRET = "AB12CD"
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class FakePlatform:
    """The Telegram Bot API (getMe, setWebhook, sendMessage…) and the Zalo Bot API on one port.
    Records what each accepted; the Zalo Bot message `hold` waits for `release()` and is accepted
    only if the sender's connection is still open then."""

    def __init__(self, hold: str | None = None) -> None:
        self.hold = hold
        self.telegram: list[tuple[int, str]] = []  # (chat id, text) of sendMessage
        self.zalo: list[str] = []  # texts accepted by the Zalo Bot's sendMessage
        self.calls: list[str] = []
        self.held: web.Request | None = None
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._release: asyncio.Event | None = None
        self._lock = threading.Lock()

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        with self._lock:
            self.calls.append(method)
        if request.path.startswith("/zbot"):
            return await self.zalo_bot(request, method)
        if method == "getMe":
            return web.json_response({"ok": True, "result": {
                "id": 4242, "is_bot": True, "first_name": "TTHC", "username": "tthc_replica_bot",
                "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}})
        if method == "sendMessage":
            data = await request.post() if request.content_type != "application/json" else await request.json()
            with self._lock:
                self.telegram.append((int(str(data["chat_id"])), str(data["text"])))
            return web.json_response({"ok": True, "result": {
                "message_id": len(self.telegram), "date": 0, "chat": {"id": int(str(data["chat_id"])), "type": "private"}}})
        return web.json_response({"ok": True, "result": True})

    async def zalo_bot(self, request: web.Request, method: str) -> web.Response:
        if method != "sendMessage":
            return web.json_response({"ok": True, "result": True})
        body = await request.json()
        text = str(body["text"])
        if text == self.hold and self._release is not None and not self._release.is_set():
            self.held = request
            await self._release.wait()
            if request.transport is None or request.transport.is_closing():
                return web.json_response({"ok": False}, status=499)  # the sender is gone: never accepted
        with self._lock:
            self.zalo.append(text)
        return web.json_response({"ok": True, "result": {"message_id": str(len(self.zalo))}})

    def start(self) -> FakePlatform:
        self.thread.start()

        async def up() -> None:
            self._release = asyncio.Event()
            app = web.Application()
            app.router.add_post("/bot{token}/{method}", self.handle)
            app.router.add_post("/zbot/bot{token}/{method}", self.handle)
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

    def count(self, method: str) -> int:
        with self._lock:
            return self.calls.count(method)

    def stop(self) -> None:
        self.release()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Replica:
    """`python -m bot serve` on a free port against the shared database, its log collected."""

    def __init__(self, name: str, db: str, fake: FakePlatform, **extra: str) -> None:
        self.name = name
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TTHC_", "TELEGRAM_", "ZALO_"))}
        api = f"http://127.0.0.1:{fake.port}"
        env.update(
            TTHC_DB=db, TTHC_HOST="127.0.0.1", TTHC_PORT=str(self.port), TTHC_PUBLIC_URL="https://bot.example.gov.vn",
            TTHC_LEADER_INTERVAL="1", TTHC_DB_POOL="6", TTHC_TRUSTED_PROXIES="127.0.0.1",
            TELEGRAM_BOT_TOKEN=TG_TOKEN, TELEGRAM_WEBHOOK_SECRET=TG_SECRET, TELEGRAM_API_BASE=f"{api}/bot",
            ZALO_BOT_TOKEN=ZB_TOKEN, ZALO_BOT_WEBHOOK_SECRET=ZB_SECRET, ZALO_BOT_API_BASE=f"{api}/zbot",
            PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        )
        env.update(extra)
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        wait_for(lambda: self.logged("telegram: running"), f"replica {name} to run Telegram", timeout=90)

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def logged(self, text: str) -> bool:
        if self.proc.poll() is not None and not any(text in line for line in self.lines):
            raise AssertionError(f"replica {self.name} exited:\n" + "\n".join(self.lines[-30:]))
        return any(text in line for line in self.lines)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url(path), data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if resp.headers.get_content_type() == "application/json" else raw
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw)
            except ValueError:
                return exc.code, raw.decode("utf-8", "replace")

    def healthy(self) -> bool:
        try:
            return self.request("GET", "/healthz")[0] == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture(scope="module")
def db() -> Iterator[str]:
    with fresh_schema() as url:
        with Storage(url) as storage:
            dossier = {"MaHoSo": CODE, "MaTTHC": "1.014199", "TenTTHC": "Cấp giấy phép lao động",
                       "SoDienThoai": "0912345678", "NgayTiepNhan": "20260213103000", "NgayHenTra": "20260306170000",
                       "TrangThaiHoSo": 4, "MaTraCuu": SECRET}
            assert import_records(storage, [(1, dossier)]).ok
        yield url


@pytest.fixture(scope="module")
def platform() -> Iterator[FakePlatform]:
    fake = FakePlatform().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def replicas(db: str, platform: FakePlatform) -> Iterator[tuple[Replica, Replica]]:
    a = Replica("A", db, platform, TTHC_API_REQUESTS_PER_MINUTE="1000")
    try:
        b = Replica("B", db, platform, TTHC_API_REQUESTS_PER_MINUTE="1000")
    except BaseException:
        a.stop()
        raise
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


def test_one_replica_leads_and_registers_the_webhook(replicas: tuple[Replica, Replica], platform: FakePlatform) -> None:
    a, b = replicas
    assert a.logged("leader: this replica now runs") and not b.logged("leader: this replica now runs")
    assert platform.count("setWebhook") == 2  # by the leader: Telegram's and the Zalo Bot's, once each
    assert a.logged("telegram: webhook registered") and not b.logged("telegram: webhook registered")


def test_a_follow_up_on_the_other_replica_keeps_the_context(replicas: tuple[Replica, Replica]) -> None:
    a, b = replicas
    status, first = a.request("POST", "/api/ask", {"text": "giấy phép lao động cần hồ sơ gì", "session": "replica-s1"})
    assert status == 200 and first["intent"] == "documents"
    code = first["matches"][0]["code"]
    status, follow = b.request("POST", "/api/ask", {"text": "còn lệ phí?", "session": "replica-s1"})
    assert status == 200 and follow["intent"] == "fee"
    assert [m["code"] for m in follow["matches"]][:1] == [code], "the other replica knew which procedure"
    # A new session asking the same has no procedure to go on.
    _, fresh = b.request("POST", "/api/ask", {"text": "còn lệ phí?", "session": "replica-s2"})
    assert fresh["matches"] == []


def test_wrong_secrets_split_across_replicas_lock_the_code_on_both(replicas: tuple[Replica, Replica]) -> None:
    a, b = replicas
    statuses = []
    for i in range(5):  # every guess from another address: the code's own count locks it
        server = (a, b)[i % 2]
        statuses.append(server.request("GET", f"/api/dossiers/{CODE}?secret=WRONG{i}",
                                       headers={"X-Forwarded-For": f"203.0.113.{10 + i}"})[0])
    assert statuses == [404, 404, 404, 404, 429]  # the fifth miss (on A) locks the code
    for server in (a, b):
        status, body = server.request("GET", f"/api/dossiers/{CODE}?secret={SECRET}",
                                      headers={"X-Forwarded-For": "203.0.113.99"})
        assert status == 429 and body["error"] == "locked", f"replica {server.name}"


def test_a_per_address_limit_is_counted_by_both_replicas(db: str, platform: FakePlatform,
                                                         replicas: tuple[Replica, Replica]) -> None:
    a, b = replicas
    # TTHC_API_REQUESTS_PER_MINUTE=1000 on both: 1000 a minute from one address, whichever
    # replica answers. Spend most of the bucket on A, the rest on B: B refuses at 1000.
    address = {"X-Forwarded-For": "198.51.100.7"}
    with Storage(db) as storage:  # as if 995 requests of this address had been counted already
        for _ in range(995):
            storage.rate_hit("ip:198.51.100.7", 1000, 1000 / 60, time.time())
    assert a.request("GET", "/api/dossiers/XX-1?secret=x", headers=address)[0] == 404
    assert b.request("GET", "/api/dossiers/XX-2?secret=x", headers=address)[0] == 404
    statuses = [(a, b)[i % 2].request("GET", f"/api/dossiers/XX-{i}?secret=x", headers=address)[0] for i in range(6)]
    assert 429 in statuses, statuses
    assert statuses.index(429) <= 4


def test_redelivered_updates_are_answered_once_across_replicas(replicas: tuple[Replica, Replica],
                                                              platform: FakePlatform) -> None:
    a, b = replicas
    before = len(platform.telegram)

    def update(n: int) -> dict[str, Any]:
        chat = 700_000 + n
        return {"update_id": 900_000 + n, "message": {
            "message_id": n + 1, "date": int(time.time()), "text": "xin chào",
            "chat": {"id": chat, "type": "private"}, "from": {"id": chat, "is_bot": False, "first_name": "U"}}}

    def post(job: tuple[Replica, int]) -> int:
        server, n = job
        return server.request("POST", "/telegram/webhook", update(n),
                              headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET})[0]

    # 400 updates to A; 100 of them delivered again to B while A is still receiving them.
    jobs: list[tuple[Replica, int]] = []
    for n in range(400):
        jobs.append((a, n))
        if n >= 300:
            jobs.append((b, n - 50))
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(post, jobs))
    assert statuses == [200] * 500
    wait_for(lambda: len(platform.telegram) - before >= 400, "400 answers", timeout=120)
    time.sleep(1.0)  # a duplicate would be on its way by now
    answered = Counter(chat for chat, _ in platform.telegram[before:])
    assert len(platform.telegram) - before == 400
    assert sorted(answered) == [700_000 + n for n in range(400)] and set(answered.values()) == {1}


def test_a_notification_is_delivered_once_when_its_replica_is_killed_mid_delivery(platform: FakePlatform) -> None:
    fake = FakePlatform(hold="notification 3").start()
    with fresh_schema() as db:
        with Storage(db) as storage:
            now = now_vn()
            for i in range(1, 7):
                storage.enqueue(f"replica-test:{i}", "zalo_bot", "chat-1", {"text": f"notification {i}"}, now)
        lease = {"TTHC_OUTBOX_LEASE": "6"}
        a = Replica("A", db, fake, **lease)
        b: Replica | None = None
        try:
            wait_for(lambda: fake.held is not None, "the third notification to be in flight on A")
            assert fake.zalo == ["notification 1", "notification 2"]
            assert a.logged("leader: this replica now runs")
            registered = fake.count("setWebhook")
            b = Replica("B", db, fake, **lease)  # delivers what A has not claimed
            wait_for(lambda: len(fake.zalo) == 5, "B to deliver the notifications after the held one")
            a.proc.kill()  # SIGKILL: no cleanup at all, mid-delivery
            a.proc.wait(10)
            wait_for(fake.connection_closed, "the fake to see A's connection drop")
            fake.release()
            # B takes the dead replica's row once its lease is over, and the lead.
            wait_for(lambda: len(fake.zalo) >= 6, "the held notification to be delivered by B")
            wait_for(lambda: b is not None and b.logged("leader: this replica now runs"), "B to take the lead")
            wait_for(lambda: fake.count("setWebhook") > registered, "B to register the webhooks again")
            with Storage(db) as storage:
                wait_for(lambda: {r["state"] for r in storage.outbox()} == {"sent"}, "every row marked sent")
            time.sleep(1.0)
            assert b.healthy()
        finally:
            a.stop()
            if b is not None:
                b.stop()
            fake.stop()
    assert sorted(fake.zalo) == [f"notification {i}" for i in range(1, 7)], "each exactly once"
