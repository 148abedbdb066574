"""Working days of Vietnamese state agencies: due dates and "when will I get the result?".

A day is a working day when it is Monday to Friday, not a public holiday, and not an extra day
off; a make-up working day (ngày làm bù, usually a Saturday) is a working day whatever else
holds. Public holidays, including Tết by the lunar calendar, come from the maintained
`holidays` package (Bộ luật Lao động 2019, Điều 112). Every year the government moves days
around the holidays (e.g. Tết Dương lịch 2026: Friday 2 January off, Saturday 10 January
worked); those are listed in a small YAML file, by default the bundled `knowledge/calendar.yaml`,
overridable with TTHC_CALENDAR:

    days_off:
      - {date: 2026-01-02, note: "Nghỉ Tết Dương lịch (hoán đổi)"}
    working_days:
      - {date: 2026-01-10, note: "Làm bù cho ngày 02/01/2026"}

Counting follows the civil-code rule for periods (Bộ luật Dân sự 2015, Điều 147–148): the day
the dossier is received is not counted, and a period that ends on a day off ends at the close
of the next working day.
"""

from __future__ import annotations

import calendar as _calendar
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import holidays
import yaml

from .core._clock import VN_TZ, to_vn
from .kb import TimeLimit

#: The time of day a due date falls at: the close of the working day.
CLOSE_OF_DAY = time(17, 0)
CALENDAR_FILE = "calendar.yaml"


class CalendarError(ValueError):
    """The calendar file is missing or malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class CalendarDay:
    """An extra day off or a make-up working day, with the reason the government gave."""

    day: date
    note: str = ""


@dataclass
class WorkCalendar:
    """Which days state agencies work: weekdays, minus public holidays and extra days off,
    plus make-up working days. Build with `WorkCalendar.load()` or directly in tests."""

    days_off: dict[date, str] = field(default_factory=dict)
    working_days: dict[date, str] = field(default_factory=dict)
    use_public_holidays: bool = True
    source: str = ""

    def __post_init__(self) -> None:
        self._holidays: dict[int, holidays.HolidayBase] = {}
        clash = set(self.days_off) & set(self.working_days)
        if clash:
            days = ", ".join(d.isoformat() for d in sorted(clash))
            raise CalendarError(f"{self.source or 'calendar'}: {days} is both a day off and a working day")

    @classmethod
    def load(cls, path: str | Path | None = None) -> WorkCalendar:
        """A calendar from a YAML file (default: the bundled knowledge/calendar.yaml).

        A missing default file gives the public holidays alone; a missing or malformed file
        that was asked for raises CalendarError.
        """
        if path is None or str(path) == "":
            default = default_calendar_file()
            if not default.exists():
                return cls(source="holidays.VN")
            path = default
        return cls.from_yaml(Path(path))

    @classmethod
    def from_yaml(cls, path: Path) -> WorkCalendar:
        """Read `days_off` and `working_days` lists of {date, note} from a YAML file."""
        from .kb._loader import _Loader, _repeated

        try:
            loader = _Loader(path.read_text(encoding="utf-8"))
            try:
                node = loader.get_single_node()
                if node is not None and _repeated(node) is not None:  # an alias bomb expands to millions
                    raise CalendarError(f"{path}: uses a YAML alias (an &anchor repeated as *name): write the dates out")
                data = (loader.construct_document(node) if node is not None else None) or {}
            finally:
                loader.dispose()
        except (OSError, UnicodeDecodeError) as exc:
            raise CalendarError(f"{path}: cannot be read: {exc}") from exc
        except yaml.YAMLError as exc:
            raise CalendarError(f"{path}: is not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise CalendarError(f"{path}: must be a mapping with days_off and working_days")
        unknown = set(data) - {"days_off", "working_days"}
        if unknown:
            raise CalendarError(f"{path}: unknown field(s) {', '.join(sorted(map(str, unknown)))}; allowed: days_off, working_days")
        off = _read_days(data.get("days_off"), path, "days_off")
        work = _read_days(data.get("working_days"), path, "working_days")
        for d in work:
            if d.day.weekday() < 5:
                raise CalendarError(f"{path}: working_days: {d.day.isoformat()} is a weekday already")
        return cls(
            days_off={d.day: d.note for d in off},
            working_days={d.day: d.note for d in work},
            source=str(path),
        )

    def _public(self, year: int) -> holidays.HolidayBase:
        if year not in self._holidays:
            self._holidays[year] = holidays.country_holidays("VN", years=year, language="vi")
        return self._holidays[year]

    def holiday_name(self, day: date) -> str | None:
        """Why `day` is off (a holiday's or the extra day's note), or None."""
        if day in self.working_days:
            return None
        if day in self.days_off:
            return self.days_off[day] or "Ngày nghỉ"
        if self.use_public_holidays:
            name = self._public(day.year).get(day)
            if name:
                return str(name)
        return None

    def is_working_day(self, day: date) -> bool:
        """True when state agencies work on `day`."""
        if day in self.working_days:
            return True
        if day.weekday() >= 5 or day in self.days_off:
            return False
        return not (self.use_public_holidays and day in self._public(day.year))

    def next_working_day(self, day: date) -> date:
        """`day` itself when it is a working day, otherwise the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (start itself is not counted); n < 0 goes back.

        n == 0 gives `start` unchanged.
        """
        step = 1 if n >= 0 else -1
        left = abs(n)
        day = start
        while left:
            day += timedelta(days=step)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days d with start < d <= end; negative (the same count) when end < start."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def due_date(self, received: datetime, limit: TimeLimit) -> datetime:
        """When a dossier received at `received` is due under `limit`, at the close of that day.

        working_days: that many working days after the day of receipt (a fraction counts as a
        whole day); days: calendar days; months: the same day of the month, or the month's
        last day. For days and months, a due day that is a day off moves to the next working day.
        """
        day = to_vn(received).date()
        if limit.value is None or limit.unit is None:
            raise ValueError(f"no fixed time limit: {limit.text}")
        if limit.unit == "working_days":
            due = self.add_working_days(day, math.ceil(limit.value))
        elif limit.unit == "days":
            due = self.next_working_day(day + timedelta(days=math.ceil(limit.value)))
        elif limit.unit == "months":
            due = self.next_working_day(add_months(day, math.ceil(limit.value)))
        else:  # pragma: no cover - the loader only lets the three units through
            raise ValueError(f"unknown time unit {limit.unit!r}")
        return datetime.combine(due, CLOSE_OF_DAY, tzinfo=VN_TZ)

    def days_off_between(self, start: date, end: date) -> list[tuple[date, str]]:
        """Non-weekend days off between start and end inclusive, with their names."""
        out = []
        day = start
        while day <= end:
            if not self.is_working_day(day) and (day.weekday() < 5 or day in self.days_off):
                out.append((day, self.holiday_name(day) or ""))
            day += timedelta(days=1)
        return out


def _read_days(value: Any, path: Path, key: str) -> list[CalendarDay]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CalendarError(f"{path}: {key} must be a list of {{date, note}}")
    out = []
    for i, item in enumerate(value):
        note = ""
        raw: Any = item
        if isinstance(item, dict):
            extra = set(item) - {"date", "note"}
            if extra:
                raise CalendarError(f"{path}: {key}[{i}]: unknown field(s) {', '.join(sorted(map(str, extra)))}")
            raw = item.get("date")
            note = str(item.get("note") or "")
        if isinstance(raw, datetime):
            raw = raw.date()
        if isinstance(raw, str):
            try:
                raw = date.fromisoformat(raw.strip())
            except ValueError:
                raise CalendarError(f"{path}: {key}[{i}]: '{raw}' is not a date like 2026-01-02") from None
        if not isinstance(raw, date):
            raise CalendarError(f"{path}: {key}[{i}]: needs a date like 2026-01-02")
        out.append(CalendarDay(raw, note))
    return out


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, or that month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def default_calendar_file() -> Path:
    """The bundled calendar of extra days off and make-up working days."""
    from .kb import default_knowledge_dir

    return default_knowledge_dir() / CALENDAR_FILE


@lru_cache(maxsize=8)
def _cached(path: str) -> WorkCalendar:
    return WorkCalendar.load(path or None)


def calendar_for(path: str | Path | None = None) -> WorkCalendar:
    """A calendar loaded once per file (the default when `path` is empty) and reused."""
    return _cached(str(path or ""))


def working_days_between(start: date, end: date, calendar: WorkCalendar | None = None) -> int:
    """Working days d with start < d <= end (negative when end < start); default calendar."""
    return (calendar or calendar_for()).working_days_between(start, end)


def add_working_days(start: date, n: int, calendar: WorkCalendar | None = None) -> date:
    """The n-th working day after `start`; default calendar."""
    return (calendar or calendar_for()).add_working_days(start, n)


def due_date(received: datetime, limit: TimeLimit, calendar: WorkCalendar | None = None) -> datetime:
    """When a dossier received at `received` is due under `limit`; default calendar."""
    return (calendar or calendar_for()).due_date(received, limit)



def calendar_for_settings(settings: Any) -> WorkCalendar:
    """The calendar the settings name: TTHC_CALENDAR, else calendar.yaml in the knowledge
    directory, else the bundled one (public holidays alone when there is none)."""
    if getattr(settings, "calendar", ""):
        return calendar_for(settings.calendar)
    local = Path(settings.knowledge_dir) / CALENDAR_FILE
    return calendar_for(local if local.exists() else None)
