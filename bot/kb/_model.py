"""The knowledge base's domain model: procedures, their cases, and the board around them.

Everything here is plain, immutable data built by the loader from validated YAML. The JSON
shape of `Procedure.to_dict()` is a public interface (`tthc-bot kb export --json`).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from typing import Any, Literal

from ._vocabulary import Vocabulary

OnlineLevel = Literal["toàn trình", "một phần", "không"]
TimeUnit = Literal["working_days", "days", "months"]
ChannelType = Literal["online", "in_person", "post"]

ONLINE_LEVELS: tuple[str, ...] = ("toàn trình", "một phần", "không")
TIME_UNITS: tuple[str, ...] = ("working_days", "days", "months")
CHANNEL_TYPES: tuple[str, ...] = ("online", "in_person", "post")


@dataclass(frozen=True)
class Form:
    """A form (mẫu đơn, tờ khai) to fill in, by its official code and, when known, a link."""

    code: str
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "url": self.url}


@dataclass(frozen=True)
class Document:
    """One paper of a dossier (thành phần hồ sơ) with how many originals and copies it needs.

    `note` is a curation note, for staff only (where the entry comes from, what the record says):
    it is never shown to users. What the applicant must read about the paper is `public_note`
    (`public_note_en` in English)."""

    name: str
    form: Form | None = None
    originals: int = 1
    copies: int = 0
    note: str | None = None
    name_en: str = ""
    public_note: str = ""
    public_note_en: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "name_en": self.name_en,
            "form": self.form.to_dict() if self.form else None,
            "originals": self.originals,
            "copies": self.copies,
            "public_note": self.public_note,
            "public_note_en": self.public_note_en,
            "note": self.note,
        }


@dataclass(frozen=True)
class TimeLimit:
    """The time limit for processing (thời hạn giải quyết). `value` and `unit` are None when the
    published record fixes no limit: the bot then says so (from `text`) instead of inventing one."""

    value: float | None
    unit: TimeUnit | None
    text: str
    text_en: str = ""

    @property
    def known(self) -> bool:
        return self.value is not None and self.unit is not None

    def to_dict(self) -> dict[str, Any]:
        value: float | int | None = self.value
        if self.value is not None and float(self.value).is_integer():
            value = int(self.value)
        return {"value": value, "unit": self.unit, "text": self.text, "text_en": self.text_en}


@dataclass(frozen=True)
class Fee:
    """A fee or charge (phí, lệ phí). `amount` is in VND; 0 means free; None means 'see text'."""

    text: str
    amount: int | None = None
    name: str | None = None
    exempt: str | None = None
    text_en: str = ""
    name_en: str = ""
    exempt_en: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "name_en": self.name_en, "amount": self.amount, "text": self.text,
            "text_en": self.text_en, "exempt": self.exempt, "exempt_en": self.exempt_en,
        }

    @property
    def is_free(self) -> bool:
        return self.amount == 0


@dataclass(frozen=True)
class Case:
    """One case (trường hợp) of a procedure: its own steps, documents, time limit and fees."""

    name: str
    steps: tuple[str, ...]
    documents: tuple[Document, ...]
    time: TimeLimit
    fees: tuple[Fee, ...] = ()
    channels: tuple[ChannelType, ...] = ("online", "in_person", "post")
    # Ways people say they are in this case ("dự án chưa cần xin chủ trương"): the matcher learns
    # the case from them.
    examples: tuple[str, ...] = ()
    # A short name people understand, for the button that picks this case ("Dự án mới, không cần
    # chấp thuận chủ trương"); None: derived from `name`.
    label: str | None = None
    label_en: str | None = None
    # The English texts of `name` and of each step (`steps_en` has one item per step).
    name_en: str = ""
    steps_en: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "name_en": self.name_en,
            "label": self.label,
            "label_en": self.label_en,
            "examples": list(self.examples),
            "steps": list(self.steps),
            "steps_en": list(self.steps_en),
            "documents": [d.to_dict() for d in self.documents],
            "time": self.time.to_dict(),
            "fees": [f.to_dict() for f in self.fees],
            "channels": list(self.channels),
        }


@dataclass(frozen=True)
class Procedure:
    """An administrative procedure (thủ tục hành chính) the board handles."""

    code: str
    name: str
    name_en: str
    field: str
    agency: str
    online_level: OnlineLevel
    cases: tuple[Case, ...]
    legal_basis: tuple[str, ...]
    source_url: str
    verified: date
    aliases: tuple[str, ...] = ()
    # Real ways people ask about this procedure (Vietnamese with and without diacritics, English):
    # the matcher is trained on them at load.
    examples: tuple[str, ...] = ()
    conditions: str | None = None
    result: str | None = None
    publish_decision: str | None = None
    notes: str | None = None
    # The date of the portal record the entry was last compared with (its last update on the
    # portal, or the day it was copied when the record carries no date): `source_url` is its address.
    record_date: date | None = None
    # Differences from that record that a person has looked at and kept on purpose, each
    # "<field>: why" (field: name, time, documents, fees, legal_basis): `tthc-bot kb diff` stops
    # reporting them.
    diff_explained: tuple[str, ...] = ()
    file: str = dc_field(default="", compare=False)
    # The English texts of `agency`, `result` and `conditions` (`legal_basis` keeps the official
    # Vietnamese titles). `notes` is a curation note, for staff only: never shown to users.
    agency_en: str = ""
    result_en: str = ""
    conditions_en: str = ""

    @property
    def id(self) -> str:
        """A stable identifier for links, buttons and sessions: the national code."""
        return self.code

    def to_dict(self) -> dict[str, Any]:
        """The public export shape (`tthc-bot kb export --json`)."""
        return {
            "code": self.code,
            "name": self.name,
            "name_en": self.name_en,
            "aliases": list(self.aliases),
            "examples": list(self.examples),
            "field": self.field,
            "agency": self.agency,
            "agency_en": self.agency_en,
            "online_level": self.online_level,
            "cases": [c.to_dict() for c in self.cases],
            "conditions": self.conditions,
            "conditions_en": self.conditions_en,
            "result": self.result,
            "result_en": self.result_en,
            "legal_basis": list(self.legal_basis),
            "source_url": self.source_url,
            "publish_decision": self.publish_decision,
            "verified": self.verified.isoformat(),
            "record_date": self.record_date.isoformat() if self.record_date else None,
            "diff_explained": list(self.diff_explained),
            "notes": self.notes,
        }


def public_texts(p: Procedure, lang: str) -> list[str]:
    """Every text of the knowledge a reply may show about `p` in `lang` ("vi" or "en"): the name
    (in English the English name and, once, the official Vietnamese name), agency, conditions,
    result, legal basis (official titles) and, for each case, its name, label, steps, documents
    (name, form code, public note), time text and fees. An English text left empty (objects built
    in code) stands in by its Vietnamese one, as a reply would. Curation notes (`Procedure.notes`,
    `Document.note`, `diff_explained`) are never among them."""
    en = lang == "en"

    def pick(vi: str | None, english: str | None) -> str:
        return ((english or vi) if en else vi) or ""

    out = [p.name_en, p.name] if en else [p.name]
    out += [pick(p.agency, p.agency_en), pick(p.conditions, p.conditions_en), pick(p.result, p.result_en)]
    out += list(p.legal_basis)
    for case in p.cases:
        out += [pick(case.name, case.name_en), pick(case.label, case.label_en)]
        steps = case.steps_en if en and len(case.steps_en) == len(case.steps) else case.steps
        out += list(steps)
        for d in case.documents:
            out += [pick(d.name, d.name_en), d.form.code if d.form else "", pick(d.public_note, d.public_note_en)]
        out.append(pick(case.time.text, case.time.text_en))
        for fee in case.fees:
            out += [pick(fee.name, fee.name_en), pick(fee.text, fee.text_en), pick(fee.exempt, fee.exempt_en)]
    return [t for t in out if t]


@dataclass(frozen=True)
class Board:
    """The management board's public profile (knowledge/board.yaml)."""

    name: str
    name_en: str
    address: str
    hotline: str
    email: str
    working_hours: str
    working_hours_en: str
    portal_url: str
    one_stop_address: str
    website: str | None = None
    example: bool = False
    # The addresses in English (replies in English show them; empty: the Vietnamese ones).
    address_en: str = ""
    one_stop_address_en: str = ""


@dataclass(frozen=True)
class GlossaryEntry:
    """An abbreviation or English term and what it stands for in the board's language."""

    term: str
    expansion: str
    english: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class FaqEntry:
    """A general question with its answer in Vietnamese and English."""

    id: str
    questions: tuple[str, ...]
    answer_vi: str
    answer_en: str
    source: str | None = None


@dataclass(frozen=True)
class ExternalProcedure:
    """A procedure of another agency that an investor meets on the way (knowledge/elsewhere.yaml):
    who handles it, where and how to file, and what the board's procedures need from it. The bot
    says it is handled elsewhere; it never presents it as a board procedure. `time` is None when
    no fixed limit is known (the answer then says the agency's own rules apply)."""

    id: str
    name: str
    name_en: str
    agency: str
    agency_en: str
    where: str
    where_en: str
    board_needs: str
    board_needs_en: str
    source_url: str
    verified: date
    code: str | None = None
    needed_for: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    time: TimeLimit | None = None
    legal_basis: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoadmapOption:
    """One answer to a roadmap question (`value` is what step conditions name)."""

    value: str
    label: str
    label_en: str
    note: str | None = None
    note_en: str | None = None


@dataclass(frozen=True)
class RoadmapQuestion:
    """A question of the guided roadmap ("is the investor foreign?"), with its answers."""

    id: str
    ask: str
    ask_en: str
    options: tuple[RoadmapOption, ...]
    default: str
    short: str = ""
    short_en: str = ""

    def option(self, value: str) -> RoadmapOption | None:
        for o in self.options:
            if o.value == value:
                return o
        return None


@dataclass(frozen=True)
class RoadmapStep:
    """A procedure on the investor's road, taken when every condition in `when` holds
    (question id -> the answers for which the step applies). `case` is 1-based (None: the
    case with the longest time limit). A step of another agency names its `elsewhere` id
    (knowledge/elsewhere.yaml) instead of a bundled procedure `code` (then "")."""

    code: str
    when: tuple[tuple[str, tuple[str, ...]], ...] = ()
    case: int | None = None
    agency: str | None = None
    agency_en: str | None = None
    note: str | None = None
    note_en: str | None = None
    elsewhere: str | None = None

    def applies(self, answers: dict[str, str]) -> bool:
        return all(answers.get(q) in values for q, values in self.when)


@dataclass(frozen=True)
class Roadmap:
    """The investor roadmap (knowledge/roadmap.yaml): questions and conditional steps in order."""

    title: str
    title_en: str
    questions: tuple[RoadmapQuestion, ...]
    steps: tuple[RoadmapStep, ...]
    file: str = dc_field(default="", compare=False)

    @property
    def defaults(self) -> dict[str, str]:
        return {q.id: q.default for q in self.questions}

    def question(self, qid: str) -> RoadmapQuestion | None:
        for q in self.questions:
            if q.id == qid:
                return q
        return None


@dataclass(frozen=True)
class ReturnReason:
    """A common reason a dossier is returned (knowledge/precheck.yaml), for some procedures
    (`codes`), a field (`field`), or every procedure (neither)."""

    text: str
    text_en: str
    codes: tuple[str, ...] = ()
    field: str | None = None

    def applies(self, p: Procedure) -> bool:
        if self.codes:
            return p.code in self.codes
        if self.field:
            return self.field.casefold() == p.field.casefold()
        return True


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything the bot knows, loaded and validated from one directory."""

    procedures: tuple[Procedure, ...]
    board: Board | None
    glossary: tuple[GlossaryEntry, ...] = ()
    faq: tuple[FaqEntry, ...] = ()
    root: str = ""
    roadmap: Roadmap | None = None
    return_reasons: tuple[ReturnReason, ...] = ()
    # Procedures of other agencies met on the way (knowledge/elsewhere.yaml).
    elsewhere: tuple[ExternalProcedure, ...] = ()
    # The bot's language (knowledge/vocabulary.yaml; the bundled one when a directory has none).
    vocabulary: Vocabulary | None = None

    def procedure(self, code: str) -> Procedure | None:
        """The procedure with this national code, or None."""
        for p in self.procedures:
            if p.code == code:
                return p
        return None

    def external(self, id_: str) -> ExternalProcedure | None:
        """The handled-elsewhere entry with this id, or None."""
        for e in self.elsewhere:
            if e.id == id_:
                return e
        return None
