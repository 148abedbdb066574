"""Looking up a dossier with its secret, the lock against guessing, and subscriptions.

The secret is the lookup code printed on the receipt (MaTraCuu); for a record without one, the
last 4 digits of the applicant's phone number. An unknown code and a wrong secret give the same
answer, and both count towards the lock: after `MAX_FAILURES` wrong tries for a code within
`FAILURE_WINDOW`, that code cannot be looked up for `LOCK_FOR` (on every session and channel).
Logs name the code only: never the secret, the phone or the applicant.
"""

from __future__ import annotations

import hmac
import itertools
import logging
import secrets as _secrets
from datetime import datetime, timedelta
from typing import Any, Literal

from ..engine._reply import Button, Reply
from ..kb import Board
from ..storage import Storage, from_iso
from ..workdays import WorkCalendar, now_vn, to_vn
from ._model import DossierFacts, Lang, LookupResult, normalize_code, normalize_secret
from ._status import ACTIVE, FINISHED, STATUSES, WAITING

log = logging.getLogger("bot.dossiers")

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(hours=1)
LOCK_FOR = timedelta(minutes=15)
#: Lookup attempts are kept this long, then pruned.
KEEP_ATTEMPTS = timedelta(days=2)
_LOOKUPS = itertools.count()  # lookups in this process, to prune old attempts now and then


def board_contact(board: Board | None, lang: Lang = "vi") -> str:
    """How to reach the board, in one line: hotline, email, one-stop address."""
    if board is None:
        return "bộ phận một cửa của Ban Quản lý" if lang == "vi" else "the board's one-stop desk"
    parts = [f"hotline {board.hotline}", f"email {board.email}"]
    if board.one_stop_address:
        parts.append(board.one_stop_address)
    return ", ".join(parts)


def expected_secret(row: dict[str, Any]) -> str | None:
    """What a lookup of this record must give: its MaTraCuu, else its phone's last 4 digits."""
    if row.get("secret"):
        return normalize_secret(str(row["secret"]))
    digits = "".join(ch for ch in str(row.get("phone") or "") if ch.isdigit())
    return digits[-4:] if len(digits) >= 4 else None


def _fmt_date(moment: datetime | None) -> str:
    return to_vn(moment).strftime("%d/%m/%Y") if moment else "—"


def facts_for(row: dict[str, Any], calendar: WorkCalendar, now: datetime) -> DossierFacts:
    """What a lookup shows about a stored dossier at `now`."""
    st = STATUSES[int(row["status"])]
    received = from_iso(row.get("received_at"))
    due = from_iso(row.get("due_at"))
    returned = from_iso(row.get("returned_at"))
    today = to_vn(now).date()
    overdue = False
    left: int | None = None
    late: int | None = None
    timeliness: Literal["early", "on_time", "late"] | None = None
    if due is not None:
        due_day = to_vn(due).date()
        if st.code in ACTIVE:
            if today > due_day:
                overdue = True
                late = calendar.working_days_between(due_day, today)
            else:
                left = calendar.working_days_between(today, due_day)
        elif st.code in FINISHED:
            if returned is not None:
                done = to_vn(returned).date()
                timeliness = "early" if done < due_day else "on_time" if done == due_day else "late"
            elif st.code == 9 and today > due_day:
                late = calendar.working_days_between(due_day, today)
    return DossierFacts(
        code=row["code"],
        procedure_code=row.get("procedure_code"),
        procedure_name=row.get("procedure_name"),
        received=received,
        due=due,
        returned=returned,
        status=st.code,
        status_name=st.official,
        status_vi=st.vi,
        status_en=st.en,
        overdue=overdue,
        working_days_left=left,
        working_days_late=late if overdue else None,
        timeliness=timeliness,
        paused=st.code in WAITING,
        department=row.get("department"),
        supplement=row.get("supplement") if st.code == 5 else None,
        next_step_vi=OVERDUE_NEXT_VI if overdue and st.code not in WAITING else st.next_vi,
        next_step_en=OVERDUE_NEXT_EN if overdue and st.code not in WAITING else st.next_en,
    )


# An overdue dossier the board is still working on: "nothing to do, wait for the date" is wrong.
OVERDUE_NEXT_VI = (
    "Hồ sơ đã quá ngày hẹn trả. Bạn có thể liên hệ bộ phận một cửa hoặc đường dây nóng của Ban Quản lý "
    "để được thông báo lý do và ngày trả kết quả mới (cơ quan giải quyết phải có văn bản xin lỗi và hẹn lại)."
)
OVERDUE_NEXT_EN = (
    "The dossier is past its due date. You can contact the board's one-stop desk or hotline to learn why and "
    "the new date (the agency must apologise in writing and set a new date)."
)


def progress_text(facts: DossierFacts, lang: Lang) -> str | None:
    """'On time, N working days left' / 'overdue by N working days' / … or None."""
    vi = lang == "vi"
    if facts.overdue:
        if facts.working_days_late:
            return (f"Quá hạn {facts.working_days_late} ngày làm việc." if vi
                    else f"Overdue by {facts.working_days_late} working day{'s' if facts.working_days_late > 1 else ''}.")
        return "Đã quá ngày hẹn trả." if vi else "Past the due date."
    if facts.working_days_left is not None:
        if facts.working_days_left == 0:
            return "Đúng hạn: hôm nay là ngày hẹn trả." if vi else "On time: the due date is today."
        n = facts.working_days_left
        return (f"Đúng hạn: còn {n} ngày làm việc đến ngày hẹn trả." if vi
                else f"On time: {n} working day{'s' if n > 1 else ''} left before the due date.")
    if facts.timeliness:
        return {
            "early": ("Đã trả kết quả trước hạn." if vi else "The result was handed over early."),
            "on_time": ("Đã trả kết quả đúng hạn." if vi else "The result was handed over on time."),
            "late": ("Đã trả kết quả quá hạn." if vi else "The result was handed over late."),
        }[facts.timeliness]
    if facts.paused:
        return ("Thời hạn giải quyết tạm dừng trong khi chờ bạn." if vi
                else "The time limit is paused while the board waits for you.")
    return None


def status_text(facts: DossierFacts, lang: Lang = "vi") -> str:
    """The lookup answer in plain words (vi or en): procedure, dates, status, progress,
    department, what was asked for, and the next step."""
    vi = lang == "vi"
    lines = [f"Hồ sơ {facts.code}" if vi else f"Dossier {facts.code}"]
    if facts.procedure_name or facts.procedure_code:
        name = facts.procedure_name or facts.procedure_code
        if facts.procedure_name and facts.procedure_code:
            name = f"{facts.procedure_name} ({facts.procedure_code})"
        lines.append(("Thủ tục: " if vi else "Procedure: ") + str(name))
    lines.append(("Ngày tiếp nhận: " if vi else "Received: ") + _fmt_date(facts.received))
    if facts.due:
        lines.append(("Ngày hẹn trả: " if vi else "Due: ") + _fmt_date(facts.due))
    if facts.returned:
        lines.append(("Ngày trả kết quả: " if vi else "Result handed over: ") + _fmt_date(facts.returned))
    lines.append(("Trạng thái: " + facts.status_vi) if vi else ("Status: " + facts.status_en))
    progress = progress_text(facts, lang)
    if progress:
        lines.append(("Tiến độ: " if vi else "Progress: ") + progress)
    if facts.department:
        lines.append(("Đơn vị đang xử lý: " if vi else "Handled by: ") + facts.department)
    if facts.supplement:
        lines.append(("Cần bổ sung: " if vi else "Papers asked for: ") + facts.supplement)
    lines.append(("Bước tiếp theo: " + facts.next_step_vi) if vi else ("Next step: " + facts.next_step_en))
    return "\n".join(lines)


class DossierService:
    """Dossier lookups for the chat engine and the JSON API."""

    def __init__(self, storage: Storage, calendar: WorkCalendar, board_contact: str) -> None:
        self.storage = storage
        self.calendar = calendar
        self.board_contact = board_contact

    @classmethod
    def from_settings(cls, storage: Storage, settings: Any, board: Board | None = None) -> DossierService:
        """A service with the configured calendar (TTHC_CALENDAR) and the board's contact."""
        from ..workdays import calendar_for_settings

        return cls(storage, calendar_for_settings(settings), board_contact(board))

    # -- lookup -----------------------------------------------------------------------------

    def locked_until(self, code: str, now: datetime | None = None) -> datetime | None:
        """When the lock on this code ends, or None when it is not locked."""
        now = to_vn(now or now_vn())
        code = normalize_code(code)
        failures = self.storage.lookup_failures(code, now - FAILURE_WINDOW)
        if len(failures) < MAX_FAILURES:
            return None
        until = failures[-1] + LOCK_FOR
        return until if now < until else None

    def lookup(self, code: str, secret: str, now: datetime | None = None) -> LookupResult:
        """Check `secret` for dossier `code`; the facts when it matches.

        Unknown codes and wrong secrets give the same result and both count towards the lock.
        """
        now = to_vn(now or now_vn())
        code = normalize_code(code)
        self._maybe_prune(now)
        if not code:
            return LookupResult(ok=False, locked=False, code=code)
        if self.locked_until(code, now) is not None:
            log.info("lookup %s: locked", code)
            return LookupResult(ok=False, locked=True, code=code)
        row = self.storage.get_dossier(code)
        expected = expected_secret(row) if row else None
        given = normalize_secret(secret)
        # Always compare, against a random value when there is nothing to compare with, so an
        # unknown code takes as long as a wrong secret.
        target = expected if expected else _secrets.token_hex(8)
        ok = bool(given) and hmac.compare_digest(given.encode(), target.encode()) and row is not None and bool(expected)
        self.storage.record_lookup(code, now, ok)
        if not ok or row is None:
            locked = self.locked_until(code, now) is not None
            log.info("lookup %s: no match%s", code, " (now locked)" if locked else "")
            return LookupResult(ok=False, locked=locked, code=code)
        log.info("lookup %s: ok", code)
        return LookupResult(ok=True, locked=False, facts=facts_for(row, self.calendar, now), code=code)

    def _maybe_prune(self, now: datetime) -> None:
        if next(_LOOKUPS) % 200 == 0:
            self.storage.prune_lookups(now - KEEP_ATTEMPTS)

    # -- texts ------------------------------------------------------------------------------

    def status_text(self, facts: DossierFacts, lang: Lang = "vi") -> str:
        """The lookup answer in plain words."""
        return status_text(facts, lang)

    def not_found_text(self, lang: Lang = "vi") -> str:
        """The one answer for an unknown code and a wrong secret."""
        if lang == "vi":
            return (
                "Không tìm thấy hồ sơ khớp với số hồ sơ và mã tra cứu bạn nhập. Vui lòng kiểm tra lại "
                "trên phiếu tiếp nhận: mã tra cứu in trên phiếu; nếu phiếu không có mã tra cứu, nhập 4 số "
                "cuối của số điện thoại đã đăng ký khi nộp hồ sơ. Nếu vẫn không tra cứu được, vui lòng liên hệ "
                f"Ban Quản lý: {self.board_contact}."
            )
        return (
            "No dossier matches the code and lookup secret you gave. Please check your receipt: the "
            "lookup code is printed on it; if it has none, give the last 4 digits of the phone number "
            f"registered with the dossier. If it still does not work, please contact the board: {self.board_contact}."
        )

    def locked_text(self, lang: Lang = "vi") -> str:
        """The answer while a code is locked, with how to reach the board instead."""
        minutes = int(LOCK_FOR.total_seconds() // 60)
        if lang == "vi":
            return (
                f"Mã tra cứu đã bị nhập sai quá nhiều lần, nên việc tra cứu hồ sơ này tạm khóa {minutes} phút "
                f"để bảo vệ thông tin. Bạn có thể thử lại sau, hoặc liên hệ Ban Quản lý: {self.board_contact}."
            )
        return (
            f"The lookup secret was entered wrongly too many times, so lookups of this dossier are locked "
            f"for {minutes} minutes to protect it. Try again later, or contact the board: {self.board_contact}."
        )

    def ask_secret_text(self, code: str, lang: Lang = "vi") -> str:
        """The question for the secret, once a code was given."""
        code = normalize_code(code)
        if lang == "vi":
            return (
                f"Để xem hồ sơ {code}, vui lòng nhập mã tra cứu in trên phiếu tiếp nhận "
                "(nếu phiếu không có mã tra cứu: 4 số cuối của số điện thoại đã đăng ký)."
            )
        return (
            f"To see dossier {code}, please give the lookup code printed on your receipt "
            "(if it has none: the last 4 digits of the registered phone number)."
        )

    def reply(self, result: LookupResult, lang: Lang = "vi", subscribed: bool = False) -> Reply:
        """A ready reply for a lookup result, with a "Nhận thông báo" button after a success."""
        if result.locked:
            return Reply(self.locked_text(lang))
        if not result.ok or result.facts is None:
            return Reply(self.not_found_text(lang))
        buttons: tuple[Button, ...] = ()
        if not subscribed:
            label = "Nhận thông báo" if lang == "vi" else "Get notifications"
            buttons = (Button(label, f"dossier:sub:{result.facts.code}"[:64]),)
        return Reply(self.status_text(result.facts, lang), buttons)

    # -- subscriptions ----------------------------------------------------------------------

    def subscribe(self, code: str, channel: str, chat_id: str, lang: Lang = "vi", now: datetime | None = None) -> bool:
        """Send this chat the dossier's status changes from now on. Call only after a successful
        lookup of `code` in that chat. False when the dossier does not exist."""
        code = normalize_code(code)
        if self.storage.get_dossier(code) is None:
            return False
        self.storage.subscribe(code, channel, str(chat_id), lang, to_vn(now or now_vn()))
        log.info("subscribe %s on %s", code, channel)
        return True

    def unsubscribe(self, code: str, channel: str, chat_id: str) -> bool:
        """Stop the dossier's notifications to this chat; False when it was not subscribed."""
        return self.storage.unsubscribe(normalize_code(code), channel, str(chat_id))

    def subscribed_text(self, code: str, lang: Lang = "vi") -> str:
        """The confirmation after subscribing."""
        code = normalize_code(code)
        if lang == "vi":
            return f"Đã đăng ký. Bạn sẽ nhận tin nhắn tại đây mỗi khi hồ sơ {code} chuyển trạng thái."
        return f"Done. You will get a message here whenever dossier {code} changes status."
