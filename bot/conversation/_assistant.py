"""The assistant: every conversation flow, registered in one place, and the one way a message
goes through them."""

from __future__ import annotations

from typing import Any

from ..core import DOSSIER_CODE_RE, Answer, ConversationState, detect_lang, fold, normalize
from ..core._flow import Flow, Handoff, Message, Observer
from ..dossiers import DossierService
from ..dossiers._flow import DossierFlow, StaffFlow
from ..dossiers._staff import StaffCommands
from ..engine import Engine
from ..guide import Guide, PrecheckGuide, RoadmapGuide
from ..guide._flows import PrecheckFlow, RoadmapFlow, TalkFlow
from ..kb import KnowledgeBase
from ..workdays import WorkCalendar


class Assistant:
    """Answers one message of a chat: decides the reply's language, then offers the message to
    each flow in order until one takes it.

    The order is the product's: a chat handed over to staff, a complaint being written or a 👍 /
    👎 come first (talk); then staff commands; then what the bot is waiting for (a dossier's
    lookup secret, a roadmap answer, ticked papers); the procedure matcher last, which answers
    every other message and hands some intents to the flow that owns them (a dossier's status,
    the roadmap).
    """

    def __init__(
        self, kb: KnowledgeBase, *, dossiers: DossierService | None = None, calendar: WorkCalendar | None = None,
        staff_commands: StaffCommands | None = None, guide: Guide | None = None, public_url: str = "",
        max_chars: int = 500,
    ) -> None:
        """`dossiers` (a DossierService) turns on dossier lookups, `staff_commands` the staff
        chats' commands, `guide` the storage-backed flows (feedback, complaints, handover, the
        question log); `calendar` lets time answers say when a dossier filed today is due;
        `public_url` makes the pre-check's printable page link absolute."""
        self.kb = kb
        self.dossiers = dossiers
        self.guide = guide
        self.staff_commands = staff_commands
        self.calendar = calendar if calendar is not None else (dossiers.calendar if dossiers is not None else None)
        self.max_chars = max_chars
        self.engine = Engine(kb, calendar=self.calendar)
        self.roadmap = RoadmapGuide(kb)
        self.precheck = PrecheckGuide(kb, public_url)
        talk = TalkFlow(guide)
        flows: list[Flow] = [talk]
        observers: list[Observer] = [talk] if guide is not None else []
        if staff_commands is not None:
            flows.append(StaffFlow(staff_commands))
        flows += [DossierFlow(dossiers, kb.board), RoadmapFlow(self.roadmap), PrecheckFlow(self.precheck), self.engine]
        self.flows: tuple[Flow, ...] = tuple(flows)
        self.observers: tuple[Observer, ...] = tuple(observers)
        self.actions = tuple(dict.fromkeys(prefix for flow in flows for prefix in flow.actions))
        self._owners = {intent: flow for flow in flows for intent in flow.intents}

    # -- the matcher's parts, for the server and the tools -----------------------------------

    @property
    def index(self) -> Any:
        """The procedure index (search, vocabulary)."""
        return self.engine.index

    @property
    def vocabulary(self) -> Any:
        """The knowledge's vocabulary."""
        return self.engine.vocabulary

    @property
    def by_code(self) -> dict[str, Any]:
        """Procedures by national code."""
        return self.engine.by_code

    # -- answering ---------------------------------------------------------------------------

    def answer(
        self, text: str, state: ConversationState | dict[str, Any] | None = None, lang: str | None = None,
        chat: tuple[str, str] | None = None, address: str | None = None,
    ) -> Answer:
        """Answer one message. `state` (changed in place) is the chat's: a `ConversationState`,
        or its stored form (a dict, updated in place). `lang` forces the reply's language ('vi'
        or 'en'); `chat` is (channel, chat id), needed to subscribe to a dossier's notices;
        `address` the web client's address (dossier lookups count attempts against it)."""
        if isinstance(state, ConversationState):
            return self.reply(text, state, lang, chat, address)
        typed = ConversationState.from_dict(state or {})
        answer = self.reply(text, typed, lang, chat, address)
        if state is not None:
            state.clear()
            state.update(typed.to_dict())
        return answer

    def reply(
        self, text: str, state: ConversationState, lang: str | None = None, chat: tuple[str, str] | None = None,
        address: str | None = None,
    ) -> Answer:
        """`answer` on a typed state."""
        q = normalize(text if isinstance(text, str) else "", self.max_chars)
        action = q.startswith(self.actions)
        if lang not in ("vi", "en"):
            # A pressed button carries no language of its own: keep the conversation's.
            lang = state.lang_forced or (
                state.lang if action
                else detect_lang(q, state.lang, self.vocabulary.english_words, self.vocabulary.english_ambiguous)
            )
        state.lang = lang
        if not q or not fold(q) and not DOSSIER_CODE_RE.search(q):
            return Answer(q, lang, "unknown", [], self.engine.empty(lang))
        msg = Message(q, lang, chat, action, address=address)
        for flow in self.flows:
            taken = flow.take(msg, state)
            if taken is None:
                continue
            if isinstance(taken, Handoff):
                answer = self._owners[taken.intent].take(msg.handed(taken.intent, taken.matches), state)
                assert isinstance(answer, Answer), f"{taken.intent}: the owning flow gave no answer"
                answer.question = True
            else:
                answer = taken
            if answer.question:
                for observer in self.observers:
                    observer.after(answer, msg, state)
            return answer
        raise AssertionError("the procedure flow answers every message")  # pragma: no cover

    def cheap(self, text: Any, state: dict[str, Any] | ConversationState) -> bool:
        """True when answering `text` needs no procedure search that is not cached yet and no
        dossier (no lookup in progress, no dossier code or action): then the answer is a fraction
        of a millisecond of CPU, and the server gives it without a trip to the worker thread.
        A guess: wrong, it only costs one search on the caller's thread."""
        pending = state.pending if isinstance(state, ConversationState) else state.get("pending")
        if not isinstance(text, str) or pending:
            return False
        q = normalize(text, self.max_chars)
        if q.startswith("dossier:") or DOSSIER_CODE_RE.search(q):
            return False
        return self.engine.index.cached(q)
