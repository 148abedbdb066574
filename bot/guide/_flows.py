"""The guide's conversation flows: the investor roadmap, the document pre-check, and the
storage-backed ones (👍 / 👎, complaints, the handover to staff, the log of questions)."""

from __future__ import annotations

from ..core import Answer, ConversationState
from ..core._flow import Message
from ._precheck import ACTION as CHECK_ACTION
from ._precheck import PrecheckGuide
from ._roadmap import ACTION as ROADMAP_ACTION
from ._roadmap import RoadmapGuide
from ._service import FEEDBACK, Guide
from ._talk import COMPLAINT_ACTION, HANDOVER_ACTION


class RoadmapFlow:
    """The investor roadmap: its buttons, typed answers to its questions, and roadmap questions
    handed over by the matcher ("muốn đầu tư vào KCN thì phải làm những bước nào")."""

    name = "roadmap"
    actions = (ROADMAP_ACTION, "menu:roadmap")
    intents = ("roadmap",)

    def __init__(self, guide: RoadmapGuide) -> None:
        self.guide = guide

    def take(self, msg: Message, state: ConversationState) -> Answer | None:
        """A roadmap button, an answer to its pending question, or a roadmap question."""
        if msg.action:
            if msg.text == "menu:roadmap":
                return Answer(msg.text, msg.lang, "roadmap", [], self.guide.start(state, msg.lang))
            if not msg.text.startswith(ROADMAP_ACTION):
                return None
            step = self.guide.action(msg.text, state, msg.lang)
            return None if step is None else Answer(msg.text, msg.lang, "roadmap", [], step)
        if msg.intent == "roadmap":
            named = msg.matches[0].procedure if msg.matches else None
            return Answer(msg.text, msg.lang, "roadmap", list(msg.matches), self.guide.default(msg.lang, named))
        if state.pending is not None and state.pending.kind == "roadmap":
            typed = self.guide.typed(msg.text, state, msg.lang)
            if typed is not None:
                return Answer(msg.text, msg.lang, "roadmap", [], typed)
            state.pending = None  # another question: the roadmap waits no longer
        return None


class PrecheckFlow:
    """The document pre-check: tick the papers you have, see what is missing."""

    name = "precheck"
    actions = (CHECK_ACTION,)
    intents: tuple[str, ...] = ()

    def __init__(self, guide: PrecheckGuide) -> None:
        self.guide = guide

    def take(self, msg: Message, state: ConversationState) -> Answer | None:
        """A pre-check button, or typed numbers / "xong" for the pending list."""
        if msg.action:
            if not msg.text.startswith(CHECK_ACTION):
                return None
            checked = self.guide.action(msg.text, state, msg.lang)
            return None if checked is None else Answer(msg.text, msg.lang, "precheck", [], checked)
        if state.pending is not None and state.pending.kind == "check":
            ticked = self.guide.typed(msg.text, state, msg.lang)
            if ticked is not None:
                return Answer(msg.text, msg.lang, "precheck", [], ticked)
            state.pending = None
        return None


class TalkFlow:
    """👍 / 👎 under answers, complaints, the handover to staff; and, as an observer, the log of
    questions answered with low confidence and the 👍 / 👎 buttons under confident answers."""

    name = "talk"
    actions = (FEEDBACK, COMPLAINT_ACTION, HANDOVER_ACTION)
    intents: tuple[str, ...] = ()

    def __init__(self, guide: Guide | None) -> None:
        """Without a `guide` (no database) the flow takes nothing: its buttons are stale."""
        self.guide = guide

    def take(self, msg: Message, state: ConversationState) -> Answer | None:
        """A message a guide flow takes over (a vote, a complaint's step, a chat with staff)."""
        if self.guide is None:
            return None
        taken = self.guide.before(msg.text, state, msg.lang, msg.chat)
        return None if taken is None else Answer(msg.text, msg.lang, taken[0], [], taken[1])

    def after(self, answer: Answer, msg: Message, state: ConversationState) -> None:
        """Record the answer to a typed question; rate a confident one."""
        if self.guide is not None:
            self.guide.after(answer, state, msg.chat)
