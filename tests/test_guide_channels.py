"""The guide's flows through real channel adapters against local fakes of their APIs: the roadmap
picture on Zalo OA and Zalo Bot (by its address on this server), the roadmap on Telegram (a photo,
then the text)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from test_zalo_bot import FakeZaloBot, update
from test_zalo_oa import FakeZalo, event, post_event, settings_for, settle

from bot.channels._zalo_bot import ZALO_BOT
from bot.config import Settings
from bot.server import create_app
from bot.storage import Storage

PUBLIC = "https://tthc.example.gov.vn"
ROADMAP_QUESTION = "lộ trình thủ tục từ đăng ký đầu tư đến khi đi vào hoạt động"


async def test_zalo_oa_sends_the_roadmap_picture_then_the_text(aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path) -> None:
    fake = FakeZalo(valid_access="ok-access", refresh_token="refresh-0")
    server = await aiohttp_server(fake.app)
    url = str(server.make_url("")).rstrip("/")
    settings = dataclasses.replace(settings_for(url, access="ok-access"), public_url=PUBLIC)
    app = create_app(settings, storage=Storage(tmp_path / "oa.db"))
    client = await aiohttp_client(app)
    assert (await post_event(client, event(ROADMAP_QUESTION))).status == 200
    await settle(app)
    assert fake.errors == []
    picture = fake.messages[0]["message"]
    element = picture["attachment"]["payload"]["elements"][0]
    assert element == {"media_type": "image", "url": f"{PUBLIC}/roadmap/vi/default.png"}
    assert "Lộ trình" in picture["text"]
    assert any("1. Chấp thuận chủ trương đầu tư" in m["message"]["text"] for m in fake.messages[1:])
    # The address the picture names is served by this same server.
    resp = await client.get("/roadmap/vi/default.png")
    assert resp.status == 200 and (await resp.read()).startswith(b"\x89PNG")


async def test_zalo_oa_without_a_public_address_sends_text_only(aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path) -> None:
    fake = FakeZalo(valid_access="ok-access", refresh_token="refresh-0")
    server = await aiohttp_server(fake.app)
    app = create_app(settings_for(str(server.make_url("")).rstrip("/"), access="ok-access"), storage=Storage(tmp_path / "oa.db"))
    client = await aiohttp_client(app)
    assert (await post_event(client, event(ROADMAP_QUESTION))).status == 200
    await settle(app)
    assert fake.errors == [] and all("attachment" not in m["message"] or "buttons" in m["message"]["attachment"]["payload"]
                                     for m in fake.messages)


async def test_zalo_bot_sends_the_roadmap_photo(aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path) -> None:
    fake = FakeZaloBot()
    server = await aiohttp_server(fake.app)
    settings = Settings(zalo_bot_token="123456:zalo-bot-token-for-tests", zalo_bot_webhook_secret="bot-secret-123",
                        zalo_bot_api_base=str(server.make_url("")).rstrip("/"), public_url=PUBLIC)
    from test_zalo_bot import SECRET, TOKEN

    settings = dataclasses.replace(settings, zalo_bot_token=TOKEN, zalo_bot_webhook_secret=SECRET)
    app = create_app(settings, storage=Storage(tmp_path / "bot.db"))
    client = await aiohttp_client(app)
    await asyncio.wait_for(app[ZALO_BOT].registered.wait(), 5)
    resp = await client.post("/zalo-bot/webhook", json=update(ROADMAP_QUESTION), headers={"X-Bot-Api-Secret-Token": SECRET})
    assert resp.status == 200
    await app[ZALO_BOT].background.idle()
    assert fake.errors == []
    [photo] = fake.photos
    assert photo["photo"] == f"{PUBLIC}/roadmap/vi/default.png" and "Lộ trình" in photo["caption"]
    assert "1. Chấp thuận chủ trương đầu tư" in fake.sent[0]["text"]


class FakeTelegramBot:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def send_photo(self, chat_id: int, **kw: Any) -> None:
        self.calls.append(("photo", {"chat_id": chat_id, **kw}))

    async def send_message(self, chat_id: int, text: str, **kw: Any) -> None:
        self.calls.append(("message", {"chat_id": chat_id, "text": text, **kw}))


async def test_telegram_sends_the_roadmap_as_a_photo_then_the_text() -> None:
    from bot.channels._telegram import TelegramChannel
    from bot.conversation import Assistant
    from bot.kb import default_knowledge_dir, load_knowledge

    answer = Assistant(load_knowledge(default_knowledge_dir())).answer(ROADMAP_QUESTION, {})
    channel = TelegramChannel(Settings(telegram_token="123456:telegram-token-for-tests"), None)  # type: ignore[arg-type]
    bot = FakeTelegramBot()
    await channel.send(bot, 42, answer.reply)
    kinds = [k for k, _ in bot.calls]
    assert kinds[0] == "photo" and set(kinds[1:]) == {"message"}
    photo = bot.calls[0][1]
    assert photo["photo"].startswith(b"\x89PNG") and "Lộ trình" in photo["caption"]
    assert "1. Chấp thuận chủ trương đầu tư" in bot.calls[1][1]["text"]
