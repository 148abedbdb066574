"""The Zalo OA channel against a local fake of the OA API and OAuth servers (only HTTP is faked):
signed webhook events in, real replies out through the real adapter and engine.

The fake checks what Zalo checks: the access_token header, the message/cs body shape and
limits, the token refresh form and its secret_key header; it answers -216 for an expired
token and refuses a refresh token used twice (they are single-use).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.channels._zalo_oa import ZALO_OA, signature
from bot.config import Settings
from bot.server import create_app
from bot.storage import Storage

APP_ID = "2553928453557884079"
OA_ID = "3662729599332560487"
OA_SECRET = "oa-secret-key-Xb71"
APP_SECRET = "app-secret-Qp02z"
USER_ID = "6142494823000000001"


class FakeZalo:
    """The OA API (message/cs) and the OAuth token endpoint, with Zalo's checks."""

    def __init__(self, valid_access: str, refresh_token: str) -> None:
        self.valid_access = valid_access
        self.refresh_token = refresh_token
        self.used_refresh: set[str] = set()
        self.messages: list[dict[str, Any]] = []
        self.refreshes = 0
        self.rejected = 0
        self.errors: list[str] = []
        self.app = web.Application()
        self.app.router.add_post("/v3.0/oa/message/cs", self.message_cs)
        self.app.router.add_post("/v4/oa/access_token", self.access_token)

    def _fail(self, why: str) -> web.Response:
        self.errors.append(why)
        return web.json_response({"error": -201, "message": why})

    async def message_cs(self, request: web.Request) -> web.Response:
        if not request.content_type == "application/json":
            return self._fail(f"content type {request.content_type}")
        token = request.headers.get("access_token", "")
        if token != self.valid_access:
            self.rejected += 1
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        body = await request.json()
        recipient = body.get("recipient")
        message = body.get("message")
        if not isinstance(recipient, dict) or not isinstance(recipient.get("user_id"), str):
            return self._fail("recipient.user_id must be a string")
        if not isinstance(message, dict) or not isinstance(message.get("text"), str):
            return self._fail("message.text must be a string")
        if not 1 <= len(message["text"]) <= 2000:
            return self._fail("message.text must have 1 to 2000 characters")
        attachment = message.get("attachment")
        if attachment is not None:
            if attachment.get("type") != "template":
                return self._fail("attachment.type must be template")
            payload = attachment.get("payload", {})
            if payload.get("template_type") == "media":  # a picture, by URL
                elements = payload.get("elements")
                if not isinstance(elements, list) or len(elements) != 1 or elements[0].get("media_type") != "image" \
                        or not str(elements[0].get("url", "")).startswith("https://"):
                    return self._fail("a media template holds one image with an https url")
                self.messages.append(body)
                return web.json_response({"data": {"message_id": f"m{len(self.messages)}"}, "error": 0, "message": "Success"})
            buttons = payload.get("buttons")
            if not isinstance(buttons, list) or not 1 <= len(buttons) <= 5:
                return self._fail("1 to 5 buttons")
            for b in buttons:
                if b.get("type") != "oa.query.show" or not isinstance(b.get("payload"), str):
                    return self._fail("buttons are oa.query.show with a string payload")
                if not 1 <= len(b.get("title", "")) <= 100 or len(b["payload"]) > 1000:
                    return self._fail("button title/payload length")
        self.messages.append(body)
        return web.json_response({"data": {"message_id": f"m{len(self.messages)}", "user_id": recipient["user_id"]},
                                  "error": 0, "message": "Success"})

    async def access_token(self, request: web.Request) -> web.Response:
        if request.headers.get("secret_key") != APP_SECRET:
            return web.json_response({"error": -14002, "error_name": "Invalid secret key"})
        form = await request.post()
        if form.get("grant_type") != "refresh_token" or form.get("app_id") != APP_ID:
            return web.json_response({"error": -14001, "error_name": "Invalid parameter"})
        given = str(form.get("refresh_token", ""))
        if given in self.used_refresh or given != self.refresh_token:
            return web.json_response({"error": -14014, "error_name": "Invalid refresh token"})
        self.used_refresh.add(given)
        self.refreshes += 1
        self.valid_access = f"access-{self.refreshes}-{hashlib.sha1(given.encode()).hexdigest()[:8]}"
        self.refresh_token = f"refresh-{self.refreshes}-next"
        return web.json_response({"access_token": self.valid_access, "refresh_token": self.refresh_token,
                                  "expires_in": "90000"})

    def answers(self, since: int = 0) -> list[str]:
        """The texts of the replies sent since message `since` (without "More:" button lines)."""
        return [m["message"]["text"] for m in self.messages[since:] if m["message"]["text"] != "Xem thêm:"]

    async def wait_messages(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.messages


def event(text: str | None = "hồ sơ cấp giấy phép lao động gồm những gì", *, msg_id: str | None = None,
          name: str = "user_send_text", timestamp: int | None = None, recipient: str = OA_ID,
          app_id: str = APP_ID) -> dict[str, Any]:
    ts = int(time.time() * 1000) if timestamp is None else timestamp
    message: dict[str, Any] = {"msg_id": msg_id or hashlib.sha1(f"{text}{ts}{name}".encode()).hexdigest()[:20]}
    if text is not None:
        message["text"] = text
    return {"app_id": app_id, "user_id_by_app": "979122185046046317", "event_name": name,
            "sender": {"id": USER_ID}, "recipient": {"id": recipient}, "message": message, "timestamp": str(ts)}


def signed(body: bytes, timestamp: str, secret: str = OA_SECRET) -> dict[str, str]:
    return {"X-ZEvent-Signature": "mac=" + signature(APP_ID, body, timestamp, secret), "Content-Type": "application/json"}


async def post_event(client: Any, ev: dict[str, Any], **kw: Any) -> Any:
    raw = json.dumps(ev, ensure_ascii=False).encode()
    return await client.post("/zalo/webhook", data=raw, headers=signed(raw, ev["timestamp"], **kw))


def settings_for(fake_url: str, access: str = "", refresh: str = "refresh-0") -> Settings:
    return Settings(
        zalo_oa_app_id=APP_ID, zalo_oa_secret_key=OA_SECRET, zalo_oa_access_token=access,
        zalo_oa_refresh_token=refresh, zalo_app_secret=APP_SECRET, zalo_oa_id=OA_ID,
        zalo_oa_api_base=fake_url, zalo_oauth_base=fake_url,
    )


def storage(tmp_path: Path, name: str = "bot.db") -> Storage:
    """A database of the test's own (sessions, seen events, tokens, dossiers)."""
    return Storage(tmp_path / name)


async def settle(app: web.Application) -> None:
    await app[ZALO_OA].background.idle()


async def test_conversation_with_buttons_refresh_and_bad_input(
    aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakeZalo(valid_access="fresh-access", refresh_token="refresh-0")
    server = await aiohttp_server(fake.app)
    fake_url = str(server.make_url("")).rstrip("/")
    db = storage(tmp_path)
    # The configured access token has expired: the first send gets -216, refreshes, retries.
    app = create_app(settings_for(fake_url, access="expired-access"), storage=db)
    client = await aiohttp_client(app)

    resp = await post_event(client, event())
    assert resp.status == 200
    await settle(app)
    messages = await fake.wait_messages(2)
    assert fake.errors == []  # every part under 2,000 characters, at most five buttons each
    assert fake.rejected == 1 and fake.refreshes == 1
    first = messages[0]
    assert first["recipient"] == {"user_id": USER_ID}
    assert "Hồ sơ cần nộp" in first["message"]["text"]
    buttons = [b for m in messages for b in m["message"].get("attachment", {}).get("payload", {}).get("buttons", [])]
    assert {"title": "Thời gian giải quyết", "type": "oa.query.show", "payload": "f:time:1.014199"} in buttons or any(
        b["payload"] == "f:time:1.014199" for b in buttons)
    # "Xem tiếp" (the list's next page), six facets, the pre-check, then 👍 / 👎: five under the
    # answer, the rest under "Xem thêm:".
    assert len(buttons) == 10 and messages[-1]["message"]["text"] == "Xem thêm:"
    assert buttons[0]["payload"] == "f:documents:1.014199:0:2"
    assert len(first["message"]["text"]) <= 1200  # the first page of the list, not all of it

    # The same event again (Zalo retries): not answered twice.
    count = len(fake.messages)
    ev = event("thời gian giải quyết", msg_id="dup-1")
    assert (await post_event(client, ev)).status == 200
    assert (await post_event(client, ev)).status == 200
    await settle(app)
    answers = fake.answers(since=count)
    assert len(answers) == 1, "a repeated event is answered once"
    assert "Thời hạn" in answers[0]  # a follow-up on the last procedure

    # A pressed button (oa.query.show sends its payload as the user's text).
    assert (await post_event(client, event("f:fee:1.014199"))).status == 200
    await settle(app)
    assert "Phí" in fake.answers()[-1] or "phí" in fake.answers()[-1]

    # A dossier lookup: the engine asks for the secret.
    assert (await post_event(client, event("menu:status"))).status == 200
    await settle(app)
    assert (await post_event(client, event("H42.25-241105-0003"))).status == 200
    await settle(app)
    assert "mã tra cứu" in fake.answers()[-1]

    # A sticker gets a polite hint; a follow, the greeting.
    assert (await post_event(client, event(None, name="user_send_sticker"))).status == 200
    await settle(app)
    assert "gõ câu hỏi" in fake.answers()[-1]
    follow = {"app_id": APP_ID, "oa_id": OA_ID, "event_name": "follow", "follower": {"id": USER_ID},
              "source": "oa_profile", "timestamp": str(int(time.time() * 1000))}
    assert (await post_event(client, follow)).status == 200
    await settle(app)
    assert fake.answers()[-1].startswith("Xin chào!")

    # No reply: unknown events, events for another OA or app, signed junk.
    count = len(fake.messages)
    for ev in (event(None, name="user_seen_message"), event("hello", recipient="999"), event("x", name="oa_send_text")):
        assert (await post_event(client, ev)).status == 200
    raw = b"{not json"
    assert (await client.post("/zalo/webhook", data=raw, headers=signed(raw, ""))).status == 200
    raw = b"[1, 2]"
    assert (await client.post("/zalo/webhook", data=raw, headers=signed(raw, ""))).status == 200
    await settle(app)
    assert len(fake.messages) == count

    # The refreshed tokens survive a restart (refresh tokens are single-use).
    saved = db.get_session("zalo-oa:tokens")
    assert saved["refresh_token"] == "refresh-1-next" and saved["access_token"] == fake.valid_access
    await client.close()
    app2 = create_app(settings_for(fake_url, access="expired-access"), storage=db)
    client2 = await aiohttp_client(app2)
    assert (await post_event(client2, event("lệ phí cấp giấy phép lao động"))).status == 200
    await settle(app2)
    assert fake.refreshes == 1 and fake.rejected == 1 and len(fake.answers(since=count)) == 1

    # The dossier outbox delivers notifications through the channel.
    from bot.engine import Reply
    from bot.web._dossiers import NOTIFIER

    await app2[NOTIFIER].senders["zalo_oa"](USER_ID, Reply("Hồ sơ H42.25-241105-0003 đã có kết quả"))
    assert fake.messages[-1] == {"recipient": {"user_id": USER_ID}, "message": {"text": "Hồ sơ H42.25-241105-0003 đã có kết quả"}}

    for secret in (OA_SECRET, APP_SECRET, "expired-access", "refresh-0", "refresh-1-next", fake.valid_access):
        assert secret not in caplog.text


async def test_refresh_when_no_access_token_and_expired_again(
    aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path,
) -> None:
    fake = FakeZalo(valid_access="never-given", refresh_token="refresh-0")
    server = await aiohttp_server(fake.app)
    app = create_app(settings_for(str(server.make_url("")).rstrip("/"), access=""), storage=storage(tmp_path))
    client = await aiohttp_client(app)
    assert (await post_event(client, event("menu:contact"))).status == 200
    await settle(app)
    assert fake.refreshes == 1 and len(fake.answers()) == 1 and fake.rejected == 0
    fake.valid_access = "rotated-by-zalo"  # the token expires: the next send refreshes again
    assert (await post_event(client, event("menu:roadmap"))).status == 200
    await settle(app)
    assert fake.refreshes == 2 and len(fake.answers()) == 2


async def test_authentication_failures(aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path) -> None:
    fake = FakeZalo(valid_access="fresh-access", refresh_token="refresh-0")
    server = await aiohttp_server(fake.app)
    app = create_app(settings_for(str(server.make_url("")).rstrip("/"), access="fresh-access"), storage=storage(tmp_path))
    client = await aiohttp_client(app)
    ev = event()
    raw = json.dumps(ev).encode()
    # Missing, empty, malformed and wrong signatures; a signature with another secret.
    for headers in ({}, {"X-ZEvent-Signature": ""}, {"X-ZEvent-Signature": "mac="}, {"X-ZEvent-Signature": "garbage"},
                    {"X-ZEvent-Signature": "mac=" + "0" * 64}, signed(raw, ev["timestamp"], secret="other-secret")):
        resp = await client.post("/zalo/webhook", data=raw, headers=headers)
        assert resp.status == 401, headers
    # A body changed after signing.
    headers = signed(raw, ev["timestamp"])
    assert (await client.post("/zalo/webhook", data=raw.replace(b"lao", b"LAO"), headers=headers)).status == 401
    # A stale event, correctly signed (a replay).
    old = event(timestamp=int(time.time() * 1000) - 3600 * 1000)
    assert (await post_event(client, old)).status == 401
    # Signed for another app id.
    other = event(app_id="111")
    raw = json.dumps(other).encode()
    bad = {"X-ZEvent-Signature": "mac=" + signature("111", raw, other["timestamp"], OA_SECRET)}
    assert (await client.post("/zalo/webhook", data=raw, headers=bad)).status == 401
    await settle(app)
    assert fake.messages == []


def test_signature_is_the_documented_sha256() -> None:
    body = b'{"a":1}'
    expected = hashlib.sha256(b"app" + body + b"123" + b"key").hexdigest()
    assert signature("app", body, "123", "key") == expected


async def test_two_replicas_refresh_the_single_use_token_once(aiohttp_server: Any) -> None:
    """Both replicas find the access token expired at the same moment: one refreshes (under the
    storage's lock across replicas), the other reads the new pair back; the single-use refresh
    token is sent once, and both end with the same working token."""
    import aiohttp
    from pgtest import fresh_schema

    from bot.channels._zalo_oa import ZaloOATokens

    fake = FakeZalo(valid_access="never-given", refresh_token="refresh-0")
    slow = fake.access_token

    async def slow_refresh(request: web.Request) -> web.Response:
        await asyncio.sleep(0.3)  # long enough for the other replica to ask meanwhile
        return await slow(request)

    fake.access_token = slow_refresh  # type: ignore[method-assign]
    fake.app = web.Application()
    fake.app.router.add_post("/v4/oa/access_token", fake.access_token)
    server = await aiohttp_server(fake.app)
    settings = settings_for(str(server.make_url("")).rstrip("/"), access="expired-access")
    with fresh_schema() as url:
        a, b = Storage(url), Storage(url)
        try:
            tokens = [ZaloOATokens(settings, a, a), ZaloOATokens(settings, b, b)]
            async with aiohttp.ClientSession() as http:
                got = await asyncio.gather(*(t.refresh(http, stale="expired-access") for t in tokens))
        finally:
            a.close()
            b.close()
    assert fake.refreshes == 1 and fake.errors == []
    assert got[0] == got[1] == fake.valid_access
