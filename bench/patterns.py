"""Count the hand-written language patterns in bot/engine/ and bot/core/ (issue 11's "rules per
question").

A pattern is one alternative of a regular expression, one entry of a module-level collection of
phrases (a synonym, a modifier, a facet phrase…) or one word of a module-level word list. Strings
that are messages to users (long sentences) are not patterns. Usage:

    .venv/bin/python bench/patterns.py            # one line per file, then the totals

Before knowledge/vocabulary.yaml (2026-12-01): reading questions 989 patterns and 342 word-list
words (_intent.py 310, _lexicon.py 574 + 139 words, _text.py 66 + 203 words, _engine.py 22,
_index.py 17); writing replies 76.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"
#: The matcher's modules, and the ground floor's text and code handling it builds on (moved there
#: from bot/engine on 2026-12-02: counted still, so the figure compares with the earlier ones).
FILES = [*sorted((BOT / "engine").glob("*.py")), *sorted((BOT / "core").glob("*.py"))]


def alternatives(pattern: str) -> int:
    """Top-level and nested alternatives of a regex: one more than its '|' outside classes."""
    count, in_class, escaped = 1, False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "|" and not in_class:
            count += 1
    return count


def _is_message(s: str) -> bool:
    return len(s) > 60 and " " in s and not any(c in s for c in "|()[]\\")


def count_file(path: Path) -> dict[str, int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = {"regex": 0, "phrases": 0, "words": 0}
    regex_strings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
            if name in ("compile", "_rx", "search", "match", "sub", "fullmatch"):
                for arg in node.args:
                    for sub in ast.walk(arg):
                        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                            out["regex"] += alternatives(sub.value)
                            regex_strings.add(id(sub))
    for node in tree.body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if not names or not any(n.lstrip("_").isupper() for n in names) or node.value is None:
            continue
        for sub in ast.walk(node.value):
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "split":
                base = sub.func.value
                if isinstance(base, ast.Constant) and isinstance(base.value, str):
                    out["words"] += len(base.value.split())
                    regex_strings.add(id(base))
        for sub in ast.walk(node.value):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and id(sub) not in regex_strings:
                if any(c in sub.value for c in "|(\\") and not _is_message(sub.value):
                    out["regex"] += alternatives(sub.value)
                elif sub.value and not _is_message(sub.value):
                    out["phrases"] += 1
    return out


# The modules that write replies (labels, layout, cleaning the record's texts for display); the
# others read questions, which is what the count is about.
REPLY_MODULES = {"_compose.py", "_reply.py"}


def main() -> int:
    totals = {"reading questions": {"regex": 0, "phrases": 0, "words": 0},
              "writing replies": {"regex": 0, "phrases": 0, "words": 0}}
    for path in FILES:
        counts = count_file(path)
        if any(counts.values()):
            print(f"{path.parent.name + '/' + path.name:22} regex {counts['regex']:4}  phrases {counts['phrases']:4}  words {counts['words']:4}")
        group = totals["writing replies" if path.name in REPLY_MODULES else "reading questions"]
        for k, v in counts.items():
            group[k] += v
    for name, t in totals.items():
        print(f"{name}: patterns {t['regex'] + t['phrases']} (regex alternatives {t['regex']}, "
              f"phrases {t['phrases']}); word-list words {t['words']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
