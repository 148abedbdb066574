"""The Zalo Bot channel against a local fake of the Zalo Bot API (only HTTP is faked): webhook
updates in with the secret header, sendMessage calls out, numbered choices for buttons."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.channels._zalo_bot import ZALO_BOT, derived_secret
from bot.config import Settings
from bot.server import create_app
from bot.storage import Storage

TOKEN = "1459232241454765289:zalo-bot-TOKEN-x81"
SECRET = "zalo-bot-webhook-secret-42"
CHAT_ID = "e4ea2cd5189df1c3a88c"


class FakeZaloBot:
    """POST /bot<token>/setWebhook and /sendMessage, checked as the Zalo Bot API does."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.photos: list[dict[str, Any]] = []
        self.webhooks: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.app = web.Application()
        self.app.router.add_post("/bot{token}/{method}", self.method)

    async def method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        body = await request.json()
        method = request.match_info["method"]
        if method == "setWebhook":
            if not body.get("url") or not 8 <= len(body.get("secret_token", "")) <= 256:
                self.errors.append("setWebhook needs url and a secret_token of 8-256 characters")
                return web.json_response({"ok": False, "error_code": 400, "description": "Bad Request"})
            self.webhooks.append(body)
            return web.json_response({"ok": True, "result": {"url": body["url"], "updated_at": int(time.time() * 1000)}})
        if method == "sendMessage":
            if not isinstance(body.get("chat_id"), str) or not 1 <= len(body.get("text", "")) <= 2000:
                self.errors.append(f"bad sendMessage body: {body!r}"[:200])
                return web.json_response({"ok": False, "error_code": 400, "description": "Bad Request"})
            self.sent.append(body)
            return web.json_response({"ok": True, "result": {"message_id": f"m{len(self.sent)}", "date": int(time.time() * 1000)}})
        if method == "sendPhoto":
            if not isinstance(body.get("chat_id"), str) or not str(body.get("photo", "")).startswith("https://") \
                    or len(body.get("caption", "")) > 2000:
                self.errors.append(f"bad sendPhoto body: {body!r}"[:200])
                return web.json_response({"ok": False, "error_code": 400, "description": "Bad Request"})
            self.photos.append(body)
            return web.json_response({"ok": True, "result": {"message_id": f"p{len(self.photos)}"}})
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)


def update(text: str | None, *, message_id: str | None = None, event: str = "message.text.received",
           chat_type: str = "PRIVATE", wrapped: bool = False, is_bot: bool = False) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id or f"id-{time.monotonic_ns()}", "date": int(time.time() * 1000),
        "from": {"id": CHAT_ID, "display_name": "Lan", "is_bot": is_bot},
        "chat": {"id": CHAT_ID, "chat_type": chat_type},
    }
    if text is not None:
        message["text"] = text
    body = {"event_name": event, "message": message}
    return {"ok": True, "result": body} if wrapped else body


@pytest.fixture
async def bot(aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path) -> Any:
    fake = FakeZaloBot()
    server = await aiohttp_server(fake.app)
    settings = Settings(zalo_bot_token=TOKEN, zalo_bot_webhook_secret=SECRET,
                        zalo_bot_api_base=str(server.make_url("")).rstrip("/"),
                        public_url="https://bot.example.gov.vn")
    app = create_app(settings, storage=Storage(tmp_path / "bot.db"))
    client = await aiohttp_client(app)
    await asyncio.wait_for(app[ZALO_BOT].registered.wait(), 5)

    async def send(body: Any, headers: dict[str, str] | None = None) -> int:
        resp = await client.post("/zalo-bot/webhook", json=body,
                                 headers={"X-Bot-Api-Secret-Token": SECRET} if headers is None else headers)
        await app[ZALO_BOT].background.idle()
        return int(resp.status)

    return fake, send, client


async def test_webhook_registered_with_the_secret(bot: Any) -> None:
    fake, _send, _client = bot
    assert fake.webhooks == [{"url": "https://bot.example.gov.vn/zalo-bot/webhook", "secret_token": SECRET}]


async def test_conversation(bot: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake, send, _client = bot
    assert await send(update("xin chào")) == 200
    hello = fake.sent[-1]
    assert hello["chat_id"] == CHAT_ID and hello["text"].startswith("Xin chào!")
    assert "Trả lời bằng số để chọn:" in hello["text"] and "1. Tra cứu hồ sơ" in hello["text"]

    assert await send(update("hồ sơ cấp giấy phép lao động gồm những gì", wrapped=True)) == 200
    texts = [m["text"] for m in fake.sent[1:]]
    assert "Hồ sơ cần nộp" in texts[0] and all(len(t) <= 2000 for t in texts)
    assert "Thời gian" in texts[-1]  # the facets as a numbered list

    # Typing the number of "Thời gian" in the last list presses it: the time limit of that procedure
    # (the list opens with "Xem tiếp", the next page of the documents).
    choices = texts[-1].split("Trả lời bằng số để chọn:")[-1]
    assert [line for line in choices.splitlines() if line.startswith("1. ")][0].startswith("1. Xem tiếp")
    number = [line.split(".")[0] for line in choices.splitlines() if line.endswith(". Thời gian")][0]
    count = len(fake.sent)
    assert await send(update(number)) == 200
    answer = fake.sent[count]["text"]
    assert "Thời hạn" in answer

    assert await send(update("menu:status")) == 200
    assert await send(update("H42.25-241105-0003")) == 200
    assert "mã tra cứu" in fake.sent[-1]["text"]

    assert await send(update(None, event="message.sticker.received")) == 200
    assert "gõ câu hỏi" in fake.sent[-1]["text"]
    assert fake.errors == []
    assert TOKEN not in caplog.text and SECRET not in caplog.text


async def test_notifications_go_out_through_the_outbox_sender(bot: Any) -> None:
    from bot.engine import Button, Reply
    from bot.web._dossiers import NOTIFIER

    fake, _send, client = bot
    sender = client.app[NOTIFIER].senders["zalo_bot"]
    await sender(CHAT_ID, Reply("Hồ sơ đã có kết quả", (Button("Xem", "menu:status"),)))
    assert fake.sent == [{"chat_id": CHAT_ID, "text": "Hồ sơ đã có kết quả"}]


async def test_bad_input_gets_no_reply_and_no_error(bot: Any) -> None:
    fake, send, client = bot
    same = update("xin chào", message_id="once")
    assert await send(same) == 200
    assert await send(same) == 200  # a redelivered update is answered once
    assert len(fake.sent) == 1
    for body in (update("hi", chat_type="GROUP"), update("hi", is_bot=True), update(None, event="message.reaction"),
                 {"event_name": "message.text.received"}, [1, 2], "text", {"ok": True, "result": "x"}):
        assert await send(body) == 200
    resp = await client.post("/zalo-bot/webhook", data=b"{not json", headers={"X-Bot-Api-Secret-Token": SECRET})
    assert resp.status == 200
    assert len(fake.sent) == 1


async def test_authentication_failures(bot: Any) -> None:
    fake, send, _client = bot
    assert await send(update("xin chào"), headers={}) == 403
    assert await send(update("xin chào"), headers={"X-Bot-Api-Secret-Token": "wrong-secret"}) == 403
    assert await send(update("xin chào"), headers={"X-Bot-Api-Secret-Token": SECRET[:-1]}) == 403
    assert fake.sent == []


def test_secret_is_derived_when_not_set() -> None:
    secret = derived_secret(TOKEN)
    assert len(secret) == 64 and TOKEN not in secret and secret == derived_secret(TOKEN)
