"""The clock: Vietnam time, and timestamps as stored: ISO 8601 text in Vietnam time
(`2026-02-13T09:30:00+07:00`), so they sort and compare as text, in SQLite and in PostgreSQL
(whose text columns compare byte by byte)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

#: Vietnam keeps +07:00 all year (no daylight saving), so a fixed offset is exact.
VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")


def now_vn() -> datetime:
    """The current time in Vietnam."""
    return datetime.now(VN_TZ)


def to_vn(moment: datetime) -> datetime:
    """`moment` in Vietnam time; a naive datetime is taken to be Vietnam time already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=VN_TZ)
    return moment.astimezone(VN_TZ)


def iso(moment: datetime) -> str:
    """`moment` as stored: ISO 8601 in Vietnam time to the second; naive means Vietnam time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    return moment.astimezone(VN_TZ).isoformat(timespec="seconds")


def iso_us(moment: datetime) -> str:
    """`moment` to the microsecond (outbox leases: a second is too coarse for short leases)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    return moment.astimezone(VN_TZ).isoformat(timespec="microseconds")


def from_iso(text: str | None) -> datetime | None:
    """A stored timestamp back as an aware datetime (None stays None)."""
    if not text:
        return None
    return datetime.fromisoformat(text)
