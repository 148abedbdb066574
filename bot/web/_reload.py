"""Knowledge reload without a restart: the served assistant is swapped only for a valid new one.

`LiveAssistant` (`app[ASSISTANT]`) holds the assistant being served, so the channels, the API and
the staff commands see a reloaded one at their next message. `reload()` builds a new Assistant
from the knowledge directory; when a file fails validation the current one keeps serving and each
problem is logged with its file, line, entry and field. SIGHUP and the staff command `/reload`
both call it.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..conversation import Assistant
from ..core import Answer
from ..kb import KnowledgeBase, KnowledgeError

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


class LiveAssistant:
    """The assistant being served; `reload()` swaps it for a freshly built one when that is valid."""

    def __init__(self, assistant: Assistant | None, build: Callable[[], Assistant]) -> None:
        self._current = assistant
        self._build = build
        self._lock = threading.Lock()
        #: Called with each ReloadResult (metrics).
        self.observer: Callable[[ReloadResult], None] | None = None

    @property
    def current(self) -> Assistant:
        """The Assistant being served."""
        assert self._current is not None, "no assistant built yet"
        return self._current

    @current.setter
    def current(self, assistant: Assistant) -> None:
        self._current = assistant

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge being served."""
        return self.current.kb

    def answer(self, text: str, state: Any = None, lang: str | None = None, chat: tuple[str, str] | None = None,
               address: str | None = None) -> Answer:
        """The current assistant's answer."""
        return self.current.answer(text, state, lang, chat, address)

    def cheap(self, text: Any, state: Any) -> bool:
        """The current assistant's guess that answering `text` is cheap."""
        return self.current.cheap(text, state)

    def reload(self) -> ReloadResult:
        """Build a new assistant from the knowledge directory and serve it, or keep the current one
        (logging every problem) when the knowledge does not validate. Blocking: run it off the
        event loop."""
        with self._lock:
            try:
                assistant = self._build()
            except KnowledgeError as exc:
                for p in exc.problems:
                    log.error("knowledge reload refused: %s (file=%s line=%s entry=%s field=%s)",
                              p.message, p.file, p.line or "", p.entry, p.field)
                result = ReloadResult(False, problems=[str(p) for p in exc.problems])
            except Exception as exc:
                log.exception("knowledge reload failed")
                result = ReloadResult(False, problems=[f"{type(exc).__name__}: {exc}"])
            else:
                self.current = assistant
                if gc.isenabled() and gc.get_freeze_count():
                    # The server froze the old engine's objects (see `freeze_heap`): let the old
                    # one go, and freeze the new one.
                    gc.unfreeze()
                    freeze_heap()
                result = ReloadResult(True, procedures=len(assistant.kb.procedures))
                log.info("knowledge reloaded: %d procedures", result.procedures)
            if not result.ok:
                log.error("knowledge reload: %d problem(s); still serving the previous knowledge", len(result.problems))
        if self.observer is not None:
            self.observer(result)
        return result

    def reload_text(self, lang: str = "vi") -> str:
        """Reload and say how it went (the staff command `/reload`)."""
        return self.reload().text(lang)


def freeze_heap() -> None:
    """Move every object alive now (the knowledge, the index) out of the garbage collector's
    sight (gc.freeze): full collections then only walk what requests create, so no answer waits
    tens of milliseconds for one. Called once the server is built, and after each reload."""
    gc.collect()
    gc.freeze()
