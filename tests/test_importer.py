"""`tthc-bot kb import-dvc`: national-portal records to YAML drafts (bot/kb/_importer.py).

The core tests read real records copied verbatim into tests/fixtures/dvc/sample.jsonl, so they
never skip; the tests over the whole crawl (shared/data/dvc/procedures.jsonl) skip when it is
not checked out beside the project.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.kb import check_knowledge
from bot.kb._drafts import parse_record, run_import
from bot.kb._importer import Draft, draft_yaml, parse_documents, parse_legal

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "dvc" / "sample.jsonl"
FULL = Path(__file__).resolve().parents[2] / "shared" / "data" / "dvc" / "procedures.jsonl"
BOARD = ROOT / "knowledge" / "board.yaml"


def _records(path: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            out[rec["ma_thu_tuc"]] = rec
    return out


@pytest.fixture(scope="module")
def sample() -> dict[str, dict[str, Any]]:
    return _records(FIXTURE)


@pytest.fixture(scope="module")
def full() -> dict[str, dict[str, Any]]:
    if not FULL.exists():
        pytest.skip(f"{FULL} is not available")
    return _records(FULL)


def _docs(case: dict[str, Any]) -> list[dict[str, Any]]:
    return case["documents"]


def _form(doc: dict[str, Any]) -> str | None:
    form = doc.get("form")
    return form["code"] if form else None


def _copies(doc: dict[str, Any]) -> int:
    return int(doc.get("copies", 0))


def _english(value: Any) -> Any:
    """Every 'TODO: English' placeholder of a draft written in, as a translator would."""
    if isinstance(value, dict):
        return type(value)({k: _english(v) for k, v in value.items()})
    if isinstance(value, list):
        return type(value)(_english(v) for v in value)
    return "English text" if value == "TODO: English" else value


def _fill_todos(draft: Draft, online_level: str = "toàn trình") -> Draft:
    data = _english(dict(draft.data))
    data["name_en"] = "Imported procedure"
    data["online_level"] = online_level
    data["verified"] = date.today().isoformat()
    return Draft(draft.code, data, draft.warnings)


def _check_one(tmp_path: Path, text: str, code: str) -> list[str]:
    root = tmp_path / "knowledge"
    (root / "procedures").mkdir(parents=True)
    shutil.copy(BOARD, root / "board.yaml")
    (root / "procedures" / f"{code}.yaml").write_text(text, encoding="utf-8")
    kb, problems = check_knowledge(root)
    return [str(p) for p in problems]


# --------------------------------------------------------------------------------------------
# 1.009664: four cases, each with its own documents and time limit


def test_investment_certificate_has_four_cases(sample: dict[str, dict[str, Any]]) -> None:
    draft = parse_record(sample["1.009664"])
    data = draft.data
    assert data["code"] == "1.009664"
    assert data["name"] == "Thủ tục cấp Giấy chứng nhận đăng ký đầu tư"
    cases = data["cases"]
    assert len(cases) == 4
    # the portal's table for case 1 has 8 rows with a quantity (the brief said 7: the eighth,
    # 'Trường hợp dự án đầu tư không đề nghị Nhà nước giao đất…', is a conditional row)
    assert [len(_docs(c)) for c in cases] == [8, 1, 2, 5]
    assert cases[0]["name"].startswith("Trường hợp 1: Đối với dự án đầu tư không thuộc diện chấp thuận")
    assert "dự án thứ cấp" in cases[3]["name"]  # the steps' heading is richer than "trường hợp 4"


def test_investment_certificate_documents(sample: dict[str, dict[str, Any]]) -> None:
    cases = parse_record(sample["1.009664"]).data["cases"]
    first = _docs(cases[0])[0]
    assert first["name"] == (
        "Văn bản đề nghị thực hiện dự án đầu tư, gồm cả cam kết chịu mọi chi phí, rủi ro nếu dự án "
        "không được chấp thuận"
    )
    assert _form(first) == "Mẫu I.1.1"
    assert "url" not in first["form"]
    assert (first["originals"], _copies(first)) == (1, 0)
    # a name with numbers in it ('báo cáo tài chính 02 năm gần nhất') is not cut at the number
    financial = _docs(cases[0])[2]
    assert "báo cáo tài chính 02 năm gần nhất" in financial["name"]
    assert (financial["originals"], _copies(financial)) == (1, 0)
    assert _form(_docs(cases[0])[3]) == "Mẫu I.1.3"
    assert _docs(cases[0])[3]["name"].endswith("theo quy định của pháp luật về lâm nghiệp")
    # case 3: the investment decision is one copy, no original
    decision = _docs(cases[2])[1]
    assert decision["name"].startswith("Thông tin về Quyết định chấp thuận chủ trương đầu tư")
    assert (decision["originals"], _copies(decision)) == (0, 1)
    # case 4: a form on a copy-only document
    report = _docs(cases[3])[1]
    assert (_form(report), report["originals"], _copies(report)) == ("Mẫu I.1.9", 0, 1)
    assert _docs(cases[3])[0]["name"] == "Văn bản đề nghị điều chỉnh dự án đầu tư"  # trailing ';' gone


def test_investment_certificate_times_fees_channels(sample: dict[str, dict[str, Any]]) -> None:
    draft = parse_record(sample["1.009664"])
    times = [(c["time"]["value"], c["time"]["unit"]) for c in draft.data["cases"]]
    assert times == [(10, "working_days"), (5, "working_days"), (5, "working_days"), (10, "working_days")]
    assert draft.data["cases"][1]["time"]["text"] == "05 ngày làm việc kể từ ngày nhận được hồ sơ hợp lệ"
    for case in draft.data["cases"]:
        assert case["fees"] == [{"amount": 0, "text": "Miễn phí", "text_en": "TODO: English"}]
        assert list(case["channels"]) == ["online", "in_person", "post"]
        assert len(case["steps"]) == 2
    assert draft.data["cases"][3]["steps"][0].startswith("Nhà đầu tư nhận chuyển nhượng nộp 01 bộ hồ sơ")
    assert draft.warnings == []


def test_investment_certificate_other_fields(sample: dict[str, dict[str, Any]]) -> None:
    data = parse_record(sample["1.009664"]).data
    assert data["legal_basis"] == [
        "Nghị định số 96/2026/NĐ-CP ngày 31/3/2026",
        "Thông tư số 55/2026/TT-BTC ngày 15/5/2026",
        "Luật Đầu tư số 143/2025/QH15",
    ]
    assert data["result"] == (
        "Giấy chứng nhận đăng ký đầu tư theo mẫu I.2.6 quy định tại Thông tư số 55/2026/TT-BTC "
        "hoặc văn bản từ chối, nêu rõ lý do."
    )
    assert data["agency"].startswith("Ban quản lý khu công nghiệp, khu kinh tế")
    assert data["field"] == "Đầu tư tại Việt nam"
    assert data["source_url"] == "https://dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bfc-9b2b-704e-949a-cf853f064364"
    assert data["publish_decision"] == "1165/QĐ-BTC"
    assert data["conditions"].startswith("(1) Đối với trường hợp 1:\n- Dự án thuộc diện cấp")
    assert (data["name_en"], data["online_level"], data["verified"], data["aliases"]) == (
        "TODO: English name", "TODO", "TODO", [],
    )


# --------------------------------------------------------------------------------------------
# 1.013236: a construction permit, six kinds of works


def test_construction_permit(sample: dict[str, dict[str, Any]]) -> None:
    draft = parse_record(sample["1.013236"])
    cases = draft.data["cases"]
    assert [c["name"] for c in cases] == [
        "Đối với công trình không theo tuyến",
        "Đối với công trình theo tuyến",
        "Đối với công trình tôn giáo",
        "Đối với công trình tín ngưỡng",
        "Đối với công trình tượng đài, tranh hoành tráng",
        "Đối với công trình của các cơ quan ngoại giao và tổ chức quốc tế",
    ]
    assert [len(_docs(c)) for c in cases] == [5, 5, 6, 6, 6, 5]
    application = [d for d in _docs(cases[0]) if d["name"].startswith("Đơn đề nghị cấp giấy phép xây dựng")]
    assert len(application) == 1
    assert "Mẫu số 1 Phụ lục số II Nghị định số 175/2024/NĐ-CP" in application[0]["name"]
    assert all((d["originals"], _copies(d)) == (1, 1) for c in cases for d in _docs(c))
    drawings = _docs(cases[0])[0]
    assert drawings["name"].startswith("02 bộ bản vẽ thiết kế xây dựng trong hồ sơ thiết kế xây dựng")
    assert not drawings["name"].endswith(".")
    # '20 Ngày' in the table; the steps say '20 ngày' (calendar days): taken from there, and said so
    for c in cases:
        assert (c["time"]["value"], c["time"]["unit"]) == (20, "days")
        assert c["time"]["text"] == "20 ngày kể từ ngày nhận đủ hồ sơ hợp lệ"
        assert len(c["steps"]) == 5
        # 'Miễn phí (Theo quy định của Hội đồng nhân dân cấp tỉnh)': no amount, the text kept
        assert c["fees"] == [{"text": "Miễn phí (Theo quy định của Hội đồng nhân dân cấp tỉnh.)", "text_en": "TODO: English"}]
    assert any("unit taken from the steps" in w for w in draft.warnings)
    assert any("Hội đồng nhân dân" in w and "amount left empty" in w for w in draft.warnings)
    assert "lấy từ trình tự thực hiện: “20 ngày" in draft.data["notes"]
    assert "Luật số 62/2020/QH14 sửa đổi, bổ sung một số điều của Luật Xây dựng" in draft.data["legal_basis"]
    assert any(x.startswith("Nghị định số 144/2025/NĐ-CP") for x in draft.data["legal_basis"])


# --------------------------------------------------------------------------------------------
# Records with missing or odd fields


def test_time_without_unit_everywhere_is_left_empty_with_a_warning(sample: dict[str, dict[str, Any]]) -> None:
    # 2.002731: the portal's time is '1' with no unit for every channel and the steps state none
    draft = parse_record(sample["2.002731"])
    case = draft.data["cases"][0]
    assert "time" not in case
    assert any("'1'" in w and "has no unit" in w and "left empty" in w for w in draft.warnings)
    assert len(_docs(case)) == 1 and _docs(case)[0]["originals"] == 1
    assert draft.data["legal_basis"] == [
        "Nghị định số 35/2022/NĐ-CP quy định về quản lý khu công nghiệp và khu kinh tế"
    ]


def test_time_without_unit_on_some_channels_uses_the_description(sample: dict[str, dict[str, Any]]) -> None:
    # 1.009661: post and in person say '1', online says '3 Ngày làm việc', the text '03 ngày làm việc'
    draft = parse_record(sample["1.009661"])
    time = draft.data["cases"][0]["time"]
    assert (time["value"], time["unit"]) == (3, "working_days")
    assert time["text"] == "03 ngày làm việc kể từ ngày nhận được thông báo của nhà đầu tư"
    assert any("has no unit" in w for w in draft.warnings)
    # co_quan_thuc_hien is 'Không có thông tin' and nothing else names the agency
    assert draft.data["agency"] == "TODO"
    assert any(w.startswith("agency:") for w in draft.warnings)
    # '(Trường hợp khai thác … )' before the table is a remark, not a document
    assert len(_docs(draft.data["cases"][0])) == 1
    assert _form(_docs(draft.data["cases"][0])[0]) == "Mẫu I.1.11"
    assert "Trường hợp khai thác, sử dụng được thông tin" in draft.data["notes"]


def test_empty_record_does_not_crash() -> None:
    draft = parse_record({"ma_thu_tuc": "1.000001", "ten_thu_tuc": "Thủ tục thử (1.000001)"})
    assert draft.data["name"] == "Thủ tục thử"
    assert draft.data["cases"][0]["documents"] == []
    assert "time" not in draft.data["cases"][0]
    assert any(w.startswith("documents:") for w in draft.warnings)
    assert any(w.startswith("channels:") for w in draft.warnings)
    yaml.safe_load(draft_yaml(draft))


# --------------------------------------------------------------------------------------------
# Pieces


def test_quantity_glued_to_a_number_in_the_name() -> None:
    warnings: list[str] = []
    text = (
        "--Tên giấy tờMẫu đơn, tờ khaiSố lượngĐiều lệ công ty1 bản chính"
        "Giấy đề nghị đăng ký doanh nghiệp - Mẫu 021 bản chính"
        "Báo cáo hiện trạng theo Luật Đất đai năm 20240 bản chính,1 bản sao"
    )
    groups = parse_documents(text, warnings)
    docs = groups[0].docs
    assert [(d["name"], d["originals"], d.get("copies", 0)) for d in docs] == [
        ("Điều lệ công ty", 1, 0),
        ("Giấy đề nghị đăng ký doanh nghiệp - Mẫu 02", 1, 0),
        ("Báo cáo hiện trạng theo Luật Đất đai năm 2024", 0, 1),
    ]
    assert sum("check the quantity" in w for w in warnings) == 2


def test_form_file_names() -> None:
    warnings: list[str] = []
    text = (
        "--Tên giấy tờMẫu đơn, tờ khaiSố lượng"
        "Văn bản đề nghị cấp lại hoặc hiệu đínhMẫu I.1.17.docxMẫu I.1.18.docx1 bản chính"
        "Báo cáo theo mẫu số 22b Phụ lục kèm theo Thông tư số 09/2026/TT-BNNMT.22b sửa.docx1 bản chính"
        "- 01 bản chính văn bản đề nghị thẩm định.Mau 02.docx1 bản chính"
        "Văn bản đề nghị gia hạn thời hạn hoạt động của dự án đầu tưI.1.10.docx1 bản chính"
        "Thông báo theo mẫu tại địa chỉ: http://www.basel.int/forms/vCOP8.docMẫu to khai CTNH sua.docx1 bản chính"
        "Đơn đề nghị cấp lại Giấy chứng nhậnMẫu đơn xin cấp lại (gia hạn) Giấy chứng nhận.docx1 bản chính"
    )
    docs = parse_documents(text, warnings)[0].docs
    assert [(d["name"], _form(d)) for d in docs] == [
        ("Văn bản đề nghị cấp lại hoặc hiệu đính", "Mẫu I.1.17, Mẫu I.1.18"),
        ("Báo cáo theo mẫu số 22b Phụ lục kèm theo Thông tư số 09/2026/TT-BNNMT", "Mẫu số 22b"),
        ("Văn bản đề nghị thẩm định", "Mẫu 02"),
        ("Văn bản đề nghị gia hạn thời hạn hoạt động của dự án đầu tư", "Mẫu I.1.10"),
        ("Thông báo theo mẫu tại địa chỉ: http://www.basel.int/forms/vCOP8.doc", "Mẫu to khai CTNH"),
        ("Đơn đề nghị cấp lại Giấy chứng nhận", "Mẫu đơn xin cấp lại (gia hạn) Giấy chứng nhận"),
    ]
    assert any("lists 2 forms" in w for w in warnings)
    assert any("'I.1.10.docx' has no 'Mẫu' prefix" in w for w in warnings)
    assert any("'Mẫu to khai CTNH sua.docx' has no form number" in w for w in warnings)


def test_legal_basis_from_the_flattened_table() -> None:
    warnings: list[str] = []
    text = (
        "Tên văn bản pháp lýMã văn bảnđịnh số 96/2026/NĐ-CP ngày 31/3/2026;96/2026/NĐ-CP "
        "Thông tư số 55/2026/TT-BTC ngày 15/5/2026.55/2026/TT-BTCLuật Đầu tư 143/2025/QH15"
        "Luật Bảo vệ môi trường số 72/2020/QH14 ngày 17 tháng 11 năm 202072/2020/QH14"
        "Thông tư số 02/2022/TT-BTNMT02/2022/TT-BTNMT"
    )
    assert parse_legal(text, warnings) == [
        "Nghị định số 96/2026/NĐ-CP ngày 31/3/2026",
        "Thông tư số 55/2026/TT-BTC ngày 15/5/2026",
        "Luật Đầu tư số 143/2025/QH15",
        "Luật Bảo vệ môi trường số 72/2020/QH14 ngày 17/11/2020",
        "Thông tư số 02/2022/TT-BTNMT",
    ]
    assert warnings == []


# --------------------------------------------------------------------------------------------
# The YAML draft and the project's validator


def test_draft_yaml_is_friendly_and_round_trips(sample: dict[str, dict[str, Any]]) -> None:
    draft = parse_record(sample["1.009664"])
    text = draft_yaml(draft)
    lines = text.splitlines()
    assert lines[0].startswith("# DRAFT imported from the national portal record 1.009664: Thủ tục cấp")
    assert 'code: "1.009664"' in lines
    assert "\\u" not in text and "Thủ tục cấp Giấy chứng nhận đăng ký đầu tư" in text
    assert "form: {code: Mẫu I.1.1}" in text
    keys = [line.split(":")[0] for line in lines if line and not line.startswith(("#", " ", "-"))]
    assert keys == [
        "code", "name", "name_en", "aliases", "field", "agency", "agency_en", "online_level", "cases",
        "conditions", "conditions_en", "result", "result_en", "legal_basis", "source_url", "publish_decision",
        "verified",
    ]
    loaded = yaml.safe_load(text)
    assert loaded["code"] == "1.009664"
    assert json.loads(json.dumps(loaded)) == json.loads(json.dumps(draft.data))


def test_warnings_are_written_into_the_draft(sample: dict[str, dict[str, Any]]) -> None:
    draft = parse_record(sample["2.002731"])
    head = [line for line in draft_yaml(draft).splitlines() if line.startswith("#")]
    assert any("has no unit" in line for line in head)


@pytest.mark.parametrize("code", ["1.009664", "1.013236", "1.009661"])
def test_filled_in_draft_passes_the_validator(sample: dict[str, dict[str, Any]], tmp_path: Path, code: str) -> None:
    draft = _fill_todos(parse_record(sample[code]))
    if draft.data["agency"] == "TODO":
        draft.data["agency"] = "Ban Quản lý các khu công nghiệp"
    problems = _check_one(tmp_path, draft_yaml(draft), code)
    assert problems == []


def test_unfilled_draft_fails_the_validator(sample: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    problems = _check_one(tmp_path, draft_yaml(parse_record(sample["1.009664"])), "1.009664")
    assert any("online_level" in p for p in problems)
    assert any("verified" in p for p in problems)


def test_draft_without_time_fails_the_validator_on_time(sample: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    draft = _fill_todos(parse_record(sample["2.002731"]))
    problems = _check_one(tmp_path, draft_yaml(draft), "2.002731")
    assert len(problems) == 1 and "cases[0].time" in problems[0]


# --------------------------------------------------------------------------------------------
# run_import and the command


def test_malformed_lines_are_reported_and_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = FIXTURE.read_text(encoding="utf-8").splitlines()[0]
    src = tmp_path / "records.jsonl"
    src.write_text("\n".join([good, '{"ma_thu_tuc": "1.0', "", "[1, 2]", '{"ten_thu_tuc": "x"}']) + "\n", encoding="utf-8")
    out = tmp_path / "drafts"
    assert run_import(src, codes=[], out=out) == 0
    err = capsys.readouterr().err
    assert f"{src}:2: not valid JSON" in err
    assert f"{src}:4: not a JSON object" in err
    assert f"{src}:5: no valid procedure code" in err
    assert [p.name for p in out.iterdir()] == [json.loads(good)["ma_thu_tuc"] + ".yaml"]


def test_run_import_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "drafts"
    assert run_import(FIXTURE, codes=["1.009664"], out=out) == 0
    assert (out / "1.009664.yaml").exists() and len(list(out.iterdir())) == 1
    assert run_import(FIXTURE, codes=["1.009664", "9.999999"], out=out) == 1
    assert "no record with code 9.999999" in capsys.readouterr().err
    assert run_import(tmp_path / "missing.jsonl", codes=[], out=out) == 2
    assert run_import(FIXTURE, codes=[], out=out) == 0
    assert sorted(p.stem for p in out.iterdir()) == ["1.009661", "1.009664", "1.013236", "2.002731"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "kb", "import-dvc", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )


def test_cli_import_one_code(tmp_path: Path) -> None:
    source = FULL if FULL.exists() else FIXTURE
    done = _cli(str(source), "--code", "1.009664", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "1.009664" in done.stdout
    draft = yaml.safe_load((tmp_path / "1.009664.yaml").read_text(encoding="utf-8"))
    assert len(draft["cases"]) == 4


def test_cli_unknown_code_and_unreadable_file(tmp_path: Path) -> None:
    source = FULL if FULL.exists() else FIXTURE
    done = _cli(str(source), "--code", "9.999999", "--out", str(tmp_path))
    assert done.returncode == 1
    assert "9.999999" in done.stderr
    assert _cli(str(tmp_path / "nope.jsonl"), "--out", str(tmp_path)).returncode == 2


# --------------------------------------------------------------------------------------------
# The whole crawl (skipped when shared/data is not there)


def test_every_record_is_drafted(full: dict[str, dict[str, Any]]) -> None:
    assert len(full) == 112
    for code, rec in full.items():
        draft = parse_record(rec)
        loaded = yaml.safe_load(draft_yaml(draft))
        assert loaded["code"] == code
        assert loaded["cases"], code
        for case in loaded["cases"]:
            assert case["name"], code
            for doc in case["documents"]:
                assert doc["name"] and not doc["name"].endswith((".", ";", ":")), (code, doc["name"])
                assert doc["originals"] + doc.get("copies", 0) > 0, (code, doc["name"])
        for entry in loaded["legal_basis"]:
            assert entry.split(" số ")[0] in {
                "Luật", "Nghị định", "Thông tư", "Nghị quyết", "Quyết định", "Văn bản hợp nhất",
            } or entry.startswith("Luật "), (code, entry)


def test_more_real_records(full: dict[str, dict[str, Any]]) -> None:
    # 1.009647: three cases; the table's time is '1' without unit, the steps state each case's
    draft = parse_record(full["1.009647"])
    cases = draft.data["cases"]
    assert [len(_docs(c)) for c in cases] == [3, 4, 4]
    assert [(c["time"]["value"], c["time"]["unit"]) for c in cases] == [
        (3, "working_days"), (7, "working_days"), (5, "working_days"),
    ]
    assert sum("taken from the steps" in w for w in draft.warnings) == 3
    assert draft.data["notes"].count("lấy từ trình tự thực hiện") == 3
    # 1.009646: 'Đối với các trường hợp từ (1) đến (7): 17 ngày làm việc … (8): 12 … (9): 05 …'
    draft = parse_record(full["1.009646"])
    assert [c["time"]["value"] for c in draft.data["cases"]] == [17] * 7 + [12, 5]
    assert {c["time"]["unit"] for c in draft.data["cases"]} == {"working_days"}
    # 1.009488: lettered cases 'a) Đối với …' / 'b) Đối với …', steps '(i) … (ii) …' split to match
    draft = parse_record(full["1.009488"])
    a, b = draft.data["cases"]
    assert a["name"].startswith("Đối với trình tự đề xuất, thẩm định, phê duyệt dự án BT")
    assert a["steps"][0].startswith("Nhà đầu tư gửi văn bản đề xuất thực hiện dự án BT")
    assert b["steps"] == [
        "Nhà đầu tư nộp hồ sơ điều chỉnh dự án đến người đứng đầu Cơ quan có thẩm quyền.",
        "Đơn vị thẩm định dự án tổ chức thẩm định hồ sơ đề xuất điều chỉnh dự án;",
        "Người đứng đầu Cơ quan có thẩm quyền phê duyệt điều chỉnh dự án kèm theo dự thảo hợp đồng.",
    ]
    # 2.002728: 1 original and 5 copies of every document; '58 Ngày' nowhere confirmed
    draft = parse_record(full["2.002728"])
    docs = _docs(draft.data["cases"][0])
    assert [(d["originals"], _copies(d)) for d in docs] == [(1, 5)] * 4
    assert (draft.data["cases"][0]["time"]["value"], draft.data["cases"][0]["time"]["unit"]) == (58, "days")
    assert any("nothing says whether these are working days" in w for w in draft.warnings)
    # 1.009748: '17 Ngày làm việc' is unambiguous
    draft = parse_record(full["1.009748"])
    assert draft.data["cases"][0]["time"]["unit"] == "working_days"
    assert draft.data["cases"][0]["time"]["value"] == 17
    # 2.001199: fees differ by channel; '100,000 Việt Nam Đồng' read as 100000
    draft = parse_record(full["2.001199"])
    amounts = sorted((f.get("amount") or 0) for f in draft.data["cases"][0]["fees"])
    assert sorted(set(amounts)) == [50000, 100000]
    # 2.002009: '1100 VNĐ' is the time '1' glued to the fee '100 VNĐ'; not taken as an amount
    draft = parse_record(full["2.002009"])
    assert all("amount" not in f for f in draft.data["cases"][0]["fees"])
    assert any("glued" in w for w in draft.warnings)


def test_run_import_over_the_whole_file(full: dict[str, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_import(FULL, codes=[], out=tmp_path) == 0
    assert len(list(tmp_path.glob("*.yaml"))) == 112
    assert "112 draft(s) written" in capsys.readouterr().out
