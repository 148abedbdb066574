"""Clearly synthetic dossiers, so anyone can try lookups, notifications, the digest and reports.

Every demo dossier has the made-up agency code H99.99 (no province has it), an applicant named
"… (DỮ LIỆU MẪU)", a 0900 000 xxx phone number and a department marked "(mẫu)".
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ..kb import TimeLimit, check_knowledge
from ..storage import Storage
from ..workdays import VN_TZ, WorkCalendar, now_vn
from ._import import import_records
from ._status import STATUSES

DEMO_PREFIX = "H99.99-"
DEPARTMENTS = (
    "Phòng Quản lý Lao động (mẫu)",
    "Phòng Quản lý Đầu tư (mẫu)",
    "Phòng Quản lý Quy hoạch và Xây dựng (mẫu)",
    "Phòng Quản lý Môi trường (mẫu)",
)
OFFICERS = ("Cán bộ Mẫu An", "Cán bộ Mẫu Bình", "Cán bộ Mẫu Chi", "Cán bộ Mẫu Dũng", "Cán bộ Mẫu Giang")
FALLBACK_PROCEDURES = (
    ("1.014199", "Cấp giấy phép lao động đối với người lao động nước ngoài làm việc tại Việt Nam", TimeLimit(10, "working_days", "10 ngày làm việc")),
    ("1.009664", "Thủ tục mẫu về đầu tư (dữ liệu mẫu)", TimeLimit(15, "working_days", "15 ngày làm việc")),
)
SUPPLEMENTS = (
    "Bản sao hộ chiếu còn giá trị (chứng thực) của người lao động.",
    "Giấy chứng nhận sức khỏe do cơ sở y tế có thẩm quyền cấp trong 12 tháng.",
    "Văn bản chứng minh kinh nghiệm làm việc, có dịch ra tiếng Việt.",
    "Bản vẽ tổng mặt bằng có chữ ký, đóng dấu của đơn vị tư vấn.",
)
# (status, weight); returned results (10) and overdue ones are set up below.
STATUS_MIX = ((1, 2), (2, 3), (4, 12), (5, 4), (6, 1), (3, 1), (7, 1), (8, 1), (9, 4), (10, 11))


def _procedures(knowledge_dir: str | Path | None) -> list[tuple[str, str, TimeLimit]]:
    if knowledge_dir:
        kb, _ = check_knowledge(knowledge_dir)
        found = [(p.code, p.name, p.cases[0].time) for p in kb.procedures if p.cases and p.cases[0].time.known]
        if found:
            return found
    return list(FALLBACK_PROCEDURES)


def demo_records(
    calendar: WorkCalendar, count: int = 40, seed: int = 2026, today: date | None = None,
    knowledge_dir: str | Path | None = None,
) -> list[dict[str, Any]]:
    """`count` synthetic records in the portal's sync format, received over the last ~40 working days."""
    rng = random.Random(seed)
    today = today or now_vn().date()
    procedures = _procedures(knowledge_dir)
    statuses = [s for s, w in STATUS_MIX for _ in range(w)]
    out: list[dict[str, Any]] = []
    for i in range(1, count + 1):
        code, name, limit = procedures[(i - 1) % len(procedures)]
        status = statuses[(i - 1) % len(statuses)] if i > 4 else (4, 4, 5, 10)[i - 1]
        # Dossiers still being worked on were mostly received within their time limit.
        span = max(int(limit.value or 2) - 1, 1) if status in (1, 2, 4) and limit.unit == "working_days" else 40
        received_day = calendar.add_working_days(today, -rng.randint(0, span))
        received = datetime.combine(received_day, time(rng.randint(8, 16), rng.choice((0, 15, 30, 45))), tzinfo=VN_TZ)
        due = calendar.due_date(received, limit)
        if i == 2:  # one clearly overdue dossier
            received = datetime.combine(calendar.add_working_days(today, -25), time(9, 0), tzinfo=VN_TZ)
            due = datetime.combine(calendar.add_working_days(today, -3), time(17, 0), tzinfo=VN_TZ)
        if i == 1:  # one due soon
            received = datetime.combine(calendar.add_working_days(today, -8), time(9, 30), tzinfo=VN_TZ)
            due = datetime.combine(calendar.add_working_days(today, 2), time(17, 0), tzinfo=VN_TZ)
        returned = None
        if status == 10:
            shift = rng.choice((-3, -1, 0, 0, 0, 2))
            returned_day = calendar.add_working_days(due.date(), shift)
            returned = datetime.combine(min(returned_day, today), time(15, 0), tzinfo=VN_TZ)
            if returned < received:
                returned = received + timedelta(hours=2)
        record: dict[str, Any] = {
            "MaHoSo": f"{DEMO_PREFIX}{received.strftime('%y%m%d')}-{i:04d}",
            "MaTTHC": code,
            "TenTTHC": name,
            "ChuHoSo": f"Công ty TNHH Mẫu Số {i:02d} (DỮ LIỆU MẪU)",
            "SoDienThoai": f"0900000{i:03d}",
            "Email": f"demo{i:02d}@example.invalid",
            "NgayTiepNhan": received.strftime("%Y%m%d%H%M%S") if status != 1 else "",
            "NgayHenTra": due.strftime("%Y%m%d%H%M%S") if status not in (1, 3) else "",
            "NgayTra": returned.strftime("%Y%m%d%H%M%S") if returned else "",
            "TrangThaiHoSo": status,
            "PhongBanXuLy": DEPARTMENTS[rng.randrange(len(DEPARTMENTS))] if status != 1 else "",
            "NguoiXuLy": OFFICERS[rng.randrange(len(OFFICERS))] if status not in (1, 3) else "",
            "NoiDungBoSung": SUPPLEMENTS[rng.randrange(len(SUPPLEMENTS))] if status == 5 else "",
            "MaTraCuu": "" if i % 4 == 0 else f"DEMO{i:02d}",
            "KenhThucHien": rng.choice((1, 2, 2, 2, 3)),
        }
        out.append(record)
    return out


def fill_demo(
    storage: Storage, calendar: WorkCalendar, count: int = 40, seed: int = 2026, force: bool = False,
    today: date | None = None, knowledge_dir: str | Path | None = None,
) -> list[tuple[str, str, str]]:
    """Write the demo dossiers; return a few (code, secret to type, status) to try.

    Refuses (ValueError) a database holding other dossiers unless `force`.
    """
    if not force and any(not r["code"].startswith(DEMO_PREFIX) for r in storage.dossiers()):
        raise ValueError("this database holds real dossiers; use another --db (or --force)")
    records = demo_records(calendar, count, seed, today, knowledge_dir)
    result = import_records(storage, enumerate(records, start=1), source="demo")
    if result.rejected:  # pragma: no cover - demo data is valid by construction
        raise ValueError(f"demo data rejected: {result.rejected[0]}")
    samples: list[tuple[str, str, str]] = []
    seen: set[int] = set()
    for r in records:
        status = int(r["TrangThaiHoSo"])
        if status in seen and len(samples) >= 3:
            continue
        seen.add(status)
        secret = r["MaTraCuu"] or f"{r['SoDienThoai'][-4:]} (4 số cuối SĐT)"
        samples.append((r["MaHoSo"], secret, STATUSES[status].official))
        if len(samples) >= 6:
            break
    return samples
