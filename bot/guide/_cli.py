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
    from ._picture import fonts_found
    from ._roadmap import RoadmapGuide, roadmap_text

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
