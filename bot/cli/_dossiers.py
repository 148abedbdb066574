"""`tthc-bot dossiers …`, `due`, `report`, `demo-data`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, time
from typing import Any, TextIO

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
UNITS_VI = {"working_days": "ngày làm việc", "days": "ngày", "months": "tháng"}


def register(sub: Any) -> None:
    """Register the dossier commands."""
    dossiers = sub.add_parser("dossiers", help="dossiers from the one-stop system: import, digest")
    dsub = dossiers.add_subparsers(dest="dossiers_command", metavar="ACTION")
    imp = dsub.add_parser(
        "import",
        help="import dossiers from a CSV or JSON file with the portal's sync fields (MaHoSo, TrangThaiHoSo, …)",
        description="Import (upsert) dossiers. Exit 0 when every row was imported, 1 when some were rejected, 2 when the file could not be read.",
    )
    imp.add_argument("file", help="CSV (header row of field names) or JSON (a list of records)")
    imp.add_argument("--db", help="database file (default: TTHC_DB)")
    imp.add_argument("--json", action="store_true", help="print the result as JSON")
    imp.set_defaults(func=_import)

    digest = dsub.add_parser("digest", help="print the staff digest (due soon and overdue, by department), or queue it")
    digest.add_argument("--date", help="the day of the digest (default: today)")
    digest.add_argument("--days", type=int, help="due within this many working days (default: TTHC_DIGEST_DAYS)")
    digest.add_argument("--queue", action="store_true", help="queue it for the staff chats (TTHC_STAFF_CHATS) instead of printing")
    digest.add_argument("--db", help="database file (default: TTHC_DB)")
    digest.set_defaults(func=_digest)

    outbox = dsub.add_parser("outbox", help="how many notifications are pending, sent or given up")
    outbox.add_argument("--db", help="database file (default: TTHC_DB)")
    outbox.set_defaults(func=_outbox)

    def _help(args: argparse.Namespace) -> int:
        dossiers.print_help()
        return 2

    dossiers.set_defaults(func=_help)

    due = sub.add_parser(
        "due",
        help="when will the result be due? a procedure's time limit in working days from a date",
        description="Print the due date for each case of a procedure, counting working days (weekends, public holidays, Tết and the days the government moves are skipped).",
    )
    due.add_argument("code", help="the procedure's national code, e.g. 1.014199")
    due.add_argument("--from", dest="start", help="the day the dossier is received (default: today), e.g. 2026-02-13 or 13/02/2026")
    due.set_defaults(func=_due)

    report = sub.add_parser("report", help="figures for a period: received, finished early / on time / late, paused, supplements, by department and officer")
    report.add_argument("--from", dest="start", help="first day (default: the first of this month)")
    report.add_argument("--to", dest="end", help="last day (default: today)")
    report.add_argument("--json", action="store_true", help="print the figures as JSON")
    report.add_argument("--db", help="database file (default: TTHC_DB)")
    report.set_defaults(func=_report)

    demo = sub.add_parser("demo-data", help="fill a database with clearly synthetic dossiers to try the flows")
    demo.add_argument("--db", help="database file (default: TTHC_DB)")
    demo.add_argument("--count", type=int, default=40, help="how many dossiers (default 40)")
    demo.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    demo.add_argument("--force", action="store_true", help="also write into a database that holds real dossiers")
    demo.set_defaults(func=_demo)


# -- helpers ---------------------------------------------------------------------------------


def parse_day(text: str) -> date:
    """A day from 2026-02-13 or 13/02/2026; ValueError otherwise."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        raise ValueError(f"'{text}' is not a date like 2026-02-13 or 13/02/2026") from None


def fmt_day(day: date) -> str:
    """'Thứ Sáu 13/02/2026'."""
    return f"{WEEKDAYS_VI[day.weekday()]} {day.strftime('%d/%m/%Y')}"


def _settings() -> Any:
    from ..config import Settings

    return Settings.from_env()


def _storage(args: argparse.Namespace, settings: Any) -> Any:
    from ..storage import Storage

    return Storage(args.db or settings.db)


def _today() -> date:
    from ..core import now_vn

    return now_vn().date()


class Progress:
    """A small progress bar on a terminal (nothing when the output is not one)."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, label: str = "importing", min_total: int = 500) -> None:
        self.total = total
        self.stream = stream
        self.label = label
        self.on = total >= min_total and bool(getattr(stream, "isatty", lambda: False)())
        self._last = -1

    def __call__(self, done: int) -> None:
        if not self.on:
            return
        pct = done * 100 // max(self.total, 1)
        if pct == self._last and done != self.total:
            return
        self._last = pct
        filled = pct * 30 // 100
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {done}/{self.total}")
        if done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


# -- commands --------------------------------------------------------------------------------


def _import(args: argparse.Namespace) -> int:
    from ..dossiers._import import ReadError, import_records, read_file

    settings = _settings()
    try:
        rows = read_file(args.file)
    except ReadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from ..channels import applicant_channels
    from ..dossiers._applicant import ApplicantChannels

    try:
        applicant = applicant_channels(settings)
    except ValueError as exc:
        print(f"warning: no notices to the applicant's phone or email: {exc}", file=sys.stderr)
        applicant = ApplicantChannels()
    with _storage(args, settings) as storage:
        result = import_records(storage, rows, source="import", progress=Progress(len(rows)), applicant=applicant)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(
            f"{args.file}: {result.added} added, {result.changed} changed, "
            f"{result.unchanged} unchanged, {len(result.rejected)} rejected"
        )
        if result.notifications:
            print(f"{result.notifications} notification(s) queued for subscribers")
        for r in result.rejected:
            print(f"  rejected row {r.row} {r.code or '(no code)'}: {r.reason}")
    return 0 if result.ok else 1


def _due(args: argparse.Namespace) -> int:
    from ..core import VN_TZ
    from ..kb import check_knowledge
    from ..workdays import CalendarError, calendar_for_settings

    settings = _settings()
    try:
        start = parse_day(args.start) if args.start else _today()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    kb, problems = check_knowledge(settings.knowledge_dir)  # other files' problems do not matter here
    try:
        calendar = calendar_for_settings(settings)
    except CalendarError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    code = args.code.strip()
    procedure = kb.procedure(code)
    if procedure is None:
        known = ", ".join(p.code for p in kb.procedures)
        print(f"error: no procedure {code} in {settings.knowledge_dir} (known: {known or 'none'})", file=sys.stderr)
        for problem in problems:
            if problem.entry == code:
                print(f"  {problem}", file=sys.stderr)
        return 1
    received = datetime.combine(start, time(8, 0), tzinfo=VN_TZ)
    print(f"{procedure.code} {procedure.name}")
    print(f"Nộp / tiếp nhận: {fmt_day(start)}" + ("" if calendar.is_working_day(start) else " (ngày nghỉ)"))
    for case in procedure.cases:
        label = f"{case.name}: " if len(procedure.cases) > 1 else ""
        if case.time.value is None or case.time.unit is None:
            print(f"- {label}không có thời hạn cố định ({case.time.text})")
            continue
        due = calendar.due_date(received, case.time).date()
        value = int(case.time.value) if float(case.time.value).is_integer() else case.time.value
        print(f"- {label}{value} {UNITS_VI[case.time.unit]} → hẹn trả {fmt_day(due)}")
        off = calendar.days_off_between(start, due)
        if off:
            print("  Ngày nghỉ trong khoảng này: " + "; ".join(f"{d.strftime('%d/%m')} {name}" for d, name in off))
    return 0


def _digest(args: argparse.Namespace) -> int:
    from ..core import VN_TZ, now_vn
    from ..dossiers._digest import build_digest, digest_text, parse_staff_chats, queue_digest
    from ..workdays import calendar_for_settings

    settings = _settings()
    day = parse_day(args.date) if args.date else _today()
    days = args.days if args.days is not None else settings.digest_days
    calendar = calendar_for_settings(settings)
    with _storage(args, settings) as storage:
        if args.queue:
            chats = parse_staff_chats(settings.staff_chats)
            if not chats:
                print("error: no staff chats configured (TTHC_STAFF_CHATS)", file=sys.stderr)
                return 2
            now = datetime.combine(day, now_vn().time(), tzinfo=VN_TZ)
            n = queue_digest(storage, calendar, chats, now, days, force=True)
            print(f"{n} digest(s) queued")
            return 0
        print(digest_text(build_digest(storage, calendar, day, days)))
    return 0


def _outbox(args: argparse.Namespace) -> int:
    settings = _settings()
    from datetime import timedelta

    from ..core import now_vn

    with _storage(args, settings) as storage:
        counts = storage.outbox_counts()
        deliveries = storage.delivery_counts(since=now_vn() - timedelta(days=7))
    for state in ("pending", "sending", "sent", "dead"):
        print(f"{state:8} {counts.get(state, 0)}")
    if deliveries:
        print("status notices, last 7 days (channel, result, error code: attempts):")
        for d in deliveries:
            print(f"  {d['channel']:9} {d['result']:8} {d['error_code'] or '-':>6}  {d['n']}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from ..dossiers._report import build_report, report_text

    settings = _settings()
    try:
        end = parse_day(args.end) if args.end else _today()
        start = parse_day(args.start) if args.start else end.replace(day=1)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if end < start:
        print("error: --to is before --from", file=sys.stderr)
        return 2
    with _storage(args, settings) as storage:
        report = build_report(storage, start, end)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(report_text(report))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from ..dossiers._demo import fill_demo
    from ..workdays import calendar_for_settings

    settings = _settings()
    calendar = calendar_for_settings(settings)
    with _storage(args, settings) as storage:
        try:
            samples = fill_demo(storage, calendar, count=args.count, seed=args.seed, force=args.force,
                                knowledge_dir=settings.knowledge_dir)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    print(f"{args.count} synthetic dossiers written to {args.db or settings.db}. Try these:")
    for code, secret, status_name in samples:
        print(f"  {code}  mã tra cứu {secret}  ({status_name})")
    return 0
