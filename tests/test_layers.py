"""The stairs go down only: each floor of `bot` imports only the floors below it, and no
module imports itself back through others (a cycle). Imports inside functions count too:
hiding an import in a function does not change which way the stairs run."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"

#: The floors, lowest first. Names on one floor are siblings: they may not import each other.
FLOORS: list[tuple[str, ...]] = [
    ("core",),                      # reply model, answer, typed state, text folding, codes, clock, JSON
    ("config", "logs", "leader"),   # settings, log hygiene, the leader lease
    ("kb", "storage"),              # the knowledge base; the repositories over one database
    ("workdays",),                  # working days, holidays, time limits
    ("engine",),                    # procedure and FAQ matching, composing answers
    ("dossiers",),                  # dossier status, subscriptions, notices, staff figures
    ("guide",),                     # roadmap, pre-check, feedback, complaints, handover, QR
    ("conversation",),              # the flows and the one Conversations service
    ("web",),                       # the HTTP server's pieces: limits, runtime, web chat, JSON API
    ("channels", "console"),        # Telegram, Zalo; the staff console
    ("server",),                    # the application factory that mounts every face
    ("cli",),                       # the command line
    ("__main__",),                  # python -m bot
]
FLOOR = {name: level for level, names in enumerate(FLOORS) for name in names}
#: Upward imports still to be removed (the list only shrinks): (importing module, imported package).
KNOWN_UPWARD: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(BOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _type_only(tree: ast.Module) -> set[ast.AST]:
    """The imports under `if TYPE_CHECKING:`: never run, so never a cycle (still a direction)."""
    return {
        inner for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for stmt in node.body for inner in ast.walk(stmt)
    }


def _imports(path: Path, run_time_only: bool = False) -> list[tuple[str, int]]:
    """Every project module `path` imports (absolute names), with its line."""
    name = _module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: list[tuple[str, int]] = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_only(tree) if run_time_only else set()
    for node in ast.walk(tree):
        if node in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.startswith("bot"):
                if node.module is None or target == "bot":
                    found += [(f"{target}.{alias.name}", node.lineno) for alias in node.names]
                else:
                    found.append((target, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names if alias.name.startswith("bot.")]
    return found


def _floor_name(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "bot"


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(BOT.rglob("*.py"))}


def test_every_package_has_a_floor() -> None:
    unplaced = sorted({_floor_name(m) for m in _modules()} - set(FLOOR) - {"bot", "__version__"})
    assert not unplaced, f"packages or modules of bot/ on no floor (add them to FLOORS): {unplaced}"


def test_imports_go_down_only() -> None:
    upward = []
    for module, path in _modules().items():
        here = _floor_name(module)
        if here not in FLOOR:
            continue
        for target, line in _imports(path):
            there = _floor_name(target)
            if there in ("bot", "__version__") or there == here:
                continue
            if FLOOR.get(there, -1) >= FLOOR[here] and (module, there) not in KNOWN_UPWARD:
                upward.append(f"{path.relative_to(BOT.parent)}:{line} ({here}) imports {target} ({there})")
    assert not upward, "imports that go up or sideways:\n" + "\n".join(upward)


def test_no_import_cycles() -> None:
    modules = _modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        for target, _ in _imports(path, run_time_only=True):
            # `from .x import y` names module x or a name in x: keep the longest real module.
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if (module, _floor_name(target)) in KNOWN_UPWARD:
                continue
            if target in modules and target != module and not module.startswith(target + "."):
                # A package's __init__ re-exporting its own modules is not a cycle of theirs.
                graph[module].add(target)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(modules):
        if module not in state:
            visit(module)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("floor", ["core"])
def test_ground_floor_imports_nothing_of_the_project(floor: str) -> None:
    found = [
        f"{path.relative_to(BOT.parent)}:{line} imports {target}"
        for module, path in _modules().items() if _floor_name(module) == floor
        for target, line in _imports(path) if _floor_name(target) != floor
    ]
    assert not found, "\n".join(found)
