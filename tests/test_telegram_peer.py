"""The Telegram channel against a real peer: the npm package telegram-test-api, an independent
emulator of the Bot API (tests/peers/telegram_peer.js). Only the network is between them.

The bot runs inside the real aiohttp app (`create_app`), once in long-polling mode and once in
webhook mode; a fake user sends /start, asks a question, presses a button, looks up a dossier,
and the test reads the bot's real replies from the emulator.

Needs Node.js and `npm ci --prefix tests/peers`; without them the tests skip, except under CI
(env CI set), where they fail.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import Settings
from bot.server import create_app
from bot.storage import Storage

PEERS = Path(__file__).resolve().parent / "peers"
SCRIPT = PEERS / "telegram_peer.js"
TOKEN = "123456:TEST-token-Zk3qP9xL"
USER = {"id": 4242, "first_name": "Lan", "username": "lan_investor", "is_bot": False, "language_code": "vi"}
CHAT = {"id": 4242, "first_name": "Lan", "username": "lan_investor", "type": "private"}


def _peer_missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed (apt-get install nodejs npm)"
    if not (PEERS / "node_modules" / "telegram-test-api").is_dir():
        return "telegram-test-api is not installed (npm ci --prefix tests/peers)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def peer() -> Iterator[str]:
    """The emulator, listening on 127.0.0.1; yields its base URL."""
    missing = _peer_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"Telegram peer unavailable under CI: {missing}")
        pytest.skip(missing)
    port = free_port()
    proc = subprocess.Popen(
        ["node", str(SCRIPT), str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("READY"):
            proc.kill()
            pytest.fail(f"telegram peer did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


class FakeUser:
    """A Telegram user, played through the emulator's client API."""

    def __init__(self, http: aiohttp.ClientSession, peer: str, chat: dict[str, Any] | None = None) -> None:
        self.http = http
        self.peer = peer
        self.chat = chat or CHAT
        self.message_id = 1000

    def _message(self, text: str | None, **extra: Any) -> dict[str, Any]:
        self.message_id += 1
        msg: dict[str, Any] = {
            "botToken": TOKEN, "message_id": self.message_id, "date": int(time.time()),
            "from": USER, "chat": self.chat, **extra,
        }
        if text is not None:
            msg["text"] = text
        return msg

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.http.post(self.peer + path, json=body) as resp:
            assert resp.status == 200, await resp.text()
            return dict(await resp.json())

    async def command(self, text: str) -> None:
        name = text.split()[0]
        await self._post("/sendCommand", self._message(text, entities=[{"offset": 0, "length": len(name), "type": "bot_command"}]))

    async def say(self, text: str) -> None:
        await self._post("/sendMessage", self._message(text))

    async def sticker(self) -> None:
        await self._post("/sendMessage", self._message(None, sticker={
            "file_id": "CAAD", "file_unique_id": "AgAD", "type": "regular", "width": 512, "height": 512,
            "is_animated": False, "is_video": False}))

    async def press(self, data: str, on_message: dict[str, Any]) -> None:
        message = {"message_id": on_message.get("message_id", 1), "date": int(time.time()), "chat": self.chat,
                   "text": on_message.get("text", "")}
        await self._post("/sendCallback", {"botToken": TOKEN, "date": int(time.time()), "from": USER,
                                           "message": message, "data": data})

    async def replies(self, timeout: float = 15.0, settle: float = 0.3) -> list[dict[str, Any]]:
        """The bot's messages to this chat: waits for the first, then collects any that follow."""
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            body = await self._post("/getUpdates", {"token": TOKEN, "chatId": self.chat["id"]})
            new = [dict(u["message"], message_id=u.get("messageId")) for u in body.get("result", [])]
            if new:
                got.extend(new)
                quiet_since = time.monotonic()
            elif got and quiet_since is not None and time.monotonic() - quiet_since >= settle:
                return got
            await asyncio.sleep(0.05)
        return got

    async def no_reply(self, wait: float = 1.0) -> None:
        await asyncio.sleep(wait)
        body = await self._post("/getUpdates", {"token": TOKEN, "chatId": self.chat["id"]})
        assert body.get("result") == [], body


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row]


def settings_for(peer: str, public_url: str = "", secret: str = "") -> Settings:
    return Settings(
        telegram_token=TOKEN, telegram_api_base=f"{peer}/bot", public_url=public_url,
        telegram_webhook_secret=secret,
    )


def storage(tmp_path: Path, name: str = "bot.db") -> Storage:
    """A database of the test's own (sessions, seen events, tokens, dossiers)."""
    return Storage(tmp_path / name)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def wait_ready(app: Any) -> None:
    from bot.channels._telegram import TELEGRAM

    await asyncio.wait_for(app[TELEGRAM].ready.wait(), timeout=20)


async def conversation(user: FakeUser) -> None:
    """The scenario both modes go through, reading the bot's real replies."""
    await user.command("/start")
    [hello] = await user.replies()
    assert hello["text"].startswith("Xin chào!")
    assert hello.get("parse_mode") == "HTML"
    assert ("Tra cứu hồ sơ", "menu:status") in buttons(hello)

    await user.say("hồ sơ cấp giấy phép lao động gồm những gì")
    answer = (await user.replies())[-1]
    assert "Hồ sơ cần nộp" in answer["text"] and "giấy phép lao động" in answer["text"]
    choices = buttons(answer)
    assert ("Thời gian giải quyết", "f:time:1.014199") in choices or any(d == "f:time:1.014199" for _l, d in choices)
    assert all(len(d.encode()) <= 64 for _l, d in choices)

    await user.press("f:time:1.014199", answer)
    timed = (await user.replies())[-1]
    assert "Thời hạn" in timed["text"] or "Thời gian" in timed["text"]
    assert "Time limit" not in timed["text"], "a pressed button keeps the chat's language"

    await user.command("/tracuu")
    [ask_code] = await user.replies()
    assert "mã hồ sơ" in ask_code["text"]
    await user.say("H42.25-241105-0003")
    [ask_secret] = await user.replies()
    assert "H42.25-241105-0003" in ask_secret["text"] and "mã tra cứu" in ask_secret["text"]

    await user.command("/start p_1_009664")
    opened = (await user.replies())[-1]
    assert "1.009664" in opened["text"] or "đăng ký đầu tư" in opened["text"]

    await user.command("/lang")
    [english] = await user.replies()
    assert english["text"].startswith("Hello!")
    await user.command("/lang")
    [vietnamese] = await user.replies()
    assert vietnamese["text"].startswith("Xin chào!")

    await user.command("/lotrinh")
    roadmap = (await user.replies())[-1]
    assert "Lộ trình" in roadmap["text"]

    # A plain roadmap question: the picture (a real PNG upload), then the numbered list.
    await user.say("lộ trình thủ tục từ đăng ký đầu tư đến khi đi vào hoạt động")
    photo, *listed = await user.replies()
    assert photo["text"].startswith("[photo ") and "Lộ trình" in photo["text"]
    assert int(photo["text"].split()[1]) > 50_000, "the whole picture was uploaded"
    assert any("1. Chấp thuận chủ trương đầu tư" in m["text"] for m in listed)

    await user.sticker()
    [hint] = await user.replies()
    assert "gõ câu hỏi" in hint["text"]

    await user.press("f:nonsense:9.999999", roadmap)  # a button from an old keyboard
    [stale] = await user.replies()
    assert "không còn hiệu lực" in stale["text"] or "Xin lỗi" in stale["text"]


def assert_no_secrets(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    text = caplog.text + "\n".join(str(r.__dict__) for r in caplog.records)
    for secret in secrets:
        assert secret not in text


async def test_polling_mode_against_the_emulator(
    peer: str, aiohttp_server: Any, http: aiohttp.ClientSession,
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # even at DEBUG, no token in the logs
    db = storage(tmp_path)
    app = create_app(settings_for(peer), storage=db)
    await aiohttp_server(app)
    await wait_ready(app)
    user = FakeUser(http, peer)
    await conversation(user)

    group = FakeUser(http, peer, chat={"id": -100777, "title": "Investors", "type": "group"})
    await group.say("hồ sơ giấy phép lao động")  # plain text in a group: no reply
    await group.command("/start@SomeOtherBot")  # a command for another bot: no reply
    await group.no_reply(0.8)
    await group.command("/help")  # a command for us: a pointer to the private chat
    [note] = await group.replies()
    assert "tin nhắn riêng" in note["text"]
    # The one error handler: logs the error (not the token) and apologises in the chat.
    from telegram import Update
    from telegram.ext import CallbackContext

    from bot.channels._telegram import TELEGRAM

    channel = app[TELEGRAM]
    broken = Update.de_json({"update_id": 999, "message": {"message_id": 1, "date": int(time.time()),
                                                           "chat": CHAT, "from": USER, "text": "?"}}, channel.application.bot)
    await channel.on_error(broken, CallbackContext.from_error(broken, RuntimeError("boom"), channel.application))
    [sorry] = await user.replies()
    assert sorry["text"].startswith("Xin lỗi")
    assert "RuntimeError" in caplog.text

    # The dossier outbox delivers notifications through the channel.
    from bot.engine import Reply
    from bot.web._dossiers import NOTIFIER

    await app[NOTIFIER].senders["telegram"](str(CHAT["id"]), Reply("Hồ sơ H42.25-241105-0003 đã có kết quả <OK> & xong"))
    [note] = await user.replies()
    assert note["text"] == "Hồ sơ H42.25-241105-0003 đã có kết quả &lt;OK&gt; &amp; xong"

    saved = db.get_session(f"tg:{CHAT['id']}")  # the conversation is in SQLite
    assert saved and saved.get("lang") == "vi" and saved.get("last") == "1.009664"
    assert_no_secrets(caplog, TOKEN)


async def test_webhook_mode_against_the_emulator(
    peer: str, aiohttp_server: Any, http: aiohttp.ClientSession,
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")
    port = free_port()
    secret = "s3cret-webhook_token"
    app = create_app(settings_for(peer, public_url=f"http://127.0.0.1:{port}", secret=secret),
                     storage=storage(tmp_path))
    server = await aiohttp_server(app, port=port)
    await wait_ready(app)
    user = FakeUser(http, peer, chat=dict(CHAT, id=5151))
    await conversation(user)

    # The webhook refuses callers without the secret, and shrugs off what it cannot use.
    url = f"http://127.0.0.1:{server.port}/telegram/webhook"
    update = {"update_id": 1, "message": {"message_id": 1, "date": int(time.time()), "chat": CHAT, "from": USER, "text": "hi"}}
    async with http.post(url, json=update) as resp:
        assert resp.status == 403
    async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as resp:
        assert resp.status == 403
    ok = {"X-Telegram-Bot-Api-Secret-Token": secret}
    for body in (b"{not json", b"[1, 2]", json.dumps({"update_id": 2, "poll": {"id": "1"}}).encode(),
                 json.dumps({"update_id": 3, "my_chat_member": {"chat": CHAT}}).encode(),
                 json.dumps({"update_id": 4, "edited_message": dict(update["message"], edit_date=int(time.time()))}).encode()):
        async with http.post(url, data=body, headers=ok) as resp:
            assert resp.status == 200, body
    await user.no_reply(0.8)
    assert_no_secrets(caplog, TOKEN, secret)
