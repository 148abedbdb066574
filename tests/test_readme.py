"""The README is a public interface: its commands and variables must be the real ones."""

from __future__ import annotations

import argparse
import re
from dataclasses import fields
from pathlib import Path

from bot.cli import build_parser
from bot.config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.add(f"{prefix}{name}")
                out |= _commands(sub, f"{prefix}{name} ")
    return out


def test_every_command_in_the_readme_exists() -> None:
    real = _commands(build_parser())
    mentioned = set()
    for m in re.finditer(r"tthc-bot ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)", README):
        words = m.group(1).split()
        one, two = words[0], " ".join(words[:2])
        mentioned.add(two if two in real else one)
    unknown = {c for c in mentioned if c not in real}
    assert not unknown, f"README mentions commands that do not exist: {sorted(unknown)}"


def test_every_command_is_documented() -> None:
    leaves = {c for c in _commands(build_parser()) if c not in ("kb", "dossiers")}
    missing = {c for c in leaves if f"tthc-bot {c}" not in README}
    assert not missing, f"commands missing from the README: {sorted(missing)}"


def test_every_setting_is_documented() -> None:
    missing = [f.metadata["env"] for f in fields(Settings) if f.metadata["env"] not in README]
    assert not missing, f"settings missing from the README: {missing}"
