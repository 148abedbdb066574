"""The attacks of issue 15 that broke the server (items 1, 2, 3, 11 and 12), each performed
against the real app with every channel live against a local fake of the platforms; each test
fails on the code before the fix.

No test waits on the clock to pass: concurrency is checked by counting (how many pictures are
drawn at once, on which thread, which requests were answered while a picture was still being
drawn), and the few timeouts are generous upper bounds on a loaded machine.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.channels._telegram import TELEGRAM
from bot.channels._zalo_bot import ZALO_BOT
from bot.channels._zalo_oa import ZALO_OA
from bot.config import Settings
from bot.server import create_app
from bot.storage import VN_TZ, Storage
from bot.web._keys import ASSISTANT, STORAGE

TG_TOKEN = "123456:ATTACK-telegram-token-aaaaaaaaaaaaaaaaa"
TG_SECRET = "attack_telegram_secret"
ZALO_APP_ID = "2553928453557884079"
ZALO_OA_SECRET = "attack-oa-secret-key"
ZB_TOKEN = "987:attack-zalo-bot-token"
ZB_SECRET = "attack-zalo-bot-secret"
SYNC_TOKEN = "attack-sync-token"
STAFF = ("telegram", "-1001234567890")
VICTIM = 7001
DEEP = [b"[" * 1100, b'{"a":' * 1100 + b"1" + b"}" * 1100, b"[" * 100_000, b'{"message": ' + b"[" * 1100]


class Platforms:
    """The Telegram Bot API, the Zalo OA API and the Zalo Bot API: success answers of the
    expected shape, every call recorded as (method, parameters)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        path = request.path
        method = path.rsplit("/", 1)[-1]
        params: dict[str, Any] = {}
        if request.content_type == "application/json":
            params = await request.json()
        elif request.can_read_body:
            params = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        self.calls.append((method, params))
        if path.startswith("/v3.0/oa/"):
            return web.json_response({"error": 0, "message": "Success", "data": {}})
        if path.startswith("/zbot"):
            return web.json_response({"ok": True, "result": {"message_id": "1"}})
        if method == "getMe":
            return web.json_response({"ok": True, "result": {
                "id": 123456, "is_bot": True, "first_name": "TTHC", "username": "tthc_attack_bot",
                "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}})
        if method in ("sendMessage", "sendPhoto"):
            return web.json_response({"ok": True, "result": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}})
        return web.json_response({"ok": True, "result": True})

    def sent(self, method: str, key: str, to: object) -> list[dict[str, Any]]:
        """The calls of `method` whose parameter `key` is `to`."""
        return [p for m, p in self.calls if m == method and str(_path(p, key)) == str(to)]


def _path(params: dict[str, Any], key: str) -> Any:
    value: Any = params
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


class Live:
    """The app (all channels on), its test client, the fake platforms and the database."""

    def __init__(self, app: web.Application, client: Any, fake: Platforms) -> None:
        self.app = app
        self.client = client
        self.fake = fake
        self.storage: Storage = app[STORAGE]

    async def settle(self) -> None:
        await asyncio.wait_for(self.app[TELEGRAM].application.update_queue.join(), 30)
        await asyncio.wait_for(self.app[ZALO_OA].background.idle(), 30)
        await asyncio.wait_for(self.app[ZALO_BOT].background.idle(), 30)

    async def telegram(self, update: dict[str, Any] | bytes) -> int:
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        resp = await self.client.post("/telegram/webhook", data=body, headers={
            "X-Telegram-Bot-Api-Secret-Token": TG_SECRET, "Content-Type": "application/json"})
        return int(resp.status)

    async def zalo_oa(self, raw: bytes, timestamp: str | None = None) -> int:
        if timestamp is None:
            try:
                timestamp = str(json.loads(raw).get("timestamp", ""))
            except (ValueError, AttributeError, RecursionError):
                timestamp = ""
        mac = hashlib.sha256(ZALO_APP_ID.encode() + raw + timestamp.encode() + ZALO_OA_SECRET.encode()).hexdigest()
        resp = await self.client.post("/zalo/webhook", data=raw, headers={
            "X-ZEvent-Signature": f"mac={mac}", "Content-Type": "application/json"})
        return int(resp.status)

    async def zalo_bot(self, body: dict[str, Any] | bytes) -> int:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        resp = await self.client.post("/zalo-bot/webhook", data=raw, headers={"X-Bot-Api-Secret-Token": ZB_SECRET})
        return int(resp.status)


def settings_for(fake_url: str, db: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        db=str(db), public_url="https://bot.example.gov.vn",
        telegram_token=TG_TOKEN, telegram_webhook_secret=TG_SECRET, telegram_api_base=f"{fake_url}/bot",
        zalo_oa_app_id=ZALO_APP_ID, zalo_oa_secret_key=ZALO_OA_SECRET, zalo_oa_access_token="attack-access",
        zalo_oa_api_base=fake_url, zalo_oauth_base=fake_url,
        zalo_bot_token=ZB_TOKEN, zalo_bot_webhook_secret=ZB_SECRET, zalo_bot_api_base=f"{fake_url}/zbot",
        staff_chats=f"{STAFF[0]}:{STAFF[1]}", sync_token=SYNC_TOKEN,
        user_messages_per_minute=1000, api_requests_per_minute=1000,
    )
    values.update(overrides)
    return Settings(**values)


async def start_live(aiohttp_server: Any, aiohttp_client: Any, db: Path, fake: Platforms | None = None,
                     **overrides: Any) -> Live:
    fake = fake or Platforms()
    server = await aiohttp_server(fake.app)
    app = create_app(settings_for(str(server.make_url("")).rstrip("/"), db, **overrides), storage=Storage(db))
    client = await aiohttp_client(app)
    await asyncio.wait_for(app[TELEGRAM].ready.wait(), 30)
    return Live(app, client, fake)


@pytest.fixture
async def live(aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path) -> Live:
    return await start_live(aiohttp_server, aiohttp_client, tmp_path / "bot.db")


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


def tg_update(update_id: int, text: str, chat_id: int = VICTIM, chat_type: str = "private") -> dict[str, Any]:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": int(time.time()), "text": text,
        "chat": {"id": chat_id, "type": chat_type}, "from": {"id": chat_id, "is_bot": False, "first_name": "An"}}}


def zalo_event(text: str, *, msg_id: str | None = None, user: str = "6142494823000000001",
               timestamp: int | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"text": text}
    if msg_id is not None:
        message["msg_id"] = msg_id
    return {"app_id": ZALO_APP_ID, "event_name": "user_send_text", "sender": {"id": user},
            "recipient": {"id": "1"}, "message": message,
            "timestamp": str(int(time.time() * 1000) if timestamp is None else timestamp)}


def zalo_bot_update(text: str, chat_id: str = "e4ea2cd5189df1c3a88c", **message: Any) -> dict[str, Any]:
    return {"event_name": "message.text.received", "message": {
        "from": {"id": chat_id, "display_name": "Lan", "is_bot": False},
        "chat": {"id": chat_id, "chat_type": "PRIVATE"}, "text": text, **message}}


# -- 1. staff replies hijacked --------------------------------------------------------------------


async def test_1_a_chosen_web_session_cannot_take_over_a_users_handover_ticket(
    live: Live, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The attack: a web session whose ticket collides with a Telegram user's (found in 2 s
    against the old 24-bit tickets) asks for staff and reads the staff's replies to the victim."""
    from bot.guide import _talk
    from bot.web._dossiers import NOTIFIER

    assert await live.telegram(tg_update(1, "cho tôi gặp cán bộ")) == 200
    await live.settle()
    victim_ticket = (live.storage.get_session(f"tg:{VICTIM}") or {})["handover"]["ticket"]

    # The collision, given to the attacker for free: his session's first candidate is the victim's ticket.
    real = _talk.ticket

    def colliding(channel: str, chat_id: str, attempt: int = 0) -> str:
        if (channel, chat_id, attempt) == ("web", "w-220433", 0):
            return real("telegram", str(VICTIM))
        return real(channel, chat_id, attempt)

    monkeypatch.setattr(_talk, "ticket", colliding)
    resp = await live.client.post("/api/ask", json={"text": "gặp cán bộ", "session": "w-220433"})
    assert resp.status == 200 and "Đã chuyển cuộc trò chuyện tới cán bộ" in (await resp.json())["reply"]["text"]
    attacker_ticket = (live.storage.get_session("web:w-220433") or {})["handover"]["ticket"]
    assert attacker_ticket != victim_ticket, "the attacker got a ticket of his own"
    assert live.storage.handover_target(*STAFF, victim_ticket) == ("telegram", str(VICTIM)), "never replaced"

    # Staff answer the victim, with personal details; the outbox delivers.
    staff = live.app[ASSISTANT].answer(f"/tl {victim_ticket} Số CCCD 001099012345 của anh đã được cập nhật.", {}, chat=STAFF)
    assert staff.intent == "staff"
    await live.app[NOTIFIER].deliver_once()
    got = await live.client.get("/api/messages", params={"session": "w-220433"})
    assert got.status == 200 and (await got.json())["messages"] == [], "the attacker reads nothing"
    to_victim = [p["text"] for p in live.fake.sent("sendMessage", "chat_id", VICTIM)]
    assert any("001099012345" in t for t in to_victim), "the victim receives the staff's reply"
    assert len(victim_ticket) >= 11, "tickets are longer than the old 24 bits (a collision is not found in seconds)"


def test_1_a_ticket_is_never_rebound_to_another_chat(storage: Storage) -> None:
    from datetime import datetime

    now = datetime.now(VN_TZ)
    assert storage.link_handover(*STAFF, "Uabcdef0123", "telegram", "7001", now)
    assert not storage.link_handover(*STAFF, "Uabcdef0123", "web", "w-220433", now)
    assert storage.link_handover(*STAFF, "Uabcdef0123", "telegram", "7001", now), "the owner keeps it"
    assert storage.handover_target(*STAFF, "Uabcdef0123") == ("telegram", "7001")


# -- 2. roadmap pictures stall the server -----------------------------------------------------------


class SlowPictures:
    """A stand-in for the picture drawing: blocks until released, and counts (how many at once,
    on which threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started = threading.Event()
        self.release = threading.Event()
        self.drawing = 0
        self.most = 0
        self.calls = 0
        self.threads: set[int] = set()

    def __call__(self, plan: Any, board_name: str = "") -> bytes:
        with self.lock:
            self.calls += 1
            self.drawing += 1
            self.most = max(self.most, self.drawing)
            self.threads.add(threading.get_ident())
        self.started.set()
        self.release.wait(30)
        with self.lock:
            self.drawing -= 1
        return b"\x89PNG\r\n\x1a\n" + plan.key.encode()


async def test_2_pictures_are_drawn_off_the_loop_and_healthz_and_webhooks_answer_meanwhile(
    aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.guide import _picture

    slow = SlowPictures()
    monkeypatch.setattr(_picture, "render_roadmap", slow)
    live = await start_live(aiohttp_server, aiohttp_client, tmp_path / "bot.db")
    loop_thread = threading.get_ident()

    first = asyncio.create_task(live.client.get("/roadmap/vi/01.png"))
    assert await asyncio.to_thread(slow.started.wait, 30), "the picture is being drawn"
    health = await asyncio.wait_for(live.client.get("/healthz"), 30)
    assert health.status == 200 and slow.drawing == 1, "/healthz answered while the picture was still drawn"
    raw = json.dumps(zalo_event("giấy phép lao động", msg_id="m-during-picture")).encode()
    assert await asyncio.wait_for(live.zalo_oa(raw), 30) == 200 and slow.drawing == 1, "a signed webhook too"

    # A flood of other pictures from the same address: bounded (two a client in the queue), refused at once.
    keys = ["00", "10", "11", "000", "001", "010", "011", "100", "101", "110"]
    flood = [asyncio.create_task(live.client.get(f"/roadmap/vi/{k}.png")) for k in keys]
    done: set[asyncio.Task[Any]] = set()
    deadline = time.monotonic() + 60
    while len(done) < len(keys) - 1 and time.monotonic() < deadline:
        finished, _ = await asyncio.wait(flood, timeout=0.5, return_when=asyncio.FIRST_COMPLETED)
        done |= finished
    assert len(done) == len(keys) - 1 and slow.drawing == 1, "refused while the first picture is still drawn"
    assert {t.result().status for t in done} == {503}
    assert all(t.result().headers.get("Retry-After") for t in done)

    slow.release.set()
    pictures = [await first] + [await t for t in flood if t not in done]
    assert [p.status for p in pictures] == [200, 200]
    assert (await pictures[0].read()).startswith(b"\x89PNG")
    assert slow.most == 1, "one picture drawn at a time"
    assert loop_thread not in slow.threads, "never on the event loop's thread"
    await live.settle()


def _every_key(questions: Any) -> Iterator[str]:
    for n in range(len(questions) + 1):
        yield from ("".join(str(d) for d in combo) for combo in product(*(range(len(q.options)) for q in questions[:n])))


def test_2_the_picture_cache_holds_every_valid_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The old cache kept 64 pictures of the 175 valid keys a language: cycling through them
    redrew every picture every time (128 ms each)."""
    from bot.guide import _picture
    from bot.guide._roadmap import RoadmapGuide
    from bot.kb import default_knowledge_dir, load_knowledge

    drawn: list[tuple[str, str, bool]] = []
    monkeypatch.setattr(_picture, "render_roadmap",
                        lambda plan, board="": drawn.append((plan.key, plan.lang, plan.is_default)) or plan.key.encode())
    guide = RoadmapGuide(load_knowledge(default_knowledge_dir()))
    keys = list(_every_key(guide.roadmap.questions))
    assert len(keys) == len(set(keys)) and all(guide.parse_key(k) == k for k in keys if k)
    for _round in range(2):
        for lang in ("vi", "en"):
            for key in keys:
                guide.png(key, lang)
    assert len(drawn) == len(set(drawn)), "each picture drawn once, however often it is asked for"
    assert len(drawn) <= 2 * len(keys)
    before = len(drawn)
    for lang in ("vi", "en"):
        for key in reversed(keys):
            assert guide.cached_png(key, lang) is not None
    assert len(drawn) == before


async def test_2_the_picture_route_is_limited_per_address(
    aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.guide import _picture

    monkeypatch.setattr(_picture, "render_roadmap", lambda plan, board="": b"\x89PNG" + plan.key.encode())
    client = await aiohttp_client(create_app(Settings(db=str(tmp_path / "p.db"), pictures_per_minute=3,
                                                      trusted_proxies="127.0.0.1")))
    statuses = [(await client.get("/roadmap/vi/default.png", headers={"X-Forwarded-For": "203.0.113.7"})).status
                for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and set(statuses[3:]) == {429}
    other = await client.get("/roadmap/vi/default.png", headers={"X-Forwarded-For": "203.0.113.8"})
    assert other.status == 200, "another address is not held back"
    assert (await client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.7"})).status == 200


# -- 3. unauthenticated 500s ------------------------------------------------------------------------


async def test_3_deep_json_on_every_route_that_parses_a_body(live: Live, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    for body in DEEP:
        resp = await live.client.post("/zalo/webhook", data=body, headers={"X-ZEvent-Signature": "mac=" + "0" * 64})
        assert resp.status == 401, "refused (unsigned) without a traceback"
        assert await live.zalo_oa(body, timestamp="") == 200, "signed but not an event: acknowledged, ignored"
        assert await live.telegram(body) == 200
        assert await live.zalo_bot(body) == 200
        ask = await live.client.post("/api/ask", data=body, headers={"Content-Type": "application/json"})
        assert ask.status == 400 and "error" in await ask.json()
        push = await live.client.post("/api/dossiers", data=body, headers={"Authorization": f"Bearer {SYNC_TOKEN}"})
        assert push.status == 400 and "error" in await push.json()
    await live.settle()
    assert errors(caplog) == []
    assert [m for m, _p in live.fake.calls if m in ("sendMessage", "cs")] == [], "nothing was answered"


@pytest.mark.parametrize("path", [
    "/roadmap/vi/%C2%B2.png", "/roadmap/vi/%D9%A1.png", "/roadmap/en/0%C2%B2.png", "/roadmap/vi/%EF%BC%90.png",
    "/checklist/1.014199/%C2%B2", "/checklist/1.014199/%D9%A1", "/checklist/1.014199/%EF%BC%91",
    "/checklist/1.014199/%F0%9D%9F%99",
])
async def test_3_non_ascii_digits_in_paths_are_not_found(aiohttp_client: Any, tmp_path: Path, path: str,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    client = await aiohttp_client(create_app(Settings(db=str(tmp_path / "d.db"))))
    resp = await client.get(path)
    assert resp.status == 404, path
    assert errors(caplog) == []


async def test_3_ids_are_validated_before_use(live: Live, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    for body in (b'{"text":"hi","session":"\\ud800"}', b'{"text":"hi","session":"w-\\u00b2"}',
                 b'{"text":"hi","session":"a b"}', b'{"text":"hi","session":"\\u0661"}'):
        resp = await live.client.post("/api/ask", data=body, headers={"Content-Type": "application/json"})
        assert resp.status == 400, body
    bad = await live.client.get("/api/messages", params={"session": "\u00b2"})
    assert bad.status == 400
    # A text may hold a lone surrogate (a browser cut an emoji in half): a polite answer.
    ok = await live.client.post("/api/ask", data=b'{"text":"\\ud83d","session":"w-ok"}',
                                headers={"Content-Type": "application/json"})
    assert ok.status == 200
    assert errors(caplog) == []


async def test_3_odd_ids_in_signed_webhooks_keep_replay_protection(
    aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    """A surrogate id could not be stored, so the replay check was skipped (and an ERROR logged):
    the same signed event was answered again by another process (here: a second app on the
    same database, as after a restart)."""
    caplog.set_level(logging.INFO)
    fake = Platforms()
    db = tmp_path / "bot.db"
    first = await start_live(aiohttp_server, aiohttp_client, db, fake=fake)
    second = await start_live(aiohttp_server, aiohttp_client, db, fake=fake)
    question = "lệ phí cấp giấy phép lao động"
    ts = int(time.time() * 1000)

    def oa_body(user: str, msg_id: str) -> bytes:
        return json.dumps(zalo_event(question, user=user, timestamp=ts)).replace(
            '"text"', f'"msg_id": "{msg_id}", "text"').encode()

    def bot_body(chat: str, message_id: str) -> bytes:
        return json.dumps(zalo_bot_update(question, chat_id=chat, date=ts)).replace(
            '"text"', f'"message_id": "{message_id}", "text"').encode()

    # One answer, for comparison: how many platform messages it takes.
    assert await first.zalo_oa(oa_body("6142494823000000099", "plain-1")) == 200
    assert await first.zalo_bot(bot_body("zb-plain", "plain-1")) == 200
    await first.settle()
    oa_once = len(fake.sent("cs", "recipient.user_id", "6142494823000000099"))
    bot_once = len(fake.sent("sendMessage", "chat_id", "zb-plain"))
    assert oa_once >= 1 and bot_once >= 1

    for n, odd in enumerate(["\\ud800", "tr\u00f9ng-" + "\u0661" * 300, "a\\u0000b", "x" * 5000]):
        user, chat = f"61424948230000000{n}", f"zb-{n}"
        for app in (first, second, first):
            assert await app.zalo_oa(oa_body(user, odd), timestamp=str(ts)) == 200
            assert await app.zalo_bot(bot_body(chat, odd)) == 200
        await first.settle()
        await second.settle()
        assert len(fake.sent("cs", "recipient.user_id", user)) <= oa_once, odd[:20]
        assert len(fake.sent("sendMessage", "chat_id", chat)) <= bot_once, odd[:20]
    assert errors(caplog) == []


# -- 11. smaller ones -------------------------------------------------------------------------------


async def test_11_the_same_telegram_update_three_times_is_answered_once(
    aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path,
) -> None:
    fake = Platforms()
    db = tmp_path / "bot.db"
    live = await start_live(aiohttp_server, aiohttp_client, db, fake=fake)
    assert await live.telegram(tg_update(500, "lệ phí cấp giấy phép lao động", chat_id=8001)) == 200
    await live.settle()
    once = len(fake.sent("sendMessage", "chat_id", 8001))
    assert once >= 1
    same = tg_update(501, "lệ phí cấp giấy phép lao động", chat_id=8002)
    for _ in range(3):
        assert await live.telegram(same) == 200
    await live.settle()
    # And once more through another process on the same database (the inbox is in the storage).
    other = await start_live(aiohttp_server, aiohttp_client, db, fake=fake)
    assert await other.telegram(same) == 200
    await other.settle()
    assert len(fake.sent("sendMessage", "chat_id", 8002)) == once, "answered once"


async def test_11_zalo_events_without_ids_are_answered_once(live: Live) -> None:
    ts = int(time.time() * 1000)
    raw = json.dumps(zalo_event("lệ phí cấp giấy phép lao động", user="6142494823000000077", timestamp=ts)).encode()
    assert await live.zalo_oa(raw) == 200
    await live.settle()
    once = len(live.fake.sent("cs", "recipient.user_id", "6142494823000000077"))
    assert once >= 1
    for _ in range(3):
        assert await live.zalo_oa(raw) == 200
    await live.settle()
    assert len(live.fake.sent("cs", "recipient.user_id", "6142494823000000077")) == once
    # A new event (another timestamp) with the same words is a new message.
    again = json.dumps(zalo_event("lệ phí cấp giấy phép lao động", user="6142494823000000077", timestamp=ts + 1)).encode()
    assert await live.zalo_oa(again) == 200
    await live.settle()
    assert len(live.fake.sent("cs", "recipient.user_id", "6142494823000000077")) > once

    bot_update = zalo_bot_update("lệ phí cấp giấy phép lao động", chat_id="zb-replay", date=ts)
    assert await live.zalo_bot(bot_update) == 200
    await live.settle()
    bot_once = len(live.fake.sent("sendMessage", "chat_id", "zb-replay"))
    assert bot_once >= 1
    for _ in range(3):
        assert await live.zalo_bot(bot_update) == 200
    await live.settle()
    assert len(live.fake.sent("sendMessage", "chat_id", "zb-replay")) == bot_once


async def test_11_complaint_references_are_random_and_private(live: Live) -> None:
    from bot.guide._talk import REF_RE

    async def ask(text: str, session: str) -> str:
        resp = await live.client.post("/api/ask", json={"text": text, "session": session})
        assert resp.status == 200
        return str((await resp.json())["reply"]["text"])

    refs = []
    for session in ("w-owner-1", "w-owner-2"):
        for text in ("phản ánh", "pa:t:delay", "Hồ sơ nộp từ tháng trước vẫn chưa có kết quả", "pa:skip"):
            last = await ask(text, session)
        found = REF_RE.search(last)
        assert found is not None
        refs.append(found.group(0))
    today = refs[0][:10]
    assert refs[0] != refs[1] and not refs[1].endswith(("001", "002")), refs
    assert all(r.startswith(today) and len(r) == len(today) + 6 for r in refs)
    mine = await ask(refs[0], "w-owner-1")
    assert "đã tiếp nhận" in mine, "the owner sees the status"
    theirs = await ask(refs[0], "w-stranger")
    unknown = await ask(f"{today}ZZZZZZ", "w-stranger")
    assert "đã tiếp nhận" not in theirs and theirs.replace(refs[0], "X") == unknown.replace(f"{today}ZZZZZZ", "X")
    assert "đã tiếp nhận" not in await ask(f"{today}001", "w-stranger"), "the old sequential guess finds nothing"


async def test_11_healthz_fails_on_a_corrupt_database(aiohttp_client: Any, tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "corrupt.db"
    with Storage(db) as storage:
        for i in range(300):
            storage.save_session(f"k{i}", {"pad": "x" * 500})
    pages = db.stat().st_size // 4096
    with db.open("r+b") as f:
        for page in range(pages - 20, pages):
            f.seek(page * 4096)
            f.write(b"\xde\xad\xbe\xef" * 1024)
    client = await aiohttp_client(create_app(Settings(db=str(db)), storage=Storage(db)))
    resp = await client.get("/healthz")
    assert resp.status == 503 and (await resp.json())["status"] == "unhealthy"
    assert errors(caplog) == []


async def test_11_healthz_fails_when_the_database_cannot_be_read(aiohttp_client: Any, tmp_path: Path) -> None:
    db = tmp_path / "gone.db"
    storage = Storage(db)
    client = await aiohttp_client(create_app(Settings(db=str(db)), storage=storage))
    assert (await client.get("/healthz")).status == 200
    for path in tmp_path.glob("gone.db*"):  # the volume went away under the running server
        path.unlink()
    assert (await client.get("/healthz")).status == 503
    storage.db.conn.close()  # and this process's own connection is unusable
    db.touch()
    assert (await client.get("/healthz")).status == 503


async def test_11_idle_and_slow_connections_are_closed(aiohttp_server: Any, tmp_path: Path) -> None:
    from bot.web._runtime import server_options

    settings = Settings(db=str(tmp_path / "idle.db"), idle_timeout=1, body_timeout=1)
    server = await aiohttp_server(create_app(settings), **server_options(settings))

    def talk(data: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
            if data:
                s.sendall(data)
            got = b""
            while chunk := s.recv(65536):  # returns b"" once the server closes
                got += chunk
            return got

    assert await asyncio.to_thread(talk, b"") == b"", "a client that sends nothing is dropped"
    partial = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
    assert await asyncio.to_thread(talk, partial) == b"", "headers that never end are dropped"
    body = b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"te"
    answer = await asyncio.to_thread(talk, body)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]


# -- 12. operators ----------------------------------------------------------------------------------


def test_12_the_image_installs_the_font_the_pictures_use() -> None:
    dockerfile = (Path(__file__).resolve().parents[1] / "Dockerfile").read_text(encoding="utf-8")
    assert "fonts-dejavu-core" in dockerfile


def test_12_serve_warns_at_start_when_the_font_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    from bot import logs
    from bot import server as _app
    from bot.guide import _picture

    started: dict[str, Any] = {}
    monkeypatch.setattr(_picture, "fonts_found", lambda: False)
    monkeypatch.setattr(logs, "configure_logging", lambda settings, stream=None: None)
    monkeypatch.setattr(_app.web, "run_app", lambda app, **kw: started.update(kw))
    monkeypatch.setattr("bot.web._reload.freeze_heap", lambda: None)
    caplog.set_level(logging.INFO)
    _app.run(Settings(db=str(tmp_path / "serve.db"), idle_timeout=7))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("fonts-dejavu-core" in w for w in warnings), warnings
    assert started["keepalive_timeout"] == 7.0
    monkeypatch.setattr(_picture, "fonts_found", lambda: True)
    assert _app.warn_missing_fonts()


def test_12_the_readme_separates_the_run_install_from_the_dev_install() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "pip install -e '.[test]'" in readme
    run = readme[readme.index("<!-- run-install -->"):readme.index("<!-- /run-install -->")]
    assert "-e" not in run.split(), "the run install is not editable"
    assert "venv" in run, "the server runs from its own virtual environment"
