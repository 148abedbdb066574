"""Importing dossiers: formats, bad rows, idempotency, status changes and their notifications."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.dossiers import import_records, parse_datetime, read_file
from bot.storage import VN_TZ, Storage

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=VN_TZ)


def record(code: str = "H42.25-260213-0001", **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "MaHoSo": code,
        "MaTTHC": "1.014199",
        "TenTTHC": "Cấp giấy phép lao động đối với người lao động nước ngoài làm việc tại Việt Nam",
        "ChuHoSo": "Công ty TNHH Thử Nghiệm",
        "SoDienThoai": "0912 345 678",
        "Email": "hr@example.invalid",
        "NgayTiepNhan": "20260213103000",
        "NgayHenTra": "20260306170000",
        "NgayTra": "",
        "TrangThaiHoSo": "4",
        "PhongBanXuLy": "Phòng Quản lý Lao động",
        "NguoiXuLy": "Nguyễn Văn A",
        "NoiDungBoSung": "",
        "MaTraCuu": "AB12CD",
    }
    base.update(over)
    return base


def rows(*records: dict[str, Any]) -> list[tuple[int, Any]]:
    return list(enumerate(records, start=1))


def test_dates_in_portal_and_iso_forms_are_vietnam_time() -> None:
    assert parse_datetime("20260213103000") == datetime(2026, 2, 13, 10, 30, tzinfo=VN_TZ)
    assert parse_datetime(20260213103000) == datetime(2026, 2, 13, 10, 30, tzinfo=VN_TZ)
    assert parse_datetime("2026-02-13T10:30:00") == datetime(2026, 2, 13, 10, 30, tzinfo=VN_TZ)
    assert parse_datetime("2026-02-13T03:30:00Z") == datetime(2026, 2, 13, 10, 30, tzinfo=VN_TZ)
    assert parse_datetime("13/02/2026 10:30") == datetime(2026, 2, 13, 10, 30, tzinfo=VN_TZ)
    assert parse_datetime("20260213") == datetime(2026, 2, 13, tzinfo=VN_TZ)
    assert parse_datetime("") is None
    for bad in ("20261313000000", "hôm qua", "2026-02-30"):
        with pytest.raises(ValueError):
            parse_datetime(bad)


def test_good_rows_are_imported_and_bad_rows_reported_with_row_code_and_reason(storage: Storage) -> None:
    result = import_records(
        storage,
        rows(
            record("H42.25-260213-0001"),
            record("H42.25-260213-0002", TrangThaiHoSo="11"),
            record("", ChuHoSo="Ai đó"),
            record("H42.25-260213-0004", NgayTiepNhan="13/13/2026"),
            record("H42.25-260213-0005", NgayHenTra="20260201000000"),
            "not a record",
            record(" h42.25-260213-0007 "),
        ),
        now=NOW,
    )
    assert (result.added, result.changed, result.unchanged) == (2, 0, 0)
    reasons = {r.row: (r.code, r.reason) for r in result.rejected}
    assert set(reasons) == {2, 3, 4, 5, 6}
    assert reasons[2][0] == "H42.25-260213-0002" and "TrangThaiHoSo" in reasons[2][1]
    assert "MaHoSo" in reasons[3][1]
    assert "NgayTiepNhan" in reasons[4][1]
    assert "before" in reasons[5][1]
    # Codes are normalised: stripped and upper-case.
    assert storage.get_dossier("H42.25-260213-0007") is not None
    assert storage.get_dossier("H42.25-260213-0002") is None


def test_importing_the_same_data_twice_changes_nothing(storage: Storage) -> None:
    data = rows(record("H42.25-260213-0001"), record("H42.25-260213-0002", MaTraCuu=""))
    first = import_records(storage, data, now=NOW)
    second = import_records(storage, data, now=NOW)
    assert (first.added, second.added, second.changed, second.unchanged) == (2, 0, 0, 2)
    assert len(storage.status_history("H42.25-260213-0001")) == 1
    assert storage.count_dossiers() == 2


def test_each_status_change_queues_exactly_one_notification_per_subscriber(storage: Storage) -> None:
    import_records(storage, rows(record(TrangThaiHoSo="2")), now=NOW)
    storage.subscribe("H42.25-260213-0001", "telegram", "111", "vi", NOW)
    storage.subscribe("H42.25-260213-0001", "web", "abc", "en", NOW)

    # A change that is not a status change notifies nobody.
    r = import_records(storage, rows(record(TrangThaiHoSo="2", NguoiXuLy="Trần Thị B")), now=NOW)
    assert r.changed == 1 and r.notifications == 0 and storage.outbox() == []

    r = import_records(storage, rows(record(TrangThaiHoSo="4", NguoiXuLy="Trần Thị B")), now=NOW)
    assert r.notifications == 2
    # The same file again: nothing new.
    r = import_records(storage, rows(record(TrangThaiHoSo="4", NguoiXuLy="Trần Thị B")), now=NOW)
    assert r.unchanged == 1 and r.notifications == 0
    r = import_records(storage, rows(record(TrangThaiHoSo="9", NguoiXuLy="Trần Thị B")), now=NOW)
    assert r.notifications == 2

    outbox = storage.outbox()
    assert len(outbox) == 4
    assert len({row["key"] for row in outbox}) == 4
    vi = [row["payload"]["text"] for row in outbox if row["channel"] == "telegram"]
    en = [row["payload"]["text"] for row in outbox if row["channel"] == "web"]
    assert "Đang xử lý" in vi[0] and "Đã xử lý xong" in vi[1]
    assert "Being processed" in en[0] and "Processed" in en[1]
    # Nothing about the applicant goes into a notification.
    assert not any("Thử Nghiệm" in t or "0912" in t for t in vi + en)
    assert [h["status"] for h in storage.status_history("H42.25-260213-0001")] == [2, 4, 9]


def test_supplement_request_records_content_and_due_dates(storage: Storage) -> None:
    import_records(storage, rows(record(TrangThaiHoSo="4")), now=NOW)
    import_records(
        storage,
        rows(record(TrangThaiHoSo="5", NoiDungBoSung="Bản sao hộ chiếu có chứng thực")),
        now=NOW,
    )
    # The applicant supplied the papers; the board set a new due date.
    import_records(
        storage,
        rows(record(TrangThaiHoSo="4", NoiDungBoSung="Bản sao hộ chiếu có chứng thực", NgayHenTra="20260320170000")),
        now=NOW,
    )
    (sup,) = storage.supplements("H42.25-260213-0001")
    assert sup["content"] == "Bản sao hộ chiếu có chứng thực"
    assert sup["old_due_at"] == "2026-03-06T17:00:00+07:00"
    assert sup["new_due_at"] == "2026-03-20T17:00:00+07:00"


def write_csv(path: Path, records: list[dict[str, Any]], delimiter: str = ",") -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(records[0]), delimiter=delimiter)
        w.writeheader()
        w.writerows(records)


def test_cli_import_csv_reports_and_exits_1_when_rows_are_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "bot.db"
    monkeypatch.setenv("TTHC_DB", str(db))
    path = tmp_path / "export.csv"
    write_csv(path, [record("H42.25-260213-0001"), record("H42.25-260213-0002", TrangThaiHoSo="x")], ";")
    assert main(["dossiers", "import", str(path)]) == 1
    out = capsys.readouterr().out
    assert "1 added, 0 changed, 0 unchanged, 1 rejected" in out
    # Row numbers as a spreadsheet shows them: the header is row 1.
    assert "rejected row 3 H42.25-260213-0002: TrangThaiHoSo" in out

    good = tmp_path / "good.json"
    good.write_text(json.dumps([record("H42.25-260213-0001", TrangThaiHoSo=9)], ensure_ascii=False), encoding="utf-8")
    assert main(["dossiers", "import", str(good)]) == 0
    assert "0 added, 1 changed, 0 unchanged, 0 rejected" in capsys.readouterr().out
    assert main(["dossiers", "import", str(good), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unchanged"] == 1


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "cannot read"),
        ("[{\"MaHoSo\": ", "not valid JSON"),
        ("{\"x\": 1}", "JSON list"),
        ("Ma;Trang\n1;2\n", "MaHoSo"),
        ("", "empty"),
    ],
)
def test_cli_import_exits_2_when_the_file_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    monkeypatch.setenv("TTHC_DB", str(tmp_path / "bot.db"))
    path = tmp_path / "in.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert main(["dossiers", "import", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_latin1_file_is_refused_not_mangled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TTHC_DB", str(tmp_path / "bot.db"))
    path = tmp_path / "in.csv"
    path.write_bytes("MaHoSo,TrangThaiHoSo,ChuHoSo\nH1,4,Caf\xe9\n".encode("latin-1"))
    assert main(["dossiers", "import", str(path)]) == 2
    assert "UTF-8" in capsys.readouterr().err


def test_read_file_accepts_a_wrapped_json_list_and_utf16_csv(tmp_path: Path) -> None:
    wrapped = tmp_path / "push.json"
    wrapped.write_text(json.dumps({"data": [record()]}), encoding="utf-8")
    assert [n for n, _ in read_file(wrapped)] == [1]
    utf16 = tmp_path / "excel.csv"
    utf16.write_text("MaHoSo\tTrangThaiHoSo\tNgayTiepNhan\nH42.25-260213-0009\t2\t20260213080000\n", encoding="utf-16")
    ((n, rec),) = read_file(utf16)
    assert n == 2 and rec["MaHoSo"] == "H42.25-260213-0009"


def test_progress_bar_on_a_terminal_only() -> None:
    import io

    from bot.cli._dossiers import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    term = Terminal()
    bar = Progress(1000, stream=term)
    for i in range(1, 1001):
        bar(i)
    assert "1000/1000" in term.getvalue() and term.getvalue().endswith("\n")
    piped = io.StringIO()
    Progress(1000, stream=piped)(500)
    assert piped.getvalue() == ""
