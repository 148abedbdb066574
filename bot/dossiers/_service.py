"""Looking up a dossier with its secret, the lock against guessing, and subscriptions.

The secret is the lookup code printed on the receipt (MaTraCuu); for a record without one, the
last 4 digits of the applicant's phone number. An unknown code and a wrong secret give the same
answer, and both count towards two locks:

- the code's: after `MAX_FAILURES` wrong tries for a code within `FAILURE_WINDOW` (after its last
  right one, in the order they came), that code is locked for `LOCK_FOR` after the last wrong
  try (on every session and channel). Its owner still gets through with a second factor the
  record has: the secret followed by the last 4 digits of the registered phone ("AB12CD 5678"),
  or the right secret from a chat already subscribed to the dossier;
- the asker's: after `MAX_CLIENT_FAILURES` wrong tries from one address (the JSON API) or one
  chat within `FAILURE_WINDOW`, for any codes, that address or chat is locked for all codes for
  `LOCK_FOR` after its last wrong try; a right lookup does not wipe its misses.

Who asks is given to `lookup` (address, chat) or, for the chat engine, set by the guide's hook
before each answer (`set_asker`). Logs name the code only: never the secret, the phone or the
applicant.
"""

from __future__ import annotations

import hmac
import itertools
import logging
import secrets as _secrets
from datetime import datetime, timedelta
from typing import Any, Literal

from ..core import Button, Lang, Reply, normalize_code, normalize_secret, now_vn, to_vn
from ..kb import Board
from ..storage import Storage, from_iso
from ..workdays import WorkCalendar
from ._model import DossierFacts, LookupResult
from ._status import ACTIVE, FINISHED, STATUSES, WAITING

log = logging.getLogger("bot.dossiers")

MAX_FAILURES = 5
#: Wrong tries from one address or chat (any codes) within FAILURE_WINDOW that lock it out.
MAX_CLIENT_FAILURES = 5
FAILURE_WINDOW = timedelta(hours=1)
LOCK_FOR = timedelta(minutes=15)
#: Lookup attempts are kept this long, then pruned.
KEEP_ATTEMPTS = timedelta(days=2)
_LOOKUPS = itertools.count()  # lookups in this process, to prune old attempts now and then


def client_key(address: str | None = None, chat: tuple[str, str] | None = None) -> str | None:
    """How lookup attempts name who tried: the address when known (a chat id on the web is the
    client's choice), else the chat."""
    if address:
        return f"ip:{address}"
    if chat and chat[1]:
        return f"chat:{chat[0]}:{chat[1]}"
    return None


def board_contact(board: Board | None, lang: Lang = "vi") -> str:
    """How to reach the board, in one line: hotline, email, one-stop address."""
    if board is None:
        return "bộ phận một cửa của Ban Quản lý" if lang == "vi" else "the board's one-stop desk"
    parts = [f"hotline {board.hotline}", f"email {board.email}"]
    if board.one_stop_address:
        parts.append(board.one_stop_address)
    return ", ".join(parts)


def _phone_tail(row: dict[str, Any]) -> str | None:
    digits = "".join(ch for ch in str(row.get("phone") or "") if "0" <= ch <= "9")
    return digits[-4:] if len(digits) >= 4 else None


def expected_secret(row: dict[str, Any]) -> str | None:
    """What a lookup of this record must give: its MaTraCuu, else its phone's last 4 digits."""
    if row.get("secret"):
        return normalize_secret(str(row["secret"]))
    return _phone_tail(row)


def two_factor_secret(row: dict[str, Any]) -> str | None:
    """The owner's way through a locked code: the MaTraCuu followed by the phone's last 4 digits
    (None for a record without both)."""
    tail = _phone_tail(row)
    if not row.get("secret") or tail is None:
        return None
    return normalize_secret(str(row["secret"])) + tail


def _same(given: str, expected: str | None) -> bool:
    # Always one comparison, against a random value when there is nothing to compare with, so a
    # missing record takes as long as a wrong secret.
    target = expected if expected else _secrets.token_hex(8)
    return bool(given) and hmac.compare_digest(given.encode(), target.encode()) and bool(expected)


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


def _until(failures: list[datetime], limit: int, now: datetime) -> datetime | None:
    """The end of a lock given the misses in the window (oldest first), or None."""
    if len(failures) < limit:
        return None
    until = failures[-1] + LOCK_FOR
    return until if now < until else None


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
        return _until(failures, MAX_FAILURES, now)

    def client_locked_until(self, client: str | None, now: datetime | None = None) -> datetime | None:
        """When the lock on this address or chat (a `client_key`) ends, or None."""
        if not client:
            return None
        now = to_vn(now or now_vn())
        return _until(self.storage.client_failures(client, now - FAILURE_WINDOW), MAX_CLIENT_FAILURES, now)

    def lookup(self, code: str, secret: str, now: datetime | None = None, *, address: str | None = None,
               chat: tuple[str, str] | None = None) -> LookupResult:
        """Check `secret` for dossier `code`; the facts when it matches. `address` (the JSON
        API's client) or `chat` say who asks.

        Unknown codes and wrong secrets give the same result and both count towards the locks.
        """
        now = to_vn(now or now_vn())
        code = normalize_code(code)
        self._maybe_prune(now)
        if not code:
            return LookupResult(ok=False, locked=False, code=code)
        client = client_key(address, chat)
        if self.client_locked_until(client, now) is not None:
            log.info("lookup %s: the asker is locked", code)
            return LookupResult(ok=False, locked=True, code=code, scope="client")
        code_locked = self.locked_until(code, now) is not None
        row = self.storage.get_dossier(code)
        given = normalize_secret(secret)
        one = _same(given, expected_secret(row) if row else None)
        two = _same(given, two_factor_secret(row) if row else None)
        if code_locked:
            # Under attack: only the owner's second factor opens it (the secret alone, right or
            # wrong, gets the same "locked" and counts as a miss of the asker's). The subscription is looked up
            # whatever the secret, so the time taken says nothing about it.
            subscribed = self._subscribed(code, chat)
            ok = two or (one and subscribed)
        else:
            ok = one or two
        ok = ok and row is not None
        self.storage.record_lookup(code, now, ok, client, refused=code_locked and not ok)
        if not ok or row is None:
            if code_locked:
                log.info("lookup %s: locked", code)
                return LookupResult(ok=False, locked=True, code=code, scope="code")
            scope = ("client" if self.client_locked_until(client, now) is not None
                     else "code" if self.locked_until(code, now) is not None else "")
            log.info("lookup %s: no match%s", code, " (now locked)" if scope else "")
            return LookupResult(ok=False, locked=bool(scope), code=code, scope=scope)
        log.info("lookup %s: ok%s", code, " (second factor, the code is locked)" if code_locked else "")
        return LookupResult(ok=True, locked=False, facts=facts_for(row, self.calendar, now), code=code)

    def _subscribed(self, code: str, chat: tuple[str, str] | None) -> bool:
        if not chat:
            return False
        return any((s["channel"], str(s["chat_id"])) == (chat[0], str(chat[1])) for s in self.storage.subscribers(code))

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

    def locked_text(self, lang: Lang = "vi", scope: str = "code") -> str:
        """The answer while a code (or, `scope` "client", the asker) is locked, with how to reach
        the board instead, and for a code how its owner still gets through."""
        minutes = int(LOCK_FOR.total_seconds() // 60)
        if scope == "client":
            if lang == "vi":
                return (
                    f"Bạn đã nhập sai mã tra cứu quá nhiều lần, nên việc tra cứu hồ sơ từ đây tạm khóa {minutes} phút. "
                    f"Bạn có thể thử lại sau, hoặc liên hệ Ban Quản lý: {self.board_contact}."
                )
            return (
                f"Too many wrong lookup secrets were entered from here, so lookups from here are locked for "
                f"{minutes} minutes. Try again later, or contact the board: {self.board_contact}."
            )
        if lang == "vi":
            return (
                f"Mã tra cứu đã bị nhập sai quá nhiều lần, nên việc tra cứu hồ sơ này tạm khóa {minutes} phút "
                "để bảo vệ thông tin. Nếu bạn là chủ hồ sơ, hãy gửi lại số hồ sơ, rồi gửi mã tra cứu kèm 4 số cuối "
                "số điện thoại đã đăng ký (ví dụ: AB12CD 5678); hoặc tra cứu từ cuộc trò chuyện đã đăng ký nhận thông "
                f"báo của hồ sơ. Bạn cũng có thể thử lại sau, hoặc liên hệ Ban Quản lý: {self.board_contact}."
            )
        return (
            f"The lookup secret was entered wrongly too many times, so lookups of this dossier are locked "
            f"for {minutes} minutes to protect it. If it is your dossier, send its code again, then the lookup "
            "code followed by the last 4 digits of the registered phone number (e.g. AB12CD 5678); or look it up "
            f"from the chat that subscribed to its notifications. Or try again later, or contact the board: "
            f"{self.board_contact}."
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
            return Reply(self.locked_text(lang, result.scope or "code"))
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
