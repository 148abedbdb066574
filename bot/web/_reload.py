"""Knowledge reload without a restart: the served engine is swapped only for a valid new one.

`LiveEngine` stands where the Engine stood (`app[ENGINE]`): it passes every call and attribute
to the current Engine, so the channels, the API and the staff commands see a reloaded engine
at their next message. `reload()` builds a new Engine from the knowledge directory; when a
file fails validation the current engine keeps serving and each problem is logged with its
file, line, entry and field. SIGHUP and the staff command `/reload` both call it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..kb import KnowledgeError

log = logging.getLogger("bot.reload")
MAX_LISTED = 10


@dataclass
class ReloadResult:
    """What a reload did: ok with the new count of procedures, or the problems that stopped it."""

    ok: bool
    procedures: int = 0
    problems: list[str] = field(default_factory=list)

    def text(self, lang: str = "vi") -> str:
        """The staff command's reply."""
        vi = lang != "en"
        if self.ok:
            return (f"Đã nạp lại kiến thức: {self.procedures} thủ tục." if vi
                    else f"Knowledge reloaded: {self.procedures} procedures.")
        head = (f"Không nạp lại được kiến thức ({len(self.problems)} lỗi); bot vẫn dùng bản đang chạy:" if vi
                else f"Knowledge not reloaded ({len(self.problems)} problems); the bot keeps the running version:")
        lines = [head] + [f"- {p}" for p in self.problems[:MAX_LISTED]]
        if len(self.problems) > MAX_LISTED:
            lines.append(f"… (+{len(self.problems) - MAX_LISTED})")
        return "\n".join(lines)


class LiveEngine:
    """The engine being served; `reload()` swaps it for a freshly built one when that is valid."""

    def __init__(self, engine: Any, build: Callable[[], Any]) -> None:
        self.current = engine
        self._build = build
        self._lock = threading.Lock()
        #: Called with each ReloadResult (metrics).
        self.observer: Callable[[ReloadResult], None] | None = None

    def __getattr__(self, name: str) -> Any:
        # Only for attributes LiveEngine itself lacks: kb, index, dossiers, …
        if name == "current":
            raise AttributeError(name)
        return getattr(self.current, name)

    def answer(self, *args: Any, **kwargs: Any) -> Any:
        """The current engine's answer."""
        return self.current.answer(*args, **kwargs)

    def reload(self) -> ReloadResult:
        """Build a new engine from the knowledge directory and serve it, or keep the current one
        (logging every problem) when the knowledge does not validate. Blocking: run it off the
        event loop."""
        with self._lock:
            try:
                engine = self._build()
            except KnowledgeError as exc:
                for p in exc.problems:
                    log.error("knowledge reload refused: %s (file=%s line=%s entry=%s field=%s)",
                              p.message, p.file, p.line or "", p.entry, p.field)
                result = ReloadResult(False, problems=[str(p) for p in exc.problems])
            except Exception as exc:
                log.exception("knowledge reload failed")
                result = ReloadResult(False, problems=[f"{type(exc).__name__}: {exc}"])
            else:
                self.current = engine
                result = ReloadResult(True, procedures=len(engine.kb.procedures))
                log.info("knowledge reloaded: %d procedures", result.procedures)
            if not result.ok:
                log.error("knowledge reload: %d problem(s); still serving the previous knowledge", len(result.problems))
        if self.observer is not None:
            self.observer(result)
        return result

    def reload_text(self, lang: str = "vi") -> str:
        """Reload and say how it went (the staff command `/reload`)."""
        return self.reload().text(lang)
