"""The knowledge loader and validator: good knowledge loads; every problem is named precisely."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot.kb import KnowledgeError, check_knowledge, default_knowledge_dir, load_knowledge

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "knowledge"

GOOD = """\
code: "1.009664"
name: Thủ tục cấp Giấy chứng nhận đăng ký đầu tư
name_en: Issuance of an Investment Registration Certificate
aliases: [GCNĐKĐT, IRC]
field: Đầu tư tại Việt Nam
agency: Ban Quản lý các khu công nghiệp
agency_en: The industrial parks management board
online_level: một phần
cases:
  - name: Trường hợp chung
    name_en: General case
    steps: [Nộp hồ sơ, Nhận kết quả]
    steps_en: [File the dossier, Collect the result]
    documents:
      - name: Văn bản đề nghị
        name_en: Written request
        form: {code: Mẫu I.1.1}
        originals: 1
      - {name: Bản sao hợp đồng, name_en: Copy of the contract, originals: 0, copies: 1}
    time: {value: 10, unit: working_days, text: 10 ngày làm việc, text_en: 10 working days}
    fees: [{amount: 0, text: Miễn phí, text_en: Free of charge}]
    channels: [online, in_person, post]
legal_basis: [Luật Đầu tư số 143/2025/QH15]
source_url: https://dichvucong.gov.vn/thu-tuc-hanh-chinh/x
verified: 2026-11-01
"""

BOARD = """\
name: Ban Quản lý
name_en: Management Board
address: Số 1
hotline: "0200"
email: a@example.gov.vn
working_hours: 7:30–17:00
working_hours_en: 7:30–17:00
portal_url: https://dichvucong.gov.vn
one_stop_address: Trung tâm Phục vụ hành chính công
"""


def make_kb(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "knowledge"
    (root / "procedures").mkdir(parents=True)
    (root / "board.yaml").write_text(BOARD, encoding="utf-8")
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_good_knowledge_loads_with_every_field(tmp_path: Path) -> None:
    kb = load_knowledge(make_kb(tmp_path, {"procedures/a.yaml": GOOD}))
    (p,) = kb.procedures
    assert p.code == "1.009664" and p.online_level == "một phần"
    case = p.cases[0]
    assert [d.originals for d in case.documents] == [1, 0]
    assert case.documents[1].copies == 1
    assert case.documents[0].form is not None and case.documents[0].form.code == "Mẫu I.1.1"
    assert case.time.value == 10 and case.time.unit == "working_days"
    assert case.fees[0].is_free
    assert p.verified == date(2026, 11, 1)


def test_text_is_nfc_normalised(tmp_path: Path) -> None:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", GOOD)
    kb = load_knowledge(make_kb(tmp_path, {"procedures/a.yaml": decomposed}))
    assert kb.procedures[0].name == unicodedata.normalize("NFC", "Thủ tục cấp Giấy chứng nhận đăng ký đầu tư")


def test_every_problem_is_reported_with_file_entry_field_and_line(tmp_path: Path) -> None:
    broken = (
        GOOD.replace("online_level: một phần", "online_level: online")
        .replace("unit: working_days", "unit: weeks")
        .replace("source_url: https://", "source_url: ftp://")
        .replace("aliases:", "alias:")
    )
    root = make_kb(tmp_path, {"procedures/broken.yaml": broken})
    kb, problems = check_knowledge(root)
    assert kb.procedures == ()
    text = "\n".join(str(p) for p in problems)
    assert all(p.file == "knowledge/procedures/broken.yaml" and p.entry == "1.009664" for p in problems)
    fields = {p.field for p in problems}
    assert {"online_level", "cases[0].time.unit", "source_url", "alias"} <= fields
    assert "did you mean 'aliases'" in text
    unit = next(p for p in problems if p.field == "cases[0].time.unit")
    assert unit.line == broken.splitlines().index(
        next(line for line in broken.splitlines() if "weeks" in line)
    ) + 1


def test_missing_required_fields_and_empty_cases(tmp_path: Path) -> None:
    text = GOOD.replace("name_en: Issuance of an Investment Registration Certificate\n", "")
    text = text.replace("    time: {value: 10, unit: working_days, text: 10 ngày làm việc, text_en: 10 working days}\n", "")
    _, problems = check_knowledge(make_kb(tmp_path, {"procedures/a.yaml": text}))
    fields = {p.field for p in problems}
    assert "name_en" in fields and "cases[0].time" in fields


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    text = GOOD.replace("field: Đầu tư tại Việt Nam", "field: [Đầu tư")
    _, problems = check_knowledge(make_kb(tmp_path, {"procedures/a.yaml": text, "procedures/b.yaml": GOOD}))
    assert len(problems) == 1
    assert problems[0].file.endswith("a.yaml") and "not valid YAML" in problems[0].message
    assert problems[0].line is not None and problems[0].line >= 5


def test_duplicate_codes_and_future_dates(tmp_path: Path) -> None:
    future = GOOD.replace("verified: 2026-11-01", "verified: 2999-01-01")
    _, problems = check_knowledge(
        make_kb(tmp_path, {"procedures/a.yaml": GOOD, "procedures/b.yaml": GOOD, "procedures/c.yaml": future}),
        today=date(2026, 11, 23),
    )
    messages = [str(p) for p in problems]
    assert any("also defined in" in m and "b.yaml" in m for m in messages)
    assert any("in the future" in m and "c.yaml" in m for m in messages)


def test_load_knowledge_raises_with_all_problems(tmp_path: Path) -> None:
    root = make_kb(tmp_path, {"procedures/a.yaml": GOOD.replace("code: \"1.009664\"", "code: abc")})
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(root)
    assert "is not a national procedure code" in str(err.value)


def test_bundled_knowledge_passes_and_is_complete() -> None:
    kb = load_knowledge(BUNDLED)
    assert default_knowledge_dir() == BUNDLED
    for p in kb.procedures:
        assert p.code and p.name and p.name_en and p.legal_basis and p.source_url and p.verified
        for case in p.cases:
            assert case.documents, f"{p.code} {case.name}: no documents"
            assert case.time.text
            assert not case.time.known or (case.time.value or 0) > 0
    assert len(kb.procedures) >= 35
    # Only records that fix no limit at all may leave it open (and they say so in the text).
    open_limits = [p.code for p in kb.procedures for c in p.cases if not c.time.known]
    assert set(open_limits) <= {"2.002731", "2.002732", "2.002603", "1.014316"}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=ROOT)


def test_cli_kb_check_exit_codes(tmp_path: Path) -> None:
    ok = run_cli("kb", "check", str(BUNDLED))
    assert ok.returncode == 0, ok.stderr
    assert "procedures" in ok.stdout
    root = make_kb(tmp_path, {"procedures/a.yaml": GOOD.replace("unit: working_days", "unit: fortnights")})
    bad = run_cli("kb", "check", str(root))
    assert bad.returncode == 1
    assert "a.yaml" in bad.stderr and "cases[0].time.unit" in bad.stderr


def test_cli_kb_export_json_shape(tmp_path: Path) -> None:
    shutil.copytree(BUNDLED, tmp_path / "k")
    out = run_cli("kb", "export", "--json", str(tmp_path / "k"))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert isinstance(data, list) and data
    keys = {"code", "name", "name_en", "aliases", "field", "agency", "online_level", "cases", "conditions",
            "result", "legal_basis", "source_url", "publish_decision", "verified"}
    assert keys <= set(data[0])
    case = data[0]["cases"][0]
    assert {"name", "steps", "documents", "time", "fees", "channels"} <= set(case)
    assert {"name", "form", "originals", "copies"} <= set(case["documents"][0])
    assert {"value", "unit", "text"} <= set(case["time"])


def test_importer_placeholders_fail_validation(tmp_path: Path) -> None:
    text = GOOD.replace(
        "name_en: Issuance of an Investment Registration Certificate", "name_en: 'TODO: English name'"
    ).replace("verified: 2026-11-01", "verified: TODO")
    _, problems = check_knowledge(make_kb(tmp_path, {"procedures/a.yaml": text}))
    assert {p.field for p in problems} == {"name_en", "verified"}
    assert any("placeholder" in p.message for p in problems)


def test_a_case_may_say_the_record_fixes_no_time_limit(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    time: {value: 10, unit: working_days, text: 10 ngày làm việc, text_en: 10 working days}",
        "    time: {text: Hồ sơ công bố không nêu thời hạn, text_en: The published record fixes no time limit}",
    )
    kb = load_knowledge(make_kb(tmp_path, {"procedures/a.yaml": text}))
    time = kb.procedures[0].cases[0].time
    assert not time.known and time.to_dict() == {
        "value": None, "unit": None, "text": "Hồ sơ công bố không nêu thời hạn",
        "text_en": "The published record fixes no time limit",
    }
    # A value without its unit (or the reverse) is still an error.
    half = GOOD.replace("{value: 10, unit: working_days, text: 10 ngày làm việc, text_en: 10 working days}", "{value: 10, text: 10 ngày, text_en: 10 days}")
    _, problems = check_knowledge(make_kb(tmp_path / "b", {"procedures/a.yaml": half}))
    assert [p.field for p in problems] == ["cases[0].time.unit"]
