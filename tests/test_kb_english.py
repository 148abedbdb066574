"""English beside every public text of the knowledge, and curators' notes kept apart (issue 13,
items 3 and 4): `kb check` names a missing English text by file, entry and field; every bundled
procedure, case, document, step, time limit and fee has its English text; the texts a reply may
show (`public_texts`) never hold a curation note."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.kb import (
    Case,
    Document,
    Fee,
    KnowledgeBase,
    Procedure,
    TimeLimit,
    check_knowledge,
    default_knowledge_dir,
    load_knowledge,
    public_texts,
)
from bot.kb._drafts import parse_record
from bot.kb._importer import ENGLISH_TODO, draft_yaml
from tests.test_kb_loader import GOOD, make_kb

ROOT = Path(__file__).resolve().parents[1]
VI_LETTERS = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.I)
# The Vietnamese an English text may keep: form codes ("Mẫu I.1.1"), the point letter đ of a
# clause, form numbers of a circular (Đ.1) and legal codes (…/TT-BKHĐT).
VI_KEPT = {"Mẫu", "đ", "Đ.1", "Đ.2"}
# What curators write about the portal's record; never in a public text.
CURATION_RE = re.compile(r"bản ghi|Cổng ghi|bảng của Cổng|chép đúng|chép nguyên|Cổng còn liệt kê|chưa xác minh|chưa đối chiếu"
                         r"|nguồn thứ cấp|not checked|secondary sources|the record (says|lists)",
                         re.I)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(default_knowledge_dir())


def _problems(tmp_path: Path, text: str) -> list[tuple[str, str, str, str]]:
    _, problems = check_knowledge(make_kb(tmp_path, {"procedures/a.yaml": text}))
    return [(p.file, p.entry, p.field, p.message) for p in problems]


# -- kb check: a missing English text is a problem with its file, entry and field -----------------


def test_a_missing_english_text_is_named_by_file_entry_and_field(tmp_path: Path) -> None:
    text = GOOD.replace(", name_en: Copy of the contract", "")
    assert _problems(tmp_path, text) == [(
        "knowledge/procedures/a.yaml", "1.009664", "cases[0].documents[1].name_en",
        "is required: the English text of name",
    )]


@pytest.mark.parametrize("old, new, field", [
    ("agency_en: The industrial parks management board\n", "", "agency_en"),
    ("    name_en: General case\n", "", "cases[0].name_en"),
    ("        name_en: Written request\n", "", "cases[0].documents[0].name_en"),
    (", text_en: 10 working days}", "}", "cases[0].time.text_en"),
    ("{amount: 0, text: Miễn phí, text_en: Free of charge}", "{amount: 0, text: Miễn phí}", "cases[0].fees[0].text_en"),
    ("    steps_en: [File the dossier, Collect the result]\n", "", "cases[0].steps_en"),
    ("legal_basis:", "result: Giấy chứng nhận đăng ký đầu tư\nlegal_basis:", "result_en"),
    ("legal_basis:", "conditions: Dự án không thuộc diện chấp thuận chủ trương\nlegal_basis:", "conditions_en"),
])
def test_every_public_field_needs_its_english(tmp_path: Path, old: str, new: str, field: str) -> None:
    assert old in GOOD
    problems = _problems(tmp_path, GOOD.replace(old, new))
    assert [p[2] for p in problems] == [field], problems
    assert problems[0][3].startswith("is required: the English text of")


def test_steps_en_has_one_text_per_step(tmp_path: Path) -> None:
    text = GOOD.replace("steps_en: [File the dossier, Collect the result]", "steps_en: [File the dossier]")
    ((_, _, field, message),) = _problems(tmp_path, text)
    assert field == "cases[0].steps_en" and message.startswith("has 1 item(s) but steps has 2")


def test_a_fee_name_and_exemption_need_english_too(tmp_path: Path) -> None:
    text = GOOD.replace(
        "fees: [{amount: 0, text: Miễn phí, text_en: Free of charge}]",
        "fees: [{name: Lệ phí, amount: 0, text: Miễn phí, text_en: Free of charge, exempt: Doanh nghiệp nhỏ}]",
    )
    assert {p[2] for p in _problems(tmp_path, text)} == {"cases[0].fees[0].name_en", "cases[0].fees[0].exempt_en"}


def test_english_without_vietnamese_and_plain_text_documents_are_problems(tmp_path: Path) -> None:
    text = GOOD.replace("        originals: 1\n", "        originals: 1\n        public_note_en: Read this\n", 1)
    ((_, _, field, message),) = _problems(tmp_path, text)
    assert field == "cases[0].documents[0].public_note_en" and "no Vietnamese text" in message
    text = GOOD.replace("      - {name: Bản sao hợp đồng, name_en: Copy of the contract, originals: 0, copies: 1}",
                        "      - Bản sao hợp đồng")
    ((_, _, field, message),) = _problems(tmp_path / "b", text)
    assert field == "cases[0].documents[1]" and "name_en" in message


def test_public_notes_load_and_are_exported(tmp_path: Path) -> None:
    text = GOOD.replace(
        "        originals: 1\n",
        "        originals: 1\n        public_note: Khi nhà đầu tư đề xuất dự án\n"
        "        public_note_en: When the investor proposes the project\n        note: Bản ghi ghi nhóm 1.\n", 1,
    )
    kb = load_knowledge(make_kb(tmp_path, {"procedures/a.yaml": text}))
    doc = kb.procedures[0].cases[0].documents[0]
    assert (doc.public_note, doc.public_note_en, doc.note) == (
        "Khi nhà đầu tư đề xuất dự án", "When the investor proposes the project", "Bản ghi ghi nhóm 1.")
    exported = kb.procedures[0].to_dict()["cases"][0]
    assert exported["name_en"] == "General case" and exported["steps_en"] == ["File the dossier", "Collect the result"]
    assert exported["documents"][0]["public_note_en"] == "When the investor proposes the project"
    assert exported["time"]["text_en"] == "10 working days" and exported["fees"][0]["text_en"] == "Free of charge"
    assert kb.procedures[0].to_dict()["agency_en"] == "The industrial parks management board"
    # The curation note stays with staff: public_texts has the public note, not the curation one.
    assert "Bản ghi ghi nhóm 1." not in public_texts(kb.procedures[0], "vi")
    assert "When the investor proposes the project" in public_texts(kb.procedures[0], "en")


def test_kb_check_exits_1_and_prints_the_missing_english(tmp_path: Path) -> None:
    root = make_kb(tmp_path, {"procedures/a.yaml": GOOD.replace("    name_en: General case\n", "")})
    done = subprocess.run([sys.executable, "-m", "bot", "kb", "check", str(root)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 1
    line = GOOD.splitlines().index("  - name: Trường hợp chung") + 1  # the case: its name_en is missing
    assert f"knowledge/procedures/a.yaml:{line} [1.009664] cases[0].name_en: is required: the English text of name" in (
        done.stdout + done.stderr)


def test_side_files_need_their_english(tmp_path: Path) -> None:
    root = tmp_path / "knowledge"
    shutil.copytree(default_knowledge_dir(), root)
    faq = (root / "faq.yaml").read_text(encoding="utf-8")
    (root / "faq.yaml").write_text(faq.replace("  answer_en: >-", "  answer_english: >-", 1), encoding="utf-8")
    roadmap = (root / "roadmap.yaml").read_text(encoding="utf-8")
    roadmap = roadmap.replace("    note_en: The policy approval also approves the investor.\n", "", 1)
    (root / "roadmap.yaml").write_text(roadmap, encoding="utf-8")
    elsewhere = (root / "elsewhere.yaml").read_text(encoding="utf-8")
    (root / "elsewhere.yaml").write_text(
        elsewhere.replace("    text_en: 3 working days from receipt of a complete, valid dossier\n", "", 1), encoding="utf-8")
    precheck = (root / "precheck.yaml").read_text(encoding="utf-8")
    (root / "precheck.yaml").write_text(precheck.replace("    text_en: A paper of the dossier is missing", "    text_english: x", 1),
                                        encoding="utf-8")
    _, problems = check_knowledge(root)
    found = {(p.file.split("/")[-1], p.field) for p in problems}
    assert ("faq.yaml", "[0].answer_en") in found
    assert ("roadmap.yaml", "steps[0].note_en") in found
    assert ("elsewhere.yaml", "[0].time.text_en") in found
    assert ("precheck.yaml", "return_reasons[0].text_en") in found


# -- the bundled knowledge: English everywhere -----------------------------------------------------


def test_every_bundled_procedure_case_document_and_step_has_english(kb: KnowledgeBase) -> None:
    assert len(kb.procedures) >= 61
    for p in kb.procedures:
        assert p.name_en and p.agency_en, p.code
        assert bool(p.result) == bool(p.result_en) and bool(p.conditions) == bool(p.conditions_en), p.code
        for i, case in enumerate(p.cases):
            where = f"{p.code} case {i + 1}"
            assert case.name_en and case.time.text_en, where
            assert len(case.steps_en) == len(case.steps) and all(case.steps_en), where
            for d in case.documents:
                assert d.name_en, (where, d.name)
                assert bool(d.public_note) == bool(d.public_note_en), (where, d.name)
            for fee in case.fees:
                assert fee.text_en and bool(fee.name) == bool(fee.name_en) and bool(fee.exempt) == bool(fee.exempt_en), where
    for e in kb.elsewhere:
        assert e.time is None or e.time.text_en, e.id


def test_english_texts_are_english(kb: KnowledgeBase) -> None:
    for p in kb.procedures:
        texts = [p.agency_en, p.result_en, p.conditions_en]
        for case in p.cases:
            texts += [case.name_en, case.time.text_en, *case.steps_en]
            texts += [t for d in case.documents for t in (d.name_en, d.public_note_en)]
            texts += [t for f in case.fees for t in (f.text_en, f.name_en, f.exempt_en)]
        for text in texts:
            kept = {w for w in re.findall(r"[\w.\-/]+", text) if VI_LETTERS.search(w) and "/" not in w}
            assert kept <= VI_KEPT, (p.code, kept, text[:120])


def test_established_terms_are_used(kb: KnowledgeBase) -> None:
    irc = kb.procedure("1.009664")
    assert irc is not None
    assert "Investment Registration Certificate" in irc.cases[0].steps_en[-1]
    english = " ".join(t for p in kb.procedures for t in public_texts(p, "en"))
    for term in ("investment policy approval", "work permit", "working days", "Enterprise Registration Certificate",
                 "feasibility study report", "environmental licence", "construction permit", "EIA"):
        assert term in english, term


# -- curation notes never reach a reply --------------------------------------------------------------


def _curation(p: Procedure) -> list[str]:
    """A procedure's curation notes: its documents' notes, diff_explained and the lines of notes
    (without the archive at their end of former public texts, "Nguyên văn trước đây…", which
    quotes what a public text still says)."""
    notes = [d.note for c in p.cases for d in c.documents if d.note]
    own = (p.notes or "").split("- Nguyên văn trước đây")[0]
    notes += [line.strip(" -") for line in own.splitlines() if len(line.strip(" -")) > 30]
    return notes + list(p.diff_explained)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_public_texts_hold_no_curation_note(kb: KnowledgeBase, lang: str) -> None:
    for p in kb.procedures:
        texts = public_texts(p, lang)
        joined = "\n".join(texts)
        for note in _curation(p):
            assert note not in joined, (p.code, lang, note[:80])
        for text in texts:
            assert not CURATION_RE.search(text), (p.code, lang, text[:160])


def test_public_texts_are_in_the_language_asked(kb: KnowledgeBase) -> None:
    p = kb.procedure("1.009645")
    assert p is not None
    vi, en = public_texts(p, "vi"), public_texts(p, "en")
    assert p.cases[0].name in vi and p.cases[0].name not in en and p.cases[0].name_en in en
    assert p.name in en and p.name_en in en  # the official Vietnamese name, once, beside the English one
    assert all(d.name_en in en and d.name_en not in vi for d in p.cases[0].documents)
    assert [b for b in p.legal_basis if b in en] == list(p.legal_basis)  # official titles in both


def test_public_texts_of_objects_built_in_code_fall_back_to_vietnamese() -> None:
    from datetime import date

    case = Case("Trường hợp chung", ("Nộp hồ sơ",), (Document("Đơn", note="Bản ghi ghi 1 bản"),),
                TimeLimit(5, "working_days", "05 ngày làm việc"), (Fee("Miễn phí", 0),))
    p = Procedure("1.000001", "Thủ tục thử", "Test procedure", "Thử", "Ban", "không", (case,), (), "https://x.example",
                  date(2026, 1, 1), notes="Đối chiếu với bản ghi")
    assert public_texts(p, "en") == ["Test procedure", "Thủ tục thử", "Ban", "Trường hợp chung", "Nộp hồ sơ", "Đơn",
                                     "05 ngày làm việc", "Miễn phí"]
    assert "Bản ghi ghi 1 bản" not in public_texts(p, "vi") and "Đối chiếu với bản ghi" not in public_texts(p, "vi")


# -- the importer's drafts say where the English goes ------------------------------------------------


def test_an_imported_draft_has_an_english_placeholder_beside_every_public_text(tmp_path: Path) -> None:
    import json

    lines = (ROOT / "tests" / "fixtures" / "dvc" / "sample.jsonl").read_text(encoding="utf-8").splitlines()
    record = next(json.loads(x) for x in lines if '"1.009664"' in x)
    data = parse_record(record).data
    assert data["agency_en"] == ENGLISH_TODO
    for case in data["cases"]:
        assert case["name_en"] == ENGLISH_TODO and case["steps_en"] == [ENGLISH_TODO] * len(case["steps"])
        assert all(d["name_en"] == ENGLISH_TODO for d in case["documents"])
        assert case["time"]["text_en"] == ENGLISH_TODO and all(f["text_en"] == ENGLISH_TODO for f in case["fees"])
    text = draft_yaml(parse_record(record))
    assert "name_en: 'TODO: English'" in text and "text_en: 'TODO: English'" in text
    root = make_kb(tmp_path, {"procedures/1.009664.yaml": text})
    _, problems = check_knowledge(root)
    placeholders = [p for p in problems if "placeholder" in p.message]
    assert any(p.field == "cases[0].documents[0].name_en" for p in placeholders)
    assert any(p.field.startswith("cases[0].steps_en[") for p in placeholders)
