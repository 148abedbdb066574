"""The README and docs/ are a public interface: their commands and variables must be the real
ones, every command and setting must be documented in one of them, and their links must lead
somewhere."""

from __future__ import annotations

import argparse
import re
from dataclasses import fields
from pathlib import Path

from bot.cli import build_parser
from bot.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOCS = {path: path.read_text(encoding="utf-8") for path in DOC_FILES}
README = "\n".join(DOCS.values())  # the README and every docs/*.md, as one text


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
    assert not unknown, f"README.md or docs/*.md mention commands that do not exist: {sorted(unknown)}"


def test_every_command_is_documented() -> None:
    leaves = {c for c in _commands(build_parser()) if c not in ("kb", "dossiers")}
    missing = {c for c in leaves if f"tthc-bot {c}" not in README}
    assert not missing, f"commands missing from README.md and docs/*.md: {sorted(missing)}"


def test_every_setting_is_documented() -> None:
    missing = [f.metadata["env"] for f in fields(Settings) if f.metadata["env"] not in README]
    assert not missing, f"settings missing from README.md and docs/*.md: {missing}"


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(text: str) -> set[str]:
    out: set[str] = set()
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"#{1,6} (.*)", line)):
            out.add(_slug(m.group(1)))
    return out


def _links(text: str) -> list[str]:
    """Targets of the markdown links and images outside code blocks and inline code."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    text = re.sub(r"`[^`\n]*`", "", text)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def test_every_relative_link_points_to_an_existing_file() -> None:
    broken = []
    for path, text in DOCS.items():
        for target in _links(text):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:…
                continue
            file, _, anchor = target.partition("#")
            dest = (path.parent / file).resolve() if file else path
            where = f"{path.relative_to(ROOT)} → {target}"
            if not dest.exists():
                broken.append(f"{where}: no such file")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest.read_text(encoding="utf-8")):
                broken.append(f"{where}: no such heading")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_the_docs_are_linked_from_the_readme() -> None:
    readme = DOCS[ROOT / "README.md"]
    unlinked = [p.name for p in DOC_FILES[1:] if f"](docs/{p.name})" not in readme]
    assert not unlinked, f"docs/ files the README does not link: {unlinked}"
