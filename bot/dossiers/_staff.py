"""Staff commands in chat: figures for a period, for the chats named in TTHC_STAFF_CHATS only."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from ..engine._reply import Reply
from ..storage import Storage
from ..workdays import now_vn
from ._report import build_report, report_text

_COMMAND_RE = re.compile(r"^/?(?:baocao|bao cao|báo cáo|report)(?:@\w+)?\b(.*)$", re.IGNORECASE)
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


class StaffCommands:
    """`/baocao [FROM [TO]]` (or "báo cáo", "report") from a staff chat → the figures of
    `tthc-bot report`; from any other chat → None, so the message is answered as a question."""

    def __init__(self, storage: Storage, staff_chats: Iterable[tuple[str, str]]) -> None:
        self.storage = storage
        self.staff = {(channel, str(chat)) for channel, chat in staff_chats}

    def __call__(self, text: str, chat: tuple[str, str] | None) -> Reply | None:
        """The reply to a staff command, or None when `text` is not one or the chat is not staff."""
        m = _COMMAND_RE.match(text.strip())
        if m is None or chat is None or (chat[0], str(chat[1])) not in self.staff:
            return None
        today = now_vn().date()
        days = [date.fromisoformat(d) for d in _DATE_RE.findall(m.group(1))]
        start = days[0] if days else today.replace(day=1)
        end = days[1] if len(days) > 1 else today
        if end < start:
            start, end = end, start
        return Reply(report_text(build_report(self.storage, start, end)))
