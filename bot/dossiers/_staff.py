"""Staff commands in chat, for the chats named in TTHC_STAFF_CHATS only: figures for a period
(/baocao) and a knowledge reload (/reload). From any chat, "dừng thông báo" stops the chat's
dossier notices (bot/dossiers/_applicant.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date

from ..core import Reply, now_vn
from ..storage import Storage
from ._applicant import is_stop_request, stop_from_chat
from ._report import build_report, report_text

_COMMAND_RE = re.compile(r"^/?(?:baocao|bao cao|báo cáo|report)(?:@\w+)?\b(.*)$", re.IGNORECASE)
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_RELOAD_RE = re.compile(r"^/?(?:reload|nap lai|nạp lại)(?:@\w+)?(?:\s+(en|vi))?\s*$", re.IGNORECASE)


class StaffCommands:
    """`/baocao [FROM [TO]]` (or "báo cáo", "report") from a staff chat → the figures of
    `tthc-bot report`; `/reload` (or "nạp lại") → reload the knowledge and say how it went (the
    running knowledge stays when a file fails validation); from any other chat → None, so the
    message is answered as a question."""

    def __init__(
        self, storage: Storage, staff_chats: Iterable[tuple[str, str]], reload: Callable[[str], str] | None = None,
    ) -> None:
        self.storage = storage
        self.staff = {(channel, str(chat)) for channel, chat in staff_chats}
        self.reload = reload

    def __call__(self, text: str, chat: tuple[str, str] | None) -> Reply | None:
        """The reply to a staff command, or None when `text` is not one or the chat is not staff."""
        if chat is not None and chat[1] and is_stop_request(text):
            return stop_from_chat(self.storage, (chat[0], str(chat[1])))
        if chat is None or (chat[0], str(chat[1])) not in self.staff:
            return None
        if self.reload is not None:
            r = _RELOAD_RE.match(text.strip())
            if r is not None:
                return Reply(self.reload((r.group(1) or "vi").lower()))
        m = _COMMAND_RE.match(text.strip())
        if m is None:
            return None
        today = now_vn().date()
        days = [date.fromisoformat(d) for d in _DATE_RE.findall(m.group(1))]
        start = days[0] if days else today.replace(day=1)
        end = days[1] if len(days) > 1 else today
        if end < start:
            start, end = end, start
        return Reply(report_text(build_report(self.storage, start, end)))
