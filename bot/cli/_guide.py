"""`tthc-bot roadmap`, `tthc-bot qr`, `tthc-bot report questions`: the guide's command-line faces."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    roadmap = sub.add_parser("roadmap", help="print the default investor roadmap, or write its picture (PNG)")
    roadmap.add_argument("--png", metavar="FILE", help="write the roadmap picture to FILE instead of printing it")
    roadmap.add_argument("--lang", choices=("vi", "en"), default="vi", help="language (default: vi)")
    roadmap.add_argument("--answers", metavar="DIGITS", default="",
                         help="answers to the roadmap questions as option numbers from 0, in order (default: the defaults)")
    roadmap.set_defaults(func=_roadmap)

    qr = sub.add_parser("qr", help="write QR codes (PNG) that open the bot on Telegram, Zalo and the web, for the board and each procedure")
    qr.add_argument("--out", default="qr", help="directory for the PNG files and index.csv (default: qr)")
    qr.add_argument("--code", action="append", default=[], help="only this procedure (repeatable; default: all)")
    qr.add_argument("--lang", choices=("vi", "en"), default="vi", help="language of the captions (default: vi)")
    qr.add_argument("--telegram", metavar="USERNAME", help="the bot's Telegram username (default: TELEGRAM_BOT_USERNAME)")
    qr.add_argument("--zalo", metavar="LINK", help="the Zalo OA's link (default: ZALO_OA_LINK or https://zalo.me/<ZALO_OA_ID>)")
    qr.add_argument("--web", metavar="URL", help="the web chat's address (default: TTHC_PUBLIC_URL)")
    qr.set_defaults(func=_qr)
    register_report(sub)


def _knowledge() -> Any:
    from ..config import Settings
    from ..kb import KnowledgeError, load_knowledge

    settings = Settings.from_env()
    try:
        return load_knowledge(settings.knowledge_dir)
    except KnowledgeError as exc:
        print(f"The knowledge in {settings.knowledge_dir} has problems:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def _roadmap(args: argparse.Namespace) -> int:
    from ..guide._picture import fonts_found
    from ..guide._roadmap import RoadmapGuide, roadmap_text

    guide = RoadmapGuide(_knowledge())
    digits = args.answers.strip()
    plan = guide.plan(digits, args.lang)
    if plan is None:
        print(f"--answers {digits!r}: one digit per question, each an option number from 0", file=sys.stderr)
        return 2
    if args.png:
        out = Path(args.png)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(guide.png(digits, args.lang))
        print(f"{out}: {len(plan.steps)} steps, {plan.total_text()}")
        if not fonts_found():
            print("warning: DejaVu Sans not found (apt-get install fonts-dejavu-core): some letters may be missing",
                  file=sys.stderr)
        return 0
    print(roadmap_text(plan))
    return 0


def _qr(args: argparse.Namespace) -> int:
    import dataclasses

    from ..config import Settings
    from ..guide._qr import write_codes

    settings = Settings.from_env()
    settings = dataclasses.replace(
        settings,
        telegram_bot_username=args.telegram if args.telegram is not None else settings.telegram_bot_username,
        zalo_oa_link=args.zalo if args.zalo is not None else settings.zalo_oa_link,
        public_url=args.web if args.web is not None else settings.public_url,
    )
    kb = _knowledge()
    unknown = [c for c in args.code if kb.procedure(c) is None]
    if unknown:
        print(f"unknown procedure code(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    if not (settings.telegram_bot_username or settings.zalo_oa_link or settings.zalo_oa_id or settings.public_url):
        print("no channel to link to: set TELEGRAM_BOT_USERNAME, ZALO_OA_LINK (or ZALO_OA_ID) or TTHC_PUBLIC_URL "
              "(or give --telegram, --zalo, --web)", file=sys.stderr)
        return 2
    out = Path(args.out)
    items = write_codes(kb, settings, out, args.code or None, args.lang)
    by_channel: dict[str, int] = {}
    for item in items:
        by_channel[item.channel] = by_channel.get(item.channel, 0) + 1
    print(f"{out}: {len(items)} QR codes (" + ", ".join(f"{c} {n}" for c, n in by_channel.items()) + "), index.csv")
    return 0


def register_report(sub: Any) -> None:
    """`tthc-bot report questions` and `tthc-bot report charts`, under the dossiers' `report`."""
    report = sub.choices.get("report")
    if report is None:
        return
    what = report.add_subparsers(dest="report_command", metavar="WHAT")
    questions = what.add_parser("questions", help="questions answered with low confidence and 👎 answers, grouped by similarity")
    questions.add_argument("--from", dest="start", help="first day (default: 30 days ago)")
    questions.add_argument("--to", dest="end", help="last day (default: today)")
    questions.add_argument("--json", action="store_true", help="as JSON")
    questions.add_argument("--db", help="database file (default: TTHC_DB)")
    questions.set_defaults(func=_report_questions)
    charts = what.add_parser("charts", help="PNG charts of dossier figures by month, for the staff report")
    charts.add_argument("--out", default="charts", help="directory for the PNG files (default: charts)")
    charts.add_argument("--months", type=int, default=6, help="how many months up to this one (default: 6)")
    charts.add_argument("--db", help="database file (default: TTHC_DB)")
    charts.set_defaults(func=_report_charts)


def _storage(db: str | None) -> Any:
    from ..config import Settings
    from ..storage import Storage, is_postgres

    path = db or Settings.from_env().db
    if not is_postgres(path) and not Path(path).exists():
        print(f"no database at {path} (set TTHC_DB): nothing recorded yet", file=sys.stderr)
        return None
    return Storage(path)


def _guesser() -> Any:
    """The bundled (or TTHC_KNOWLEDGE) matcher's best guesses for a question, or None without knowledge."""
    from ..config import Settings
    from ..engine import ProcedureIndex
    from ..kb import check_knowledge

    kb, _problems = check_knowledge(Settings.from_env().knowledge_dir)
    if not kb.procedures:
        return None
    index = ProcedureIndex(kb)
    return lambda text: [(m.procedure.code, m.procedure.name, m.score) for m in index.search(text, limit=3)]


def _report_questions(args: argparse.Namespace) -> int:
    import json
    from datetime import date, timedelta

    from ..core import now_vn
    from ..guide._questions import build_questions_report, questions_text

    today = now_vn().date()
    try:
        end = date.fromisoformat(args.end) if args.end else today
        start = date.fromisoformat(args.start) if args.start else end - timedelta(days=30)
    except ValueError as exc:
        print(f"dates are written YYYY-MM-DD: {exc}", file=sys.stderr)
        return 2
    storage = _storage(args.db)
    if storage is None:
        return 1
    with storage:
        report = build_questions_report(storage, start, end, guess=_guesser())
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(questions_text(report))
    return 0


def _report_charts(args: argparse.Namespace) -> int:
    from ..guide._charts import write_charts

    storage = _storage(args.db)
    if storage is None:
        return 1
    with storage:
        files = write_charts(storage, Path(args.out), max(1, min(args.months, 24)))
    for f in files:
        print(f)
    return 0
