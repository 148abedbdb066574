"""The guide's services that keep records (in the Storage): the log of questions answered with low
confidence, 👍 / 👎 under answers, complaints and the handover to staff (bot/guide/_talk.py). The
talk flow (bot/guide/_flows.py) calls `before` (flows that take a message over) and `after` (on
every answered question)."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..core import FACETS, Answer, Asked, Button, ConversationState, Reply, now_vn
from ._questions import QuestionLog, mask

FEEDBACK = "fb:"
# Answers worth a 👍 / 👎: about a procedure (any facet) or a general question (FAQ).
RATED = ("procedure", *FACETS, "faq")
THANKS = {
    "vi": "Cảm ơn bạn đã góp ý!",
    "en": "Thank you for your feedback!",
}
SORRY = {
    "vi": "Cảm ơn bạn đã góp ý! Cán bộ sẽ xem lại câu trả lời này. Bạn có thể gõ lại câu hỏi theo cách khác.",
    "en": "Thank you! Staff will review this answer. You may also try asking in other words.",
}


class Guide:
    """Storage-backed flows around the engine."""

    def __init__(self, storage: Any, staff_chat: tuple[str, str] | None = None, calendar: Any | None = None,
                 board: Any | None = None) -> None:
        from ._talk import Talk

        self.storage = storage
        self.questions = QuestionLog(storage)
        self.talk = Talk(storage, staff_chat, calendar, board)

    # -- the engine's hooks -----------------------------------------------------------------------

    def before(self, q: str, state: ConversationState, lang: str, chat: tuple[str, str] | None) -> tuple[str, Reply] | None:
        """A message some flow of the guide takes over (a 👍/👎 press …): (intent, reply), else None."""
        if q.startswith(FEEDBACK) and state.handover is None:
            return self._feedback(q, state, lang, chat)
        return self.talk.before(q, state, lang, chat, now_vn())

    def after(self, answer: Answer, state: ConversationState, chat: tuple[str, str] | None) -> None:
        """Every answered question: record it when the answer was unsure; put 👍 / 👎 under a
        confident answer about a procedure or from the FAQ."""
        self.questions.record(answer, chat)
        state.asked = None
        if answer.intent in RATED and not answer.unsure and (answer.matches or answer.intent == "faq"):
            code = answer.matches[0].procedure.code if answer.matches else "-"
            state.asked = Asked(mask(answer.q, self.storage), answer.intent, code)
            vi = answer.lang == "vi"
            buttons = (
                Button("👍 Hữu ích" if vi else "👍 Helpful", f"{FEEDBACK}+:{answer.intent}:{code}"),
                Button("👎 Chưa đúng" if vi else "👎 Not helpful", f"{FEEDBACK}-:{answer.intent}:{code}"),
            )
            answer.reply = dataclasses.replace(answer.reply, buttons=answer.reply.buttons + buttons)

    # -- 👍 / 👎 ---------------------------------------------------------------------------------

    def _feedback(self, q: str, state: ConversationState, lang: str, chat: tuple[str, str] | None) -> tuple[str, Reply] | None:
        parts = q.split(":")
        if len(parts) != 4 or parts[1] not in ("+", "-") or parts[2] not in RATED:
            return None
        vote = 1 if parts[1] == "+" else -1
        code = parts[3] if parts[3] != "-" else None
        asked, state.asked = state.asked, None
        same = asked is not None and asked.intent == parts[2] and asked.code == parts[3]
        text = asked.q if asked is not None and same else None
        try:
            self.storage.add_feedback(now_vn(), chat[0] if chat else "cli", vote, parts[2], code, text)
        except Exception:
            pass
        lang = lang if lang in THANKS else "vi"
        if vote > 0:
            return "feedback", Reply(THANKS[lang])
        vi = lang == "vi"
        return "feedback", Reply(SORRY[lang], (
            Button("Gặp cán bộ" if vi else "Talk to staff", "ho:start"),
            Button("Phản ánh, kiến nghị" if vi else "Send a complaint", "pa:start"),
        ))
