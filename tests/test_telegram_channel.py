"""The Telegram channel without a peer: webhook authentication, rendering within Telegram's
limits, deep links, and the token kept out of logs. (Conversations run in test_telegram_peer.)"""

from __future__ import annotations

import html
import logging
import socket
from pathlib import Path
from typing import Any

import pytest

from bot.channels._render import (
    callback_data,
    keyboard_rows,
    lang_toggle,
    long_actions,
    telegram_chunks,
)
from bot.channels._sessions import MemorySessions, hide_in_logs, redact
from bot.channels._telegram import TELEGRAM, derived_secret
from bot.config import Settings
from bot.core import ConversationState
from bot.core._links import procedure_deep_link, start_action
from bot.engine import Button
from bot.server import create_app
from bot.storage import Storage

TOKEN = "987654:UNIT-token-Wq8s"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_for(tmp_path: Path, **kw: Any) -> Any:
    # The Bot API address is closed: the bot keeps retrying in the background, never ready.
    settings = Settings(telegram_token=TOKEN, telegram_api_base=f"http://127.0.0.1:{closed_port()}/bot", **kw)
    return create_app(settings, storage=Storage(tmp_path / "bot.db"))


async def test_webhook_refuses_wrong_or_missing_secret(aiohttp_client: Any, tmp_path: Path) -> None:
    app = app_for(tmp_path, public_url="https://bot.example.gov.vn", telegram_webhook_secret="right_Secret-1")
    client = await aiohttp_client(app)
    update = {"update_id": 1, "message": {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"}, "text": "hi"}}
    assert (await client.post("/telegram/webhook", json=update)).status == 403
    for wrong in ("", "wrong", "right_Secret-", "right_Secret-12", "RIGHT_SECRET-1"):
        resp = await client.post("/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": wrong})
        assert resp.status == 403, wrong
    # The right secret while the bot cannot reach Telegram yet: "try again", never a 5xx crash page.
    resp = await client.post("/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "right_Secret-1"})
    assert resp.status == 503 and resp.headers["Retry-After"]
    assert app[TELEGRAM].webhook_url == "https://bot.example.gov.vn/telegram/webhook"


async def test_webhook_secret_derived_from_token_when_not_set(aiohttp_client: Any, tmp_path: Path) -> None:
    app = app_for(tmp_path, public_url="https://bot.example.gov.vn")
    client = await aiohttp_client(app)
    assert (await client.post("/telegram/webhook", json={})).status == 403
    resp = await client.post("/telegram/webhook", json={}, headers={"X-Telegram-Bot-Api-Secret-Token": derived_secret(TOKEN)})
    assert resp.status == 503
    assert TOKEN not in derived_secret(TOKEN)


async def test_polling_mode_has_no_webhook(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await aiohttp_client(app_for(tmp_path))
    resp = await client.post("/telegram/webhook", json={}, headers={"X-Telegram-Bot-Api-Secret-Token": derived_secret(TOKEN)})
    assert resp.status == 404


async def test_invalid_secret_setting_does_not_start(aiohttp_client: Any, tmp_path: Path) -> None:
    app = app_for(tmp_path, public_url="https://bot.example.gov.vn", telegram_webhook_secret="has spaces!")
    await aiohttp_client(app)
    assert app[TELEGRAM].failed and "TELEGRAM_WEBHOOK_SECRET" in app[TELEGRAM].failed


async def test_no_channel_without_token(aiohttp_client: Any, tmp_path: Path) -> None:
    app = create_app(Settings(), storage=Storage(tmp_path / "bot.db"))
    client = await aiohttp_client(app)
    assert TELEGRAM not in app
    assert (await client.post("/telegram/webhook", json={})).status in (404, 405)


def test_deep_links() -> None:
    assert start_action("p_1_009664") == "p:1.009664:procedure"
    assert start_action("p_2_001955_documents") == "p:2.001955:documents"
    assert procedure_deep_link("1.009664") == "p_1_009664"
    assert start_action(procedure_deep_link("1.014199", "time")) == "p:1.014199:time"
    for junk in (None, "", "x" * 65, "p_1", "p_1.009664", "hồ_sơ", "p_1_009664_<b>", "../etc"):
        assert start_action(junk) == "menu:greeting"
    with pytest.raises(ValueError):
        procedure_deep_link("1.009664 ; drop")


def test_lang_toggle() -> None:
    assert lang_toggle(ConversationState()) == "lang:en"
    assert lang_toggle(ConversationState(lang="vi")) == "lang:en"
    assert lang_toggle(ConversationState(lang="en")) == "lang:vi"


def test_text_is_escaped_and_split_under_the_limit() -> None:
    text = "Hồ sơ <b>không</b> & \"đủ\"\n" + "\n".join(f"{i}. Giấy tờ & bản sao <số {i}>" for i in range(600))
    chunks = telegram_chunks(text)
    assert len(chunks) > 1 and all(len(c) <= 4096 for c in chunks)
    assert "<b>" not in "".join(chunks) and "&lt;b&gt;" in chunks[0]
    assert html.unescape("\n".join(chunks)).replace("\n", "") == text.replace("\n", "")
    dense = "&" * 10_000  # escaping makes it five times longer
    assert all(len(c) <= 4096 for c in telegram_chunks(dense))
    assert html.unescape("".join(telegram_chunks(dense))) == dense


def test_callback_data_fits_in_64_bytes() -> None:
    short = Button("Thời gian", "f:time:1.014199")
    long = Button("Một lựa chọn dài", "p:" + "đăng-ký-đầu-tư-" * 5 + ":procedure")  # Vietnamese: 2-3 bytes a letter
    assert callback_data(short.action) == short.action
    data = callback_data(long.action)
    assert len(data.encode()) <= 64 and data.startswith("h:")
    assert long_actions([short, long]) == {data: long.action}
    rows = keyboard_rows([short, long, Button("Lệ phí", "f:fee:1.014199"), Button("Tên thủ tục rất dài " * 3, "p:1.009664:procedure")])
    assert all(len(d.encode()) <= 64 for row in rows for _label, d in row)
    assert all(len(row) <= 2 for row in rows)


def test_memory_sessions_are_bounded() -> None:
    store = MemorySessions(limit=3)
    for i in range(5):
        store.save_session(f"k{i}", {"i": i})
    assert store.get_session("k0") is None and store.get_session("k4") == {"i": 4}


def test_tokens_never_reach_a_log(caplog: pytest.LogCaptureFixture) -> None:
    secret = "424242:SECRET-never-logged"
    hide_in_logs(secret)
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger("httpx")
    logger.info("HTTP Request: %s %s", "POST", f"https://api.telegram.org/bot{secret}/getUpdates")
    try:
        raise RuntimeError(f"connect failed for https://api.telegram.org/bot{secret}/getMe")
    except RuntimeError:
        logging.getLogger("telegram.ext.Updater").exception("polling failed")
    assert secret not in caplog.text
    assert "[redacted]" in caplog.text
    assert redact(f"x{secret}y") == "x[redacted]y"
