"""Knowledge reload without a restart: the served engine is swapped only for a valid new one.

`LiveEngine` stands where the Engine stood (`app[ENGINE]`): it passes every call and attribute
to the current Engine, so the channels, the API and the staff commands see a reloaded engine
at their next message. `reload()` builds a new Engine from the knowledge directory; when a
file fails validation the current engine keeps serving and each problem is logged with its
file, line, entry and field. SIGHUP and the staff command `/reload` both call it.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..kb import KnowledgeError

log = logging.getLogger("bot.reload")
MAX_LISTED = 10
#: Questions whose procedure search is remembered, per knowledge version.
SEARCH_CACHE = 4096


class SearchCache:
    """An LRU of the engine's procedure search, by (question, limit); shared by the event loop
    (which only peeks) and the worker thread."""

    def __init__(self, search: Callable[..., list[Any]], size: int = SEARCH_CACHE) -> None:
        self.search = search
        self.size = size
        self.hits = self.misses = 0
        self._data: OrderedDict[tuple[str, int], tuple[Any, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, question: str, limit: int = 5) -> list[Any]:
        key = (question, limit)
        with self._lock:
            found = self._data.get(key)
            if found is not None:
                self._data.move_to_end(key)
                self.hits += 1
                return list(found)  # a fresh list each time (the Matches are frozen)
        result = tuple(self.search(question, limit))
        with self._lock:
            self.misses += 1
            self._data[key] = result
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return list(result)

    def __contains__(self, question: object) -> bool:
        return (question, 5) in self._data


def memoize_search(engine: Any) -> Any:
    """Remember the engine's procedure search by question (an LRU of SEARCH_CACHE): a pure
    function of the index and the text, the costly part of an answer, and popular questions
    repeat. A reload builds a new index, so a new cache. Returns the engine."""
    index: Any = getattr(engine, "index", None)
    search = getattr(index, "search", None)
    if search is None or isinstance(search, SearchCache):
        return engine
    index.search = SearchCache(search)
    return engine


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
        self._current = memoize_search(engine)
        self._build = build
        self._lock = threading.Lock()
        #: Called with each ReloadResult (metrics).
        self.observer: Callable[[ReloadResult], None] | None = None

    @property
    def current(self) -> Any:
        """The Engine being served."""
        return self._current

    @current.setter
    def current(self, engine: Any) -> None:
        self._current = memoize_search(engine)

    def __getattr__(self, name: str) -> Any:
        # Only for attributes LiveEngine itself lacks: kb, index, dossiers, …
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._current, name)

    def answer(self, *args: Any, **kwargs: Any) -> Any:
        """The current engine's answer."""
        return self.current.answer(*args, **kwargs)

    def cheap(self, text: Any, state: dict[str, Any]) -> bool:
        """True when answering `text` needs no procedure search that is not cached yet and no
        dossier (no lookup in progress, no dossier code or action): then the answer is a fraction
        of a millisecond of CPU, and the server gives it without a trip to the worker thread.
        A guess: wrong, it only costs one search on the caller's thread."""
        from ..engine import DOSSIER_CODE_RE, normalize

        engine = self._current
        search = getattr(getattr(engine, "index", None), "search", None)
        if not isinstance(search, SearchCache) or not isinstance(text, str) or state.get("pending"):
            return False
        q = normalize(text, getattr(engine, "max_chars", 500))
        if q.startswith("dossier:") or DOSSIER_CODE_RE.search(q):
            return False
        return q in search

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
                if gc.isenabled() and gc.get_freeze_count():
                    # The server froze the old engine's objects (see `freeze_heap`): let the old
                    # one go, and freeze the new one.
                    gc.unfreeze()
                    freeze_heap()
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


def freeze_heap() -> None:
    """Move every object alive now (the knowledge, the index) out of the garbage collector's
    sight (gc.freeze): full collections then only walk what requests create, so no answer waits
    tens of milliseconds for one. Called once the server is built, and after each reload."""
    gc.collect()
    gc.freeze()
