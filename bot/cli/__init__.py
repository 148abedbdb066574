"""The `tthc-bot` command line. Each feature registers its own sub-commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every feature's sub-commands."""
    from . import _ask as engine_cli
    from . import _console as console_cli
    from . import _dossiers as dossiers_cli
    from . import _guide as guide_cli
    from . import _kb as kb_cli
    from . import _ops as ops_cli

    parser = argparse.ArgumentParser(
        prog="tthc-bot",
        description="Chatbot for the administrative procedures and dossiers of an economic-zone / industrial-park management board.",
    )
    parser.add_argument("--version", action="version", version=f"tthc-bot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for feature in (engine_cli, kb_cli, dossiers_cli, guide_cli, ops_cli, console_cli):
        feature.register(sub)
    config = sub.add_parser("config", help="list every setting (environment variable), its value and meaning")
    config.set_defaults(func=_config)
    return parser


def _config(args: argparse.Namespace) -> int:
    from ..config import Settings

    for env, value, help_ in Settings.from_env().describe():
        print(f"{env:26} {value:24} {help_}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `tthc-bot` console script and `python -m bot`."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure:
            reconfigure(encoding="utf-8", errors="replace")
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
