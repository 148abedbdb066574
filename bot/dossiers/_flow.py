"""The dossier flows: a dossier's status (code, then the lookup secret), subscribing to its
notifications, and the staff commands of staff chats."""

from __future__ import annotations

from ..core import DOSSIER_CODE_RE, Answer, ConversationState, Pending, Reply
from ..core._flow import Handoff, Message
from ..engine import _compose as compose
from ..kb import Board
from ._service import DossierService
from ._staff import StaffCommands


class DossierFlow:
    """Where a dossier stands: "hồ sơ H42.25-… đến đâu rồi" asks for its lookup secret, the
    secret gives its status, and a button subscribes the chat to its changes. Without a
    `DossierService` (no database) the bot explains how to look it up on the portal."""

    name = "dossiers"
    actions = ("dossier:", "menu:status")
    intents = ("status",)

    def __init__(self, service: DossierService | None, board: Board | None) -> None:
        self.service = service
        self.board = board

    def take(self, msg: Message, state: ConversationState) -> Answer | Handoff | None:
        """A dossier's button, the secret asked for, or a status question handed over."""
        if msg.action:
            parts = msg.text.split(":")
            if parts[0] == "dossier" and len(parts) == 3 and parts[1] == "sub":
                return self._subscribe(msg, parts[2], state)
            if parts[0] == "dossier" and len(parts) == 3 and parts[1] == "unsub" and self.service and msg.chat:
                self.service.unsubscribe(parts[2], msg.chat[0], msg.chat[1])
                text = (f"Đã hủy nhận thông báo của hồ sơ {parts[2]}." if msg.lang == "vi"
                        else f"You will no longer get notifications for dossier {parts[2]}.")
                return Answer(msg.text, msg.lang, "status", [], Reply(text))
            if msg.text == "menu:status":
                return self._ask_code(msg, state)
            return None
        if msg.intent == "status":
            return self._ask_code(msg, state)
        pending = state.pending
        if pending is not None and pending.kind == "secret" and self.service is not None and _looks_like_secret(msg.text):
            return self._lookup(msg, pending.code, state)
        return None

    def _ask_code(self, msg: Message, state: ConversationState) -> Answer:
        answer = self._code_asked(msg, state)
        if msg.matches:
            # The message names its dossier's procedure: say how long that one takes, and offer it.
            p = msg.matches[0].procedure
            reply = answer.reply
            answer.reply = Reply(f"{reply.text}\n{compose.time_summary(p, msg.lang)}",
                                 (*reply.buttons, compose.procedure_button(p, msg.lang)), reply.image)
            answer.matches = list(msg.matches)
        return answer

    def _code_asked(self, msg: Message, state: ConversationState) -> Answer:
        vi = msg.lang == "vi"
        code = DOSSIER_CODE_RE.search(msg.text)
        if self.service is None:
            state.pending = None
            return Answer(msg.text, msg.lang, "status", [],
                          Reply(self._no_lookup_text(code.group(0).upper() if code else None, msg.lang)))
        if code:
            state.pending = Pending("secret", code=code.group(0).upper())
            text = (
                f"Để tra cứu hồ sơ {code.group(0).upper()}, bạn hãy gửi mã tra cứu in trên giấy tiếp nhận hồ sơ "
                "(nếu giấy không có mã tra cứu, gửi 4 số cuối số điện thoại của người nộp)."
                if vi else
                f"To look up dossier {code.group(0).upper()}, please send the lookup code printed on your receipt "
                "(if the receipt has none, the last 4 digits of the applicant's phone number)."
            )
        else:
            # The next message with a code asks again; whatever the bot waited for is dropped.
            state.pending = None
            text = (
                "Bạn hãy gửi mã hồ sơ in trên giấy tiếp nhận (ví dụ H42.25-241105-0003) để tra cứu tình trạng hồ sơ."
                if vi else
                "Please send the dossier code printed on your receipt (e.g. H42.25-241105-0003) to check its status."
            )
        return Answer(msg.text, msg.lang, "status", [], Reply(text))

    def _lookup(self, msg: Message, code: str, state: ConversationState) -> Answer:
        assert self.service is not None
        state.pending = None
        asker = msg.chat if msg.chat and msg.chat[1] else None
        result = self.service.lookup(code, msg.text, address=msg.address, chat=asker)
        if result.ok and result.facts is not None:
            state.looked_up = result.facts.code
        # Notifications go out on Telegram, Zalo and the web chat (fetched by the page): no
        # "subscribe" button elsewhere.
        can_notify = msg.chat is not None and msg.chat[0] != "cli" and bool(msg.chat[1])
        reply = self.service.reply(result, "en" if msg.lang == "en" else "vi", subscribed=not can_notify)
        # The secret is not kept in the answer's echo of the question.
        return Answer("(mã tra cứu)" if msg.lang == "vi" else "(lookup secret)", msg.lang, "status", [], reply)

    def _subscribe(self, msg: Message, code: str, state: ConversationState) -> Answer:
        vi = msg.lang == "vi"
        chat = msg.chat
        if self.service is None or state.looked_up != code:
            text = ("Hãy tra cứu hồ sơ (mã hồ sơ và mã tra cứu) trước khi đăng ký nhận thông báo."
                    if vi else "Please look the dossier up (code and lookup secret) before subscribing.")
            return Answer(msg.text, msg.lang, "status", [], Reply(text))
        if chat is None or chat[0] == "cli" or not chat[1]:
            text = ("Thông báo thay đổi trạng thái hồ sơ được gửi qua Telegram hoặc Zalo của Ban Quản lý; "
                    "trên trang web, bạn tra cứu lại bất cứ lúc nào."
                    if vi else "Status notifications are sent on the board's Telegram or Zalo; on the web, "
                    "look the dossier up again at any time.")
            return Answer(msg.text, msg.lang, "status", [], Reply(text))
        self.service.subscribe(code, chat[0], chat[1], "en" if msg.lang == "en" else "vi")
        text = self.service.subscribed_text(code, "en" if msg.lang == "en" else "vi")
        if chat[0] == "web":
            text += (" Tin nhắn hiện trên trang này khi trang đang mở, hoặc khi bạn mở lại trang trên trình duyệt này."
                     if vi else " Messages show on this page while it is open, or when you open it again in this browser.")
        return Answer(msg.text, msg.lang, "status", [], Reply(text))

    def _no_lookup_text(self, code: str | None, lang: str) -> str:
        portal = self.board.portal_url if self.board else "https://dichvucong.gov.vn"
        hotline = f" ({self.board.hotline})" if self.board else ""
        if lang == "vi":
            return (f"Tra cứu hồ sơ{' ' + code if code else ''} chưa được bật trên máy chủ này. Bạn có thể tra cứu "
                    f"tại {portal} bằng số hồ sơ trên phiếu tiếp nhận, hoặc gọi Ban Quản lý{hotline}.")
        return (f"Dossier lookup{' of ' + code if code else ''} is not enabled on this server. You can look it up at "
                f"{portal} with the code on your receipt, or call the board{hotline}.")


def _looks_like_secret(q: str) -> bool:
    """A reply to "send the lookup secret": one short token, not a question or a code."""
    return len(q) <= 32 and len(q.split()) <= 2 and not DOSSIER_CODE_RE.search(q) and "?" not in q


class StaffFlow:
    """Commands in the board's staff chats (figures, /reload) and "dừng thông báo" anywhere."""

    name = "staff"
    actions: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()

    def __init__(self, commands: StaffCommands) -> None:
        self.commands = commands

    def take(self, msg: Message, state: ConversationState) -> Answer | None:
        """The reply to a staff command, or None."""
        if msg.action:
            return None
        reply = self.commands(msg.text, msg.chat)
        return None if reply is None else Answer(msg.text, msg.lang, "staff", [], reply)
