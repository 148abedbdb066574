"""Import dossiers from the one-stop system (file or push), with the portal's sync field names.

Fields (unknown fields are ignored):
  MaHoSo (required), MaTTHC, TenTTHC, ChuHoSo, SoDienThoai, Email, NgayTiepNhan, NgayHenTra,
  NgayTra, TrangThaiHoSo (required, 1–10), PhongBanXuLy, NguoiXuLy, NoiDungBoSung, MaTraCuu,
  KenhThucHien (optional: 1 in person, 2 online, 3 by post), NhanThongBao (optional: 0 = send the
  applicant no notices at the phone or email on the record; bot/dossiers/_applicant.py).
Dates: yyyyMMddHHmmss, yyyyMMdd, ISO 8601 or dd/MM/yyyy [HH:mm[:ss]]; without an offset they are
Vietnam time (Asia/Ho_Chi_Minh).

Rows are written a few hundred to a transaction, with a pause between transactions, so a long
import never holds the database from the server; a bad row is reported and skipped, the good ones
are kept, and an import cut short keeps the transactions it finished (run it again: importing the
same data again changes nothing). A record changes only the fields it names: one with just MaHoSo,
TrangThaiHoSo and NgayTiepNhan keeps the stored secret, phone, procedure and department. A status
change is written to the history and queues one notification for each chat subscribed to that
dossier, and one to the applicant's phone (ZNS) or email when the installation sends those
(`applicant`), in the transaction of the change.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import logging
import re
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..core import CODE_CHARS_RE, VN_TZ, normalize_code, now_vn
from ..storage import Storage, from_iso, iso
from ._applicant import ApplicantChannels, parse_consent, queue_status_notices
from ._status import STATUSES

log = logging.getLogger("bot.dossiers")

FIELDS = (
    "MaHoSo", "MaTTHC", "TenTTHC", "ChuHoSo", "SoDienThoai", "Email", "NgayTiepNhan", "NgayHenTra",
    "NgayTra", "TrangThaiHoSo", "PhongBanXuLy", "NguoiXuLy", "NoiDungBoSung", "MaTraCuu", "KenhThucHien",
    "NhanThongBao",
)
_TEXT_FIELDS = {
    "MaTTHC": "procedure_code", "TenTTHC": "procedure_name", "ChuHoSo": "applicant", "Email": "email",
    "PhongBanXuLy": "department", "NguoiXuLy": "officer", "NoiDungBoSung": "supplement", "MaTraCuu": "secret",
}
_LIMITS = {"NoiDungBoSung": 4000, "TenTTHC": 1000, "ChuHoSo": 500}


class ReadError(Exception):
    """The file could not be read as a list of records (exit code 2)."""


class RowError(ValueError):
    """One row is invalid; the message says why, naming the field."""


@dataclass(frozen=True)
class Rejected:
    """A row that was not imported: its row number, its code if it had one, and why."""

    row: int
    code: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "code": self.code, "reason": self.reason}


@dataclass
class ImportResult:
    """Counts of an import, the rejected rows, and how many notifications were queued."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    notifications: int = 0
    status_changes: int = 0

    @property
    def ok(self) -> bool:
        return not self.rejected

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "rejected": [r.to_dict() for r in self.rejected],
            "notifications": self.notifications,
        }


# -- reading files ---------------------------------------------------------------------------


def read_file(path: str | Path) -> list[tuple[int, Any]]:
    """(row number, record) pairs from a CSV or JSON file; raises ReadError when it cannot be read.

    CSV row numbers are those a spreadsheet shows (the header is row 1); JSON row numbers count
    the items of the list from 1.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ReadError(f"cannot read {path}: {exc.strerror or exc}") from exc
    text = _decode(raw, path)
    stripped = text.lstrip()
    if path.suffix.lower() == ".json" or stripped.startswith(("[", "{")):
        return read_json(text, str(path))
    return read_csv(text, str(path))


def _decode(raw: bytes, path: Path) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(f"{path} is not UTF-8 text (save it as CSV UTF-8 or JSON): {exc.reason} at byte {exc.start}") from exc


def read_json(text: str, name: str = "data") -> list[tuple[int, Any]]:
    """Records from JSON: a list, or an object holding the list under data/records/items/dossiers."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReadError(f"{name} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc
    if isinstance(data, dict):
        for key in ("data", "records", "items", "dossiers", "HoSo", "DanhSachHoSo"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            if "MaHoSo" in data:
                data = [data]
    if not isinstance(data, list):
        raise ReadError(f"{name} must hold a JSON list of dossier records")
    return list(enumerate(data, start=1))


def read_csv(text: str, name: str = "data") -> list[tuple[int, Any]]:
    """Records from CSV with a header row of field names (comma, semicolon or tab separated)."""
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ReadError(f"{name} is empty: expected a header row with MaHoSo, TrangThaiHoSo, …")
    header = lines[0]
    delimiter = max(",;\t", key=header.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        fieldnames = [f.strip() for f in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise ReadError(f"{name}: the header row cannot be read: {exc}") from exc
    if "MaHoSo" not in fieldnames:
        raise ReadError(f"{name}: the header row must name the fields, including MaHoSo (found: {', '.join(fieldnames[:8])})")
    reader.fieldnames = fieldnames
    out: list[tuple[int, Any]] = []
    try:
        for i, row in enumerate(reader, start=2):
            if not any((v or "").strip() for k, v in row.items() if k is not None and isinstance(v, str)):
                continue
            out.append((i, {k: v for k, v in row.items() if k is not None}))
    except csv.Error as exc:
        raise ReadError(f"{name}: line {reader.line_num}: {exc}") from exc
    return out


# -- validating rows -------------------------------------------------------------------------

_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?$")
_DMY_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def parse_datetime(value: Any) -> datetime | None:
    """A portal date (yyyyMMddHHmmss, yyyyMMdd, ISO or dd/MM/yyyy [time]) in Vietnam time.

    Empty gives None; anything else unreadable raises ValueError.
    """
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(int(value))
    if not isinstance(value, str):
        raise ValueError("is not a date")
    text = value.strip()
    if not text:
        return None
    moment: datetime | None = None
    m = _COMPACT_RE.match(text)
    if m:
        y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
        moment = datetime(y, mo, d, h, mi, s)
    elif (m := _DMY_RE.match(text)) is not None:
        d, mo, y, h, mi, s = (int(g) if g else 0 for g in m.groups())
        moment = datetime(y, mo, d, h, mi, s)
    else:
        iso_text = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
        moment = datetime.fromisoformat(iso_text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    moment = moment.astimezone(VN_TZ)
    if not 1990 <= moment.year <= 2100:
        raise ValueError("is out of range")
    return moment


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise RowError("must be text")
    if isinstance(value, (int, float)):
        value = str(int(value)) if float(value).is_integer() else str(value)
    if not isinstance(value, str):
        raise RowError("must be text")
    text = unicodedata.normalize("NFC", value).strip()
    return text or None


def _field_text(raw: dict[str, Any], key: str) -> str | None:
    try:
        text = _text(raw.get(key))
    except RowError as exc:
        raise RowError(f"{key} {exc}") from None
    limit = _LIMITS.get(key, 300)
    if text and len(text) > limit:
        raise RowError(f"{key} is longer than {limit} characters")
    return text


def _field_date(raw: dict[str, Any], key: str) -> datetime | None:
    try:
        return parse_datetime(raw.get(key))
    except ValueError:
        raise RowError(f"{key} is not a date like 20260213093000 or 2026-02-13T09:30:00 (got {raw.get(key)!r})") from None


def _phone(value: str | None) -> str | None:
    if not value:
        return None
    digits = re.sub(r"[^\d+]", "", value)
    if len(re.sub(r"\D", "", digits)) < 4:
        raise RowError("SoDienThoai must have at least 4 digits")
    return digits


#: The stored field each portal field sets (a record that does not name a field leaves it as stored).
_STORED = {"NgayTiepNhan": "received_at", "NgayHenTra": "due_at", "NgayTra": "returned_at",
           "SoDienThoai": "phone", "KenhThucHien": "channel", "NhanThongBao": "consent", **_TEXT_FIELDS}


def validate(raw: Any, old: dict[str, Any] | None = None) -> dict[str, Any]:
    """A stored dossier record from one imported row, or RowError saying what is wrong.

    With `old` (the stored row of that code), a field the row does not name (no such key; an
    empty value is named, and clears it) keeps its stored value: a push of only MaHoSo,
    TrangThaiHoSo and NgayTiepNhan changes only those."""
    if not isinstance(raw, dict):
        raise RowError("is not a record of named fields")
    raw = {str(k).strip(): v for k, v in raw.items()}
    code_text = _field_text(raw, "MaHoSo")
    if not code_text:
        raise RowError("MaHoSo (the dossier code) is missing")
    code = normalize_code(code_text)
    if not CODE_CHARS_RE.match(code):
        raise RowError("MaHoSo may hold only letters, digits and . - _ / (3–64 characters)")
    status_raw = raw.get("TrangThaiHoSo")
    try:
        status = int(str(status_raw).strip()) if not isinstance(status_raw, bool) else -1
    except ValueError:
        status = -1
    if status not in STATUSES:
        raise RowError(f"TrangThaiHoSo must be a status code from 1 to 10 (got {status_raw!r})")
    kept = {name: old.get(name) for key, name in _STORED.items() if key not in raw} if old is not None else {}

    def date_of(key: str) -> datetime | None:
        name = _STORED[key]
        return from_iso(kept[name]) if name in kept else _field_date(raw, key)

    received = date_of("NgayTiepNhan")
    due = date_of("NgayHenTra")
    returned = date_of("NgayTra")
    if received is None and status != 1:
        raise RowError("NgayTiepNhan (the date received) is missing")
    if received and due and due < received:
        raise RowError("NgayHenTra (due) is before NgayTiepNhan (received)")
    if received and returned and returned < received:
        raise RowError("NgayTra (returned) is before NgayTiepNhan (received)")
    channel_raw = raw.get("KenhThucHien")
    channel: int | None = None
    if channel_raw not in (None, ""):
        try:
            channel = int(str(channel_raw).strip())
        except ValueError:
            channel = -1
        if channel not in (1, 2, 3):
            raise RowError(f"KenhThucHien must be 1 (in person), 2 (online) or 3 (post) (got {channel_raw!r})")
    record: dict[str, Any] = {
        "code": code,
        "status": status,
        "received_at": iso(received) if received else None,
        "due_at": iso(due) if due else None,
        "returned_at": iso(returned) if returned else None,
        "phone": _phone(_field_text(raw, "SoDienThoai")),
        "channel": channel,
    }
    if "NhanThongBao" in raw:
        try:
            record["consent"] = parse_consent(raw.get("NhanThongBao"))
        except ValueError as exc:
            raise RowError(str(exc)) from None
    for key, name in _TEXT_FIELDS.items():
        record[name] = _field_text(raw, key)
    record.update(kept)  # dates were read above, from the row or as kept
    if record.get("consent") is None:  # not said: left out, so fingerprints of older rows still hold
        record.pop("consent", None)
    record["fingerprint"] = fingerprint(record)
    return record


def fingerprint(record: dict[str, Any]) -> str:
    """A hash of every imported field, to tell an unchanged row from a changed one."""
    data = {k: v for k, v in sorted(record.items()) if k != "fingerprint"}
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


# -- upserting -------------------------------------------------------------------------------

#: Rows written in one transaction: a few milliseconds of work, so nobody waits longer for it.
BATCH = 200
#: The longest pause between two transactions of an import (it pauses as long as the last took).
MAX_PAUSE = 0.05


def import_records(
    storage: Storage,
    rows: Iterable[tuple[int, Any]],
    now: datetime | None = None,
    source: str = "import",
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
    applicant: ApplicantChannels | None = None,
) -> ImportResult:
    """Validate and upsert rows, `batch` rows to a transaction; return the counts and the
    rejected rows. Between transactions the importer pauses about as long as the last one
    took, so readers and writers of this process (the storage's lock) and of others (SQLite's
    write lock) get in: a long import slows the server, never stops it."""
    now = now or now_vn()
    result = ImportResult()
    pending = iter(enumerate(rows, start=1))
    done = 0
    while True:
        chunk = list(itertools.islice(pending, max(batch, 1)))
        if not chunk:
            break
        started = time.perf_counter()
        with storage.transaction():
            for _, (row_no, raw) in chunk:
                done += 1
                _import_row(storage, row_no, raw, now, source, result, applicant)
                if progress:
                    progress(done)
        if len(chunk) == batch:  # more may follow: let others in first
            time.sleep(min(max(time.perf_counter() - started, 0.001), MAX_PAUSE))
    log.info(
        "import from %s: %d added, %d changed, %d unchanged, %d rejected, %d notifications",
        source, result.added, result.changed, result.unchanged, len(result.rejected), result.notifications,
    )
    return result


def _import_row(storage: Storage, row_no: int, raw: Any, now: datetime, source: str, result: ImportResult,
                applicant: ApplicantChannels | None = None) -> None:
    code = ""
    if isinstance(raw, dict):
        named = next((v for k, v in raw.items() if str(k).strip() == "MaHoSo"), None)
        code = normalize_code(str(named or ""))[:64]
    try:
        with storage.transaction():
            old = storage.get_dossier(code) if code else None
            record = validate(raw, old)
            _upsert(storage, record, old, now, source, result, applicant)
    except RowError as exc:
        result.rejected.append(Rejected(row_no, code, str(exc)))
    except Exception as exc:  # a database problem with one row must not lose the others
        log.exception("import: row %s (%s) failed", row_no, code)
        result.rejected.append(Rejected(row_no, code, f"could not be stored ({type(exc).__name__})"))


def _upsert(storage: Storage, record: dict[str, Any], old: dict[str, Any] | None, now: datetime, source: str,
            result: ImportResult, applicant: ApplicantChannels | None = None) -> None:
    code = record["code"]
    if old is not None and old["fingerprint"] == record["fingerprint"]:
        result.unchanged += 1
        return
    storage.save_dossier(record, now)
    old_status = old["status"] if old else None
    if old is None:
        result.added += 1
    else:
        result.changed += 1
    if old_status != record["status"]:
        history_id = storage.add_status(code, old_status, record["status"], now, source)
        if old is not None:
            result.status_changes += 1
            result.notifications += queue_status_notices(storage, record, history_id, now, applicant)
    _track_supplement(storage, old, record, now)


def _track_supplement(storage: Storage, old: dict[str, Any] | None, new: dict[str, Any], now: datetime) -> None:
    """Record a supplement request when a dossier enters status 5 (or its request changes);
    when the due date moves afterwards, record the new due date on that request."""
    content = new.get("supplement")
    entering = new["status"] == 5 and (old is None or old["status"] != 5 or old.get("supplement") != content)
    if entering:
        old_due = old["due_at"] if old else None
        storage.add_supplement(new["code"], now, content or "", old_due, new["due_at"])
        return
    if old is not None and old["due_at"] != new["due_at"]:
        requests = storage.supplements(new["code"])
        if requests:
            last = requests[-1]
            if last["new_due_at"] in (None, last["old_due_at"]):
                storage.set_supplement_due(last["id"], new["due_at"])
