"""The one protocol every conversation flow follows (procedure Q&A, FAQ, dossier lookup, roadmap,
pre-check, complaints and handover, staff commands): a message and the chat's state in, an
`Answer` out, or None when the message is not the flow's. Flows are registered in one place
(`bot.conversation`), which offers each message to them in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from ._answer import Answer, Found
from ._state import ConversationState


@dataclass(frozen=True)
class Message:
    """One message of a chat, as the flows see it."""

    #: The text, normalised (NFC, no control characters, cut to the configured length).
    text: str
    #: The language of the reply: "vi" or "en".
    lang: str
    #: (channel, chat id), or None (a one-off question from the command line or the API).
    chat: tuple[str, str] | None = None
    #: True for a pressed button (its action, such as "p:1.009664:documents"), not typed text.
    action: bool = False
    #: An intent the matcher understood and handed to the flow that owns it ("status", "roadmap").
    intent: str | None = None
    #: The client's network address, when the chat id is the client's own choice (the web chat):
    #: dossier lookups count their attempts against it.
    address: str | None = None
    #: The procedure the message names, found by the matcher that handed it over (at most one):
    #: "the dossier for my work permit, where is it" is about that procedure's dossier.
    matches: Sequence[Found] = ()

    def handed(self, intent: str, matches: Sequence[Found] = ()) -> Message:
        """This message, handed over with `intent` (and the procedure it names)."""
        return replace(self, intent=intent, matches=tuple(matches))


@dataclass(frozen=True)
class Handoff:
    """A flow's verdict that the message asks for an intent another flow answers: the procedure
    matcher understands "hồ sơ của tôi đến đâu rồi" but the dossier flow answers it."""

    intent: str
    #: The procedure the message names, when the matcher is sure of it (answered beside).
    matches: Sequence[Found] = ()


class Flow(Protocol):
    """A conversation flow."""

    @property
    def name(self) -> str:
        """Its name, for logs and metrics ("procedures", "dossiers", "roadmap"…)."""
        ...

    @property
    def actions(self) -> tuple[str, ...]:
        """The button actions it answers, by prefix ("r:" …): text starting so is a pressed button."""
        ...

    @property
    def intents(self) -> tuple[str, ...]:
        """The intents the matcher hands to it (see `Handoff`)."""
        ...

    def take(self, msg: Message, state: ConversationState) -> Answer | Handoff | None:
        """The answer to `msg`, a hand-off to another flow, or None when the message is not this
        flow's. `state` is the chat's, changed in place."""
        ...


class Observer(Protocol):
    """Sees every answer to a typed question (`Answer.question`) before it is sent."""

    def after(self, answer: Answer, msg: Message, state: ConversationState) -> None:
        """Record the answer, change its reply (👍 / 👎 buttons) or the state."""
        ...
