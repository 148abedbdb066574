"""Load and validate a knowledge directory.

Board staff edit these YAML files by hand, so every problem is collected (not just the first)
and reported with the file, the entry, the field and, where YAML knows it, the line.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import yaml

from ..config import default_knowledge_dir
from ._model import (
    CHANNEL_TYPES,
    ONLINE_LEVELS,
    TIME_UNITS,
    Board,
    Case,
    Document,
    ExternalProcedure,
    FaqEntry,
    Fee,
    Form,
    GlossaryEntry,
    KnowledgeBase,
    Procedure,
    ReturnReason,
    Roadmap,
    RoadmapOption,
    RoadmapQuestion,
    RoadmapStep,
    TimeLimit,
)
from ._vocabulary import Vocabulary, read_vocabulary

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: several times faster
CODE_RE = re.compile(r"^\d\.\d{6}$")
URL_RE = re.compile(r"^https?://\S+$")

T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    """One validation problem, located as precisely as the YAML allows."""

    file: str
    entry: str
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        entry = f" [{self.entry}]" if self.entry else ""
        fld = f" {self.field}:" if self.field else ""
        return f"{where}{entry}{fld} {self.message}"


class KnowledgeError(Exception):
    """Raised when a knowledge directory has problems; carries all of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def nfc(text: str) -> str:
    """Unicode NFC, the one normal form used everywhere in the bot."""
    return unicodedata.normalize("NFC", text)


def _lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    """Record the 1-based line of every value in a composed YAML tree, keyed by its path."""
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[path + (key,)] = key_node.start_mark.line + 1
            _lines(value_node, path + (key,), out)
            out[path + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, path + (i,), out)


def _repeated(node: yaml.Node) -> yaml.Node | None:
    """The first node met twice in a composed tree, or None. YAML composes an alias (`*name`)
    as the very node of its anchor (`&name`): walking the tree once, a node seen again is an
    alias. Knowledge files may not have them: nine nested aliases of nine items each are a few
    hundred bytes that expand to 387 million values."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            return current
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                stack.append(key_node)
                stack.append(value_node)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return None


def _read_yaml(path: Path, rel: str, problems: list[Problem]) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """Parse one file; on a syntax error record a problem with YAML's line and return None."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(rel, "", "", f"cannot be read: {exc}"))
        return None, {}
    loader = _Loader(text)
    try:
        # One parse: the node tree gives the lines, the same tree gives the data.
        node = loader.get_single_node()
        alias = _repeated(node) if node is not None else None
        if alias is not None:  # refused before anything walks or builds the expanded tree
            problems.append(Problem(rel, "", "", "uses a YAML alias (an &anchor repeated as *name): knowledge files "
                                    "may not; write the value out where it is needed", alias.start_mark.line + 1))
            return None, {}
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        problems.append(Problem(rel, "", "", f"is not valid YAML: {reason}", line))
        return None, {}
    finally:
        loader.dispose()
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _lines(node, (), lines)
    return data, lines


class _Checker:
    """Collects problems for one entry while reading its fields."""

    def __init__(self, file: str, entry: str, lines: dict[tuple[Any, ...], int], base: tuple[Any, ...]):
        self.file = file
        self.entry = entry
        self.lines = lines
        self.base = base
        self.problems: list[Problem] = []

    def problem(self, path: tuple[Any, ...], message: str) -> None:
        line = None
        for i in range(len(path), -1, -1):
            line = self.lines.get(self.base + path[:i])
            if line:
                break
        self.problems.append(Problem(self.file, self.entry, _dotted(path), message, line))

    def mapping(self, value: Any, path: tuple[Any, ...], allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.problem(path, f"must be a mapping of fields (got {_kind(value)})")
            return {}
        for key in value:
            if not isinstance(key, str) or key not in allowed:
                hint = _closest(str(key), allowed)
                extra = f" (did you mean '{hint}'?)" if hint else ""
                self.problem(path + (key,), f"unknown field{extra}; allowed: {', '.join(sorted(allowed))}")
        return value

    def text(self, d: dict[str, Any], key: str, path: tuple[Any, ...], required: bool = True) -> str | None:
        value = d.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(path + (key,), "is required and must not be empty")
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.problem(path + (key,), f"must be text (got {_kind(value)})")
            return None
        if _is_placeholder(value):
            self.problem(path + (key,), f"is still a placeholder ({value.strip()[:40]!r}): fill it in")
            return None
        return nfc(value.strip())

    def texts(self, d: dict[str, Any], key: str, path: tuple[Any, ...], required: bool = True) -> tuple[str, ...]:
        value = d.get(key)
        if value is None or value == []:
            if required:
                self.problem(path + (key,), "is required: give at least one item")
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.problem(path + (key,), f"must be a list of texts (got {_kind(value)})")
            return ()
        out = []
        for i, item in enumerate(value):
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                item = str(item)
            if not isinstance(item, str) or not item.strip():
                self.problem(path + (key, i), "must be non-empty text")
                continue
            if _is_placeholder(item):
                self.problem(path + (key, i), f"is still a placeholder ({item.strip()[:40]!r}): fill it in")
                continue
            out.append(nfc(item.strip()))
        return tuple(out)

    def english(self, d: dict[str, Any], key: str, path: tuple[Any, ...], vi: str | None) -> str:
        """The English text `key` (e.g. name_en) of the Vietnamese text `vi` read from the same
        mapping: required when `vi` is given (every public text of the knowledge has its English
        text beside it, `<field>_en`: a user reading English sees it); an English text without its
        Vietnamese one is a problem too."""
        base = key.removesuffix("_en")
        if not vi:
            if d.get(key) not in (None, "", []):
                self.problem(path + (key,), f"has no Vietnamese text to translate: give {base} too, or leave {key} out")
            return ""
        n = len(self.problems)
        value = self.text(d, key, path, required=False)
        if value is None and len(self.problems) == n:
            self.problem(path + (key,), f"is required: the English text of {base}")
        return value or ""

    def english_list(self, d: dict[str, Any], key: str, path: tuple[Any, ...], vi: tuple[str, ...]) -> tuple[str, ...]:
        """`english` for a list (steps_en of steps): one English text per Vietnamese item."""
        base = key.removesuffix("_en")
        if not vi:
            if d.get(key) not in (None, "", []):
                self.problem(path + (key,), f"has no Vietnamese text to translate: give {base} too, or leave {key} out")
            return ()
        n = len(self.problems)
        values = self.texts(d, key, path, required=False)
        if len(self.problems) > n:
            return values
        if not values:
            self.problem(path + (key,), f"is required: the English text of {base}, one item per item of {base}")
        elif len(values) != len(vi):
            self.problem(path + (key,), f"has {len(values)} item(s) but {base} has {len(vi)}: give one English text per item of {base}")
        return values

    def integer(self, d: dict[str, Any], key: str, path: tuple[Any, ...], default: int) -> int:
        value = d.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.problem(path + (key,), f"must be a whole number, 0 or more (got {value!r})")
            return default
        return value

    def items(self, d: dict[str, Any], key: str, path: tuple[Any, ...], read: Callable[[Any, tuple[Any, ...]], T | None], required: bool = True) -> tuple[T, ...]:
        value = d.get(key)
        if value is None or value == []:
            if required:
                self.problem(path + (key,), "is required: give at least one item")
            return ()
        if not isinstance(value, list):
            self.problem(path + (key,), f"must be a list (got {_kind(value)})")
            return ()
        out = []
        for i, item in enumerate(value):
            got = read(item, path + (key, i))
            if got is not None:
                out.append(got)
        return tuple(out)


def _is_placeholder(text: str) -> bool:
    """Drafts mark what a person must fill in with TODO; such a value is never valid."""
    return text.strip().upper().startswith("TODO")


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", bool: "yes/no", type(None): "nothing"}.get(
        type(value), type(value).__name__
    )


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _closest(key: str, allowed: set[str]) -> str | None:
    from rapidfuzz import process

    best = process.extractOne(key, sorted(allowed), score_cutoff=70)
    return best[0] if best else None


PROCEDURE_FIELDS = {
    "code", "name", "name_en", "aliases", "examples", "field", "agency", "agency_en", "online_level", "cases",
    "conditions", "conditions_en", "result", "result_en", "legal_basis", "source_url", "publish_decision",
    "verified", "notes", "record_date", "diff_explained",
}
# The fields `tthc-bot kb diff` compares; a `diff_explained:` item names one of them.
DIFF_FIELDS = ("name", "time", "documents", "fees", "legal_basis")
CASE_FIELDS = {
    "name", "name_en", "steps", "steps_en", "documents", "time", "fees", "channels", "examples", "label", "label_en",
}
# `note` is for staff (a curation note, never shown); `public_note` is what the applicant reads.
DOCUMENT_FIELDS = {"name", "name_en", "form", "originals", "copies", "note", "public_note", "public_note_en"}
FORM_FIELDS = {"code", "url"}
TIME_FIELDS = {"value", "unit", "text", "text_en"}
FEE_FIELDS = {"name", "name_en", "amount", "text", "text_en", "exempt", "exempt_en"}


def _read_procedure(data: Any, c: _Checker, today: date) -> Procedure | None:
    d = c.mapping(data, (), PROCEDURE_FIELDS)
    if not d:
        return None
    before = len(c.problems)
    code = c.text(d, "code", ())
    if code and not CODE_RE.match(code):
        c.problem(("code",), f"'{code}' is not a national procedure code like 1.009664")
    online_level = c.text(d, "online_level", ())
    if online_level and online_level.lower() not in ONLINE_LEVELS:
        c.problem(("online_level",), f"must be one of: {', '.join(ONLINE_LEVELS)} (got '{online_level}')")
    source_url = c.text(d, "source_url", ())
    if source_url and not URL_RE.match(source_url):
        c.problem(("source_url",), f"must be a web address starting with https:// (got '{source_url}')")
    verified = _read_date(d.get("verified"), c, ("verified",), today)
    record_date = (
        _read_date(d.get("record_date"), c, ("record_date",), today) if d.get("record_date") is not None else None
    )

    def read_form(value: Any, path: tuple[Any, ...]) -> Form | None:
        if value is None:
            return None
        if isinstance(value, str):
            return Form(nfc(value.strip())) if value.strip() else None
        f = c.mapping(value, path, FORM_FIELDS)
        code_ = c.text(f, "code", path)
        url = c.text(f, "url", path, required=False)
        if url and not URL_RE.match(url):
            c.problem(path + ("url",), f"must be a web address (got '{url}')")
        return Form(code_, url) if code_ else None

    def read_document(value: Any, path: tuple[Any, ...]) -> Document | None:
        if isinstance(value, str):
            if value.strip():
                c.problem(path, "is a plain text: write the document as a mapping with name and name_en "
                          "(its English text)")
            return Document(nfc(value.strip())) if value.strip() else None
        doc = c.mapping(value, path, DOCUMENT_FIELDS)
        name = c.text(doc, "name", path)
        name_en = c.english(doc, "name_en", path, name)
        form = read_form(doc.get("form"), path + ("form",))
        originals = c.integer(doc, "originals", path, 1)
        copies = c.integer(doc, "copies", path, 0)
        if originals == 0 and copies == 0 and "originals" in doc and "copies" in doc:
            c.problem(path, "needs at least one original or one copy")
        note = c.text(doc, "note", path, required=False)
        public_note = c.text(doc, "public_note", path, required=False) or ""
        public_note_en = c.english(doc, "public_note_en", path, public_note)
        if not name:
            return None
        return Document(name, form, originals, copies, note, name_en, public_note, public_note_en)

    def read_time(value: Any, path: tuple[Any, ...]) -> TimeLimit | None:
        if value is None:
            c.problem(path, "is required: the time limit (value, unit, text)")
            return None
        t = c.mapping(value, path, TIME_FIELDS)
        text = c.text(t, "text", path)
        text_en = c.english(t, "text_en", path, text)
        if "value" not in t and "unit" not in t:
            # The record fixes no limit: allowed, and `text` must say so (the bot shows it).
            return TimeLimit(None, None, text, text_en) if text else None
        v = t.get("value")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
            c.problem(path + ("value",), f"must be a number above 0 (got {v!r}); leave out value and unit when the record fixes no limit")
            v = None
        unit = c.text(t, "unit", path)
        if unit and unit not in TIME_UNITS:
            c.problem(path + ("unit",), f"must be one of: {', '.join(TIME_UNITS)} (got '{unit}')")
            unit = None
        if v is None or unit is None or text is None:
            return None
        return TimeLimit(float(v), unit, text, text_en)  # type: ignore[arg-type]

    def read_fee(value: Any, path: tuple[Any, ...]) -> Fee | None:
        fee = c.mapping(value, path, FEE_FIELDS)
        text = c.text(fee, "text", path)
        amount = fee.get("amount")
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or amount < 0):
            c.problem(path + ("amount",), f"must be a whole number of VND, 0 for free, or empty (got {amount!r})")
            amount = None
        name = c.text(fee, "name", path, required=False)
        exempt = c.text(fee, "exempt", path, required=False)
        text_en = c.english(fee, "text_en", path, text)
        name_en = c.english(fee, "name_en", path, name)
        exempt_en = c.english(fee, "exempt_en", path, exempt)
        if not text:
            return None
        return Fee(text, amount, name, exempt, text_en, name_en, exempt_en)

    def read_channel(value: Any, path: tuple[Any, ...]) -> str | None:
        if value not in CHANNEL_TYPES:
            c.problem(path, f"must be one of: {', '.join(CHANNEL_TYPES)} (got {value!r})")
            return None
        return str(value)

    def read_case(value: Any, path: tuple[Any, ...]) -> Case | None:
        cd = c.mapping(value, path, CASE_FIELDS)
        if not cd:
            return None
        n = len(c.problems)
        name = c.text(cd, "name", path)
        name_en = c.english(cd, "name_en", path, name)
        steps = c.texts(cd, "steps", path)
        steps_en = c.english_list(cd, "steps_en", path, steps)
        documents = c.items(cd, "documents", path, read_document)
        time = read_time(cd.get("time"), path + ("time",))
        fees = c.items(cd, "fees", path, read_fee, required=False)
        channels = c.items(cd, "channels", path, read_channel)
        case_examples = c.texts(cd, "examples", path, required=False)
        label = c.text(cd, "label", path, required=False)
        label_en = c.english(cd, "label_en", path, label) or None
        if len(c.problems) > n or name is None or time is None:
            return None
        return Case(name, steps, documents, time, fees, channels, case_examples,  # type: ignore[arg-type]
                    label=label, label_en=label_en, name_en=name_en, steps_en=steps_en)

    name = c.text(d, "name", ())
    name_en = c.text(d, "name_en", ())
    aliases = c.texts(d, "aliases", (), required=False)
    examples = c.texts(d, "examples", (), required=False)
    field_ = c.text(d, "field", ())
    agency = c.text(d, "agency", ())
    agency_en = c.english(d, "agency_en", (), agency)
    cases = c.items(d, "cases", (), read_case)
    conditions = c.text(d, "conditions", (), required=False)
    conditions_en = c.english(d, "conditions_en", (), conditions)
    result = c.text(d, "result", (), required=False)
    result_en = c.english(d, "result_en", (), result)
    legal_basis = c.texts(d, "legal_basis", ())
    publish_decision = c.text(d, "publish_decision", (), required=False)
    notes = c.text(d, "notes", (), required=False)
    diff_explained = c.texts(d, "diff_explained", (), required=False)
    for i, item in enumerate(diff_explained):
        head, sep, why = item.partition(":")
        if not sep or head.strip() not in DIFF_FIELDS or not why.strip():
            c.problem(("diff_explained", i), f"must read '<field>: why', field one of: {', '.join(DIFF_FIELDS)} (got {item[:40]!r})")
    if len(c.problems) > before:
        return None
    assert code and name and name_en and field_ and agency and online_level and source_url and verified
    return Procedure(
        code=code, name=name, name_en=name_en, field=field_, agency=agency,
        online_level=online_level.lower(), cases=cases, legal_basis=legal_basis,  # type: ignore[arg-type]
        source_url=source_url, verified=verified, aliases=aliases, examples=examples, conditions=conditions,
        result=result, publish_decision=publish_decision, notes=notes, record_date=record_date,
        diff_explained=diff_explained, file=c.file, agency_en=agency_en, result_en=result_en,
        conditions_en=conditions_en,
    )


def _read_date(value: Any, c: _Checker, path: tuple[Any, ...], today: date) -> date | None:
    if value is None or value == "" or (isinstance(value, str) and _is_placeholder(value)):
        c.problem(path, "is required: the date the entry was checked against its source (YYYY-MM-DD)")
        return None
    if isinstance(value, date):
        got = value
    else:
        try:
            got = date.fromisoformat(str(value).strip())
        except ValueError:
            c.problem(path, f"must be a date written YYYY-MM-DD (got {value!r})")
            return None
    if got > today:
        c.problem(path, f"{got.isoformat()} is in the future")
        return None
    return got


BOARD_FIELDS = {
    "name", "name_en", "address", "hotline", "email", "working_hours", "working_hours_en",
    "portal_url", "one_stop_address", "website", "example", "address_en", "one_stop_address_en",
}
# Optional board fields (English texts of the addresses: replies in English show them).
BOARD_OPTIONAL = {"website", "example", "address_en", "one_stop_address_en"}


def _read_board(data: Any, c: _Checker) -> Board | None:
    d = c.mapping(data, (), BOARD_FIELDS)
    if not d:
        return None
    n = len(c.problems)
    values = {k: c.text(d, k, ()) for k in sorted(BOARD_FIELDS - BOARD_OPTIONAL)}
    values["address_en"] = c.text(d, "address_en", (), required=False) or ""
    values["one_stop_address_en"] = c.text(d, "one_stop_address_en", (), required=False) or ""
    website = c.text(d, "website", (), required=False)
    example = d.get("example", False)
    if not isinstance(example, bool):
        c.problem(("example",), "must be yes or no (true/false)")
        example = False
    if len(c.problems) > n:
        return None
    return Board(website=website, example=example, **values)  # type: ignore[arg-type]


def _read_glossary(data: Any, c: _Checker) -> list[GlossaryEntry]:
    out: list[GlossaryEntry] = []
    if not isinstance(data, list):
        c.problem((), "must be a list of terms")
        return out
    for i, item in enumerate(data):
        d = c.mapping(item, (i,), {"term", "expansion", "english", "note"})
        term = c.text(d, "term", (i,))
        expansion = c.text(d, "expansion", (i,))
        english = c.text(d, "english", (i,), required=False)
        note = c.text(d, "note", (i,), required=False)
        if term and expansion:
            out.append(GlossaryEntry(term, expansion, english, note))
    return out


def _read_faq(data: Any, c: _Checker) -> list[FaqEntry]:
    out: list[FaqEntry] = []
    if not isinstance(data, list):
        c.problem((), "must be a list of questions")
        return out
    seen: set[str] = set()
    for i, item in enumerate(data):
        d = c.mapping(item, (i,), {"id", "questions", "answer_vi", "answer_en", "source"})
        id_ = c.text(d, "id", (i,))
        if id_ in seen:
            c.problem((i, "id"), f"'{id_}' is used twice")
        if id_:
            seen.add(id_)
        questions = c.texts(d, "questions", (i,))
        answer_vi = c.text(d, "answer_vi", (i,))
        answer_en = c.text(d, "answer_en", (i,))
        source = c.text(d, "source", (i,), required=False)
        if id_ and questions and answer_vi and answer_en:
            out.append(FaqEntry(id_, questions, answer_vi, answer_en, source))
    return out


ROADMAP_FIELDS = {"title", "title_en", "questions", "steps"}
ROADMAP_QUESTION_FIELDS = {"id", "ask", "ask_en", "short", "short_en", "default", "options"}
ROADMAP_OPTION_FIELDS = {"value", "label", "label_en", "note", "note_en"}
ROADMAP_STEP_FIELDS = {"code", "elsewhere", "when", "case", "agency", "agency_en", "note", "note_en"}
ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,15}$")
VALUE_RE = re.compile(r"^[a-z0-9_]{1,12}$")
YES_NO = (RoadmapOption("yes", "Có", "Yes"), RoadmapOption("no", "Không", "No"))


def _answer_value(value: Any) -> Any:
    """YAML reads yes/no as true/false: a roadmap answer is the text "yes" / "no" then."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def _read_roadmap(
    data: Any, c: _Checker, procedures: dict[str, Procedure],
    elsewhere: dict[str, ExternalProcedure] | None = None,
) -> Roadmap | None:
    """knowledge/roadmap.yaml: questions (yes/no or options) and steps with conditions; a step
    names a bundled procedure (`code`) or another agency's step (`elsewhere`, an id of
    knowledge/elsewhere.yaml)."""
    d = c.mapping(data, (), ROADMAP_FIELDS)
    if not d:
        return None
    before = len(c.problems)
    title = c.text(d, "title", ())
    title_en = c.text(d, "title_en", ())
    seen: set[str] = set()

    def read_option(value: Any, path: tuple[Any, ...]) -> RoadmapOption | None:
        o = c.mapping(value, path, ROADMAP_OPTION_FIELDS)
        if not o:
            return None
        raw = _answer_value(o.get("value"))
        if not isinstance(raw, str) or not VALUE_RE.match(raw):
            c.problem(path + ("value",), f"must be a short word of a-z, 0-9, _ (got {raw!r})")
            raw = None
        label = c.text(o, "label", path)
        label_en = c.text(o, "label_en", path)
        note = c.text(o, "note", path, required=False)
        note_en = c.english(o, "note_en", path, note) or None
        if raw is None or label is None or label_en is None:
            return None
        return RoadmapOption(raw, label, label_en, note, note_en)

    def read_question(value: Any, path: tuple[Any, ...]) -> RoadmapQuestion | None:
        q = c.mapping(value, path, ROADMAP_QUESTION_FIELDS)
        if not q:
            return None
        n = len(c.problems)
        qid = c.text(q, "id", path)
        if qid and not ID_RE.match(qid):
            c.problem(path + ("id",), f"must be a short word of a-z, 0-9, _ starting with a letter (got '{qid}')")
        elif qid in seen:
            c.problem(path + ("id",), f"'{qid}' is used twice")
        if qid:
            seen.add(qid)
        ask = c.text(q, "ask", path)
        ask_en = c.text(q, "ask_en", path)
        short = c.text(q, "short", path, required=False) or ""
        short_en = c.english(q, "short_en", path, short)
        m = len(c.problems)
        options = c.items(q, "options", path, read_option, required=False) if "options" in q else YES_NO
        values = [o.value for o in options]
        for dup in sorted({v for v in values if values.count(v) > 1}):
            c.problem(path + ("options",), f"the answer '{dup}' is listed twice")
        if "options" in q and not 2 <= len(options) <= 10 and len(c.problems) == m:
            c.problem(path + ("options",), "needs from two to ten answers")
        default = _answer_value(q.get("default"))
        if default is None:
            c.problem(path + ("default",), "is required: the answer used for the plain roadmap")
        elif default not in values and len(c.problems) == m:
            c.problem(path + ("default",), f"must be one of the answers: {', '.join(values)} (got {default!r})")
        if len(c.problems) > n or not (qid and ask and ask_en):
            return None
        return RoadmapQuestion(qid, ask, ask_en, options, str(default), short, short_en)

    questions = c.items(d, "questions", (), read_question)
    by_id = {q.id: q for q in questions}

    def read_step(value: Any, path: tuple[Any, ...]) -> RoadmapStep | None:
        st = c.mapping(value, path, ROADMAP_STEP_FIELDS)
        if not st:
            return None
        n = len(c.problems)
        ext_id = c.text(st, "elsewhere", path, required="elsewhere" in st)
        code = c.text(st, "code", path, required="elsewhere" not in st)
        if ext_id is not None and code is not None:
            c.problem(path + ("elsewhere",), "give either code (a board procedure) or elsewhere (another agency's step), not both")
        elif ext_id is not None and ext_id not in (elsewhere or {}):
            c.problem(path + ("elsewhere",), f"'{ext_id}' is not an entry of elsewhere.yaml")
        if ext_id is not None and "case" in st:
            c.problem(path + ("case",), "is only for a board procedure (code), not for an elsewhere step")
        proc = procedures.get(code or "")
        if code and proc is None:
            c.problem(path + ("code",), f"{code} is not a procedure of this knowledge base")
        case = st.get("case")
        if case is not None:
            if isinstance(case, bool) or not isinstance(case, int) or case < 1:
                c.problem(path + ("case",), f"must be a case number from 1 (got {case!r})")
                case = None
            elif proc is not None and case > len(proc.cases):
                c.problem(path + ("case",), f"{code} has {len(proc.cases)} case(s), not {case}")
                case = None
        when: list[tuple[str, tuple[str, ...]]] = []
        raw_when = st.get("when")
        if raw_when is not None:
            conditions = c.mapping(raw_when, path + ("when",), set(by_id) or {"?"})
            for qid, answers in conditions.items():
                question = by_id.get(str(qid))
                if question is None:
                    continue  # reported by mapping() as an unknown field
                listed = answers if isinstance(answers, list) else [answers]
                values = tuple(_answer_value(a) for a in listed)
                allowed = [o.value for o in question.options]
                wrong = [v for v in values if v not in allowed]
                if wrong or not values:
                    c.problem(path + ("when", qid), f"must be one or more of: {', '.join(allowed)} (got {answers!r})")
                    continue
                when.append((str(qid), tuple(str(v) for v in values)))
        agency = c.text(st, "agency", path, required=False)
        agency_en = c.english(st, "agency_en", path, agency) or None
        note = c.text(st, "note", path, required=False)
        note_en = c.english(st, "note_en", path, note) or None
        if len(c.problems) > n or (code is None and ext_id is None):
            return None
        return RoadmapStep(code or "", tuple(when), case, agency, agency_en, note, note_en, elsewhere=ext_id)

    steps = c.items(d, "steps", (), read_step)
    if len(c.problems) > before or not (title and title_en):
        return None
    return Roadmap(title, title_en, questions, steps, file=c.file)


ELSEWHERE_FIELDS = {
    "id", "code", "name", "name_en", "agency", "agency_en", "where", "where_en", "board_needs",
    "board_needs_en", "needed_for", "examples", "source_url", "verified", "time", "legal_basis",
}
ELSEWHERE_TEXTS = ("name", "name_en", "agency", "agency_en", "where", "where_en", "board_needs", "board_needs_en")
SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


def _read_elsewhere(data: Any, c: _Checker, procedures: dict[str, Procedure], today: date) -> list[ExternalProcedure]:
    """knowledge/elsewhere.yaml: procedures of other agencies an investor meets on the way (who,
    where, what the board's procedures need from them); `needed_for` names bundled procedures."""
    out: list[ExternalProcedure] = []
    if not isinstance(data, list):
        c.problem((), "must be a list of entries (id, name, agency, where, board_needs, ...)")
        return out
    seen: set[str] = set()
    for i, item in enumerate(data):
        path: tuple[Any, ...] = (i,)
        d = c.mapping(item, path, ELSEWHERE_FIELDS)
        if not d:
            continue
        n = len(c.problems)
        id_ = c.text(d, "id", path)
        if id_ and (not SLUG_RE.match(id_) or len(id_) > 40):
            c.problem(path + ("id",), f"must be a short slug of a-z, 0-9 and - (got '{id_}')")
        elif id_ in seen:
            c.problem(path + ("id",), f"'{id_}' is used twice")
        if id_:
            seen.add(id_)
        code = c.text(d, "code", path, required=False)
        if code and not CODE_RE.match(code):
            c.problem(path + ("code",), f"'{code}' is not a national procedure code like 1.115391")
        elif code and code in procedures:
            c.problem(path + ("code",), f"{code} is a procedure of this knowledge base: it is not handled elsewhere")
        texts = {k: c.text(d, k, path) for k in ELSEWHERE_TEXTS}
        needed_for = c.texts(d, "needed_for", path, required=False)
        for j, needed in enumerate(needed_for):
            if needed not in procedures:
                c.problem(path + ("needed_for", j), f"{needed} is not a procedure of this knowledge base")
        examples = c.texts(d, "examples", path, required=False)
        source_url = c.text(d, "source_url", path)
        if source_url and not URL_RE.match(source_url):
            c.problem(path + ("source_url",), f"must be a web address starting with https:// (got '{source_url}')")
        verified = _read_date(d.get("verified"), c, path + ("verified",), today)
        time: TimeLimit | None = None
        if d.get("time") is not None:
            tpath = path + ("time",)
            t = c.mapping(d["time"], tpath, {"value", "unit", "text", "text_en"})
            ttext = c.text(t, "text", tpath) if t else None
            ttext_en = c.english(t, "text_en", tpath, ttext) if t else ""
            if "value" in t or "unit" in t:
                v = t.get("value")
                if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
                    c.problem(tpath + ("value",), f"must be a number above 0 (got {v!r}); leave out value and unit when no limit is fixed")
                unit = c.text(t, "unit", tpath)
                if unit and unit not in TIME_UNITS:
                    c.problem(tpath + ("unit",), f"must be one of: {', '.join(TIME_UNITS)} (got '{unit}')")
                elif unit and ttext and isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0:
                    time = TimeLimit(float(v), unit, ttext, ttext_en)  # type: ignore[arg-type]
            elif ttext:
                time = TimeLimit(None, None, ttext, ttext_en)
        legal_basis = c.texts(d, "legal_basis", path, required=False)
        if len(c.problems) > n or not id_ or not source_url or verified is None or None in texts.values():
            continue
        out.append(ExternalProcedure(
            id=id_, source_url=source_url, verified=verified, code=code, needed_for=needed_for,
            examples=examples, time=time, legal_basis=legal_basis, **texts,  # type: ignore[arg-type]
        ))
    return out


def _read_precheck(data: Any, c: _Checker, procedures: dict[str, Procedure]) -> list[ReturnReason]:
    """knowledge/precheck.yaml: the common reasons a dossier is returned."""
    d = c.mapping(data, (), {"return_reasons"})
    out: list[ReturnReason] = []
    fields = {p.field.casefold() for p in procedures.values()}

    def read(value: Any, path: tuple[Any, ...]) -> ReturnReason | None:
        r = c.mapping(value, path, {"text", "text_en", "codes", "field"})
        if not r:
            return None
        n = len(c.problems)
        text = c.text(r, "text", path)
        text_en = c.text(r, "text_en", path)
        codes = c.texts(r, "codes", path, required=False)
        for i, code in enumerate(codes):
            if code not in procedures:
                c.problem(path + ("codes", i), f"{code} is not a procedure of this knowledge base")
        field_ = c.text(r, "field", path, required=False)
        if field_ and field_.casefold() not in fields:
            c.problem(path + ("field",), f"no procedure has the field '{field_}'")
        if len(c.problems) > n or not (text and text_en):
            return None
        return ReturnReason(text, text_en, codes, field_)

    if d:
        out.extend(c.items(d, "return_reasons", (), read))
    return out


def check_knowledge(root: str | Path, today: date | None = None) -> tuple[KnowledgeBase, list[Problem]]:
    """Load what can be loaded from `root` and return it with every problem found.

    Broken procedure files are left out of the returned knowledge base; callers decide whether
    problems are fatal (`load_knowledge`) or only reported (`tthc-bot kb check`).
    """
    root = Path(root)
    today = today or date.today()
    problems: list[Problem] = []
    if not root.is_dir():
        problems.append(Problem(str(root), "", "", "is not a directory"))
        return KnowledgeBase((), None, root=str(root)), problems

    def rel(p: Path) -> str:
        try:
            return str(p.relative_to(root.parent))
        except ValueError:
            return str(p)

    procedures: list[Procedure] = []
    seen: dict[str, str] = {}
    proc_dir = root / "procedures"
    files = sorted(proc_dir.glob("*.y*ml")) if proc_dir.is_dir() else []
    if not files:
        problems.append(Problem(rel(proc_dir), "", "", "holds no procedure files (*.yaml)"))
    for path in files:
        name = rel(path)
        data, lines = _read_yaml(path, name, problems)
        if data is None:
            if not any(p.file == name for p in problems):
                problems.append(Problem(name, "", "", "is empty"))
            continue
        entry = str(data.get("code", path.stem)) if isinstance(data, dict) else path.stem
        c = _Checker(name, entry, lines, ())
        proc = _read_procedure(data, c, today)
        problems.extend(c.problems)
        if proc is None:
            continue
        if proc.code in seen:
            c2 = _Checker(name, entry, lines, ())
            c2.problem(("code",), f"{proc.code} is also defined in {seen[proc.code]}")
            problems.extend(c2.problems)
            continue
        seen[proc.code] = name
        procedures.append(proc)

    by_code = {p.code: p for p in procedures}

    def side_file(name: str, entry: str, read: Callable[[Any, _Checker], T], name_entries: bool = False) -> T | None:
        """Read an optional file beside the procedures, adding its problems; None when absent or unreadable."""
        path = root / name
        if not path.exists():
            return None
        data, lines = _read_yaml(path, rel(path), problems)
        if data is None:
            return None
        c = _Checker(rel(path), entry, lines, ())
        value = read(data, c)
        problems.extend(_with_entry(p, data) if name_entries else p for p in c.problems)
        return value

    if not (root / "board.yaml").exists():
        problems.append(Problem(rel(root / "board.yaml"), "", "", "is missing: the board's profile"))
    board = side_file("board.yaml", "board", _read_board)
    glossary = side_file("glossary.yaml", "", _read_glossary, name_entries=True) or []
    faq = side_file("faq.yaml", "", _read_faq, name_entries=True) or []
    elsewhere = side_file(
        "elsewhere.yaml", "", lambda data, c: _read_elsewhere(data, c, by_code, today), name_entries=True,
    ) or []
    by_id = {e.id: e for e in elsewhere}
    roadmap = side_file("roadmap.yaml", "roadmap", lambda data, c: _read_roadmap(data, c, by_code, by_id))
    reasons = side_file("precheck.yaml", "precheck", lambda data, c: _read_precheck(data, c, by_code)) or []
    vocabulary = side_file("vocabulary.yaml", "vocabulary", read_vocabulary)
    if vocabulary is None and not (root / "vocabulary.yaml").exists():
        vocabulary = bundled_vocabulary()
    kb = KnowledgeBase(
        tuple(procedures), board, tuple(glossary), tuple(faq), root=str(root), roadmap=roadmap,
        return_reasons=tuple(reasons), elsewhere=tuple(elsewhere), vocabulary=vocabulary,
    )
    return kb, problems


def _with_entry(p: Problem, data: Any) -> Problem:
    """Name list entries (glossary terms, FAQ ids) instead of bare indexes where possible."""
    m = re.match(r"^\[(\d+)\]", p.field)
    if m and isinstance(data, list):
        i = int(m.group(1))
        item = data[i] if i < len(data) else None
        if isinstance(item, dict):
            label = item.get("term") or item.get("id") or f"#{i + 1}"
            return Problem(p.file, str(label), p.field, p.message, p.line)
    return p


def load_knowledge(root: str | Path, today: date | None = None) -> KnowledgeBase:
    """Load a knowledge directory, raising KnowledgeError listing every problem if any."""
    kb, problems = check_knowledge(root, today)
    if problems:
        raise KnowledgeError(problems)
    return kb


@functools.lru_cache(maxsize=1)
def bundled_vocabulary() -> Vocabulary | None:
    """The bundled knowledge's vocabulary: the language of a knowledge directory that has none."""
    path = default_knowledge_dir() / "vocabulary.yaml"
    problems: list[Problem] = []
    if not path.exists():
        return None
    data, lines = _read_yaml(path, str(path), problems)
    if data is None:
        return None
    return read_vocabulary(data, _Checker(str(path), "vocabulary", lines, ()))


