"""`tthc-bot kb …`: check, export, import and diff the knowledge base."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from ..kb._loader import check_knowledge


def register(sub: Any) -> None:
    kb = sub.add_parser("kb", help="check, export and import the knowledge base")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="KB_COMMAND", required=True)

    check = kb_sub.add_parser("check", help="validate a knowledge directory; exit 1 listing every problem")
    check.add_argument("dir", nargs="?", help="knowledge directory (default: TTHC_KNOWLEDGE or the bundled one)")
    check.set_defaults(func=_check)

    export = kb_sub.add_parser("export", help="print the whole knowledge base")
    export.add_argument("dir", nargs="?", help="knowledge directory (default: TTHC_KNOWLEDGE or the bundled one)")
    export.add_argument("--json", action="store_true", required=True, help="as one JSON list of procedures")
    export.set_defaults(func=_export)

    imp = kb_sub.add_parser("import-dvc", help="turn national-portal records (JSON lines) into YAML drafts")
    imp.add_argument("file", help="records, one JSON object per line (crawled pages or the portal's JSON)")
    imp.add_argument("--code", action="append", default=[], help="only this procedure code (repeatable)")
    imp.add_argument("--out", default="drafts", help="directory for the YAML drafts (default: drafts)")
    imp.set_defaults(func=_import_dvc)

    diff = kb_sub.add_parser(
        "diff", help="compare the knowledge with (newer) portal records; exit 1 on an unexplained difference"
    )
    diff.add_argument("file", help="records, one JSON object per line (crawled pages or the portal's JSON)")
    diff.add_argument("dir", nargs="?", help="knowledge directory (default: TTHC_KNOWLEDGE or the bundled one)")
    diff.add_argument("--code", action="append", default=[], help="only this procedure code (repeatable)")
    diff.add_argument("--explained", action="store_true", help="also list the differences already explained")
    diff.add_argument(
        "--date", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
        help="the date of records that carry none (the day they were copied); older records are not compared",
    )
    diff.set_defaults(func=_diff)

    learn = kb_sub.add_parser("learn", help="add a question as an example of a procedure (validated); reload to use it")
    learn.add_argument("question", help="the question as people ask it, in quotes")
    learn.add_argument("code", help="the procedure's national code, e.g. 1.009664")
    learn.add_argument("dir", nargs="?", help="knowledge directory (default: TTHC_KNOWLEDGE or the bundled one)")
    learn.set_defaults(func=_learn)


def _learn(args: argparse.Namespace) -> int:
    from ..kb._learn import learn_example

    result = learn_example(_dir(args), args.question, args.code)
    print(result.message, file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def _dir(args: argparse.Namespace) -> Path:
    from ..config import Settings

    return Path(args.dir) if args.dir else Settings.from_env().knowledge_dir


def _check(args: argparse.Namespace) -> int:
    root = _dir(args)
    kb, problems = check_knowledge(root)
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        print(f"{len(problems)} problem(s) in {root}", file=sys.stderr)
        return 1
    cases = sum(len(p.cases) for p in kb.procedures)
    docs = sum(len(c.documents) for p in kb.procedures for c in p.cases)
    levels = Counter(p.online_level for p in kb.procedures)
    print(f"OK {root}")
    print(f"procedures {len(kb.procedures)}  cases {cases}  documents {docs}")
    print("online level: " + ", ".join(f"{k} {v}" for k, v in sorted(levels.items())))
    if kb.roadmap is not None:
        print(f"roadmap {len(kb.roadmap.questions)} questions  {len(kb.roadmap.steps)} steps")
    print(f"glossary {len(kb.glossary)}  faq {len(kb.faq)}  board {'example' if kb.board and kb.board.example else 'yes' if kb.board else 'no'}")
    if kb.elsewhere:
        print(f"handled elsewhere {len(kb.elsewhere)} (other agencies' procedures)")
    return 0


def _export(args: argparse.Namespace) -> int:
    root = _dir(args)
    kb, problems = check_knowledge(root)
    for p in problems:
        print(p, file=sys.stderr)
    json.dump([p.to_dict() for p in kb.procedures], sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 1 if problems else 0


def _import_dvc(args: argparse.Namespace) -> int:
    from ..kb._drafts import run_import

    return run_import(Path(args.file), codes=args.code, out=Path(args.out))


def _diff(args: argparse.Namespace) -> int:
    from ..kb._diff import run_diff

    return run_diff(Path(args.file), _dir(args), codes=args.code, show_explained=args.explained, undated=args.date)
