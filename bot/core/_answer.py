"""The answer to one message: what the bot understood (language, intent, procedures found) and
what it replies. Every flow returns one; every channel renders its reply."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ._reply import Reply


class Found(Protocol):
    """A procedure found for a question, with its score in [0, 1] (bot.engine.Match fits)."""

    @property
    def procedure(self) -> Any: ...

    @property
    def score(self) -> float: ...


@dataclass
class Answer:
    """The answer to one message: what the bot understood and what it replies."""

    q: str
    lang: str
    intent: str
    matches: Sequence[Found]
    reply: Reply
    # Low confidence: the bot asked back which procedure was meant (recorded for staff).
    unsure: bool = False
    # An answer to a question the user typed (not a pressed button, nor a reply to the bot's own
    # question): the one kind that is logged for staff and rated 👍 / 👎.
    question: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape of `tthc-bot ask --json` and `POST /api/ask`."""
        return {
            "q": self.q,
            "lang": self.lang,
            "intent": self.intent,
            "matches": [
                {"id": m.procedure.id, "code": m.procedure.code, "name": m.procedure.name, "score": m.score}
                for m in self.matches
            ],
            "reply": self.reply.to_dict(),
        }

    @property
    def silent(self) -> bool:
        """True for an answer with nothing to send (a message dropped by the rate limit)."""
        reply = self.reply
        return not reply.text and not reply.buttons and reply.image is None
