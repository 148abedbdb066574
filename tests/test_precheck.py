"""The document pre-check: a checklist to tick, what is missing, forms to download, the common
reasons a dossier is returned, the printable page, and the flow on a channel (Zalo Bot)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
from test_zalo_bot import SECRET, TOKEN, FakeZaloBot, update

from bot.channels._zalo_bot import ZALO_BOT
from bot.config import Settings
from bot.conversation import Assistant
from bot.kb import check_knowledge, default_knowledge_dir, load_knowledge
from bot.server import create_app
from bot.storage import Storage

WORK_PERMIT = "1.014199"
IRC = "1.009664"  # four cases


@pytest.fixture(scope="module")
def engine() -> Assistant:
    return Assistant(load_knowledge(default_knowledge_dir()), public_url="https://tthc.example.gov.vn")


def test_documents_answer_offers_the_precheck(engine: Assistant) -> None:
    answer = engine.answer("giấy phép lao động cần hồ sơ gì", {})
    assert answer.intent == "documents"
    assert f"c:{WORK_PERMIT}" in [b.action for b in answer.reply.buttons]


def test_tick_by_buttons_and_by_typing_then_the_result(engine: Assistant) -> None:
    state: dict[str, Any] = {}
    first = engine.answer(f"c:{WORK_PERMIT}", state)
    assert first.intent == "precheck" and "☐ 1." in first.reply.text and "Đã có 0/7" in first.reply.text
    assert "https://tthc.example.gov.vn/checklist/1.014199" in first.reply.text
    actions = [b.action for b in first.reply.buttons]
    assert actions[:3] == ["c:1.014199:1:1", "c:1.014199:1:2", "c:1.014199:1:4"]
    assert actions[-1] == "c:1.014199:1:0:ok" and all(len(a.encode()) <= 64 for a in actions)
    ticked = engine.answer("c:1.014199:1:5", state)  # papers 1 and 3
    assert "☑ 1." in ticked.reply.text and "☐ 2." in ticked.reply.text and "☑ 3." in ticked.reply.text
    assert ticked.reply.buttons[0].action == "c:1.014199:1:4", "pressing 1 again unticks it"
    typed = engine.answer("2, 5 và 6", state)
    assert typed.intent == "precheck" and "Đã có 5/7" in typed.reply.text
    result = engine.answer("xong", state)
    assert result.intent == "precheck" and "pending" not in state
    text = result.reply.text
    assert "Còn thiếu 2/7 giấy tờ" in text and "• 4. Phiếu lý lịch tư pháp" in text and "• 7." in text
    assert "• 1." not in text
    assert "Lý do hồ sơ hay bị trả lại" in text and "hết hiệu lực" in text, "the work-permit reason applies"
    assert "Đề xuất dự án" not in text, "the investment reason does not"
    assert [b.action for b in result.reply.buttons][:2] == ["c:1.014199:1:37", "f:where:1.014199"]


def test_all_papers_and_forms_with_links(engine: Assistant) -> None:
    p = engine.by_code[IRC]
    docs = p.cases[0].documents
    everything = (1 << len(docs)) - 1
    result = engine.answer(f"c:{IRC}:1:{everything:x}:ok", {})
    assert f"Bạn đã có đủ {len(docs)} giấy tờ" in result.reply.text
    forms = [d.form for d in docs if d.form]
    assert forms and all(f.code in result.reply.text for f in forms)
    assert "Mẫu đơn, tờ khai cần tải" in result.reply.text
    for f in forms:
        assert (f.url or p.source_url) in result.reply.text, "each form with where to download it"


def test_a_procedure_with_cases_asks_which_first(engine: Assistant) -> None:
    answer = engine.answer(f"c:{IRC}", {}, lang="en")
    assert "Which case is yours?" in answer.reply.text
    assert [b.action for b in answer.reply.buttons] == [f"c:{IRC}:{i}" for i in (1, 2, 3, 4)]
    listed = engine.answer(f"c:{IRC}:2", {}, lang="en")
    assert "Case: " in listed.reply.text and "/checklist/1.009664/2?lang=en" in listed.reply.text


@pytest.mark.parametrize("action", ["c:9.999999", "c:1.014199:3", "c:1.014199:1:ff", "c:1.014199:1:zz", "c:1.014199:1:1:no"])
def test_bad_precheck_buttons(engine: Assistant, action: str) -> None:
    assert engine.answer(action, {}).intent == "unknown"


def test_a_question_leaves_the_checklist(engine: Assistant) -> None:
    state: dict[str, Any] = {}
    engine.answer(f"c:{WORK_PERMIT}", state)
    answer = engine.answer("gia hạn giấy phép xây dựng mất bao lâu", state)
    assert answer.intent == "time" and "pending" not in state


def test_return_reasons_are_validated(tmp_path: Path) -> None:
    root = tmp_path / "knowledge"
    shutil.copytree(default_knowledge_dir(), root)
    (root / "precheck.yaml").write_text(
        "return_reasons:\n  - {text: A, text_en: A, codes: ['9.999999']}\n  - {text: B, field: Nuôi cá}\n",
        encoding="utf-8")
    problems = [str(p) for p in check_knowledge(root)[1]]
    assert "knowledge/precheck.yaml:2 [precheck] return_reasons[0].codes[0]: 9.999999 is not a procedure" in "\n".join(problems)
    assert any("return_reasons[1].text_en: is required" in p for p in problems)
    assert any("return_reasons[1].field: no procedure has the field 'Nuôi cá'" in p for p in problems)


async def test_printable_page(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(Settings(db=str(tmp_path / "t.db"))))
    resp = await client.get(f"/checklist/{IRC}")
    assert resp.status == 200 and resp.content_type == "text/html"
    page = await resp.text()
    assert page.count("<table>") == 4 and "Trường hợp 2" in page and "☐" in page
    assert 'href="/checklist.css"' in page and "<script" not in page
    assert "Lý do hồ sơ hay bị trả lại" in page and "Nguồn" in page
    one = await (await client.get(f"/checklist/{IRC}/2?lang=en")).text()
    assert one.count("<table>") == 1 and "Dossier checklist" in one and "Case 2" in one
    css = await client.get("/checklist.css")
    assert css.status == 200 and css.content_type == "text/css"
    for bad in ("/checklist/9.999999", f"/checklist/{IRC}/9", f"/checklist/{IRC}/x", "/checklist/<b>"):
        assert (await client.get(bad)).status == 404
    escaped = await (await client.get(f"/checklist/{WORK_PERMIT}")).text()
    assert '<td class="name">' in escaped and "&lt;" not in escaped.split("<body>")[0]


async def test_precheck_on_zalo_bot_by_numbers(aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path) -> None:
    fake = FakeZaloBot()
    server = await aiohttp_server(fake.app)
    settings = Settings(zalo_bot_token=TOKEN, zalo_bot_webhook_secret=SECRET,
                        zalo_bot_api_base=str(server.make_url("")).rstrip("/"), public_url="https://tthc.example.gov.vn")
    app = create_app(settings, storage=Storage(tmp_path / "bot.db"))
    client = await aiohttp_client(app)
    await asyncio.wait_for(app[ZALO_BOT].registered.wait(), 5)

    async def say(text: str) -> str:
        count = len(fake.sent)
        resp = await client.post("/zalo-bot/webhook", json=update(text), headers={"X-Bot-Api-Secret-Token": SECRET})
        assert resp.status == 200
        await app[ZALO_BOT].background.idle()
        return "\n".join(m["text"] for m in fake.sent[count:])

    documents = await say("giấy phép lao động cần hồ sơ gì")
    choices = documents.split("Trả lời bằng số để chọn:")[-1]
    number = next(line.split(".")[0] for line in choices.splitlines() if "Kiểm tra hồ sơ" in line)
    checklist = await say(number)
    assert "Kiểm tra hồ sơ" in checklist and "☐ 1." in checklist
    assert "https://tthc.example.gov.vn/checklist/1.014199" in checklist
    result = await say("c:1.014199:1:7f:ok")
    assert "Bạn đã có đủ 7 giấy tờ" in result
    assert fake.errors == []
