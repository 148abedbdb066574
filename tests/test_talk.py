"""Complaints (a guided form, stored, forwarded to the staff chat with a reference number) and the
handover to staff (messages forwarded, staff replies relayed back on the user's channel, office
hours, "kết thúc"), through the engine, the web API and the Zalo Bot adapter."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from test_zalo_bot import SECRET, TOKEN, FakeZaloBot, update

from bot.channels._zalo_bot import ZALO_BOT
from bot.config import Settings
from bot.conversation import Assistant
from bot.core import ConversationState
from bot.guide import Guide, staff_reply_command, ticket
from bot.guide._talk import REF_RE, Talk, parse_hours
from bot.kb import default_knowledge_dir, load_knowledge
from bot.server import create_app
from bot.storage import VN_TZ, Storage
from bot.workdays import calendar_for_settings

STAFF = ("telegram", "-1001234567890")
USER = ("telegram", "42")


@pytest.fixture(scope="module")
def kb() -> Any:
    return load_knowledge(default_knowledge_dir())


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage(tmp_path / "talk.db")


@pytest.fixture
def engine(kb: Any, storage: Storage) -> Assistant:
    return Assistant(kb, guide=Guide(storage, STAFF, calendar_for_settings(Settings()), kb.board))


def staff_texts(storage: Storage) -> list[str]:
    return [r["payload"]["text"] for r in storage.outbox() if (r["channel"], r["chat_id"]) == STAFF]


# -- complaints -----------------------------------------------------------------------------------


def test_complaint_form_reference_and_forwarding(engine: Assistant, storage: Storage) -> None:
    state: dict[str, Any] = {}
    first = engine.answer("tôi muốn phản ánh, kiến nghị", state, chat=USER)
    assert first.intent == "complaint" and "bước 1/3" in first.reply.text
    assert [b.action for b in first.reply.buttons][:2] == ["pa:t:procedure", "pa:t:delay"]
    assert "bước 2/3" in engine.answer("pa:t:delay", state, chat=USER).reply.text.lower()
    assert "hơi ngắn" in engine.answer("chậm quá", state, chat=USER).reply.text
    third = engine.answer("Hồ sơ cấp GCNĐKĐT nộp từ 01/10 đến nay chưa có kết quả, quá hạn 5 ngày", state, chat=USER)
    assert "Bước 3/3" in third.reply.text and [b.action for b in third.reply.buttons] == ["pa:skip", "pa:cancel"]
    done = engine.answer("0912 345 678", state, chat=USER)
    assert done.intent == "complaint" and "pending" not in state
    today = datetime.now(VN_TZ)
    found = REF_RE.search(done.reply.text)
    assert found is not None and found.group(0).startswith(f"PA-{today:%y%m%d}-")
    ref = found.group(0)
    assert "liên hệ lại" in done.reply.text
    row = storage.complaint(ref)
    assert row is not None and row["topic"] == "delay" and row["contact"] == "0912 345 678" and row["channel"] == "telegram"
    [forwarded] = staff_texts(storage)
    assert ref in forwarded and "Thời gian giải quyết" in forwarded and "quá hạn 5 ngày" in forwarded
    status = engine.answer(ref.lower(), {}, chat=USER)
    assert status.intent == "complaint" and "đã tiếp nhận" in status.reply.text
    # A second one the same day gets another (random, not the next) number; skipping the contact is fine.
    state = {}
    for text in ("pa:start", "pa:t:other", "Đường nội bộ KCN bị ngập khi mưa lớn", "pa:skip"):
        last = engine.answer(text, state, chat=USER)
    second = REF_RE.search(last.reply.text)
    assert second is not None and second.group(0) != ref and second.group(0).startswith(f"PA-{today:%y%m%d}-")


def test_complaint_can_be_cancelled(engine: Assistant, storage: Storage) -> None:
    state: dict[str, Any] = {}
    engine.answer("pa:start", state)
    assert engine.answer("hủy", state).reply.text == "Đã hủy phản ánh." and "pending" not in state
    assert storage.outbox() == []


async def test_complaint_through_the_web_api(aiohttp_client: Any, tmp_path: Path) -> None:
    db = tmp_path / "web.db"
    client = await aiohttp_client(create_app(Settings(db=str(db))))

    async def ask(text: str) -> dict[str, Any]:
        resp = await client.post("/api/ask", json={"text": text, "session": "pa"})
        data: dict[str, Any] = await resp.json()
        return data

    assert (await ask("khiếu nại"))["intent"] == "complaint"
    await ask("1")  # the first topic, typed
    await ask("Bộ phận một cửa yêu cầu nộp giấy tờ không có trong danh mục thủ tục")
    done = await ask("a@example.com")
    assert "PA-" in done["reply"]["text"] and "chưa có nhóm cán bộ" in done["reply"]["text"]
    with Storage(db) as storage:
        [row] = storage.complaints(datetime(2000, 1, 1, tzinfo=VN_TZ), datetime(2100, 1, 1, tzinfo=VN_TZ))
    assert row["channel"] == "web" and row["topic"] == "procedure" and row["contact"] == "a@example.com"


# -- handover ---------------------------------------------------------------------------------------


def test_handover_forwards_relays_and_ends(engine: Assistant, storage: Storage) -> None:
    state: dict[str, Any] = {}
    engine.answer("giấy phép lao động cần hồ sơ gì", state, chat=USER)
    start = engine.answer("cho tôi gặp cán bộ", state, chat=USER)
    assert start.intent == "handover" and "Đã chuyển cuộc trò chuyện tới cán bộ" in start.reply.text
    name = ticket(*USER)
    assert state["handover"]["ticket"] == name
    first = engine.answer("Tôi cần hỏi thêm về giấy khám sức khỏe", state, chat=USER)
    assert first.intent == "handover" and "Đã chuyển tới cán bộ" in first.reply.text
    second = engine.answer("menu:status", state, chat=USER)
    assert "đang trò chuyện với cán bộ" in second.reply.text, "buttons do not leave the handover"
    quiet = engine.answer("Cảm ơn", state, chat=USER)
    assert quiet.reply.text == "" and not quiet.reply.buttons, "later messages are passed on silently"
    engine.answer("Cảm ơn", state, chat=USER)
    texts = staff_texts(storage)
    assert texts.count(f"💬 #{name}: Cảm ơn") == 2, "the same words twice are two messages"
    assert f"🙋 #{name} (telegram" in texts[0] and "giấy phép lao động cần hồ sơ gì" in texts[0]
    assert texts[1] == f"💬 #{name}: Tôi cần hỏi thêm về giấy khám sức khỏe" and texts[2] == f"💬 #{name}: Cảm ơn"
    assert "42" not in "".join(texts), "the staff chat never sees the user's chat id"

    # Staff reply, by replying to the forwarded message (the adapter builds /tl) or by /tl.
    command = staff_reply_command(texts[1], "Chào anh, giấy khám sức khỏe còn hạn 12 tháng.")
    assert command == f"/tl {name} Chào anh, giấy khám sức khỏe còn hạn 12 tháng."
    relayed = engine.answer(command, {}, chat=STAFF)
    assert relayed.intent == "staff" and f"#{name}" in relayed.reply.text
    to_user = [r for r in storage.outbox() if (r["channel"], r["chat_id"]) == USER]
    assert [r["payload"]["text"] for r in to_user] == ["👤 Cán bộ Ban Quản lý: Chào anh, giấy khám sức khỏe còn hạn 12 tháng."]
    assert engine.answer(command, {}, chat=USER).intent != "staff", "only the staff chat can relay"
    assert "Không tìm thấy" in engine.answer("/tl Uffffff xin chào", {}, chat=STAFF).reply.text

    end = engine.answer("kết thúc", state, chat=USER)
    assert end.intent == "handover" and "handover" not in state and "Đã kết thúc" in end.reply.text
    assert staff_texts(storage)[-1] == f"✔ #{name} đã kết thúc trò chuyện với cán bộ."
    assert engine.answer("giấy phép lao động mất bao lâu", state, chat=USER).intent == "time", "the bot is back"


def test_handover_without_a_way_back_explains_and_offers_a_complaint(engine: Assistant) -> None:
    # The terminal (and a web request without a session) cannot get a staff reply back.
    for chat in (("cli", "x"), ("web", "")):
        state: dict[str, Any] = {}
        answer = engine.answer("talk to a human", state, chat=chat)
        assert answer.intent == "handover" and "handover" not in state
        assert "pa:start" in [b.action for b in answer.reply.buttons]


async def test_handover_in_the_web_chat_the_page_fetches_the_staff_reply(aiohttp_client: Any, tmp_path: Path) -> None:
    from bot.web._dossiers import NOTIFIER
    from bot.web._keys import ASSISTANT

    storage = Storage(tmp_path / "web.db")
    app = create_app(Settings(staff_chats="telegram:-1001234567890"), storage=storage)
    client = await aiohttp_client(app)

    async def ask(text: str, session: str = "w-abc") -> dict[str, Any]:
        resp = await client.post("/api/ask", json={"text": text, "session": session})
        data: dict[str, Any] = await resp.json()
        return data

    async def fetch(session: str = "w-abc") -> list[dict[str, Any]]:
        resp = await client.get("/api/messages", params={"session": session})
        assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
        messages: list[dict[str, Any]] = (await resp.json())["messages"]
        return messages

    start = await ask("gặp cán bộ")
    assert "Đã chuyển cuộc trò chuyện tới cán bộ" in start["reply"]["text"] and "giữ trang này mở" in start["reply"]["text"]
    await ask("Hồ sơ cấp GPLĐ của tôi cần bổ sung gì?")
    name = ticket("web", "w-abc")
    assert f"💬 #{name}: Hồ sơ cấp GPLĐ của tôi cần bổ sung gì?" in staff_texts(storage)
    assert await fetch() == [], "nothing yet"
    app[ASSISTANT].answer(f"/tl {name} Anh bổ sung lý lịch tư pháp nhé.", {}, chat=STAFF)
    await app[NOTIFIER].deliver_once()
    assert [m["text"] for m in await fetch()] == ["👤 Cán bộ Ban Quản lý: Anh bổ sung lý lịch tư pháp nhé."]
    assert await fetch() == [], "a message is fetched once"
    assert await fetch("w-other") == [], "never another session's messages"
    bad = await client.get("/api/messages", params={"session": "../x y"})
    assert bad.status == 400
    assert "Đã kết thúc" in (await ask("kết thúc"))["reply"]["text"]


def test_office_hours_and_when_staff_answer(kb: Any, storage: Storage) -> None:
    talk = Talk(storage, STAFF, calendar_for_settings(Settings()), kb.board)
    assert talk.hours == parse_hours("Thứ Hai – Thứ Sáu, 7:30–11:30 và 13:30–17:00")
    assert [h.isoformat() for pair in talk.hours for h in pair] == ["07:30:00", "11:30:00", "13:30:00", "17:00:00"]
    monday_9 = datetime(2026, 11, 23, 9, 0, tzinfo=VN_TZ)
    assert talk.open_now(monday_9)
    noon = datetime(2026, 11, 23, 12, 0, tzinfo=VN_TZ)
    assert not talk.open_now(noon) and talk.next_open(noon) == datetime(2026, 11, 23, 13, 30, tzinfo=VN_TZ)
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=VN_TZ)
    assert talk.next_open(saturday) == datetime(2026, 11, 30, 7, 30, tzinfo=VN_TZ)
    tet = datetime(2026, 2, 16, 9, 0, tzinfo=VN_TZ)  # in the Tết break (calendar.yaml)
    assert not talk.open_now(tet) and talk.next_open(tet).date().isoformat() == "2026-02-23"
    text = talk.when_text(saturday, "vi")
    assert "ngoài giờ làm việc" in text and "07:30 Thứ Hai 30/11/2026" in text
    _intent, reply = talk.before("gặp cán bộ", ConversationState(), "vi", USER, saturday)  # type: ignore[misc]
    assert "07:30 Thứ Hai 30/11/2026" in reply.text
    _intent, reply = talk.before("gặp cán bộ", ConversationState(), "vi", ("telegram", "7"), monday_9)  # type: ignore[misc]
    assert "ngoài giờ" not in reply.text


async def test_handover_through_zalo_bot_and_the_outbox(aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path) -> None:
    from bot.web._dossiers import NOTIFIER
    from bot.web._keys import ASSISTANT

    fake = FakeZaloBot()
    server = await aiohttp_server(fake.app)
    settings = Settings(zalo_bot_token=TOKEN, zalo_bot_webhook_secret=SECRET, public_url="https://x.example.gov.vn",
                        zalo_bot_api_base=str(server.make_url("")).rstrip("/"), staff_chats="telegram:-1001234567890")
    storage = Storage(tmp_path / "bot.db")
    app = create_app(settings, storage=storage)
    client = await aiohttp_client(app)
    await asyncio.wait_for(app[ZALO_BOT].registered.wait(), 5)

    async def say(text: str) -> list[str]:
        count = len(fake.sent)
        resp = await client.post("/zalo-bot/webhook", json=update(text), headers={"X-Bot-Api-Secret-Token": SECRET})
        assert resp.status == 200
        await app[ZALO_BOT].background.idle()
        return [m["text"] for m in fake.sent[count:]]

    assert "Đã chuyển cuộc trò chuyện tới cán bộ" in (await say("gặp cán bộ"))[0]
    assert "Đã chuyển tới cán bộ" in (await say("Cho hỏi hồ sơ của công ty tôi đến đâu rồi?"))[0]
    chat_id = update("x")["message"]["chat"]["id"]
    name = ticket("zalo_bot", chat_id)
    assert f"💬 #{name}: Cho hỏi hồ sơ của công ty tôi đến đâu rồi?" in staff_texts(storage)
    # Staff answer in the Telegram group; the outbox delivers it on Zalo Bot.
    relayed = app[ASSISTANT].answer(f"/tl {name} Hồ sơ đang được thẩm định, dự kiến xong thứ Sáu.", {}, chat=STAFF)
    assert relayed.intent == "staff"
    await app[NOTIFIER].deliver_once()
    assert fake.sent[-1]["text"] == "👤 Cán bộ Ban Quản lý: Hồ sơ đang được thẩm định, dự kiến xong thứ Sáu."
    assert "Đã kết thúc" in (await say("kết thúc"))[0]
    assert fake.errors == []
