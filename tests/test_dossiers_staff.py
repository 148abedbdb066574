"""Staff features: the daily digest, figures for a period, and demo data."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.config import Settings
from bot.core import Reply
from bot.dossiers import DossierService, Notifier, import_records
from bot.dossiers._demo import DEMO_PREFIX, fill_demo
from bot.dossiers._digest import DigestScheduler, build_digest, digest_text, parse_staff_chats
from bot.dossiers._report import build_report, report_text
from bot.storage import VN_TZ, Storage
from bot.workdays import WorkCalendar, default_calendar_file


def record(code: str, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "MaHoSo": code,
        "MaTTHC": "1.014199",
        "TenTTHC": "Cấp giấy phép lao động",
        "ChuHoSo": "Công ty TNHH Thử",
        "SoDienThoai": "0912345678",
        "NgayTiepNhan": "20260302090000",
        "NgayHenTra": "20260306170000",
        "TrangThaiHoSo": 4,
        "PhongBanXuLy": "Phòng X",
        "NguoiXuLy": "Cán bộ P",
        "MaTraCuu": "AB12CD",
    }
    base.update(over)
    return base


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=VN_TZ)


# -- digest ----------------------------------------------------------------------------------


@pytest.fixture
def digest_data(storage: Storage) -> Storage:
    import_records(
        storage,
        enumerate(
            [
                record("H42.25-260220-0001", NgayTiepNhan="20260213090000", NgayHenTra="20260227170000", NguoiXuLy="Cán bộ P"),
                record("H42.25-260220-0002", TrangThaiHoSo=2, NgayHenTra="20260304170000", PhongBanXuLy="Phòng Y", NguoiXuLy="Cán bộ Q"),
                record("H42.25-260220-0003", NgayHenTra="20260320170000"),
                record("H42.25-260220-0004", TrangThaiHoSo=10, NgayTiepNhan="20260213090000", NgayHenTra="20260227170000", NgayTra="20260226100000"),
                record("H42.25-260220-0005", TrangThaiHoSo=5, NgayTiepNhan="20260213090000", NgayHenTra="20260227170000"),
                record("H42.25-260220-0006", NgayHenTra="20260302170000", PhongBanXuLy=""),
            ],
            start=1,
        ),
        now=at(date(2026, 3, 2), 7),
    )
    return storage


def test_digest_lists_due_soon_and_overdue_by_department(digest_data: Storage, calendar: WorkCalendar) -> None:
    digest = build_digest(digest_data, calendar, date(2026, 3, 2), days=3)
    by_dept = {d.department: d for d in digest.departments}
    assert set(by_dept) == {"Phòng X", "Phòng Y", "(chưa phân công)"}
    assert [i.code for i in by_dept["Phòng X"].overdue] == ["H42.25-260220-0001"]
    assert by_dept["Phòng X"].overdue[0].working_days == 1
    assert [(i.code, i.working_days) for i in by_dept["Phòng Y"].due_soon] == [("H42.25-260220-0002", 2)]
    assert [(i.code, i.working_days) for i in by_dept["(chưa phân công)"].due_soon] == [("H42.25-260220-0006", 0)]
    text = digest_text(digest)
    assert "1 quá hạn, 2 đến hạn trong 3 ngày làm việc" in text
    assert "H42.25-260220-0001 [1.014199] quá 1 ngày làm việc, hạn 27/02 — Cán bộ P" in text
    assert "hạn hôm nay" in text
    # Finished, paused and far-off dossiers are not listed; nor is the applicant.
    for absent in ("0003", "0004", "0005", "Công ty"):
        assert absent not in text


def test_digest_goes_to_staff_chats_once_each_working_day(digest_data: Storage, calendar: WorkCalendar) -> None:
    now = [at(date(2026, 3, 2), 7, 59)]
    chats = parse_staff_chats("telegram:-1001, telegram:-1002, telegram:-1001")
    assert chats == [("telegram", "-1001"), ("telegram", "-1002")]
    scheduler = DigestScheduler(digest_data, calendar, chats, time(8, 0), 3, clock=lambda: now[0])
    assert scheduler.tick() == 0
    now[0] = at(date(2026, 3, 2), 8, 0)
    assert scheduler.tick() == 2
    now[0] = at(date(2026, 3, 2), 16, 0)  # e.g. after a restart
    assert scheduler.tick() == 0
    now[0] = at(date(2026, 3, 7), 9, 0)  # Saturday
    assert scheduler.tick() == 0
    now[0] = at(date(2026, 3, 9), 8, 1)
    assert scheduler.tick() == 2


async def test_queued_digest_is_delivered_to_the_staff_chat(digest_data: Storage, calendar: WorkCalendar) -> None:
    settings = Settings(staff_chats="telegram:-1001", digest_time="08:00", digest_days=3, calendar=str(default_calendar_file()))
    clock = lambda: at(date(2026, 3, 2), 8, 30)  # noqa: E731
    assert DigestScheduler.from_settings(digest_data, settings, clock=clock).tick() == 1
    got: list[tuple[str, Reply]] = []

    async def send(chat_id: str, reply: Reply) -> None:
        got.append((chat_id, reply))

    assert (await Notifier(digest_data, {"telegram": send}, clock=clock).deliver_once()).sent == 1
    assert got[0][0] == "-1001" and "Hồ sơ cần chú ý ngày 02/03/2026" in got[0][1].text


def test_parse_staff_chats_defaults_to_telegram() -> None:
    assert parse_staff_chats(" 123 , zalo:abc,,") == [("telegram", "123"), ("zalo", "abc")]
    assert parse_staff_chats("") == []


# -- report ----------------------------------------------------------------------------------


@pytest.fixture
def report_data(storage: Storage) -> Storage:
    march = at(date(2026, 3, 10), 8)
    import_records(
        storage,
        enumerate(
            [
                record("A-0001", TrangThaiHoSo=10, NgayTra="20260305100000", KenhThucHien=2),
                record("A-0002", TrangThaiHoSo=10, NgayTra="20260306160000", NguoiXuLy="Cán bộ Q", KenhThucHien=1),
                record("A-0003", TrangThaiHoSo=10, NgayTiepNhan="20260303090000", NgayHenTra="20260309170000",
                       NgayTra="20260310090000", PhongBanXuLy="Phòng Y", KenhThucHien=2),
                record("A-0004", TrangThaiHoSo=5, NgayTiepNhan="20260304090000", NoiDungBoSung="Hộ chiếu",
                       PhongBanXuLy="Phòng Y", NguoiXuLy="Cán bộ Q"),
                record("A-0005", NgayTiepNhan="20260202090000", NgayHenTra="20260216170000"),
            ],
            start=1,
        ),
        now=march,
    )
    return storage


def test_report_counts_received_finished_paused_supplements_and_online_share(report_data: Storage) -> None:
    report = build_report(report_data, date(2026, 3, 1), date(2026, 3, 31))
    t = report.total
    assert (t.received, t.finished_early, t.finished_on_time, t.finished_late) == (4, 1, 1, 1)
    assert (t.paused, t.supplements) == (1, 1)
    assert (t.online, t.channel_known) == (2, 3)
    x, y = report.by_department["Phòng X"], report.by_department["Phòng Y"]
    assert (x.received, x.finished_early, x.finished_on_time, x.finished_late, x.paused) == (2, 1, 1, 0, 0)
    assert (y.received, y.finished_late, y.paused, y.supplements) == (2, 1, 1, 1)
    p = report.by_officer["Cán bộ P"]
    assert (p.received, p.finished_early, p.finished_late) == (2, 1, 1)
    text = report_text(report)
    assert "Tiếp nhận: 4" in text
    assert "trước hạn 1, đúng hạn 1, quá hạn 1" in text
    assert "Tỷ lệ nộp trực tuyến: 67% (2/3" in text
    assert "Theo phòng ban:" in text and "Theo người xử lý:" in text

    february = build_report(report_data, date(2026, 2, 1), date(2026, 2, 28))
    assert february.total.received == 1 and february.total.finished == 0


def test_report_command(report_data: Storage, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TTHC_DB", db_url)
    assert main(["report", "--from", "2026-03-01", "--to", "31/03/2026", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"]["received"] == 4 and data["total"]["online_share"] == pytest.approx(0.6667, abs=1e-3)
    assert main(["report", "--from", "2026-03-31", "--to", "2026-03-01"]) == 2


# -- demo data -------------------------------------------------------------------------------


def test_demo_data_is_clearly_synthetic_and_can_be_looked_up(storage: Storage, calendar: WorkCalendar) -> None:
    samples = fill_demo(storage, calendar, count=30, seed=7, today=date(2026, 3, 16))
    rows = storage.dossiers()
    assert len(rows) == 30
    assert all(r["code"].startswith(DEMO_PREFIX) and "DỮ LIỆU MẪU" in r["applicant"] for r in rows)
    assert all(r["phone"].startswith("0900000") for r in rows)
    assert {r["status"] for r in rows} >= {2, 4, 5, 10}
    service = DossierService(storage, calendar, "hotline")
    for code, secret, _status in samples:
        assert service.lookup(code, secret.split()[0], now=at(date(2026, 3, 16))).ok, code
    # Running it again is harmless; a real database is refused.
    fill_demo(storage, calendar, count=30, seed=7, today=date(2026, 3, 16))
    assert storage.count_dossiers() == 30
    import_records(storage, [(1, record("H42.25-260213-0001"))])
    with pytest.raises(ValueError, match="real dossiers"):
        fill_demo(storage, calendar)


def test_demo_data_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "demo.db"
    monkeypatch.setenv("TTHC_CALENDAR", str(default_calendar_file()))
    assert main(["demo-data", "--db", str(db), "--count", "12"]) == 0
    out = capsys.readouterr().out
    assert "12 synthetic dossiers" in out and DEMO_PREFIX in out
    with Storage(db) as s:
        assert s.count_dossiers() == 12


def test_digest_and_outbox_commands(digest_data: Storage, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TTHC_DB", db_url)
    monkeypatch.setenv("TTHC_CALENDAR", str(default_calendar_file()))
    assert main(["dossiers", "digest", "--date", "2026-03-02"]) == 0
    assert "Hồ sơ cần chú ý ngày 02/03/2026" in capsys.readouterr().out
    assert main(["dossiers", "digest", "--date", "2026-03-02", "--queue"]) == 2  # no staff chats configured
    monkeypatch.setenv("TTHC_STAFF_CHATS", "telegram:-1001")
    assert main(["dossiers", "digest", "--date", "2026-03-02", "--queue"]) == 0
    capsys.readouterr()
    assert main(["dossiers", "outbox"]) == 0
    assert "pending  1" in capsys.readouterr().out
