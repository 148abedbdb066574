"""`tthc-bot kb diff RECORDS` (bot/kb/_diff.py) and `kb import-dvc` reading both shapes of record.

Every record here is written by the test, in the portal's JSON shape (as in
shared/data/dvc_2026-07/) or the crawled pages' flattened shape (as in shared/data/dvc/).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from bot.kb import check_knowledge, load_knowledge
from bot.kb._diff import compare, diff_records
from bot.kb._drafts import parse_record, run_import
from bot.kb._importer import read_records

ROOT = Path(__file__).resolve().parents[1]

PROCEDURE = """\
code: "1.009664"
name: Thủ tục cấp Giấy chứng nhận đăng ký đầu tư
name_en: Issuance of an Investment Registration Certificate
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
      - name: Văn bản đề nghị thực hiện dự án đầu tư
        name_en: Written request to carry out the investment project
        form: {code: Mẫu I.1.1}
        originals: 1
      - {name: Tài liệu về tư cách pháp lý của nhà đầu tư, name_en: Documents on the investor's legal status, originals: 0, copies: 1}
    time: {value: 10, unit: working_days, text: 10 ngày làm việc, text_en: 10 working days}
    fees: [{amount: 0, text: Miễn phí, text_en: Free of charge}]
    channels: [online, in_person, post]
legal_basis: [Luật Đầu tư số 143/2025/QH15, Nghị định số 96/2026/NĐ-CP]
source_url: https://dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bfc-9b2b-704e-949a-cf853f064364
verified: 2026-11-01
record_date: 2026-06-22
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


def _ms(day: date) -> int:
    """Milliseconds of noon, Vietnam time, of `day` (the portal's `updatedAt`)."""
    moment = datetime(day.year, day.month, day.day, 12, tzinfo=timezone(timedelta(hours=7)))
    return int(moment.timestamp() * 1000)


def portal_record(days: int = 10, unit: str = "WORKING_DAY", updated: date = date(2026, 6, 22),
                  legal: tuple[str, ...] = ("143/2025/QH15", "96/2026/NĐ-CP"),
                  documents: tuple[str, ...] = ("Văn bản đề nghị thực hiện dự án đầu tư",
                                                "Tài liệu về tư cách pháp lý của nhà đầu tư"),
                  fee: int = 0) -> dict[str, Any]:
    """A record in the shape of the portal's JSON (fields the importer reads)."""
    methods = [
        {"submissionMethod": m, "processingTime": days, "processingTimeUnit": unit, "description": "",
         "fees": [{"type": "FEE", "value": fee, "description": ""}]}
        for m in ("ONLINE", "DIRECT", "POSTAL")
    ]
    return {
        "id": "019d2bfc-9b2b-704e-949a-cf853f064364",
        "code": "1.009664",
        "name": "Thủ tục cấp Giấy chứng nhận đăng ký đầu tư",
        "executionSteps": [{"name": "", "description": f"Bước 1: Nộp hồ sơ.\nBước 2: Trong thời hạn {days} ngày làm "
                                                       "việc kể từ ngày nhận được hồ sơ hợp lệ, cấp giấy chứng nhận."}],
        "executionMethods": methods,
        "executionCases": [{"name": "", "profileComponents": [
            {"name": name, "originalQty": 1 if i == 0 else 0, "copyQty": 0 if i == 0 else 1, "attachments": []}
            for i, name in enumerate(documents)
        ]}],
        "legalBasisesDetails": [{"name": "", "code": c} for c in legal],
        "categoriesDetails": [{"name": "Đầu tư tại Việt Nam"}],
        "departmentsExecuting": [{"name": "Ban Quản lý các khu công nghiệp"}],
        "resultsDetails": [{"name": "Giấy chứng nhận đăng ký đầu tư"}],
        "procedureProposal": {"proposalNumber": "1165/QĐ-BTC"},
        "isFullProcess": False,
        "createdAt": _ms(date(2026, 3, 26)),
        "updatedAt": _ms(updated),
    }


def flat_record(days: int = 10) -> dict[str, Any]:
    """A record in the crawled pages' flattened shape (tables glued into text)."""
    return {
        "ma_thu_tuc": "1.009664",
        "detail_url": "https://dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bfc-9b2b-704e-949a-cf853f064364",
        "ten_thu_tuc": "Thủ tục cấp Giấy chứng nhận đăng ký đầu tư",
        "so_quyet_dinh": "1165/QĐ-BTC",
        "linh_vuc": "Đầu tư tại Việt Nam",
        "co_quan_thuc_hien": "Ban Quản lý các khu công nghiệp",
        "trinh_tu_thuc_hien": f"- Bước 1: Nộp hồ sơ.\n- Bước 2: Trong thời hạn {days} ngày làm việc kể từ ngày nhận được "
                              "hồ sơ hợp lệ, cấp giấy chứng nhận.",
        "cach_thuc_thuc_hien": "Hình thức nộpThời gianPhí, lệ phíMô tả"
                               + "".join(f"{ch}{days} Ngày làm việcMiễn phí(Không)" for ch in ("Trực tuyến", "Trực tiếp")),
        "thanh_phan_ho_so": "Tên giấy tờMẫu đơn, tờ khaiSố lượngVăn bản đề nghị thực hiện dự án đầu tưMẫu I.1.1.docx1 bản "
                            "chínhTài liệu về tư cách pháp lý của nhà đầu tư0 bản chính,1 bản sao",
        "can_cu_phap_ly": "Tên văn bản pháp lýMã văn bảnLuật Đầu tư143/2025/QH15Nghị định số 96/2026/NĐ-CP96/2026/NĐ-CP",
        "yeu_cau_dieu_kien": "Không có thông tin",
        "ket_qua_xu_ly": "Giấy chứng nhận đăng ký đầu tưMã: KQ.1",
    }


def make_kb(tmp_path: Path, procedure: str = PROCEDURE) -> Path:
    root = tmp_path / "knowledge"
    (root / "procedures").mkdir(parents=True)
    (root / "board.yaml").write_text(BOARD, encoding="utf-8")
    (root / "procedures" / "1.009664.yaml").write_text(procedure, encoding="utf-8")
    return root


def write_records(tmp_path: Path, *records: dict[str, Any], name: str = "records.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=ROOT)


def differences(root: Path, record: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    kb = load_knowledge(root)
    d = compare(kb.procedures[0], parse_record(record))
    return [(x.field, x.text, x.explained) for x in d.differences]


# --------------------------------------------------------------------------------------------


def test_a_record_that_says_the_same_has_no_difference(tmp_path: Path) -> None:
    root = make_kb(tmp_path)
    assert differences(root, portal_record()) == []
    assert differences(root, flat_record()) == []


def test_a_changed_time_limit_is_found_and_the_command_exits_1(tmp_path: Path) -> None:
    root = make_kb(tmp_path)
    records = write_records(tmp_path, portal_record(days=7))
    out = run_cli("kb", "diff", str(records), str(root))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "1.009664" in out.stdout
    assert "! time: 10 ngày làm việc → 7 ngày làm việc" in out.stdout
    assert "1 procedure(s) with 1 unexplained difference(s)" in out.stdout


def test_the_flattened_shape_is_compared_too(tmp_path: Path) -> None:
    root = make_kb(tmp_path)
    got = differences(root, flat_record(days=12))
    assert got == [("time", "10 ngày làm việc → 12 ngày làm việc", None)]


def test_an_explained_difference_no_longer_fails(tmp_path: Path) -> None:
    explained = PROCEDURE + "diff_explained:\n  - 'time: the board keeps 10 working days until the new decision applies'\n"
    root = make_kb(tmp_path, explained)
    records = write_records(tmp_path, portal_record(days=7))
    out = run_cli("kb", "diff", str(records), str(root))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 unexplained difference(s), 1 explained" in out.stdout
    shown = run_cli("kb", "diff", "--explained", str(records), str(root))
    assert "time (explained: the board keeps 10 working days" in shown.stdout


def test_an_explanation_does_not_cover_a_newer_record(tmp_path: Path) -> None:
    explained = PROCEDURE + "diff_explained:\n  - 'time: kept on purpose'\n"
    root = make_kb(tmp_path, explained)
    newer = write_records(tmp_path, portal_record(days=7, updated=date(2026, 7, 14)))
    out = run_cli("kb", "diff", str(newer), str(root))
    assert out.returncode == 1
    assert "explanations are not applied" in out.stdout


def test_a_record_older_than_record_date_is_not_compared(tmp_path: Path) -> None:
    root = make_kb(tmp_path)
    kb = load_knowledge(root)
    procedures = {p.code: p for p in kb.procedures}
    older: list[str] = []
    records, _ = read_records([json.dumps(flat_record(days=20), ensure_ascii=False)])
    diffs, _, _ = diff_records(records, procedures, undated=date(2026, 6, 10), older=older)
    assert diffs == [] and older == ["1.009664"]
    diffs, _, _ = diff_records(records, procedures)  # no date given: compared
    assert [x.field for x in diffs[0].differences] == ["time"]


def test_every_compared_field_is_reported(tmp_path: Path) -> None:
    root = make_kb(tmp_path)
    record = portal_record(legal=("143/2025/QH15", "96/2026/NĐ-CP", "66.18/2026/NQ-CP"), fee=500000,
                           documents=("Văn bản đề nghị thực hiện dự án đầu tư", "Tài liệu về tư cách pháp lý của nhà đầu tư",
                                      "Báo cáo đánh giá tác động môi trường đã được phê duyệt"))
    record["name"] = "Thủ tục cấp mới Giấy chứng nhận đăng ký đầu tư"
    got = {(f, t) for f, t, _ in differences(root, record)}
    fields = {f for f, _ in got}
    assert fields == {"name", "documents", "fees", "legal_basis"}
    assert ("legal_basis", "the record adds 66.18/2026/NQ-CP") in got
    assert ("fees", "miễn phí → 500.000 đồng") in got
    docs = next(t for f, t in got if f == "documents")
    assert "2 in the knowledge, 3 in the record" in docs and "Báo cáo đánh giá tác động môi trường" in docs


def test_diff_explained_must_name_a_field(tmp_path: Path) -> None:
    root = make_kb(tmp_path, PROCEDURE + "diff_explained: ['the board decided so']\n")
    _, problems = check_knowledge(root)
    assert [p.field for p in problems] == ["diff_explained[0]"]
    assert "time" in problems[0].message and "legal_basis" in problems[0].message


def test_record_date_is_validated_and_exported(tmp_path: Path) -> None:
    kb = load_knowledge(make_kb(tmp_path))
    assert kb.procedures[0].record_date == date(2026, 6, 22)
    assert kb.procedures[0].to_dict()["record_date"] == "2026-06-22"
    _, problems = check_knowledge(make_kb(tmp_path / "b", PROCEDURE.replace("2026-06-22", "22/6/2026")))
    assert [p.field for p in problems] == ["record_date"]


def test_import_dvc_reads_both_shapes(tmp_path: Path) -> None:
    for shape, record in (("portal", portal_record()), ("flat", flat_record())):
        records = write_records(tmp_path, record, name=f"{shape}.jsonl")
        out = tmp_path / f"drafts-{shape}"
        assert run_import(records, ["1.009664"], out) == 0
        draft = yaml.safe_load((out / "1.009664.yaml").read_text(encoding="utf-8"))
        assert draft["code"] == "1.009664"
        assert draft["source_url"].endswith("019d2bfc-9b2b-704e-949a-cf853f064364")
        (case,) = draft["cases"]
        assert case["time"]["value"] == 10 and case["time"]["unit"] == "working_days"
        assert [d["name"] for d in case["documents"]] == [
            "Văn bản đề nghị thực hiện dự án đầu tư", "Tài liệu về tư cách pháp lý của nhà đầu tư"]
        assert any("143/2025/QH15" in e for e in draft["legal_basis"])
        if shape == "portal":
            # the JSON gives what the pages do not: the record's date and the online level
            assert str(draft["record_date"]) == "2026-06-22"
            assert draft["online_level"] == "một phần"
        else:
            assert "record_date" not in draft and draft["online_level"] == "TODO"


def test_the_portal_api_wrapper_is_read(tmp_path: Path) -> None:
    records, problems = read_records([json.dumps({"data": portal_record()}, ensure_ascii=False), "{}"])
    assert [r["code"] for _, r in records] == ["1.009664"]
    assert len(problems) == 1 and "no valid procedure code" in problems[0].message
