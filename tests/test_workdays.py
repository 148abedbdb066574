"""Working days: Tết 2026, 30/4–1/5, moved days, due dates and `tthc-bot due`."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.kb import TimeLimit
from bot.workdays import (
    VN_TZ,
    CalendarError,
    WorkCalendar,
    add_working_days,
    default_calendar_file,
    due_date,
    working_days_between,
)

WD10 = TimeLimit(10, "working_days", "10 ngày làm việc")


@pytest.fixture(scope="module")
def bundled() -> WorkCalendar:
    return WorkCalendar.load(default_calendar_file())


def test_holidays_package_knows_tet_2026_by_the_lunar_calendar() -> None:
    plain = WorkCalendar()  # public holidays only, no extra days
    for day in range(16, 21):
        assert not plain.is_working_day(date(2026, 2, day)), day
    assert plain.is_working_day(date(2026, 2, 13))
    assert plain.is_working_day(date(2026, 2, 23))
    assert "Tết" in (plain.holiday_name(date(2026, 2, 17)) or "")


def test_work_permit_filed_on_friday_before_tet_is_due_in_early_march(bundled: WorkCalendar) -> None:
    received = datetime(2026, 2, 13, 10, 30, tzinfo=VN_TZ)  # Friday, 27 tháng Chạp
    due = bundled.due_date(received, WD10)
    # Tết break 14–22/02: the count starts on Monday 23/02 and runs two full weeks.
    assert due.date() == date(2026, 3, 6)
    assert due.tzinfo is not None and due.utcoffset() == timedelta(hours=7)
    assert bundled.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)


def test_hung_kings_and_30_4_1_5_in_2026(bundled: WorkCalendar) -> None:
    # Giỗ Tổ (Sunday 26/4) is observed on Monday 27/4; 30/4 and 1/5 are Thursday and Friday.
    assert [bundled.is_working_day(date(2026, 4, d)) for d in (27, 28, 29, 30)] == [False, True, True, False]
    assert not bundled.is_working_day(date(2026, 5, 1))
    assert bundled.add_working_days(date(2026, 4, 22), 5) == date(2026, 5, 4)
    assert bundled.working_days_between(date(2026, 4, 24), date(2026, 5, 4)) == 3


def test_moved_days_of_2025_and_2026(bundled: WorkCalendar) -> None:
    # 2025: Friday 2/5 off, worked on Saturday 26/4.
    assert bundled.is_working_day(date(2025, 4, 26))
    assert not bundled.is_working_day(date(2025, 5, 2))
    assert bundled.add_working_days(date(2025, 4, 24), 2) == date(2025, 4, 26)
    assert bundled.add_working_days(date(2025, 4, 29), 1) == date(2025, 5, 5)
    # 2026: Friday 2/1 off, worked on Saturday 10/1; Monday 31/8 off, worked on Saturday 22/8.
    assert not bundled.is_working_day(date(2026, 1, 2))
    assert bundled.is_working_day(date(2026, 1, 10))
    assert bundled.is_working_day(date(2026, 8, 22))
    assert not bundled.is_working_day(date(2026, 8, 31))
    assert bundled.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 5)


def test_calendar_days_and_months_end_on_a_working_day(bundled: WorkCalendar) -> None:
    # 25/4/2026 + 5 days = Thursday 30/4 (holiday) → Monday 4/5.
    due = bundled.due_date(datetime(2026, 4, 25, 9, 0, tzinfo=VN_TZ), TimeLimit(5, "days", "5 ngày"))
    assert due.date() == date(2026, 5, 4)
    # 31/1/2026 + 1 month = Saturday 28/2 → Monday 2/3.
    due = bundled.due_date(datetime(2026, 1, 31, 9, 0, tzinfo=VN_TZ), TimeLimit(1, "months", "1 tháng"))
    assert due.date() == date(2026, 3, 2)


def test_received_time_is_read_in_vietnam_time(bundled: WorkCalendar) -> None:
    # 23:30 UTC on Thursday 12/2 is already Friday 13/2 in Vietnam.

    utc = datetime(2026, 2, 12, 23, 30, tzinfo=UTC)
    assert bundled.due_date(utc, WD10).date() == date(2026, 3, 6)


def test_module_functions_take_a_calendar() -> None:
    cal = WorkCalendar(days_off={date(2030, 1, 7): "test"})
    assert add_working_days(date(2030, 1, 4), 1, cal) == date(2030, 1, 8)
    assert working_days_between(date(2030, 1, 4), date(2030, 1, 8), cal) == 1
    assert working_days_between(date(2030, 1, 8), date(2030, 1, 4), cal) == -1
    assert due_date(datetime(2030, 1, 4, 9), TimeLimit(1, "working_days", "1"), cal).date() == date(2030, 1, 8)


def test_calendar_file_overrides_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "cal.yaml"
    good.write_text(
        textwrap.dedent(
            """\
            days_off:
              - {date: 2031-03-03, note: Nghỉ thử}
            working_days:
              - date: 2031-03-08
                note: Làm bù thử
            """
        ),
        encoding="utf-8",
    )
    cal = WorkCalendar.load(good)
    assert not cal.is_working_day(date(2031, 3, 3))
    assert cal.is_working_day(date(2031, 3, 8))
    assert cal.holiday_name(date(2031, 3, 3)) == "Nghỉ thử"

    for body, message in (
        ("days_off: [2031-03-08]\nworking_days: [2031-03-08]\n", "both"),
        ("days_off: [{date: 'hôm qua'}]\n", "not a date"),
        ("working_days: [2031-03-04]\n", "weekday"),
        ("holidays: []\n", "unknown field"),
        ("days_off: [\n", "not valid YAML"),
    ):
        bad = tmp_path / "bad.yaml"
        bad.write_text(body, encoding="utf-8")
        with pytest.raises(CalendarError, match=message):
            WorkCalendar.load(bad)
    with pytest.raises(CalendarError, match="cannot be read"):
        WorkCalendar.load(tmp_path / "missing.yaml")


@settings(max_examples=60, deadline=None)
@given(start=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)), n=st.integers(1, 60))
def test_adding_and_counting_agree(start: date, n: int) -> None:
    cal = _shared()
    end = cal.add_working_days(start, n)
    assert cal.is_working_day(end)
    assert cal.working_days_between(start, end) == n
    assert cal.add_working_days(end, -n) <= start


_CAL: list[WorkCalendar] = []


def _shared() -> WorkCalendar:
    if not _CAL:
        _CAL.append(WorkCalendar.load(default_calendar_file()))
    return _CAL[0]


BOARD = """\
name: Ban Quản lý thử
name_en: Test board
address: Số 1 Đường Thử
hotline: "0200 000 0000"
email: test@example.gov.vn
working_hours: Thứ Hai – Thứ Sáu
working_hours_en: Monday to Friday
portal_url: https://dichvucong.gov.vn
one_stop_address: Trung tâm thử
"""

PROCEDURE = """\
code: "1.014199"
name: Cấp giấy phép lao động (thử)
name_en: Work permit (test)
field: Việc làm
agency: Ban Quản lý
agency_en: The management board
online_level: một phần
cases:
  - name: Cấp mới
    name_en: New permit
    steps: [Nộp hồ sơ]
    steps_en: [File the dossier]
    documents: [{name: Đơn đề nghị, name_en: Application}]
    time: {value: 10, unit: working_days, text: 10 ngày làm việc, text_en: 10 working days}
    channels: [online, in_person]
legal_basis: [Nghị định 219/2025/NĐ-CP]
source_url: https://dichvucong.gov.vn/thu-tuc
verified: 2026-01-05
"""


def test_due_command_prints_the_date_after_tet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    kb = tmp_path / "knowledge"
    (kb / "procedures").mkdir(parents=True)
    (kb / "board.yaml").write_text(BOARD, encoding="utf-8")
    (kb / "procedures" / "1.014199.yaml").write_text(PROCEDURE, encoding="utf-8")
    monkeypatch.setenv("TTHC_KNOWLEDGE", str(kb))
    monkeypatch.setenv("TTHC_CALENDAR", str(default_calendar_file()))
    assert main(["due", "1.014199", "--from", "2026-02-13"]) == 0
    out = capsys.readouterr().out
    assert "10 ngày làm việc → hẹn trả Thứ Sáu 06/03/2026" in out
    assert "Tết" in out

    assert main(["due", "1.014199", "--from", "13/02/2026"]) == 0
    assert "06/03/2026" in capsys.readouterr().out
    assert main(["due", "9.999999"]) == 1
    assert "no procedure 9.999999" in capsys.readouterr().err
    assert main(["due", "1.014199", "--from", "tomorrow"]) == 2
