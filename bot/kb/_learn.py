"""`tthc-bot kb learn "QUESTION" CODE`: staff teach the bot a way people ask, with no programming.

The question is added to the procedure's `examples:` in its YAML file (after the last example, or
as a new `examples:` list after `aliases:`), the whole knowledge directory is validated, and the
file is put back as it was if anything fails. The matcher learns it on the next load or reload.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ._loader import check_knowledge

_TOP_KEY_RE = re.compile(r"^[a-z_]+:")


@dataclass(frozen=True)
class Learned:
    """What `learn` did: ok, or why not, and the file changed."""

    ok: bool
    message: str
    file: str = ""


def _quote(text: str) -> str:
    """A YAML double-quoted scalar."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def learn_example(root: str | Path, question: str, code: str) -> Learned:
    """Add `question` as an example of procedure `code` in the knowledge directory `root`."""
    root = Path(root)
    question = " ".join(unicodedata.normalize("NFC", question).split())
    if not question or len(question) > 500:
        return Learned(False, "the question must be 1 to 500 characters")
    kb, problems = check_knowledge(root)
    if problems:
        return Learned(False, f"the knowledge has {len(problems)} problem(s) already; run `tthc-bot kb check` first")
    proc = kb.procedure(code)
    if proc is None:
        return Learned(False, f"no procedure {code} in {root}")
    if question in proc.examples:
        return Learned(True, f"{code} already has this example", proc.file)
    path = root / "procedures" / Path(proc.file).name
    original = path.read_text(encoding="utf-8")
    updated = _insert(original, _quote(question))
    path.write_text(updated, encoding="utf-8")
    kb2, problems = check_knowledge(root)
    added = kb2.procedure(code)
    if problems or added is None or question not in added.examples:
        path.write_text(original, encoding="utf-8")
        why = "; ".join(str(p) for p in problems[:3]) or "the example did not load"
        return Learned(False, f"not added ({why}); {path.name} is unchanged")
    return Learned(True, f"added to {path.name} ({len(added.examples)} examples); reload the bot to use it", str(path))


def _insert(text: str, quoted: str) -> str:
    """The YAML text with one more item in its top-level `examples:` list."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.startswith("examples:")), None)
    if start is not None and lines[start].strip() == "examples:":
        end = start + 1
        while end < len(lines) and (not lines[end] or lines[end].startswith((" ", "\t", "-"))):
            end += 1
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
        indent = next((ln[: len(ln) - len(ln.lstrip())] for ln in lines[start + 1 : end] if ln.lstrip().startswith("-")), "  ")
        lines.insert(end, f"{indent}- {quoted}")
        return "\n".join(lines)
    if start is not None:  # examples: [a, b] on one line, or empty: rewrite as a block
        lines[start] = "examples:"
        lines.insert(start + 1, f"  - {quoted}")
        return "\n".join(lines)
    at = next((i for i, line in enumerate(lines) if line.startswith("aliases:")), None)
    if at is None:
        at = next(i for i, line in enumerate(lines) if line.startswith("name_en:"))
    end = at + 1
    while end < len(lines) and lines[end] and not _TOP_KEY_RE.match(lines[end]):
        end += 1
    lines[end:end] = ["examples:", f"  - {quoted}"]
    return "\n".join(lines)
