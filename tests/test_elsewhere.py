"""Procedures other agencies handle (knowledge/elsewhere.yaml): validated like the other side
files, the short "handled elsewhere" reply, and the FAQ and glossary facts that go with them."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.engine._compose import ELSEWHERE_LIMIT, elsewhere_answer, elsewhere_time
from bot.kb import ExternalProcedure, TimeLimit, check_knowledge, default_knowledge_dir, load_knowledge

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT.parent / "shared" / "data" / "dvc_2026-07" / "catalog.jsonl"


@pytest.fixture(scope="module")
def kb() -> Any:
    return load_knowledge(default_knowledge_dir())


# -- the bundled entries ----------------------------------------------------------------------


def test_bundled_entries_load_with_what_the_bot_needs(kb: Any) -> None:
    entries = kb.elsewhere
    assert len(entries) >= 10
    ids = [e.id for e in entries]
    assert len(ids) == len(set(ids))
    for e in entries:
        assert isinstance(e, ExternalProcedure)
        assert e.agency and e.agency_en and e.where and e.where_en and e.board_needs and e.board_needs_en
        assert e.source_url.startswith("https://") and e.verified <= date.today()
        assert len(e.examples) >= 10, e.id
        assert any(not ex.isascii() for ex in e.examples), f"{e.id}: Vietnamese with diacritics"
        assert sum(ex.isascii() for ex in e.examples) >= 6, f"{e.id}: without diacritics and in English"
        assert all(kb.procedure(c) for c in e.needed_for), e.id
        assert e.code is None or kb.procedure(e.code) is None, f"{e.id}: a board procedure is not handled elsewhere"
    for wanted in ("enterprise-registration", "fire-safety-design", "land-sublease-park", "land-lease-state",
                   "environmental-registration", "trading-licence", "customs-production-site",
                   "electricity-connection", "visa", "temporary-residence-card"):
        assert kb.external(wanted) is not None, wanted


def test_fire_safety_design_is_the_police_procedure_the_construction_permit_needs(kb: Any) -> None:
    e = kb.external("fire-safety-design")
    assert e.code == "1.115391" and "Công an" in e.agency
    assert "1.013236" in e.needed_for
    assert e.time is None, "no fixed limit stored: the reply says the agency's rules apply"
    assert e.source_url.endswith("019f175a-81d3-745c-8ede-8f59ef4183d5")


def test_enterprise_registration_is_at_the_department_of_finance(kb: Any) -> None:
    e = kb.external("enterprise-registration")
    assert "Sở Tài chính" in e.agency and e.code == "2.001583"
    assert e.time is not None and (e.time.value, e.time.unit) == (3, "working_days")


@pytest.mark.skipif(not CATALOG.exists(), reason="the portal's catalogue (../shared/data) is not here")
def test_codes_and_addresses_match_the_portals_catalogue(kb: Any) -> None:
    catalogue = {}
    with CATALOG.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            catalogue[row["code"]] = row
    for e in kb.elsewhere:
        if e.code is None:
            continue
        row = catalogue.get(e.code)
        assert row is not None, f"{e.id}: {e.code} is not in the catalogue"
        if "/thu-tuc-hanh-chinh/" in e.source_url and e.source_url.endswith(row["id"]):
            continue
        assert e.code in e.where or e.source_url.endswith(row["id"]), f"{e.id}: source is the record of {e.code}"


# -- validation -----------------------------------------------------------------------------------


BROKEN = """\
- id: Fire Safety
  name: A
  name_en: A
  agency: B
  agency_en: B
  where: C
  where_en: C
  board_needs: D
  board_needs_en: D
  source_url: https://example.org/a
  verified: 2026-01-01
- id: twice
  code: "1.013236"
  name: A
  name_en: A
  agency: B
  agency_en: B
  where: C
  where_en: C
  board_needs: D
  board_needs_en: D
  needed_for: ["9.999999"]
  source_url: ftp://example.org/a
  verified: 2999-01-01
  colour: red
- id: twice
  code: "1.1"
  name: A
  name_en: A
  agency: B
  agency_en: B
  where: C
  board_needs: D
  board_needs_en: D
  time: {value: 5, unit: weeks, text: 5 tuần, text_en: 5 weeks}
  source_url: https://example.org/a
  verified: 2026-01-01
"""


def _problems(tmp_path: Path, elsewhere: str | None, roadmap: str | None = None) -> tuple[Any, list[str]]:
    root = tmp_path / "knowledge"
    shutil.copytree(default_knowledge_dir(), root)
    if elsewhere is None:
        (root / "elsewhere.yaml").unlink()
    else:
        (root / "elsewhere.yaml").write_text(elsewhere, encoding="utf-8")
    if roadmap is not None:
        (root / "roadmap.yaml").write_text(roadmap, encoding="utf-8")
    kb, problems = check_knowledge(root)
    return kb, [str(p) for p in problems]


def test_a_broken_entry_is_reported_with_file_entry_and_field(tmp_path: Path) -> None:
    kb, problems = _problems(tmp_path, BROKEN)
    text = "\n".join(problems)
    assert all(p.startswith(("knowledge/elsewhere.yaml:", "knowledge/roadmap.yaml:")) for p in problems), text
    assert sum(p.startswith("knowledge/elsewhere.yaml:") for p in problems) == 10, text
    assert "[Fire Safety] [0].id: must be a short slug of a-z, 0-9 and - (got 'Fire Safety')" in text
    assert "[twice] [1].code: 1.013236 is a procedure of this knowledge base: it is not handled elsewhere" in text
    assert "[twice] [1].needed_for[0]: 9.999999 is not a procedure of this knowledge base" in text
    assert "[twice] [1].source_url: must be a web address starting with https://" in text
    assert "[twice] [1].verified: 2999-01-01 is in the future" in text
    assert "[twice] [1].colour: unknown field" in text
    assert "[twice] [2].id: 'twice' is used twice" in text
    assert "[twice] [2].code: '1.1' is not a national procedure code" in text
    assert "[twice] [2].where_en: is required and must not be empty" in text
    assert "[twice] [2].time.unit: must be one of: working_days, days, months (got 'weeks')" in text
    assert ":13 [twice] [1].code" in text, "the line of the problem is given"
    # The roadmap names entries that are gone now: reported there too.
    assert any("roadmap.yaml" in p and "is not an entry of elsewhere.yaml" in p for p in problems), text
    assert kb.elsewhere == () or all(e.id != "twice" for e in kb.elsewhere)


def test_without_elsewhere_yaml_the_roadmap_cannot_name_its_entries(tmp_path: Path) -> None:
    kb, problems = _problems(tmp_path, None)
    assert kb.elsewhere == ()
    assert any("[roadmap] steps[1].elsewhere: 'land-sublease-park' is not an entry of elsewhere.yaml" in p for p in problems)


def test_the_file_must_be_a_list(tmp_path: Path) -> None:
    _kb, problems = _problems(tmp_path, "id: x\n")
    assert any(p.startswith("knowledge/elsewhere.yaml") and "must be a list of entries" in p for p in problems)


# -- the reply ----------------------------------------------------------------------------------


def test_every_reply_is_short_and_says_who_handles_it(kb: Any) -> None:
    for e in kb.elsewhere:
        vi = elsewhere_answer(e, "vi", kb.board)
        en = elsewhere_answer(e, "en", kb.board)
        for text in (vi, en):
            assert len(text) <= ELSEWHERE_LIMIT, (e.id, len(text))
            assert e.source_url in text, "the source is never cut"
            assert "…" not in text, f"{e.id}: the bundled texts fit without cutting"
        assert "không phải Ban Quản lý" in vi and e.agency in vi and e.board_needs in vi and e.where in vi
        assert "not the board" in en and e.board_needs_en in en
        assert e.verified.strftime("%d/%m/%Y") in vi and e.verified.isoformat() in en
        if e.code:
            assert f"mã {e.code}" in vi and f"code {e.code}" in en


def test_reply_time_is_the_legal_limit_or_the_agencys_own_rules(kb: Any) -> None:
    fire = elsewhere_answer(kb.external("fire-safety-design"), "vi", kb.board)
    assert "Thời hạn: theo quy định của cơ quan đó." in fire
    card = kb.external("temporary-residence-card")
    assert "05 ngày làm việc" in elsewhere_answer(card, "vi", None)
    assert elsewhere_time(card, "en") == "5 working days"
    assert elsewhere_time(kb.external("visa"), "en") == "set by that agency's own rules"


def test_a_long_entry_is_cut_but_keeps_who_time_and_source(kb: Any) -> None:
    long = ExternalProcedure(
        id="long", name="Thủ tục rất dài", name_en="A long procedure", agency="Cơ quan X", agency_en="Agency X",
        where="Nộp ở nơi này. " * 60, where_en="File here. " * 60, board_needs="Ban cần giấy này. " * 60,
        board_needs_en="The board needs it. " * 60, source_url="https://example.org/record", verified=date(2026, 1, 2),
        time=TimeLimit(3, "working_days", "03 ngày làm việc"),
    )
    for lang in ("vi", "en"):
        text = elsewhere_answer(long, lang, kb.board)
        assert len(text) <= ELSEWHERE_LIMIT
        assert "https://example.org/record" in text and ("Cơ quan X" in text or "Agency X" in text)
        assert "…" in text and ("03 ngày làm việc" in text or "3 working days" in text)


# -- FAQ and glossary -------------------------------------------------------------------------


def test_faq_working_days_does_not_read_the_portals_days_as_calendar_days(kb: Any) -> None:
    entry = next(f for f in kb.faq if f.id == "working-days")
    vi, en = entry.answer_vi, entry.answer_en
    assert "không tính thứ Bảy, Chủ nhật" in vi
    assert '"10 Ngày"' in vi and "ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ" in vi
    assert "đừng hiểu" in vi and "ngày lịch" in vi
    assert "do not read" in en and "working days" in en
    assert "Khi thủ tục ghi \"ngày\" (không ghi \"ngày làm việc\") thì tính\ntheo ngày lịch" not in vi
    assert entry.source and "Bộ luật Dân sự 2015" in entry.source and "Điều 148" in entry.source
    assert "1.013236" in entry.source


def test_every_faq_entry_cites_its_legal_text(kb: Any) -> None:
    for f in kb.faq:
        assert f.source, f.id


def test_glossary_gpkd_has_both_meanings_and_cccd_is_the_identity_card(kb: Any) -> None:
    terms = {g.term: g for g in kb.glossary}
    gpkd = terms["GPKD"]
    assert gpkd.expansion == "giấy phép kinh doanh"
    assert gpkd.note and "09/2018/NĐ-CP" in gpkd.note and "Sở Công Thương" in gpkd.note
    assert "giấy chứng nhận đăng ký doanh nghiệp" in gpkd.note.casefold(), "the everyday meaning too"
    assert gpkd.english and "09/2018" in gpkd.english
    cccd = terms["CCCD"]
    assert cccd.expansion == "thẻ căn cước"
    assert cccd.note and "01/7/2024" in cccd.note and "26/2023/QH15" in cccd.note


# -- matching ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def assistant(kb: Any) -> Any:
    from bot.conversation import Assistant

    return Assistant(kb)


@pytest.mark.parametrize(
    ("question", "code"),
    [("đổi bằng lái xe nước ngoài sang bằng Việt Nam ở đâu", "3.000351"),
     ("Chào Ban, công ty em có 5 chuyên gia Nhật thuê nhà gần KCN, chủ nhà hỏi ai phải khai báo tạm trú cho họ với công an ạ?", "1.001437"),
     ("cty e muon dang ky nhan hieu cho san pham, nop o cuc so huu tri tue phai ko", "1.015002"),
     ("Our parent company will lend us 2 million USD for three years, do we register the loan with the State Bank?", "1.000972"),
     # "nội" of the city's name is a word of "nội quy lao động" too: the message's words together
     # say the branch, not the labour rules.
     ("cty e muon mo chi nhanh o ha noi thi dang ky o dau ad", "2.002069"),
     ("san pham cua cty e muon duoc dan nhan sinh thai viet nam thi nop ho so o dau", "2.002469"),
     ("công nhân người Việt của công ty em bị mất thẻ căn cước, làm lại ở đâu ạ", "1.014061"),
     ("Our parent company in Japan wants a representative office in Hanoi for trade promotion, who licenses it?", "2.000063")],
)
def test_another_agencys_procedure_is_answered_with_its_agency_and_code(assistant: Any, question: str, code: str) -> None:
    answer = assistant.answer(question, {})
    assert answer.matches == [] and answer.intent == "unknown"
    assert code in answer.reply.text


@pytest.mark.parametrize("question", ["nộp hồ sơ ở đâu", "kính gửi ban quản lý", "công ty em trong kcn"])
def test_a_short_general_question_is_not_taken_by_a_long_example(assistant: Any, question: str) -> None:
    """A long example holds a short question's few words by chance; the question is not about it."""
    answer = assistant.answer(question, {})
    assert not any(f"mã {e.code}" in answer.reply.text for e in assistant.engine.kb.elsewhere if e.code), answer.reply.text
