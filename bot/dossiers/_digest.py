"""The staff digest: dossiers due within N working days and overdue ones, by department.

Every working day at TTHC_DIGEST_TIME the digest is queued in the outbox for each staff chat
(TTHC_STAFF_CHATS) under the key `digest:<day>:<channel>:<chat>`, so it goes out once a day
however often the scheduler wakes or restarts; the Notifier delivers it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from ..core import Reply, now_vn, to_vn
from ..storage import Storage, from_iso
from ..workdays import WorkCalendar
from ._notify import reply_to_payload
from ._status import ACTIVE

log = logging.getLogger("bot.dossiers")
NO_DEPARTMENT = "(chưa phân công)"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class DigestItem:
    """One dossier in the digest."""

    code: str
    procedure: str
    due: date
    working_days: int  # left (due soon) or late (overdue)
    officer: str | None


@dataclass
class DepartmentDigest:
    """A department's dossiers due soon and overdue."""

    department: str
    due_soon: list[DigestItem] = field(default_factory=list)
    overdue: list[DigestItem] = field(default_factory=list)


@dataclass
class Digest:
    """The digest for one day."""

    day: date
    days: int
    departments: list[DepartmentDigest]

    @property
    def total_due_soon(self) -> int:
        return sum(len(d.due_soon) for d in self.departments)

    @property
    def total_overdue(self) -> int:
        return sum(len(d.overdue) for d in self.departments)


def build_digest(storage: Storage, calendar: WorkCalendar, day: date, days: int) -> Digest:
    """Dossiers being worked on (statuses 1, 2, 4) that are overdue on `day` or due within
    `days` working days of it, grouped by department (most overdue first)."""
    groups: dict[str, DepartmentDigest] = {}
    for row in storage.dossiers(ACTIVE):
        due_at = from_iso(row.get("due_at"))
        if due_at is None:
            continue
        due = to_vn(due_at).date()
        dept = row.get("department") or NO_DEPARTMENT
        procedure = row.get("procedure_code") or _short(row.get("procedure_name") or "", 40)
        if due < day:
            item = DigestItem(row["code"], procedure, due, calendar.working_days_between(due, day), row.get("officer"))
            groups.setdefault(dept, DepartmentDigest(dept)).overdue.append(item)
        else:
            left = calendar.working_days_between(day, due)
            if left <= days:
                item = DigestItem(row["code"], procedure, due, left, row.get("officer"))
                groups.setdefault(dept, DepartmentDigest(dept)).due_soon.append(item)
    for g in groups.values():
        g.overdue.sort(key=lambda i: (i.due, i.code))
        g.due_soon.sort(key=lambda i: (i.due, i.code))
    ordered = sorted(groups.values(), key=lambda g: (-len(g.overdue), -len(g.due_soon), g.department))
    return Digest(day, days, ordered)


def digest_text(digest: Digest) -> str:
    """The digest as a staff message (Vietnamese)."""
    head = (
        f"Hồ sơ cần chú ý ngày {digest.day.strftime('%d/%m/%Y')}: "
        f"{digest.total_overdue} quá hạn, {digest.total_due_soon} đến hạn trong {digest.days} ngày làm việc."
    )
    if not digest.departments:
        return head + "\nKhông có hồ sơ nào quá hạn hoặc sắp đến hạn."
    lines = [head]
    for g in digest.departments:
        lines.append("")
        lines.append(f"▪ {g.department}: {len(g.overdue)} quá hạn, {len(g.due_soon)} sắp đến hạn")
        for i in g.overdue:
            who = f" — {i.officer}" if i.officer else ""
            late = f"quá {i.working_days} ngày làm việc" if i.working_days else "quá hạn"
            lines.append(f"  ✗ {i.code} [{i.procedure}] {late}, hạn {i.due.strftime('%d/%m')}{who}")
        for i in g.due_soon:
            who = f" — {i.officer}" if i.officer else ""
            left = "hạn hôm nay" if i.working_days == 0 else f"còn {i.working_days} ngày làm việc"
            lines.append(f"  • {i.code} [{i.procedure}] {left}, hạn {i.due.strftime('%d/%m')}{who}")
    return "\n".join(lines)


def parse_staff_chats(text: str) -> list[tuple[str, str]]:
    """(channel, chat_id) pairs from "telegram:-100123, telegram:456"; a bare id means telegram."""
    out: list[tuple[str, str]] = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        channel, sep, chat = part.partition(":")
        if not sep:
            channel, chat = "telegram", part
        channel, chat = channel.strip().lower(), chat.strip()
        if channel and chat and (channel, chat) not in out:
            out.append((channel, chat))
    return out


def parse_digest_time(text: str) -> time:
    """"08:00" → 08:00; ValueError for anything else."""
    try:
        hour, minute = (int(x) for x in text.strip().split(":"))
        return time(hour, minute)
    except (ValueError, TypeError):
        raise ValueError(f"TTHC_DIGEST_TIME must be HH:MM, e.g. 08:00 (got {text!r})") from None


def queue_digest(
    storage: Storage,
    calendar: WorkCalendar,
    chats: list[tuple[str, str]],
    now: datetime,
    days: int,
    force: bool = False,
) -> int:
    """Queue today's digest for each staff chat (once per day and chat); return how many were
    queued now. Nothing on a day off unless `force`."""
    now = to_vn(now)
    day = now.date()
    if not force and not calendar.is_working_day(day):
        return 0
    reply = Reply(digest_text(build_digest(storage, calendar, day, days)))
    queued = 0
    for channel, chat in chats:
        if storage.enqueue(f"digest:{day.isoformat()}:{channel}:{chat}", channel, chat, reply_to_payload(reply), now):
            queued += 1
    if queued:
        log.info("digest for %s queued for %d staff chat(s)", day.isoformat(), queued)
    return queued


class DigestScheduler:
    """Queues the digest every working day once the configured time has passed."""

    def __init__(
        self,
        storage: Storage,
        calendar: WorkCalendar,
        chats: list[tuple[str, str]],
        at: time,
        days: int,
        clock: Callable[[], datetime] = now_vn,
    ) -> None:
        self.storage = storage
        self.calendar = calendar
        self.chats = chats
        self.at = at
        self.days = days
        self.clock = clock

    @classmethod
    def from_settings(cls, storage: Storage, settings: Any, clock: Callable[[], datetime] = now_vn) -> DigestScheduler:
        """A scheduler configured by TTHC_STAFF_CHATS, TTHC_DIGEST_TIME and TTHC_DIGEST_DAYS."""
        from ..workdays import calendar_for_settings

        return cls(storage, calendar_for_settings(settings), parse_staff_chats(settings.staff_chats),
                   parse_digest_time(settings.digest_time), settings.digest_days, clock)

    def tick(self) -> int:
        """Queue today's digest when it is time; return how many were queued (0 mostly)."""
        now = to_vn(self.clock())
        if not self.chats or now.time() < self.at:
            return 0
        return queue_digest(self.storage, self.calendar, self.chats, now, self.days)

    async def run(self, interval: float = 60.0, stop: asyncio.Event | None = None,
                  leading: Callable[[], bool] | None = None) -> None:
        """Tick every `interval` seconds until `stop` is set; with several replicas only while
        `leading()` (the leader queues the digest: bot/leader.py)."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                if leading is None or leading():
                    self.tick()
            except Exception:
                log.exception("digest scheduler tick failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except TimeoutError:
                pass
