"""Figures for a period, in total, by department and by officer.

- received: dossiers received (NgayTiepNhan) in the period;
- finished early / on time / late: dossiers finished in the period (NgayTra, or else when the
  status became 9 or 10), compared by day with their due date (NgayHenTra);
- paused: dossiers that entered status 5, 6 or 8 in the period (each counted once);
- supplements: requests for more papers made in the period;
- online share: of the dossiers received in the period whose channel (KenhThucHien) is known,
  the share filed online.
Departments and officers are those currently recorded on each dossier.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from ..core import VN_TZ, to_vn
from ..storage import Storage, from_iso
from ._status import FINISHED, PAUSED

UNKNOWN = "(không rõ)"


@dataclass
class Figures:
    """The counts for one group."""

    received: int = 0
    finished_early: int = 0
    finished_on_time: int = 0
    finished_late: int = 0
    finished_no_due: int = 0
    paused: int = 0
    supplements: int = 0
    online: int = 0
    channel_known: int = 0

    @property
    def finished(self) -> int:
        return self.finished_early + self.finished_on_time + self.finished_late + self.finished_no_due

    @property
    def online_share(self) -> float | None:
        """Online dossiers / dossiers with a known channel, or None when none is known."""
        return self.online / self.channel_known if self.channel_known else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = asdict(self)
        out["finished"] = self.finished
        out["online_share"] = None if self.online_share is None else round(self.online_share, 4)
        return out


@dataclass
class Report:
    """Figures for [start, end] (both days included)."""

    start: date
    end: date
    total: Figures = field(default_factory=Figures)
    by_department: dict[str, Figures] = field(default_factory=dict)
    by_officer: dict[str, Figures] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "total": self.total.to_dict(),
            "by_department": {k: v.to_dict() for k, v in sorted(self.by_department.items())},
            "by_officer": {k: v.to_dict() for k, v in sorted(self.by_officer.items())},
        }


def _day(text: str | None) -> date | None:
    moment = from_iso(text)
    return to_vn(moment).date() if moment else None


def build_report(storage: Storage, start: date, end: date) -> Report:
    """Count received, finished (early / on time / late), paused and supplements in the period."""
    report = Report(start, end)
    lo = datetime.combine(start, time(0), tzinfo=VN_TZ)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=VN_TZ)
    rows = {r["code"]: r for r in storage.dossiers()}
    changes = storage.status_changes(lo, hi)

    def groups(code: str) -> list[Figures]:
        row = rows.get(code) or {}
        dept = row.get("department") or UNKNOWN
        officer = row.get("officer") or UNKNOWN
        return [
            report.total,
            report.by_department.setdefault(dept, Figures()),
            report.by_officer.setdefault(officer, Figures()),
        ]

    finished_when: dict[str, date] = {}
    for change in storage.status_changes(datetime(1990, 1, 1, tzinfo=VN_TZ), hi):
        if change["status"] in FINISHED and change["code"] not in finished_when:
            day = _day(change["at"])
            if day:
                finished_when[change["code"]] = day

    for code, row in rows.items():
        received = _day(row.get("received_at"))
        if received and start <= received <= end:
            for f in groups(code):
                f.received += 1
                if row.get("channel") in (1, 2, 3):
                    f.channel_known += 1
                    f.online += int(row["channel"] == 2)
        if row["status"] in FINISHED:
            done = _day(row.get("returned_at")) or finished_when.get(code)
            if done and start <= done <= end:
                due = _day(row.get("due_at"))
                for f in groups(code):
                    if due is None:
                        f.finished_no_due += 1
                    elif done < due:
                        f.finished_early += 1
                    elif done == due:
                        f.finished_on_time += 1
                    else:
                        f.finished_late += 1

    paused: set[str] = set()
    for change in changes:
        if change["status"] in PAUSED and change["code"] not in paused and change["code"] in rows:
            paused.add(change["code"])
            for f in groups(change["code"]):
                f.paused += 1
    for sup in storage.supplements_between(lo, hi):
        if sup["code"] in rows:
            for f in groups(sup["code"]):
                f.supplements += 1
    return report


def _share(f: Figures) -> str:
    return "—" if f.online_share is None else f"{f.online_share:.0%}"


def _table(title: str, groups: dict[str, Figures]) -> list[str]:
    headers = ("", "Tiếp nhận", "Trước hạn", "Đúng hạn", "Quá hạn", "Tạm dừng", "Bổ sung", "Trực tuyến")
    body = [
        (name, str(f.received), str(f.finished_early), str(f.finished_on_time), str(f.finished_late),
         str(f.paused), str(f.supplements), _share(f))
        for name, f in sorted(groups.items(), key=lambda kv: (-kv[1].received - kv[1].finished, kv[0]))
    ]
    if not body:
        return [title, "  (không có số liệu)"]
    widths = [max(len(r[i]) for r in [headers, *body]) for i in range(len(headers))]
    widths[0] = min(widths[0], 40)

    def line(cells: tuple[str, ...]) -> str:
        first = cells[0] if len(cells[0]) <= widths[0] else cells[0][: widths[0] - 1] + "…"
        rest = "  ".join(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return f"  {first.ljust(widths[0])}  {rest}"

    return [title, line(headers), *[line(r) for r in body]]


def report_text(report: Report) -> str:
    """The report as text (Vietnamese labels), for the terminal or a staff chat."""
    t = report.total
    lines = [
        f"Số liệu hồ sơ từ {report.start.strftime('%d/%m/%Y')} đến {report.end.strftime('%d/%m/%Y')}",
        f"Tiếp nhận: {t.received}",
        f"Đã giải quyết: {t.finished} (trước hạn {t.finished_early}, đúng hạn {t.finished_on_time}, "
        f"quá hạn {t.finished_late}" + (f", không có hạn {t.finished_no_due}" if t.finished_no_due else "") + ")",
        f"Tạm dừng (bổ sung, nghĩa vụ tài chính, dừng xử lý): {t.paused}",
        f"Yêu cầu bổ sung giấy tờ: {t.supplements}",
        f"Tỷ lệ nộp trực tuyến: {_share(t)}"
        + (f" ({t.online}/{t.channel_known} hồ sơ có ghi kênh nộp)" if t.channel_known else " (chưa có dữ liệu kênh nộp)"),
        "",
        *_table("Theo phòng ban:", report.by_department),
        "",
        *_table("Theo người xử lý:", report.by_officer),
    ]
    return "\n".join(lines)
