"""Limits: per-chat message rate on every channel (one polite "slow down", then silence), per-IP
rate on the JSON API, bounded concurrency, and the engine off the event loop.

Time never decides an outcome here: the rate limiter runs on a fake clock, and "slow" engines
block on events the test releases."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.channels._sessions import Conversations, MemorySessions
from bot.config import Settings
from bot.conversation import build_assistant
from bot.server import create_app
from bot.storage import Storage
from bot.web._limits import AnswerGate, Busy, RateLimiter, Verdict
from bot.web._runtime import RUNTIME, SLOW_DOWN, Runtime


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_allows_a_burst_warns_once_then_drops() -> None:
    clock = Clock()
    limiter = RateLimiter(3, clock=clock)
    assert [limiter.hit("a") for _ in range(6)] == [Verdict.OK] * 3 + [Verdict.WARN, Verdict.DROP, Verdict.DROP]
    assert limiter.hit("b") is Verdict.OK, "other keys are not affected"
    assert limiter.retry_after("a") == 20
    clock.now += 20  # one message back (3 a minute)
    assert limiter.hit("a") is Verdict.OK
    assert limiter.hit("a") is Verdict.WARN, "a new warning after the chat was allowed again"
    clock.now += 3600
    assert [limiter.hit("a") for _ in range(3)] == [Verdict.OK] * 3


def test_rate_limiter_off_and_bounded_memory() -> None:
    assert all(RateLimiter(0).hit("x") is Verdict.OK for _ in range(1000))
    limiter = RateLimiter(5, max_keys=100)
    for i in range(1000):
        limiter.hit(f"k{i}")
    assert len(limiter._buckets) == 100


async def test_gate_bounds_per_key_and_overall() -> None:
    gate = AnswerGate(max_waiting=3, per_key=2)
    release = threading.Event()
    try:
        first = asyncio.ensure_future(gate.run("a", release.wait, 10))
        second = asyncio.ensure_future(gate.run("a", release.wait, 10))
        await asyncio.sleep(0)
        with pytest.raises(Busy) as client:
            await gate.run("a", release.wait, 10)
        assert client.value.scope == "client"
        third = asyncio.ensure_future(gate.run("b", release.wait, 10))
        await asyncio.sleep(0)
        with pytest.raises(Busy) as server:
            await gate.run("c", release.wait, 10)
        assert server.value.scope == "server"
        # Chat channels pass bounded=False: one message per chat, never refused.
        unbounded = asyncio.ensure_future(gate.run("d", release.wait, 10, bounded=False, per_key=0))
        release.set()
        assert await asyncio.gather(first, second, third, unbounded) == [True] * 4
        assert gate.waiting == 0 and not gate._inflight
    finally:
        release.set()
        gate.close()


# -- chats on any channel ------------------------------------------------------------------------


def runtime(**kw: Any) -> Runtime:
    return Runtime(Settings(**kw))


async def test_a_chat_over_its_limit_is_asked_to_slow_down_once(tmp_path: Path) -> None:
    engine = build_assistant(Settings(), None)
    rt = runtime(user_messages_per_minute=2)
    conv = Conversations(engine, MemorySessions(), rt)
    try:
        answers = [await conv.answer("zalo-bot:1", "gia han gpld", chat=("zalo_bot", "1")) for _ in range(5)]
        assert [a.intent for a in answers[:2]] != ["limited"] * 2
        assert answers[2].intent == "limited" and answers[2].reply.text == SLOW_DOWN["vi"]
        assert all(a.silent for a in answers[3:]), "after the warning, nothing is sent"
        assert not answers[0].silent
        # Another chat, on another channel, is not affected.
        other = await conv.answer("tg:7", "how long does a work permit take", chat=("telegram", "7"))
        assert other.intent != "limited"
        # The chat's language is kept for the warning.
        await conv.answer("tg:8", "how long does a work permit take", chat=("telegram", "8"))
        await conv.answer("tg:8", "and the fee?", chat=("telegram", "8"))
        assert (await conv.answer("tg:8", "and documents?", chat=("telegram", "8"))).reply.text == SLOW_DOWN["en"]
        assert rt.metrics.limited.value("user") == 4
        assert rt.metrics.answers.value("zalo_bot", answers[0].intent) >= 1
    finally:
        rt.gate.close()


# -- the JSON API -----------------------------------------------------------------------------------


def app_with(tmp_path: Path, engine: Any = None, **kw: Any) -> web.Application:
    return create_app(Settings(db=str(tmp_path / "t.db"), **kw), engine=engine, storage=Storage(tmp_path / "t.db"))


async def test_api_is_limited_per_ip(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await aiohttp_client(app_with(tmp_path, api_requests_per_minute=3))
    for _ in range(2):
        assert (await client.post("/api/ask", json={"text": "gia han gpld"})).status == 200
    assert (await client.get("/api/dossiers/H42.25-241105-0003?secret=x")).status == 404  # counted too
    resp = await client.post("/api/ask", json={"text": "gia han gpld"})
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) >= 1
    data = await resp.json()
    assert data["error"] == "too many requests" and data["message"] == SLOW_DOWN["vi"]
    assert (await client.get("/api/dossiers/H42.25-241105-0003?secret=x&lang=en")).status == 429
    # Pages, health and the webhooks are not limited per IP.
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/")).status == 200


async def test_forwarded_for_counts_only_behind_a_trusted_proxy(aiohttp_client: Any, tmp_path: Path) -> None:
    open_client = await aiohttp_client(app_with(tmp_path / "a", api_requests_per_minute=1))
    assert (await open_client.post("/api/ask", json={"text": "x"}, headers={"X-Forwarded-For": "1.1.1.1"})).status == 200
    # Not behind a trusted proxy: a made-up X-Forwarded-For does not buy new requests.
    assert (await open_client.post("/api/ask", json={"text": "x"}, headers={"X-Forwarded-For": "2.2.2.2"})).status == 429

    proxied = await aiohttp_client(app_with(tmp_path / "b", api_requests_per_minute=1, trusted_proxies="127.0.0.1, ::1"))
    xff = {"X-Forwarded-For": "9.9.9.9, 1.1.1.1"}  # the proxy appended the client's address last
    assert (await proxied.post("/api/ask", json={"text": "x"}, headers=xff)).status == 200
    assert (await proxied.post("/api/ask", json={"text": "x"}, headers=xff)).status == 429
    assert (await proxied.post("/api/ask", json={"text": "x"}, headers={"X-Forwarded-For": "1.1.1.2"})).status == 200


async def test_web_session_over_its_limit_gets_slow_down(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await aiohttp_client(app_with(tmp_path, user_messages_per_minute=2))
    intents = []
    for _ in range(4):
        resp = await client.post("/api/ask", json={"text": "gia han gpld", "session": "s1"})
        assert resp.status == 200
        data = await resp.json()
        intents.append(data["intent"])
    assert intents[2:] == ["limited", "limited"]
    assert data["reply"]["text"] == SLOW_DOWN["vi"]
    other = await (await client.post("/api/ask", json={"text": "gia han gpld", "session": "s2"})).json()
    assert other["intent"] != "limited"


class BlockingEngine:
    """The real engine, but each answer first waits for `release` (set by the test)."""

    def __init__(self) -> None:
        self.inner = build_assistant(Settings(), None)
        self.kb = self.inner.kb
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)

    def reply(self, *args: Any, **kw: Any) -> Any:
        self.entered.release()
        assert self.release.wait(30)
        return self.inner.reply(*args, **kw)

    def cheap(self, text: Any, state: Any) -> bool:
        return False


async def test_bounded_concurrency_and_a_free_event_loop(aiohttp_client: Any, tmp_path: Path) -> None:
    engine = BlockingEngine()
    app = app_with(tmp_path, engine=engine, api_concurrency_per_ip=2, answer_queue=3, trusted_proxies="127.0.0.1")
    client = await aiohttp_client(app)
    try:
        def ask(ip: str) -> Any:
            return asyncio.ensure_future(client.post("/api/ask", json={"text": "gia han gpld"}, headers={"X-Forwarded-For": ip}))

        a1 = ask("1.1.1.1")
        assert await asyncio.to_thread(engine.entered.acquire, True, 10), "the first question reached the engine"
        a2 = ask("1.1.1.1")
        for _ in range(3000):
            if app[RUNTIME].gate.waiting >= 2:
                break
            await asyncio.sleep(0.01)
        # A third question from the same address at the same time: refused at once.
        resp = await client.post("/api/ask", json={"text": "x"}, headers={"X-Forwarded-For": "1.1.1.1"})
        assert resp.status == 429 and (await resp.json())["error"] == "too many requests at once"
        b1 = ask("2.2.2.2")
        for _ in range(3000):
            if app[RUNTIME].gate.waiting >= 3:
                break
            await asyncio.sleep(0.01)
        # The queue is full: anyone else is told the bot is busy, at once.
        resp = await client.post("/api/ask", json={"text": "x"}, headers={"X-Forwarded-For": "3.3.3.3"})
        assert resp.status == 503 and resp.headers["Retry-After"] == "1"
        # While the engine is busy the event loop still serves everything else.
        assert (await client.get("/healthz")).status == 200
        assert (await client.get("/metrics")).status == 200
        engine.release.set()
        assert [r.status for r in await asyncio.gather(a1, a2, b1)] == [200, 200, 200]
    finally:
        engine.release.set()
    metrics = await (await client.get("/metrics")).text()
    assert 'tthc_limited_total{limit="busy"} 2' in metrics


def test_only_answers_from_cached_matches_skip_the_worker_thread() -> None:
    from bot.web._reload import LiveAssistant

    live = LiveAssistant(build_assistant(Settings(), None), lambda: None)
    question = "giấy phép lao động cần hồ sơ gì"
    assert not live.cheap(question, {}), "a new question: its search runs on the worker thread"
    live.answer(question, {})
    assert live.cheap(question, {}) and live.cheap(question + "  ", {})
    assert not live.cheap(question, {"pending": {"kind": "secret", "code": "X"}}), "a lookup in progress"
    assert not live.cheap("H42.25-241105-0003", {}) and not live.cheap("dossier:sub:H42.25-241105-0003", {})
    assert not live.cheap(None, {})
