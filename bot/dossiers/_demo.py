"""Clearly synthetic dossiers, so anyone can try lookups, notifications, the digest and reports.

Every demo dossier has the made-up agency code H99.99 (no province has it), an applicant named
"… (DỮ LIỆU MẪU)", a 0900 000 xxx phone number and a department marked "(mẫu)".

They look like real ones where it matters for trying the bot:
- each goes to the department of its sector (a work permit to Labour, a construction permit to
  Planning and Construction, an environmental licence to Environment, investment to Investment),
  derived from the procedure's field (or, without one, its code);
- each has a life: submitted, received, in process, sometimes paused for papers and resumed with
  a new due date, processed, handed over, each step on a working day in office hours and replayed
  through the importer at its own moment, so the status history, supplement requests and figures
  are spread over weeks (not all stamped with the moment the command runs);
- the dossier of the lookup example in docs/staff.md (H99.99-261112-0001, secret DEMO01, a work permit
  received on 12/11/2026) is among them whenever that date has passed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ..core import VN_TZ, now_vn
from ..kb import TimeLimit, check_knowledge
from ..storage import Storage
from ..workdays import WorkCalendar
from ._import import import_records
from ._status import STATUSES

DEMO_PREFIX = "H99.99-"
DEPARTMENTS = {
    "labour": "Phòng Quản lý Lao động (mẫu)",
    "investment": "Phòng Quản lý Đầu tư (mẫu)",
    "construction": "Phòng Quản lý Quy hoạch và Xây dựng (mẫu)",
    "environment": "Phòng Quản lý Môi trường (mẫu)",
}
OFFICERS = {
    "labour": ("Cán bộ Mẫu An", "Cán bộ Mẫu Bình"),
    "investment": ("Cán bộ Mẫu Chi", "Cán bộ Mẫu Dũng"),
    "construction": ("Cán bộ Mẫu Giang", "Cán bộ Mẫu Hà"),
    "environment": ("Cán bộ Mẫu Khánh", "Cán bộ Mẫu Lan"),
}
# Words of a procedure's field (lĩnh vực), then of its name, that tell its sector, in order.
SECTOR_WORDS = (
    ("labour", ("lao động", "việc làm", "tiền lương", "bảo hiểm")),
    ("environment", ("môi trường", "sinh thái")),
    ("construction", ("xây dựng", "quy hoạch", "đất đai", "kiến trúc", "giấy phép di dời")),
    ("investment", ("đầu tư", "khu công nghiệp", "khu kinh tế", "doanh nghiệp", "khoa học", "công nghệ", "thương mại")),
)
# Without a field: the national code's family.
SECTOR_BY_CODE = {
    "1.0141": "labour", "1.0142": "labour", "2.0019": "labour",
    "1.0132": "construction", "1.0107": "environment",
    "1.0096": "investment", "1.0097": "investment", "1.1151": "investment", "2.0027": "investment",
}
FALLBACK_PROCEDURES = (
    ("1.014199", "Cấp giấy phép lao động đối với người lao động nước ngoài làm việc tại Việt Nam", "Việc làm",
     TimeLimit(10, "working_days", "10 ngày làm việc")),
    ("1.009664", "Thủ tục mẫu về đầu tư (dữ liệu mẫu)", "Đầu tư tại Việt nam",
     TimeLimit(15, "working_days", "15 ngày làm việc")),
)
SUPPLEMENTS = {
    "labour": (
        "Bản sao hộ chiếu còn giá trị (chứng thực) của người lao động.",
        "Giấy chứng nhận sức khỏe do cơ sở y tế có thẩm quyền cấp trong 12 tháng.",
        "Văn bản chứng minh kinh nghiệm làm việc, có dịch ra tiếng Việt.",
    ),
    "investment": (
        "Bản sao báo cáo tài chính 02 năm gần nhất của nhà đầu tư.",
        "Văn bản ủy quyền cho người nộp hồ sơ, có chữ ký của người đại diện theo pháp luật.",
    ),
    "construction": (
        "Bản vẽ tổng mặt bằng có chữ ký, đóng dấu của đơn vị tư vấn.",
        "Văn bản thẩm định thiết kế về phòng cháy chữa cháy của cơ quan Công an.",
    ),
    "environment": (
        "Kết quả quan trắc môi trường nền bổ sung theo ý kiến hội đồng thẩm định.",
        "Bản đồ vị trí điểm xả nước thải có tọa độ.",
    ),
}
# (status, weight): the mix of where dossiers stand; returned results (10) are the most common.
STATUS_MIX = ((1, 2), (2, 3), (4, 12), (5, 4), (6, 1), (3, 1), (7, 1), (8, 1), (9, 4), (10, 11))
# The dossier of the lookup example in docs/staff.md ("Try it with demo data").
README_CODE = "H99.99-261112-0001"
README_SECRET = "DEMO01"
README_RECEIVED = datetime(2026, 11, 12, 9, 30, tzinfo=VN_TZ)
README_PROCEDURE = "1.014199"

Procedure = tuple[str, str, str, TimeLimit]  # code, name, field, time limit of the first case


def sector_of(code: str, field_: str = "", name: str = "") -> str:
    """The department's sector of a procedure: from its field (an investment field is
    investment), then its name (a zone-management field names eco-industrial parks, land...),
    then its code."""
    specific = [(s, words) for s, words in SECTOR_WORDS if s != "investment"]
    folded_field, folded_name = field_.casefold(), name.casefold()
    for sector, words in specific:
        if any(w in folded_field for w in words):
            return sector
    if "đầu tư" in folded_field:
        return "investment"
    for sector, words in specific:
        if any(w in folded_name for w in words):
            return sector
    if any(w in f"{folded_field} {folded_name}" for w in dict(SECTOR_WORDS)["investment"]):
        return "investment"
    for prefix, sector in SECTOR_BY_CODE.items():
        if code.startswith(prefix):
            return sector
    return "investment"


def department_of(code: str, field_: str = "", name: str = "") -> str:
    """The (demo) department that handles a procedure, by its sector."""
    return DEPARTMENTS[sector_of(code, field_, name)]


def _procedures(knowledge_dir: str | Path | None) -> list[Procedure]:
    if knowledge_dir:
        kb, _ = check_knowledge(knowledge_dir)
        found = [(p.code, p.name, p.field, p.cases[0].time) for p in kb.procedures if p.cases and p.cases[0].time.known]
        if found:
            return found
    return list(FALLBACK_PROCEDURES)


def _working_days(limit: TimeLimit) -> int:
    """The limit in whole working days, roughly (to place a dossier in its life)."""
    value = float(limit.value or 10)
    factor = {"working_days": 1.0, "days": 5 / 7, "months": 22.0}.get(limit.unit or "working_days", 1.0)
    return max(1, round(value * factor))


def _spread(weights: tuple[tuple[int, int], ...]) -> list[int]:
    """The statuses in a smooth weighted round-robin: each as often as its weight, spread out,
    so that a few dossiers already show a mix (and forty show it in these proportions)."""
    total = sum(w for _s, w in weights)
    current = {s: 0 for s, _w in weights}
    out = []
    for _ in range(total):
        for s, w in weights:
            current[s] += w
        best = max(current, key=lambda s: current[s])
        current[best] -= total
        out.append(best)
    return out


def _in_working_days(p: Procedure) -> bool:
    """A limit of at least five working days (for the due-soon and overdue examples)."""
    return p[3].unit == "working_days" and (p[3].value or 0) >= 5


@dataclass
class _Life:
    """One demo dossier: its final record and the moments its status changed."""

    record: dict[str, Any]
    stages: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)


class _Clock:
    """Moments on working days in office hours."""

    def __init__(self, calendar: WorkCalendar, rng: random.Random) -> None:
        self.calendar = calendar
        self.rng = rng

    def at(self, day: date, lo: int = 8, hi: int = 16) -> datetime:
        day = self.calendar.next_working_day(day)
        return datetime.combine(day, time(self.rng.randint(lo, hi), self.rng.choice((0, 10, 20, 30, 40, 50))), tzinfo=VN_TZ)

    def after(self, moment: datetime, days: int, lo: int = 8, hi: int = 16) -> datetime:
        """A moment `days` working days after `moment` (0: later the same day when there is time)."""
        if days <= 0 and moment.hour < 16:
            return moment + timedelta(minutes=self.rng.randint(40, 90))
        day = self.calendar.add_working_days(moment.date(), max(days, 1))
        return self.at(day, lo, hi)


def _plan(status: int, limit: TimeLimit, rng: random.Random) -> dict[str, int]:
    """The random parts of a dossier's life, drawn once (so moving the life in time keeps it)."""
    wd = _working_days(limit)
    return {
        "online_gap": rng.randint(1, 20),       # hours between an online submission and its receipt
        "start": rng.randint(0, 1),             # working days from receipt to processing
        "pause_after": rng.randint(1, max(1, wd // 2)),
        "supplied_after": rng.randint(2, 6),    # working days the applicant takes to supply papers
        "close_after": rng.randint(2, 8),       # withdrawn / stopped / fee requested after
        "shift": rng.choice((-3, -2, -1, -1, 0, 0, 0, 1)),  # processed before (or just after) the due day
        "handover": rng.choice((0, 0, 1, 2)),
        "supplement": 1 if status == 5 or (status in (9, 10) and rng.random() < 0.3) else 0,
    }


def _stages(
    clock: _Clock, status: int, received: datetime, limit: TimeLimit, plan: dict[str, int], channel: int,
) -> tuple[list[tuple[datetime, int]], datetime | None]:
    """The (moment, status) steps of a life that ends in `status`, and the due date it ends with."""
    cal = clock.calendar
    steps: list[tuple[datetime, int]] = []
    if channel == 2 or status == 1:
        steps.append((received - timedelta(hours=plan["online_gap"]), 1))
    if status == 1:
        return steps, None
    if status == 3:
        return steps + [(received, 3)], None
    steps.append((received, 2))
    due = cal.due_date(received, limit)
    if status == 2:
        return steps, due
    processing = clock.after(received, plan["start"])
    steps.append((processing, 4))
    last = processing
    if plan["supplement"]:
        paused = clock.after(processing, plan["pause_after"])
        steps.append((paused, 5))
        if status == 5:
            return steps, due
        resumed = clock.after(paused, plan["supplied_after"])
        steps.append((resumed, 4))
        due = cal.due_date(resumed, limit)  # the time limit runs again from a complete dossier
        last = resumed
    if status in (6, 7, 8):
        steps.append((clock.after(last, plan["close_after"]), status))
        return steps, due
    if status == 4:
        return steps, due
    done_day = cal.add_working_days(due.date(), plan["shift"])
    done = max(clock.at(done_day, 9, 16), last + timedelta(hours=2))
    steps.append((done, 9))
    if status == 10:
        steps.append((clock.after(done, plan["handover"], 13, 16), 10))
    return steps, due


def _received_for(status: int, limit: TimeLimit, today: date, calendar: WorkCalendar, rng: random.Random) -> date:
    """A receipt day that leaves a dossier in `status` today (it is moved back if its life runs past now)."""
    wd = _working_days(limit)
    back = {
        1: rng.randint(0, 1), 2: rng.randint(0, 1), 3: rng.randint(0, 20), 4: rng.randint(1, max(1, wd - 1)),
        5: rng.randint(2, max(3, wd)), 6: rng.randint(3, max(4, wd)), 7: rng.randint(5, 30), 8: rng.randint(5, 30),
        9: wd + rng.randint(0, 3), 10: wd + rng.randint(2, 45),
    }[status]
    return calendar.add_working_days(calendar.next_working_day(today) if back == 0 else today, -back)


def _fit(
    clock: _Clock, status: int, day: date, limit: TimeLimit, plan: dict[str, int], channel: int, now: datetime,
    when: tuple[int, int],
) -> tuple[list[tuple[datetime, int]], datetime]:
    """The life received on `day` (at hour, minute `when`), moved back a working day at a time
    until its last step is not later than `now`."""
    cal = clock.calendar
    for _ in range(60):
        received = datetime.combine(day, time(*when), tzinfo=VN_TZ)
        steps, _due = _stages(clock, status, received, limit, plan, channel)
        if not steps or steps[-1][0] <= now:
            break
        day = cal.add_working_days(day, -max(1, cal.working_days_between(now.date(), steps[-1][0].date())))
    return steps, received


def _record(
    i: int, code: str, proc: Procedure, status: int, received: datetime, due: datetime | None,
    returned: datetime | None, channel: int, rng: random.Random, secret: str | None = None,
) -> dict[str, Any]:
    pcode, name, field_, _limit = proc
    sector = sector_of(pcode, field_, name)
    return {
        "MaHoSo": code,
        "MaTTHC": pcode,
        "TenTTHC": name,
        "ChuHoSo": f"Công ty TNHH Mẫu Số {i:02d} (DỮ LIỆU MẪU)",
        "SoDienThoai": f"0900000{i:03d}",
        "Email": f"demo{i:02d}@example.invalid",
        "NgayTiepNhan": received.strftime("%Y%m%d%H%M%S") if status != 1 else "",
        "NgayHenTra": due.strftime("%Y%m%d%H%M%S") if due is not None and status not in (1, 3) else "",
        "NgayTra": returned.strftime("%Y%m%d%H%M%S") if returned else "",
        "TrangThaiHoSo": status,
        "PhongBanXuLy": DEPARTMENTS[sector] if status != 1 else "",
        "NguoiXuLy": rng.choice(OFFICERS[sector]) if status not in (1, 2, 3) else "",
        "NoiDungBoSung": rng.choice(SUPPLEMENTS[sector]) if status == 5 else "",
        "MaTraCuu": secret if secret is not None else ("" if i % 4 == 0 else f"DEMO{i:02d}"),
        "KenhThucHien": channel,
    }


def _versions(life_steps: list[tuple[datetime, int]], final: dict[str, Any], dues: dict[int, datetime | None],
              supplement: str) -> list[tuple[datetime, dict[str, Any]]]:
    """The record as the one-stop system would have exported it after each step."""
    out = []
    for n, (moment, status) in enumerate(life_steps):
        v = dict(final)
        v["TrangThaiHoSo"] = status
        v["NgayTiepNhan"] = final["NgayTiepNhan"] if status != 1 else ""
        due = dues.get(n)
        v["NgayHenTra"] = due.strftime("%Y%m%d%H%M%S") if due is not None and status not in (1, 3) else ""
        v["NgayTra"] = moment.strftime("%Y%m%d%H%M%S") if status == 10 else ""
        v["PhongBanXuLy"] = final["PhongBanXuLy"] if status != 1 else ""
        v["NguoiXuLy"] = final["NguoiXuLy"] if status not in (1, 2, 3) else ""
        v["NoiDungBoSung"] = supplement if status == 5 else ""
        out.append((moment, v))
    return out


def demo_lives(
    calendar: WorkCalendar, count: int = 40, seed: int = 2026, today: date | None = None,
    knowledge_dir: str | Path | None = None, now: datetime | None = None,
) -> list[_Life]:
    """`count` synthetic dossiers with their lives, received over the last weeks (the README's
    example dossier first, then one due soon, one overdue, one waiting for papers, then a mix)."""
    rng = random.Random(seed)
    real_now = now_vn()
    today = today or real_now.date()
    if now is None:
        now = real_now if today == real_now.date() else datetime.combine(today, time(17, 30), tzinfo=VN_TZ)
    clock = _Clock(calendar, rng)
    procedures = _procedures(knowledge_dir)
    mix = _spread(STATUS_MIX)
    out: list[_Life] = []

    def pick(i: int, ok: Callable[[Procedure], bool]) -> Procedure:
        start = (i - 1) % len(procedures)
        for k in range(len(procedures)):
            p = procedures[(start + k) % len(procedures)]
            if ok(p):
                return p
        return procedures[start]

    for i in range(1, count + 1):
        channel = rng.choice((1, 2, 2, 2, 3))
        secret = None
        if i == 1 and now >= README_RECEIVED + timedelta(hours=1):
            # The README's example: a work permit received on 12/11/2026, as far as it got by now.
            proc = pick(i, lambda p: p[0] == README_PROCEDURE)
            plan = _plan(10, proc[3], rng)
            plan["supplement"] = 0
            steps, _due = _stages(clock, 10, README_RECEIVED, proc[3], plan, 1)
            steps = [s for s in steps if s[0] <= now]
            received, channel, secret = README_RECEIVED, 1, README_SECRET
            status = steps[-1][1]
        else:
            if i in (1, 2):  # one due soon: received so that its limit ends in two working days
                proc, status = pick(i, _in_working_days), 4
                day = calendar.add_working_days(today, 2 - _working_days(proc[3]))
            elif i == 3:  # one clearly overdue: its limit ended three working days ago
                proc, status = pick(i, _in_working_days), 4
                day = calendar.add_working_days(today, -3 - _working_days(proc[3]))
            else:
                proc = procedures[(i - 1) % len(procedures)]
                status = 5 if i == 4 else 10 if i == 5 else mix[(i - 6) % len(mix)]
                day = _received_for(status, proc[3], today, calendar, rng)
            plan = _plan(status, proc[3], rng)
            if i <= 3:
                plan["supplement"] = 0
                plan["start"] = 0
            when = (rng.randint(8, 15), rng.choice((0, 15, 30, 45)))
            if i <= 3:
                received = datetime.combine(day, time(*when), tzinfo=VN_TZ)
                steps, _due = _stages(clock, status, received, proc[3], plan, channel)
                steps = [s for s in steps if s[0] <= now] or steps[:1]
                status = steps[-1][1]
            else:
                steps, received = _fit(clock, status, day, proc[3], plan, channel, now, when)
        returned = steps[-1][0] if status == 10 else None
        code = README_CODE if secret == README_SECRET else f"{DEMO_PREFIX}{received.strftime('%y%m%d')}-{i:04d}"
        # The due date each step knew: the first one, until papers supplied restart the clock.
        dues: dict[int, datetime | None] = {}
        current_due = calendar.due_date(received, proc[3])
        for n, (moment, s) in enumerate(steps):
            if s == 4 and n > 0 and steps[n - 1][1] == 5:
                current_due = calendar.due_date(moment, proc[3])
            dues[n] = None if s in (1, 3) else current_due
        final_due = dues.get(len(steps) - 1)
        record = _record(i, code, proc, status, received, final_due, returned, channel, rng, secret)
        supplement = rng.choice(SUPPLEMENTS[sector_of(proc[0], proc[2], proc[1])])
        if status == 5:
            record["NoiDungBoSung"] = supplement
        out.append(_Life(record, _versions(steps, record, dues, supplement)))
    return out


def demo_records(
    calendar: WorkCalendar, count: int = 40, seed: int = 2026, today: date | None = None,
    knowledge_dir: str | Path | None = None,
) -> list[dict[str, Any]]:
    """`count` synthetic records in the portal's sync format (their final state)."""
    return [life.record for life in demo_lives(calendar, count, seed, today, knowledge_dir)]


def fill_demo(
    storage: Storage, calendar: WorkCalendar, count: int = 40, seed: int = 2026, force: bool = False,
    today: date | None = None, knowledge_dir: str | Path | None = None,
) -> list[tuple[str, str, str]]:
    """Write the demo dossiers, each step of each life imported at its own moment; return a few
    (code, secret to type, status) to try. Running it again leaves stored dossiers as they are.

    Refuses (ValueError) a database holding other dossiers unless `force`.
    """
    stored = {r["code"] for r in storage.dossiers()}
    if not force and any(not code.startswith(DEMO_PREFIX) for code in stored):
        raise ValueError("this database holds real dossiers; use another --db (or --force)")
    lives = demo_lives(calendar, count, seed, today, knowledge_dir)
    for n, life in enumerate(lives, start=1):
        versions = life.stages if life.record["MaHoSo"] not in stored else life.stages[-1:]
        for moment, version in versions:
            result = import_records(storage, [(n, version)], now=moment, source="demo")
            if result.rejected:  # pragma: no cover - demo data is valid by construction
                raise ValueError(f"demo data rejected: {result.rejected[0]}")
    samples: list[tuple[str, str, str]] = []
    seen: set[int] = set()
    for life in lives:
        r = life.record
        status = int(r["TrangThaiHoSo"])
        if status in seen and len(samples) >= 3:
            continue
        seen.add(status)
        secret = r["MaTraCuu"] or f"{r['SoDienThoai'][-4:]} (4 số cuối SĐT)"
        samples.append((r["MaHoSo"], secret, STATUSES[status].official))
        if len(samples) >= 6:
            break
    return samples
