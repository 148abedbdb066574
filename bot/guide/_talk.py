"""Talking to people: complaints (phản ánh, kiến nghị) as a short guided form forwarded to the
staff chat with a reference number, and the handover of a conversation to staff ("gặp cán bộ"):
the user's messages go to the staff chat, a staff reply comes back on the user's channel, and
"kết thúc" returns the user to the bot.

Messages to and from the staff chat go through the outbox (bot/storage/_outbox.py), so they survive a
restart and are retried like dossier notifications. The staff chat is a Telegram group
(TTHC_HANDOVER_CHAT, default: the first of TTHC_STAFF_CHATS): staff answer by replying to the
forwarded message, or with `/tl <ticket> <text>`.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from ..core import Button, ConversationState, Handover, Pending, Reply
from ..core._text import fold
from ._questions import mask_secrets

#: The buttons of complaints ("pa:start", "pa:t:<topic>", "pa:skip", "pa:cancel") and of the
#: handover ("ho:start", "ho:end").
COMPLAINT_ACTION = "pa:"
HANDOVER_ACTION = "ho:"
# Channels that can receive a message the user did not ask for (a staff reply).
PUSH_CHANNELS = ("telegram", "zalo_oa", "zalo_bot", "web")  # web: fetched by the page (bot/web/_inbox.py)
MAX_TEXT = 2000
# Tickets: "U" + 10 hex digits (6 before: still understood for handovers open at an upgrade).
TICKET_RE = re.compile(r"#(U[0-9a-f]{6,10})\b")
# References: PA-yymmdd- + 6 random letters/digits (3 sequential digits before).
REF_RE = re.compile(r"\bPA-[0-9]{6}-(?:[0-9]{3}|[2-9A-HJ-NP-Z]{6})\b", re.IGNORECASE)
_STAFF_REPLY_RE = re.compile(r"^/tl(?:@\w+)?\s+#?(U[0-9a-f]{6,10})\s+(.+)$", re.DOTALL | re.IGNORECASE)
#: Tickets tried for one chat before giving up (each taken one means a 40-bit collision).
TICKET_ATTEMPTS = 8
_HANDOVER_RE = re.compile(
    r"(?:^| )(?:gap|noi chuyen voi|lien he voi|ket noi voi|chat voi|hoi) (?:truc tiep )?(?:can bo|nguoi that|nhan vien|tong dai vien)"
    r"|(?:^| )(?:talk|speak|chat) (?:to|with) (?:a |an |the )?(?:human|person|staff|officer|agent)|(?:^| )human agent"
)
_COMPLAINT_RE = re.compile(r"(?:^| )(?:phan anh|kien nghi|khieu nai|to cao|complaint|complain|gop y)(?: |$)")
_END = {"ket thuc", "end", "thoat", "stop", "ket thuc tro chuyen", "quay lai", "quay lai bot", "exit", "done", "huy"}
_CANCEL = {"huy", "cancel", "thoi", "khong gui", "bo qua phan anh"}

TOPICS: tuple[tuple[str, str, str], ...] = (
    ("procedure", "Thủ tục, hồ sơ", "Procedures, dossiers"),
    ("delay", "Thời gian giải quyết", "Processing time"),
    ("staff", "Thái độ, tác phong cán bộ", "Staff conduct"),
    ("zone", "Hạ tầng, môi trường KCN", "Park infrastructure, environment"),
    ("other", "Khác", "Other"),
)
WEEKDAYS = {"vi": ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"),
            "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")}
DEFAULT_HOURS = ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))


def ticket(channel: str, chat_id: str, attempt: int = 0) -> str:
    """A short, stable, one-way name for a user's conversation in the staff chat (no chat id):
    the `attempt`-th candidate. The one a chat gets is bound to it in the storage
    (`Storage.link_handover`) and never handed to another chat: a chat whose candidate is
    taken (a 40-bit collision, found on purpose or not) gets the next one."""
    salt = f":{attempt}" if attempt else ""
    return "U" + hashlib.sha256(f"tthc-handover:{channel}:{chat_id}{salt}".encode()).hexdigest()[:10]


def staff_reply_command(replied_text: str, text: str) -> str | None:
    """For a staff member's reply to a forwarded message: the `/tl <ticket> <text>` command the
    engine understands, or None when the replied message names no ticket."""
    m = TICKET_RE.search(replied_text or "")
    if m is None or not (text or "").strip():
        return None
    return f"/tl {m.group(1)} {text.strip()}"


def parse_hours(text: str) -> tuple[tuple[time, time], ...]:
    """Office hours from the board's text ("7:30–11:30 và 13:30–17:00"); the usual ones if none."""
    found = re.findall(r"(\d{1,2})[:h](\d{2})\s*[–—-]\s*(\d{1,2})[:h](\d{2})", text or "")
    out = []
    for h1, m1, h2, m2 in found:
        try:
            start, end = time(int(h1), int(m1)), time(int(h2), int(m2))
        except ValueError:
            continue
        if start < end:
            out.append((start, end))
    return tuple(sorted(out)) or DEFAULT_HOURS


class Talk:
    """Complaints and handover, on a Storage, a working-day calendar and the board's profile."""

    def __init__(self, storage: Any, staff_chat: tuple[str, str] | None = None, calendar: Any | None = None,
                 board: Any | None = None) -> None:
        self.storage = storage
        self.staff_chat = staff_chat
        self.calendar = calendar
        self.board = board
        self.hours = parse_hours(board.working_hours if board else "")

    # -- time -----------------------------------------------------------------------------------

    def _working_day(self, day: date) -> bool:
        if self.calendar is not None:
            return bool(self.calendar.is_working_day(day))
        return day.weekday() < 5

    def open_now(self, now: datetime) -> bool:
        return self._working_day(now.date()) and any(a <= now.time() < b for a, b in self.hours)

    def next_open(self, now: datetime) -> datetime:
        """When staff are next at work, from `now` (outside office hours)."""
        day = now.date()
        for _ in range(60):
            if self._working_day(day):
                for start, _end in self.hours:
                    moment = datetime.combine(day, start, now.tzinfo)
                    if moment > now:
                        return moment
            day += timedelta(days=1)
        return now

    def when_text(self, now: datetime, lang: str) -> str:
        at = self.next_open(now)
        day = WEEKDAYS[lang][at.weekday()]
        hours = self.board.working_hours if self.board and lang == "vi" else self.board.working_hours_en if self.board else ""
        if lang == "vi":
            return (f"Bây giờ là ngoài giờ làm việc ({hours}). Cán bộ sẽ trả lời từ {at:%H:%M} {day} {at:%d/%m/%Y}; "
                    "bạn cứ nhắn, tin nhắn được chuyển ngay.")
        return (f"It is outside office hours ({hours}). Staff will answer from {at:%H:%M} on {day} {at:%d/%m/%Y}; "
                "you can write now, your messages are passed on at once.")

    # -- the engine's hook --------------------------------------------------------------------------

    def before(self, q: str, state: ConversationState, lang: str, chat: tuple[str, str] | None, now: datetime) -> tuple[str, Reply] | None:
        f = fold(q).strip(" .!?")
        staff = self._staff_command(q, chat, now)
        if staff is not None:
            return staff
        if state.handover is not None:
            return self._in_handover(q, f, state, lang, chat, now)
        if q.startswith(HANDOVER_ACTION):
            return self._start_handover(state, lang, chat, now) if q == "ho:start" else None
        if q.startswith(COMPLAINT_ACTION):
            return self._complaint_action(q, state, lang, chat, now)
        if state.pending is not None and state.pending.kind == "complaint":
            return self._complaint_typed(q, f, state, lang, chat, now)
        ref = REF_RE.search(q)
        if ref and len(f.split()) <= 8:
            return self._complaint_status(ref.group(0).upper(), lang, chat)
        if _HANDOVER_RE.search(f) and len(f.split()) <= 10:
            return self._start_handover(state, lang, chat, now)
        if _COMPLAINT_RE.search(f) and len(f.split()) <= 8:
            return self._complaint_action("pa:start", state, lang, chat, now)
        return None

    # -- the staff chat ---------------------------------------------------------------------------

    def _to_staff(self, key: str, text: str, now: datetime) -> bool:
        if self.staff_chat is None:
            return False
        from ..dossiers._notify import reply_to_payload

        self.storage.enqueue(key, self.staff_chat[0], self.staff_chat[1], reply_to_payload(Reply(text[:3500])), now)
        return True

    def _staff_command(self, q: str, chat: tuple[str, str] | None, now: datetime) -> tuple[str, Reply] | None:
        """`/tl <ticket> <text>` from the staff chat: the text goes to that user."""
        if chat is None or self.staff_chat is None or (chat[0], str(chat[1])) != self.staff_chat:
            return None
        m = _STAFF_REPLY_RE.match(q.strip())
        if m is None:
            return None
        target = self.storage.handover_target(self.staff_chat[0], self.staff_chat[1], m.group(1))
        if target is None:
            return "staff", Reply(f"Không tìm thấy cuộc trò chuyện #{m.group(1)}.")
        from ..dossiers._notify import reply_to_payload

        text = m.group(2).strip()[:MAX_TEXT]
        lang = ConversationState.from_dict(self.storage.get_session(_session_key(*target))).lang
        head = "👤 Cán bộ Ban Quản lý:" if lang == "vi" else "👤 Board staff:"
        key = f"handover-reply:{m.group(1)}:{uuid.uuid4().hex}"
        self.storage.enqueue(key, target[0], target[1], reply_to_payload(Reply(f"{head} {text}")), now)
        return "staff", Reply(f"✓ Đã chuyển trả lời tới #{m.group(1)}.")

    # -- handover ---------------------------------------------------------------------------------

    def _start_handover(self, state: ConversationState, lang: str, chat: tuple[str, str] | None, now: datetime) -> tuple[str, Reply]:
        vi = lang == "vi"
        if chat is None or chat[0] not in PUSH_CHANNELS or not chat[1] or self.staff_chat is None:
            return "handover", Reply(self._no_handover_text(lang), (
                Button("Phản ánh, kiến nghị" if vi else "Send a complaint", "pa:start"),
                Button("Liên hệ" if vi else "Contact", "menu:contact"),
            ))
        name = self._bind_ticket(chat, now)
        if name is None:  # pragma: no cover - every candidate taken by other chats
            return "handover", Reply(self._no_handover_text(lang), (
                Button("Phản ánh, kiến nghị" if vi else "Send a complaint", "pa:start"),))
        state.handover = Handover(name, now.isoformat(timespec="seconds"))
        state.pending = None
        asked = state.asked.q if state.asked is not None else None
        staff_text = (f"🙋 #{name} ({chat[0]}, {'tiếng Việt' if vi else 'English'}) cần gặp cán bộ."
                      + (f"\nCâu hỏi gần nhất: {asked}" if asked else "")
                      + f"\nTrả lời: trả lời (reply) vào tin này, hoặc /tl {name} <nội dung>.")
        self._to_staff(f"handover:{name}:{uuid.uuid4().hex}", staff_text, now)
        lines = [
            "Đã chuyển cuộc trò chuyện tới cán bộ Ban Quản lý. Các tin nhắn tiếp theo của bạn sẽ được chuyển tới "
            "cán bộ, và câu trả lời sẽ đến ngay trong cuộc trò chuyện này. Gõ «kết thúc» để quay lại trợ lý tự động."
            if vi else
            "You are now talking to the board's staff: your next messages go to them and their answers come "
            "back in this chat. Type “end” to return to the automatic assistant."
        ]
        if chat[0] == "web":
            lines.append("Hãy giữ trang này mở; nếu bạn đóng trang, câu trả lời sẽ chờ sẵn khi bạn mở lại trên trình duyệt này."
                         if vi else "Keep this page open; if you close it, the answer will be waiting when you come back "
                         "in this browser.")
        if not self.open_now(now):
            lines.append(self.when_text(now, lang))
        return "handover", Reply("\n".join(lines), (Button("Kết thúc" if vi else "End", "ho:end"),))

    def _bind_ticket(self, chat: tuple[str, str], now: datetime) -> str | None:
        """The chat's ticket: the one it had, else the first candidate no other chat holds."""
        assert self.staff_chat is not None
        staff_channel, staff_chat = self.staff_chat
        channel, chat_id = chat[0], str(chat[1])
        had = self.storage.handover_ticket(staff_channel, staff_chat, channel, chat_id)
        candidates = ([had] if had else []) + [ticket(channel, chat_id, n) for n in range(TICKET_ATTEMPTS)]
        for name in candidates:
            if self.storage.link_handover(staff_channel, staff_chat, name, channel, chat_id, now):
                return name
        return None

    def _in_handover(self, q: str, f: str, state: ConversationState, lang: str, chat: tuple[str, str] | None,
                     now: datetime) -> tuple[str, Reply]:
        vi = lang == "vi"
        info = state.handover
        assert info is not None
        name = info.ticket
        if q == "ho:end" or f in _END:
            state.handover = None
            self._to_staff(f"handover-end:{name}:{uuid.uuid4().hex}", f"✔ #{name} đã kết thúc trò chuyện với cán bộ.", now)
            return "handover", Reply(
                "Đã kết thúc trò chuyện với cán bộ. Trợ lý tự động tiếp tục trả lời bạn." if vi
                else "The conversation with staff has ended. The automatic assistant is back.",
                (Button("Tra cứu hồ sơ" if vi else "Check a dossier", "menu:status"),
                 Button("Lộ trình thủ tục" if vi else "Investor roadmap", "menu:roadmap")))
        if q.startswith(("ho:", "menu:", "lang:")) or not q.strip():
            return "handover", Reply(
                "Bạn đang trò chuyện với cán bộ. Gõ «kết thúc» để quay lại trợ lý tự động." if vi
                else "You are talking to staff. Type “end” to return to the automatic assistant.",
                (Button("Kết thúc" if vi else "End", "ho:end"),))
        key = f"handover-msg:{name}:{uuid.uuid4().hex}"  # each message once, even the same words twice
        self._to_staff(key, f"💬 #{name}: {mask_secrets(q[:MAX_TEXT], self.storage)}", now)
        if info.told:
            return "handover", Reply("")  # forwarded: nothing to say each time
        info.told = True
        return "handover", Reply(
            "✓ Đã chuyển tới cán bộ. Gõ «kết thúc» khi xong." if vi else "✓ Passed on to staff. Type “end” when done.",
            (Button("Kết thúc" if vi else "End", "ho:end"),))

    def _no_handover_text(self, lang: str) -> str:
        b = self.board
        vi = lang == "vi"
        contact = f" {b.hotline}, {b.email}" if b else ""
        if vi:
            return ("Ở kênh này cán bộ chưa trả lời trực tiếp được. Bạn có thể gọi hoặc gửi email cho Ban Quản lý"
                    f"{contact}, nhắn qua Zalo hoặc Telegram của Ban, hoặc để lại phản ánh, kiến nghị để cán bộ liên hệ lại.")
        return ("Staff cannot answer on this channel. You can call or e-mail the board"
                f"{contact}, write on its Zalo or Telegram, or leave a complaint so staff contact you.")

    # -- complaints -------------------------------------------------------------------------------

    def _complaint_action(self, q: str, state: ConversationState, lang: str, chat: tuple[str, str] | None,
                          now: datetime) -> tuple[str, Reply] | None:
        vi = lang == "vi"
        parts = q.split(":")
        cancel = Button("Hủy" if vi else "Cancel", "pa:cancel")
        if q == "pa:start":
            state.pending = Pending("complaint", step="topic")
            text = ("Phản ánh, kiến nghị — bước 1/3: bạn muốn phản ánh về việc gì?" if vi
                    else "Complaint — step 1/3: what is it about?")
            buttons = tuple(Button(v if vi else e, f"pa:t:{k}") for k, v, e in TOPICS) + (cancel,)
            return "complaint", Reply(text, buttons)
        if q == "pa:cancel":
            state.pending = None
            return "complaint", Reply("Đã hủy phản ánh." if vi else "Complaint cancelled.")
        if len(parts) == 3 and parts[1] == "t" and parts[2] in {k for k, _v, _e in TOPICS}:
            state.pending = Pending("complaint", step="text", topic=parts[2])
            return "complaint", Reply(
                "Bước 2/3: bạn hãy gõ nội dung phản ánh, kiến nghị trong một tin nhắn (nêu rõ sự việc, thời gian, "
                "thủ tục hoặc mã hồ sơ nếu có)." if vi else
                "Step 2/3: type your complaint in one message (what happened, when, and the procedure or dossier code if any).",
                (cancel,))
        if q == "pa:skip":
            pending = state.pending
            if pending is not None and pending.kind == "complaint" and pending.step == "contact":
                return self._save(state, lang, chat, now, None)
        return None

    def _complaint_typed(self, q: str, f: str, state: ConversationState, lang: str, chat: tuple[str, str] | None,
                         now: datetime) -> tuple[str, Reply] | None:
        vi = lang == "vi"
        pending = state.pending
        assert pending is not None
        if f in _CANCEL:
            return self._complaint_action("pa:cancel", state, lang, chat, now)
        step = pending.step
        if step == "topic":  # a typed topic: its number or its name
            for i, (k, v, e) in enumerate(TOPICS, 1):
                if f in (str(i), fold(v), fold(e)):
                    return self._complaint_action(f"pa:t:{k}", state, lang, chat, now)
            return self._complaint_action("pa:start", state, lang, chat, now)
        if step == "text":
            if len(f.split()) < 3:
                return "complaint", Reply("Nội dung hơi ngắn, bạn hãy viết rõ hơn một chút nhé." if vi
                                          else "That is a little short: please say a bit more.",
                                          (Button("Hủy" if vi else "Cancel", "pa:cancel"),))
            pending.step, pending.text = "contact", mask_secrets(q[:MAX_TEXT], self.storage)
            return "complaint", Reply(
                "Bước 3/3: số điện thoại hoặc email để cán bộ liên hệ lại (không bắt buộc: bấm «Bỏ qua»)." if vi
                else "Step 3/3: a phone number or e-mail for staff to reply to (optional: press “Skip”).",
                (Button("Bỏ qua" if vi else "Skip", "pa:skip"), Button("Hủy" if vi else "Cancel", "pa:cancel")))
        if step == "contact":
            return self._save(state, lang, chat, now, q.strip()[:200] or None)
        return None

    def _save(self, state: ConversationState, lang: str, chat: tuple[str, str] | None, now: datetime,
              contact: str | None) -> tuple[str, Reply]:
        vi = lang == "vi"
        pending = state.pending
        state.pending = None
        topic = (pending.topic if pending is not None else "") or "other"
        text = pending.text if pending is not None else ""
        channel, chat_id = chat if chat else ("cli", "")
        ref = self.storage.add_complaint(f"PA-{now:%y%m%d}-", now, channel, chat_id, lang, topic, text, contact)
        label = next((v for k, v, _e in TOPICS if k == topic), topic)
        forwarded = self._to_staff(
            f"complaint:{ref}",
            f"📣 Phản ánh, kiến nghị {ref} ({channel}, {now:%H:%M %d/%m/%Y})\nChủ đề: {label}\nNội dung: {text}"
            + f"\nLiên hệ: {contact or '(không để lại)'}", now)
        hint = ("" if forwarded else (" (chưa có nhóm cán bộ nhận trực tuyến: phản ánh được lưu để xử lý)" if vi
                                     else " (no staff chat is set: it is stored for staff)"))
        return "complaint", Reply(
            f"Đã ghi nhận phản ánh, kiến nghị số {ref}{hint}. Ban Quản lý sẽ xem xét"
            + (" và liên hệ lại với bạn" if contact else "") + f". Khi cần hỏi lại, hãy nêu số {ref}."
            if vi else
            f"Your complaint is recorded as {ref}{hint}. The board will look into it"
            + (" and contact you" if contact else "") + f". Quote {ref} when you ask about it.")

    def _complaint_status(self, ref: str, lang: str, chat: tuple[str, str] | None) -> tuple[str, Reply]:
        """The status of a complaint, for the chat that filed it (and the staff chat) only:
        anyone else is told it was not found, the same words as for an unknown reference."""
        row = self.storage.complaint(ref)
        vi = lang == "vi"
        asker = (chat[0], str(chat[1])) if chat else ("cli", "")
        owner = row is not None and (row["channel"], str(row["chat_id"])) == asker and (asker[1] or asker[0] == "cli")
        staff = self.staff_chat is not None and asker == (self.staff_chat[0], str(self.staff_chat[1]))
        if row is None or not (owner or staff):
            return "complaint", Reply(f"Không tìm thấy phản ánh số {ref}." if vi else f"No complaint {ref} was found.")
        at = datetime.fromisoformat(row["at"])
        status = {"new": ("đã tiếp nhận, đang xem xét", "received, being looked into"),
                  "processing": ("đang được xử lý", "being handled"),
                  "answered": ("đã được trả lời", "answered"),
                  "closed": ("đã xử lý xong", "closed")}.get(row["status"], (row["status"], row["status"]))
        return "complaint", Reply(
            f"Phản ánh số {ref} gửi lúc {at:%H:%M %d/%m/%Y}: {status[0]}." if vi
            else f"Complaint {ref} sent at {at:%H:%M %d/%m/%Y}: {status[1]}.")


def _session_key(channel: str, chat_id: str) -> str:
    """The session key a channel adapter keeps a chat's state under (bot/channels)."""
    prefix = {"telegram": "tg", "zalo_oa": "zalo-oa", "zalo_bot": "zalo-bot"}.get(channel, channel)
    return f"{prefix}:{chat_id}"
