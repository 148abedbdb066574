"""The state of one conversation, as flows read and write it and as storage keeps it.

Stored as a JSON object with a version (`"v"`): a state saved by an older release (no version,
or fields it no longer has) loads as far as it can; anything malformed is dropped, never an
error, so one bad row cannot stop a chat.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal, get_args

#: What the bot waits for, by the flow that asked: a dossier's lookup secret ("secret"), a dossier
#: code ("code"), one of several procedures ("choose"), one case of a procedure ("case"), the next
#: roadmap answer ("roadmap"), a ticked document list ("check"), a complaint's next step ("complaint").
PendingKind = Literal["secret", "code", "choose", "case", "roadmap", "check", "complaint"]
PENDING_KINDS: tuple[str, ...] = get_args(PendingKind)


@dataclass
class Pending:
    """What the bot asked and waits for. `kind` names the flow that owns it; the other fields
    are that flow's own (unused ones stay empty)."""

    kind: PendingKind
    code: str = ""                    # a procedure or dossier code
    codes: tuple[str, ...] = ()       # the procedures offered to choose from
    facet: str = ""                   # the facet asked about
    case: int = 0                     # a procedure's case (1-based)
    mask: int = 0                     # ticked documents (one bit each)
    at: str = ""                      # roadmap answers so far, one digit each
    step: str = ""                    # a complaint's step: topic, text, contact
    topic: str = ""
    text: str = ""


@dataclass
class Asked:
    """The last question answered, kept for 👍 / 👎 and for handing over to staff."""

    q: str
    intent: str
    code: str


@dataclass
class Handover:
    """The chat is with staff: the ticket, since when, whether the user was told it ended."""

    ticket: str
    since: str
    told: bool = False


@dataclass
class ConversationState:
    """One chat's state: its language, the procedure talked about, what the bot waits for."""

    VERSION: ClassVar[int] = 1

    lang: str = "vi"
    lang_forced: str | None = None    # chosen with the language button: never detected over
    last: str | None = None           # code of the procedure talked about
    last_score: float | None = None   # …and how sure the bot was of it
    facet: str | None = None          # the facet last answered
    case: tuple[str, int] | None = None  # (procedure code, case) the user picked
    pending: Pending | None = None
    asked: Asked | None = None
    looked_up: str | None = None      # dossier code whose secret was given in this chat
    handover: Handover | None = None
    channel: dict[str, Any] = field(default_factory=dict)  # an adapter's own (numbered choices…)

    # -- storage ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON object kept in storage (empty fields left out)."""
        out: dict[str, Any] = {"v": self.VERSION}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value == {} or value == "":
                continue
            if isinstance(value, (Pending, Asked, Handover)):
                value = {k.name: getattr(value, k.name) for k in fields(value)
                         if getattr(value, k.name) not in ("", 0, (), None) or k.name in ("kind", "told")}
                if "codes" in value:
                    value["codes"] = list(value["codes"])
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, raw: Any) -> ConversationState:
        """A state from storage, tolerant of older versions and of damage."""
        state = cls()
        if not isinstance(raw, dict):
            return state
        state.lang = "en" if raw.get("lang") == "en" else "vi"
        state.lang_forced = raw.get("lang_forced") if raw.get("lang_forced") in ("vi", "en") else None
        state.last = _text(raw.get("last"))
        score = raw.get("last_score")
        state.last_score = float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None
        state.facet = _text(raw.get("facet"))
        case = raw.get("case")
        if isinstance(case, (list, tuple)) and len(case) == 2 and isinstance(case[0], str) and _whole(case[1]):
            state.case = (case[0], int(case[1]))
        state.pending = _pending(raw.get("pending"))
        asked = raw.get("asked")
        if isinstance(asked, dict) and isinstance(asked.get("q"), str):
            state.asked = Asked(asked["q"], str(asked.get("intent", "")), str(asked.get("code", "-")))
        state.looked_up = _text(raw.get("looked_up"))
        handover = raw.get("handover")
        if isinstance(handover, dict) and isinstance(handover.get("ticket"), str):
            state.handover = Handover(handover["ticket"], str(handover.get("since", "")), bool(handover.get("told")))
        channel = raw.get("channel")
        state.channel = dict(channel) if isinstance(channel, dict) else {}
        return state


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _pending(raw: Any) -> Pending | None:
    if not isinstance(raw, dict) or raw.get("kind") not in PENDING_KINDS:
        return None
    codes = raw.get("codes")
    return Pending(
        kind=raw["kind"],
        code=str(raw.get("code") or ""),
        codes=tuple(c for c in codes if isinstance(c, str)) if isinstance(codes, list) else (),
        facet=str(raw.get("facet") or ""),
        case=int(raw["case"]) if _whole(raw.get("case")) else 0,
        mask=int(raw["mask"]) if _whole(raw.get("mask")) else 0,
        at=str(raw.get("at") or ""),
        step=str(raw.get("step") or ""),
        topic=str(raw.get("topic") or ""),
        text=str(raw.get("text") or ""),
    )
