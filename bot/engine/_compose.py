"""Reply texts: a procedure and its facets, in Vietnamese (with diacritics) or English.

Plain text only: adapters escape it for their channel. The facet asked for comes first, with its
key figures and the source; a procedure with several cases is answered for one case at a time
(the engine asks which first). Every answer is cut into pages of at most `PAGE_LIMIT`
characters between whole items (a document, a step, a legal text); an item longer than a page
alone is split between its sentences. English replies use the knowledge's English texts where
it has them (`name_en`, `steps_en`, `text_en`…) and the Vietnamese ones otherwise. Curators'
notes (`Document.note`, `Procedure.notes`) are never shown: only a document's `public_note`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..core import Button
from ..kb import Board, Case, Document, ExternalProcedure, Fee, Procedure, TimeLimit

# A first reply, and every later page, holds at most this many characters.
PAGE_LIMIT = 1200
# A document whose name is longer than this is listed by its first words; its whole text is
# one button away ("Chi tiết 4").
DOC_SUMMARY = 300
# A case button's label, at most (Telegram shows about this much on a phone).
CASE_LABEL = 60

FACET_LABELS = {
    "vi": {
        "procedure": "Tổng quan", "documents": "Hồ sơ", "time": "Thời gian", "fee": "Lệ phí",
        "level": "Nộp trực tuyến", "where": "Nộp ở đâu", "legal": "Căn cứ pháp lý",
    },
    "en": {
        "procedure": "Overview", "documents": "Documents", "time": "Time", "fee": "Fees",
        "level": "Online filing", "where": "Where to file", "legal": "Legal basis",
    },
}
FACET_ORDER = ("procedure", "documents", "time", "fee", "where", "level", "legal")
# Facets whose answer depends on the case (time and fee only when the cases differ).
CASE_FACETS = ("procedure", "documents", "time", "fee")

LEVEL_TEXT = {
    "vi": {
        "toàn trình": "Dịch vụ công trực tuyến toàn trình: nộp hồ sơ, theo dõi, nộp phí (nếu có) và nhận kết quả đều trực tuyến, không phải đến cơ quan.",
        "một phần": "Dịch vụ công trực tuyến một phần: có thể nộp hồ sơ trực tuyến, nhưng một số bước (như nộp bản gốc hoặc nhận kết quả) phải làm trực tiếp hoặc qua bưu chính.",
        "không": "Chưa có dịch vụ công trực tuyến: nộp hồ sơ trực tiếp hoặc qua dịch vụ bưu chính công ích.",
    },
    "en": {
        "toàn trình": "Full online service: you can file, follow the dossier, pay any fee and receive the result entirely online, without visiting the office.",
        "một phần": "Partial online service: you can file online, but some steps (such as handing in originals or collecting the result) are done in person or by post.",
        "không": "No online service yet: file in person or through the public postal service.",
    },
}
LEVEL_SHORT = {
    "vi": {"toàn trình": "Nộp trực tuyến toàn trình.", "một phần": "Nộp trực tuyến một phần (một số bước làm trực tiếp).",
           "không": "Chưa nộp trực tuyến được: nộp trực tiếp hoặc qua bưu chính."},
    "en": {"toàn trình": "Fully online.", "một phần": "Partly online (some steps in person).",
           "không": "Not online yet: file in person or by post."},
}

CHANNEL_TEXT = {
    "vi": {
        "online": "Trực tuyến trên Cổng Dịch vụ công quốc gia",
        "in_person": "Trực tiếp tại Trung tâm Phục vụ hành chính công / Bộ phận Một cửa",
        "post": "Qua dịch vụ bưu chính công ích",
    },
    "en": {
        "online": "Online on the National Public Service Portal",
        "in_person": "In person at the Public Administration Service Centre (one-stop desk)",
        "post": "By the public postal service",
    },
}

UNIT_TEXT = {
    "vi": {"working_days": "ngày làm việc", "days": "ngày", "months": "tháng"},
    "en": {"working_days": "working days", "days": "calendar days", "months": "months"},
}

_CASE_PREFIX_RE = re.compile(r"^\(?\d+(?:\.\d+)*\)?\s*[:.)-]?\s*")
_CASE_WORD_RE = re.compile(r"^(?:trường hợp|case)\s*\d+\s*[:.)-]\s*", re.IGNORECASE)
# A parenthesis citing the law ("(Điều 39 Nghị định 96/2026/NĐ-CP)", "(khoản 1 Điều 56 …)").
_LEGAL_PAREN_RE = re.compile(
    r"\s*\((?:[^()]*\b(?:Điều|điều|khoản|Khoản|Nghị định|NĐ|Luật|Article|Decree|Clause)\b[^()]*)\)")
# A parenthesis about what the portal's record says: a note for curators, not for applicants.
_RECORD_PAREN_RE = re.compile(
    r"\s*\((?=[^()]*(?:\b[Bb]ản ghi\b|\bCổng\b[^()]*\bghi\b|\bghi chú này\b|\bthe record\b|\bthe portal\b[^()]*\b(?:lists|says|shows)\b))[^()]*\)")
_FREE_WORDS = ("miễn phí", "free", "free of charge", "không", "không thu phí")


def _nonempty(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _en(obj: object, name: str, fallback: str) -> str:
    """`obj.<name>` (an English field of the knowledge) when set, else the Vietnamese text."""
    return _nonempty(getattr(obj, name, None)) or fallback


def public(text: str) -> str:
    """`text` without parentheses that speak of the portal's record (curators' remarks); a text
    that only says the record is silent ("Bản ghi không nêu phí, lệ phí") says it of the portal."""
    text = " ".join(_RECORD_PAREN_RE.sub("", text).split())
    return re.sub(r"^[Bb]ản ghi (?:không nêu|không ghi)", "Cổng Dịch vụ công quốc gia không nêu", text)


def short_name(p: Procedure, limit: int = 60) -> str:
    """The procedure's name without the "Thủ tục" prefix and parentheses, cut for a button."""
    name = re.sub(r"\s*\([^()]*\)", "", p.name)
    name = re.sub(r"^Thủ tục\s+", "", name).strip()
    name = name[:1].upper() + name[1:]
    return _clip(name, limit)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-–") + "…"


def display_name(p: Procedure, lang: str, limit: int = 200) -> str:
    """The procedure's name in the reader's language (its short Vietnamese name, or English)."""
    if lang == "en" and p.name_en:
        return _clip(p.name_en, limit)
    return short_name(p, limit)


def title(p: Procedure, lang: str) -> str:
    """The heading of an answer: the name in the reader's language and the national code."""
    if lang == "en":
        return f"{p.name_en} (code {p.code})"
    return f"{p.name} (mã {p.code})"


def official_name(p: Procedure, lang: str) -> list[str]:
    """For English readers, the official Vietnamese name, once (as the portal lists it; a long
    one without its parenthesised list of kinds)."""
    if lang != "en":
        return []
    name = p.name if len(p.name) <= 120 else " ".join(re.sub(r"\s*\([^()]*\)", "", p.name).split())
    return [f"Official Vietnamese name: {name}"]


def form_code(code: str, lang: str) -> str:
    """A form's code; in English "Mẫu số 03" reads "Form No. 03" (the number is what to look up)."""
    if lang != "en":
        return code
    code = re.sub(r"^[Mm]ẫu(?:\s+số)?\s+", lambda m: "Form No. " if "số" in m.group(0) else "Form ", code)
    for vi, en in (("Phụ lục Nghị định", "Appendix to Decree"), ("Phụ lục Thông tư", "Appendix to Circular"),
                   ("Phụ lục", "Appendix"), ("ban hành kèm theo", "issued with"), ("Nghị định", "Decree"),
                   ("Thông tư", "Circular"), ("Quyết định", "Decision"), ("NĐ-CP", "ND-CP"), ("QĐ-", "QD-")):
        code = code.replace(vi, en)
    return code


def agency(p: Procedure, lang: str) -> str:
    return _en(p, "agency_en", p.agency) if lang == "en" else p.agency


def steps_of(c: Case, lang: str) -> tuple[str, ...]:
    if lang == "en":
        english = tuple(s for s in getattr(c, "steps_en", ()) or () if _nonempty(s))
        if english:
            return english
    return c.steps


def doc_name(d: Document, lang: str) -> str:
    name = _en(d, "name_en", d.name) if lang == "en" else d.name
    return name.rstrip(" ;.")


def doc_note(d: Document, lang: str) -> str | None:
    """The note applicants may read (`public_note`), never the curators' `note`."""
    vi = _nonempty(getattr(d, "public_note", None))
    if lang == "en":
        return _nonempty(getattr(d, "public_note_en", None)) or vi
    return vi


def case_name(c: Case, lang: str) -> str:
    return _en(c, "name_en", c.name) if lang == "en" else c.name


def case_label(c: Case, lang: str, limit: int = CASE_LABEL) -> str:
    """A case's short name for its button: the knowledge's `label` / `label_en`, else its name
    without the "Trường hợp 1:" prefix, the article of law and a leading "Đối với"."""
    if lang == "en":
        given = _nonempty(getattr(c, "label_en", None)) or (
            None if _nonempty(getattr(c, "name_en", None)) else _nonempty(getattr(c, "label", None)))
    else:
        given = _nonempty(getattr(c, "label", None))
    if given:
        return _clip(given, limit)
    name = _CASE_WORD_RE.sub("", case_name(c, lang).strip())
    name = _CASE_PREFIX_RE.sub("", name)
    name = _LEGAL_PAREN_RE.sub("", name).strip()
    name = re.sub(r"^(?:Đối với|đối với|For)\s+", "", name).strip()
    name = name[:1].upper() + name[1:]
    return _clip(name, limit)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def time_value(case: Case, lang: str) -> str:
    return limit_value(case.time, lang)


def limit_value(t: TimeLimit, lang: str) -> str:
    if t.value is None or t.unit is None:
        return "chưa có thời hạn cố định — hãy hỏi Ban Quản lý" if lang == "vi" else "no fixed time limit published — ask the board"
    return f"{_num(t.value)} {UNIT_TEXT[lang][t.unit]}"


def limit_text(t: TimeLimit, lang: str) -> str | None:
    """The time limit's own wording in the reader's language (None in English without `text_en`)."""
    if lang == "en":
        return _nonempty(getattr(t, "text_en", None))
    return _nonempty(public(t.text))


def _grouped(p: Procedure, key: Callable[[Case], str]) -> list[tuple[str, list[int]]]:
    """Values of `key(case)` with the (1-based) case numbers that share each, in order."""
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(p.cases, 1):
        groups.setdefault(key(c), []).append(i)
    return list(groups.items())


def cases_word(numbers: list[int], total: int, lang: str) -> str:
    if total == 1 or len(numbers) == total:
        return ""
    nums = ", ".join(str(n) for n in numbers)
    return f" (trường hợp {nums})" if lang == "vi" else f" (case {nums})"


def procedure_button(p: Procedure, lang: str) -> Button:
    """A button that opens a procedure ("Thủ tục: …"), beside another flow's reply."""
    return Button(("Thủ tục: " if lang == "vi" else "Procedure: ") + display_name(p, lang, 40), f"p:{p.code}:procedure")


def time_summary(p: Procedure, lang: str) -> str:
    """A procedure's time limits, counted from a complete dossier: one line ("… : 15 ngày làm
    việc, …"), or one bullet per limit with the short labels of its cases where they differ."""
    vi = lang == "vi"
    name = short_name(p, 120) if vi else display_name(p, "en", 120)
    head = f"Thời hạn giải quyết của thủ tục «{name}»" if vi else f"The time limit of “{name}”"
    since = "tính từ khi nhận đủ hồ sơ hợp lệ" if vi else "counted from the receipt of a complete, valid dossier"
    groups = _grouped(p, lambda c: limit_value(c.time, lang))
    if len(groups) == 1:
        return f"{head}: {groups[0][0]}, {since}."
    lines = [f"{head}, {since}:"]
    lines += [f"• {value}: {'; '.join(case_label(p.cases[n - 1], lang) for n in numbers)}" for value, numbers in groups]
    return "\n".join(lines)


def fee_text(fee: Fee, lang: str) -> str:
    """A fee in words: "Miễn phí", an amount, or the rule that sets it; never the record's remarks."""
    vi = lang == "vi"
    english = _nonempty(getattr(fee, "text_en", None))
    text = public(fee.text if vi else english or fee.text)
    name = (_en(fee, "name_en", fee.name or "") if not vi else fee.name or "").strip()
    head = f"{name}: " if name else ""
    if fee.amount == 0:
        base = "Miễn phí" if vi else "Free of charge"
        extra = re.sub(r"^(?:miễn phí|free(?: of charge)?)\b[\s.,;:—–-]*", "", text, flags=re.IGNORECASE).strip()
        if extra.lower() in _FREE_WORDS or (not vi and not english):
            extra = ""
        return head + base + (f" ({extra.strip('()')})" if extra else "") + _exempt(fee, lang)
    if fee.amount:
        amount = f"{fee.amount:,}".replace(",", ".") + (" đồng" if vi else " VND")
        return head + amount + (f" — {text}" if text else "") + _exempt(fee, lang)
    return head + (text or ("theo quy định" if vi else "set by regulation")) + _exempt(fee, lang)


def _exempt(fee: Fee, lang: str) -> str:
    if not fee.exempt:
        return ""
    if lang == "vi":
        return f". Miễn: {fee.exempt}"
    return f". Exempt: {_en(fee, 'exempt_en', fee.exempt)}"


def fees_of(case: Case, lang: str) -> str:
    if not case.fees:
        return "Không thu phí, lệ phí" if lang == "vi" else "No fee"
    return "; ".join(fee_text(f, lang) for f in case.fees)


def document_line(n: int, d: Document, lang: str, summary: int | None = None) -> str:
    """One paper: number, name (its first words when longer than `summary`), form, copies,
    public note."""
    vi = lang == "vi"
    name = doc_name(d, lang)
    if summary is not None and len(name) > summary:
        name = doc_summary(name, summary) + (f" (xem đủ: nút «Chi tiết {n}»)" if vi else f" (in full: “Details {n}” button)")
    parts = [name]
    if d.form:
        parts.append(form_code(d.form.code, lang) + (f" ({d.form.url})" if d.form.url else ""))
    qty = quantity(d, lang)
    if qty:
        parts.append(qty)
    line = f"{n}. " + " — ".join(parts)
    note = doc_note(d, lang)
    if note:
        line += f" ({note.rstrip('.')})"
    return line


def quantity(d: Document, lang: str) -> str:
    qty = []
    if d.originals:
        qty.append(f"{d.originals} bản chính" if lang == "vi" else f"{d.originals} original{'s' if d.originals > 1 else ''}")
    if d.copies:
        qty.append(f"{d.copies} bản sao" if lang == "vi" else f"{d.copies} cop{'ies' if d.copies > 1 else 'y'}")
    return ", ".join(qty)


def doc_summary(name: str, limit: int = DOC_SUMMARY) -> str:
    """The first words of a long document name: up to its colon or first sentence when that
    comes early enough, else cut between words; "…" marks that there is more."""
    for mark in (":", ". ", "; ", " gồm ", " bao gồm ", " including "):
        at = name.find(mark)
        if 30 <= at <= limit - 2:
            return name[: at + (1 if mark == ":" else 0)].rstrip(" .;") + " …"
    return name[: limit - 2].rsplit(" ", 1)[0].rstrip(" ,;:") + " …"


def long_documents(c: Case, lang: str) -> list[int]:
    """The numbers (1-based) of the case's documents listed by their first words only."""
    return [n for n, d in enumerate(c.documents, 1) if len(doc_name(d, lang)) > DOC_SUMMARY]


def source_line(p: Procedure, lang: str) -> str:
    checked = p.verified.strftime("%d/%m/%Y")
    if lang == "vi":
        return f"Nguồn: {p.source_url} (kiểm tra ngày {checked})"
    return f"Source: {p.source_url} (checked {checked})"


# -- pages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paged:
    """An answer as pages: `head` opens the first page and `more` the later ones, `items` are
    shared out whole, `tail` closes every page and `last` only the last one."""

    head: list[str]
    items: list[str]
    tail: list[str] = field(default_factory=list)
    more: list[str] | None = None
    last: list[str] = field(default_factory=list)
    lang: str = "vi"

    def pages(self, limit: int = PAGE_LIMIT) -> list[str]:
        return paginate(self, limit)


def _join(lines: Sequence[str]) -> str:
    return "\n".join(lines)


def _size(lines: Sequence[str]) -> int:
    return len(_join(lines)) + (1 if lines else 0)


def split_item(item: str, limit: int) -> list[str]:
    """An item longer than `limit` in parts of at most `limit` characters, cut after a sentence,
    a "; " or before a " + " / " - " sub-item (between words only when a sentence alone is too
    long); every part but the last ends with "…"."""
    if len(item) <= limit:
        return [item]
    room = max(limit - 2, 20)
    pieces = re.split(r"(?<=[.;:])\s+|\s+(?=[+•-]\s)", item)
    parts: list[str] = []
    current = ""
    for piece in pieces:
        while len(piece) > room:
            cut = piece.rfind(" ", 0, room - len(current) - 1) if current else piece.rfind(" ", 0, room)
            if cut <= 0:
                if current:
                    parts.append(current)
                    current = ""
                    continue
                cut = room
            head, piece = piece[:cut], piece[cut:].lstrip()
            parts.append(f"{current} {head}".strip() if current else head)
            current = ""
        candidate = f"{current} {piece}".strip() if current else piece
        if len(candidate) <= room:
            current = candidate
        else:
            parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return [p + " …" if i < len(parts) - 1 else p for i, p in enumerate(parts)]


def paginate(answer: Paged, limit: int = PAGE_LIMIT) -> list[str]:
    """The answer's pages, each at most `limit` characters, items never split between pages
    unless one alone is longer than a page (then between its sentences)."""
    vi = answer.lang == "vi"
    marker = len("Trang 99/99 — bấm «Xem tiếp».") + 1
    more = answer.more if answer.more is not None else answer.head
    whole = _join([*answer.head, *answer.items, *answer.last, *answer.tail])
    if len(whole) <= limit:
        return [whole]
    budget_first = limit - _size(answer.head) - _size(answer.tail) - marker
    budget_more = limit - _size(more) - _size(answer.tail) - marker
    units: list[str] = []
    for item in answer.items:
        units.extend(split_item(item, max(min(budget_first, budget_more), 120)))
    pages: list[list[str]] = [[]]
    used = 0
    for unit in units:
        budget = budget_first if len(pages) == 1 else budget_more
        # A page takes a unit that does not fit only when it has none yet (the first page,
        # whose head is longer, may stay without any).
        if used + len(unit) + 1 > budget and (pages[-1] or len(pages) == 1):
            pages.append([])
            used = 0
        pages[-1].append(unit)
        used += len(unit) + 1
    # The closing lines go on the last page when they fit, else on a page of their own.
    if answer.last and used + _size(answer.last) > (budget_first if len(pages) == 1 else budget_more):
        pages.append([])
    texts: list[str] = []
    for i, items in enumerate(pages):
        head = answer.head if i == 0 else more
        lines = [*head, *items]
        if i == len(pages) - 1:
            lines += answer.last
        elif len(pages) > 1:
            lines.append(f"Trang {i + 1}/{len(pages)} — bấm «Xem tiếp»." if vi else f"Page {i + 1} of {len(pages)} — press “More”.")
        lines += answer.tail
        texts.append(_join(lines))
    return texts


# -- the facets -------------------------------------------------------------------------------


def case_line(p: Procedure, n: int | None, lang: str) -> list[str]:
    """ "Trường hợp 2/4: …" when the procedure has several cases and one is chosen."""
    if n is None or len(p.cases) < 2:
        return []
    label = case_label(p.cases[n - 1], lang, 200)
    return [f"Trường hợp {n}/{len(p.cases)}: {label}" if lang == "vi" else f"Case {n} of {len(p.cases)}: {label}"]


def differs(p: Procedure, facet: str) -> bool:
    """True when the answer to `facet` is not the same in every case of the procedure."""
    if len(p.cases) < 2:
        return False
    if facet == "time":
        return len({(c.time.value, c.time.unit) for c in p.cases}) > 1
    if facet == "fee":
        return len({fees_of(c, "vi") for c in p.cases}) > 1
    return facet in ("procedure", "documents")


def needs_case(p: Procedure, facet: str) -> bool:
    """The engine asks which case applies before answering this facet."""
    return facet in CASE_FACETS and differs(p, facet)


def case_question(p: Procedure, facet: str, lang: str) -> str:
    """The first reply about a procedure with several cases: which one is yours? With the key
    figures that differ, so a reader sees at once what depends on it."""
    vi = lang == "vi"
    lines = [title(p, lang), *official_name(p, lang)]
    n = len(p.cases)
    what = {"documents": ("hồ sơ", "documents"), "time": ("thời hạn", "time limit"), "fee": ("lệ phí", "fees")}
    word = what.get(facet, ("hồ sơ, thời hạn", "documents and time limits"))
    lines.append(f"Thủ tục này có {n} trường hợp, {word[0]} khác nhau. Bạn thuộc trường hợp nào?" if vi
                 else f"This procedure has {n} cases with different {word[1]}. Which one is yours?")
    for i, c in enumerate(p.cases, 1):
        extra = ""
        if facet == "documents":
            k = len(c.documents)
            extra = f" — {k} giấy tờ" if vi else f" — {k} document{'s' if k != 1 else ''}"
        elif facet == "time":
            extra = " — " + time_value(c, lang)
        elif facet == "fee":
            extra = " — " + _clip(fees_of(c, lang), 80)
        lines.append(f"{i}. {case_label(c, lang, 120)}{extra}")
    lines.append("Bấm nút trường hợp của bạn (hoặc gõ số thứ tự)." if vi else "Press your case (or type its number).")
    lines.append(source_line(p, lang))
    text = _join(lines)
    if len(text) > PAGE_LIMIT:  # many cases with long names: the labels only
        lines = lines[: 2 + len(official_name(p, lang))] + [
            f"{i}. {case_label(c, lang, 60)}" for i, c in enumerate(p.cases, 1)] + lines[-2:]
        text = _join(lines)
    return text


def overview(p: Procedure, lang: str, board: Board | None, case: int | None = None) -> Paged:
    vi = lang == "vi"
    c = p.cases[(case or 1) - 1]
    head = [title(p, lang), *official_name(p, lang), *case_line(p, case, lang), ""]
    head.append(("Cơ quan giải quyết: " if vi else "Handled by: ") + agency(p, lang))
    head.append(("Thời hạn giải quyết: " if vi else "Time limit: ") + time_value(c, lang))
    head.append(("Phí, lệ phí: " if vi else "Fees: ") + fees_of(c, lang))
    head.append(LEVEL_SHORT[lang][p.online_level])
    result = _en(p, "result_en", p.result or "") if not vi else (p.result or "")
    result = public(result)
    if result and len(result) <= 300:
        head.append(("Kết quả: " if vi else "Result: ") + result.lstrip("- "))
    k = len(c.documents)
    head.append(f"Hồ sơ gồm {k} giấy tờ — bấm «Hồ sơ» để xem." if vi
                else f"The dossier has {k} document{'s' if k != 1 else ''} — press “Documents” for the list.")
    steps = steps_of(c, lang)
    items: list[str] = []
    if steps:
        head += ["", "Các bước:" if vi else "Steps:"]
        items = [f"{i}. {s}" for i, s in enumerate(steps, 1)]
    more = [("Các bước (tiếp) — " if vi else "Steps (continued) — ") + display_name(p, lang, 120), *case_line(p, case, lang)]
    return Paged(head, items, [source_line(p, lang)], more, lang=lang)


def documents(p: Procedure, lang: str, case: int | None = None) -> Paged:
    vi = lang == "vi"
    c = p.cases[(case or 1) - 1]
    label = "Hồ sơ cần nộp — " if vi else "Documents to file — "
    head = [label + title(p, lang), *official_name(p, lang), *case_line(p, case, lang)]
    items = [document_line(n, d, lang, DOC_SUMMARY) for n, d in enumerate(c.documents, 1)]
    last = ["Thiếu giấy tờ là lý do phổ biến nhất khiến hồ sơ bị trả lại: hãy kiểm tra đủ các mục trên trước khi nộp."
            if vi else "Missing papers are the most common reason a dossier is returned: check every item before filing."]
    more = [("Hồ sơ (tiếp) — " if vi else "Documents (continued) — ") + display_name(p, lang, 120), *case_line(p, case, lang)]
    return Paged(head, items, [source_line(p, lang)], more, last, lang=lang)


def document_detail(p: Procedure, case: int, n: int, lang: str) -> Paged:
    """One document in full (its name may run to thousands of characters)."""
    vi = lang == "vi"
    d = p.cases[case - 1].documents[n - 1]
    head = [(f"Giấy tờ {n} — " if vi else f"Document {n} — ") + display_name(p, lang, 120), *case_line(p, case if len(p.cases) > 1 else None, lang)]
    parts = [doc_name(d, lang)]
    extra = " — ".join(x for x in ((form_code(d.form.code, lang) if d.form else ""), quantity(d, lang)) if x)
    if extra:
        parts.append(extra)
    note = doc_note(d, lang)
    if note:
        parts.append(note)
    return Paged(head, parts, [source_line(p, lang)], lang=lang)


def time_answer(p: Procedure, lang: str, expected: str | None = None, case: int | None = None) -> Paged:
    vi = lang == "vi"
    head = [("Thời hạn giải quyết — " if vi else "Time limit — ") + title(p, lang), *case_line(p, case, lang), ""]
    cases = [case] if case else [n[0] for _v, n in _grouped(p, lambda c: limit_value(c.time, "vi"))]
    items = []
    for n in cases:
        c = p.cases[n - 1]
        numbers = [n] if case else next(ns for v, ns in _grouped(p, lambda c: limit_value(c.time, "vi")) if ns[0] == n)
        head_ = time_value(c, lang) + ("" if case else cases_word(numbers, len(p.cases), lang))
        text = limit_text(c.time, lang)
        items.append(f"• {head_}: {text}" if text and text != time_value(c, lang) else f"• {head_}")
    if len(p.cases) > 1 and not case and not differs(p, "time"):
        items.append("Như nhau ở mọi trường hợp của thủ tục." if vi else "The same in every case of the procedure.")
    tail: list[str] = []
    chosen = [p.cases[case - 1]] if case else list(p.cases)
    if any(c.time.unit == "working_days" for c in chosen):
        tail.append(
            "Ngày làm việc không tính thứ Bảy, Chủ nhật và ngày nghỉ lễ, Tết; thời hạn tính từ khi nhận đủ hồ sơ hợp lệ."
            if vi else "Working days exclude Saturdays, Sundays and public holidays; the clock starts when a complete, valid dossier is received."
        )
    if expected:
        tail.append(expected)
    tail.append(source_line(p, lang))
    return Paged(head, items, tail, lang=lang)


def fee_answer(p: Procedure, lang: str, case: int | None = None) -> Paged:
    vi = lang == "vi"
    head = [("Phí, lệ phí — " if vi else "Fees — ") + title(p, lang), *case_line(p, case, lang), ""]
    if case:
        items = [f"• {fee_text(f, lang)}" for f in p.cases[case - 1].fees] or [f"• {fees_of(p.cases[case - 1], lang)}"]
    else:
        items = [f"• {v}{cases_word(n, len(p.cases), lang)}" for v, n in _grouped(p, lambda c: fees_of(c, lang))]
        if len(p.cases) > 1 and not differs(p, "fee"):
            items.append("Như nhau ở mọi trường hợp của thủ tục." if vi else "The same in every case of the procedure.")
    return Paged(head, items, [source_line(p, lang)], lang=lang)


def level_answer(p: Procedure, lang: str, board: Board | None, case: int | None = None) -> Paged:
    vi = lang == "vi"
    lines = [("Nộp trực tuyến — " if vi else "Filing online — ") + title(p, lang), *case_line(p, case, lang), "",
             LEVEL_TEXT[lang][p.online_level]]
    channels = set(p.cases[case - 1].channels) if case else {ch for c in p.cases for ch in c.channels}
    if "online" in channels:
        portal = board.portal_url if board else "https://dichvucong.gov.vn"
        lines.append(
            f"Nộp tại {portal}: đăng nhập bằng tài khoản định danh điện tử VNeID (mức 2) hoặc tài khoản tổ chức, tìm mã thủ tục {p.code}."
            if vi else f"File at {portal}: sign in with a VNeID electronic identity (level 2) or an organisation account and search for procedure code {p.code}."
        )
    others = "; ".join(CHANNEL_TEXT[lang][ch] for ch in ("in_person", "post") if ch in channels)
    lines.append(("Cách nộp khác: " if vi else "Other ways to file: ") + (others or "—"))
    return Paged(lines, [], [source_line(p, lang)], lang=lang)


def where_answer(p: Procedure, lang: str, board: Board | None, case: int | None = None) -> Paged:
    vi = lang == "vi"
    lines = [("Nơi nộp hồ sơ — " if vi else "Where to file — ") + title(p, lang), *case_line(p, case, lang), ""]
    lines.append(("Cơ quan giải quyết: " if vi else "Handled by: ") + agency(p, lang))
    chosen = [p.cases[case - 1]] if case else list(p.cases)
    channels = [ch for ch in ("online", "in_person", "post") if any(ch in c.channels for c in chosen)]
    for ch in channels:
        detail = ""
        if board and ch == "online":
            detail = f": {board.portal_url}"
        elif board and ch == "in_person":
            detail = f": {_en(board, 'one_stop_address_en', board.one_stop_address) if not vi else board.one_stop_address}"
        elif board and ch == "post":
            detail = (": gửi về " if vi else ": to ") + (_en(board, "address_en", board.address) if not vi else board.address)
        lines.append(f"• {CHANNEL_TEXT[lang][ch]}{detail}")
    lines.append(LEVEL_SHORT[lang][p.online_level])
    if board:
        lines.append(("Giờ tiếp nhận: " if vi else "Office hours: ") + (board.working_hours if vi else board.working_hours_en))
    return Paged(lines, [], [source_line(p, lang)], lang=lang)


_LEGAL_TYPES = {
    "bộ luật": "Code", "luật": "Law", "nghị định": "Decree", "nghị quyết": "Resolution",
    "thông tư liên tịch": "Joint Circular", "thông tư": "Circular", "quyết định": "Decision",
    "văn bản hợp nhất": "Consolidated text", "chỉ thị": "Directive", "công văn": "Official letter",
}
# The laws an investor meets, by their usual English names.
_LAW_NAMES = {
    "đầu tư": "Law on Investment", "xây dựng": "Law on Construction", "bảo vệ môi trường": "Law on Environmental Protection",
    "đất đai": "Land Law", "đấu thầu": "Law on Bidding", "doanh nghiệp": "Law on Enterprises",
    "lao động": "Labour Code", "tổ chức chính quyền địa phương": "Law on the Organisation of Local Government",
    "phí và lệ phí": "Law on Fees and Charges", "nhà ở": "Law on Housing", "chuyển giao công nghệ": "Law on Technology Transfer",
}
_LEGAL_RE = re.compile(
    r"^(bộ luật|luật|nghị định|nghị quyết|thông tư liên tịch|thông tư|quyết định|văn bản hợp nhất|chỉ thị|công văn)"
    r"\s*([^\d(]*?)\s*(?:số\s*)?(\d[\w.]*/[\w./-]+)"
    r"(?:\s*ngày\s*(\d{1,2}/\d{1,2}/\d{4}|\d{1,2} tháng \d{1,2} năm \d{4}))?", re.IGNORECASE)


def legal_title(text: str, lang: str) -> str:
    """A legal text as the reader can look it up: in English its kind, number and date ("Decree
    No. 96/2026/NĐ-CP of 31/3/2026", "Law on Investment No. 143/2025/QH15"), the articles cited;
    the Vietnamese title as is."""
    if lang == "vi":
        return text
    m = _LEGAL_RE.match(text.strip())
    if m is None:
        return text
    kind, name, number, day = m.group(1).lower(), m.group(2).strip(" ,:").lower(), m.group(3), m.group(4)
    head = _LAW_NAMES.get(name) if kind in ("luật", "bộ luật") and name else None
    out = f"{head or _LEGAL_TYPES[kind]} No. {number.replace('Đ', 'D').replace('đ', 'd')}"
    if day:
        day = re.sub(r"(\d{1,2}) tháng (\d{1,2}) năm (\d{4})", r"\1/\2/\3", day)
        out += f" of {day}"
    articles = re.findall(r"\((?:Điều|điều)\s*([^()]*)\)", text)
    if articles:
        out += " (" + re.sub(r"\b[Đđ]iều\s*", "", "Article " + articles[0]).replace("Article ", "Articles ", 1 if "," in articles[0] or "–" in articles[0] else 0) + ")"
    return out


def legal_answer(p: Procedure, lang: str) -> Paged:
    vi = lang == "vi"
    head = [("Căn cứ pháp lý — " if vi else "Legal basis — ") + title(p, lang), ""]
    if not vi:
        head.append("Vietnamese legal texts, by kind, number and date (their full titles are on the source page):")
    items = [f"• {legal_title(b, lang)}" for b in p.legal_basis]
    if p.publish_decision:
        items.append(("Quyết định công bố: " if vi else "Published by decision: ") + legal_title(p.publish_decision, lang))
    more = [("Căn cứ pháp lý (tiếp) — " if vi else "Legal basis (continued) — ") + display_name(p, lang, 120)]
    return Paged(head, items, [source_line(p, lang)], more, lang=lang)


def answer(p: Procedure, facet: str, lang: str, board: Board | None, case: int | None = None,
           expected: str | None = None) -> Paged:
    """The answer to `facet` ("procedure" for the overview) for one case (None: the only one,
    or every case when they agree)."""
    if len(p.cases) < 2:
        case = None
    if facet == "documents":
        return documents(p, lang, case)
    if facet == "time":
        return time_answer(p, lang, expected, case)
    if facet == "fee":
        return fee_answer(p, lang, case)
    if facet == "level":
        return level_answer(p, lang, board, case)
    if facet == "where":
        return where_answer(p, lang, board, case)
    if facet == "legal":
        return legal_answer(p, lang)
    return overview(p, lang, board, case)


def facet_buttons(p: Procedure, lang: str, exclude: str, case: int | None = None) -> tuple[Button, ...]:
    """A button for each other facet; with the case chosen, the buttons keep it."""
    labels = FACET_LABELS[lang]
    suffix = f":{case}" if case and len(p.cases) > 1 else ""
    return tuple(Button(labels[f], f"f:{f}:{p.code}{suffix}") for f in FACET_ORDER if f != exclude)


def contact(board: Board | None, lang: str) -> str:
    if board is None:
        return ("Thông tin liên hệ của Ban Quản lý chưa được cấu hình." if lang == "vi"
                else "The board's contact details have not been configured.")
    vi = lang == "vi"
    lines = [board.name if vi else board.name_en]
    lines.append(("Địa chỉ: " if vi else "Address: ") + (board.address if vi else _en(board, "address_en", board.address)))
    lines.append(("Đường dây nóng: " if vi else "Hotline: ") + board.hotline)
    lines.append("Email: " + board.email)
    lines.append(("Giờ làm việc: " if vi else "Office hours: ") + (board.working_hours if vi else board.working_hours_en))
    lines.append(("Nộp hồ sơ trực tiếp: " if vi else "File in person: ")
                 + (board.one_stop_address if vi else _en(board, "one_stop_address_en", board.one_stop_address)))
    lines.append(("Nộp trực tuyến: " if vi else "File online: ") + board.portal_url)
    if board.website:
        lines.append("Website: " + board.website)
    if board.example:
        lines.append("(Thông tin mẫu — Ban Quản lý cần thay bằng thông tin thật.)" if vi
                     else "(Example profile — the board must replace it with its real details.)")
    return "\n".join(lines)


ELSEWHERE_LIMIT = 900


def _cut(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters (an ellipsis marks the cut)."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def elsewhere_time(entry: ExternalProcedure, lang: str) -> str:
    """The other agency's time limit when one is known, else that its own rules apply."""
    t = entry.time
    if t is None or t.value is None or t.unit is None:
        if lang == "vi":
            return t.text if t is not None else "theo quy định của cơ quan đó"
        return "set by that agency's own rules"
    return t.text if lang == "vi" else f"{_num(t.value)} {UNIT_TEXT['en'][t.unit]}"


def elsewhere_answer(entry: ExternalProcedure, lang: str, board: Board | None) -> str:
    """A short reply (at most 900 characters) for a procedure another agency handles: who handles
    it (not the board), where and how to file, what the board's procedures need from it, and the
    source with the date it was checked."""
    vi = lang == "vi"
    code = f" (mã {entry.code})" if vi and entry.code else f" (code {entry.code})" if entry.code else ""
    if vi:
        head = f"{entry.name}{code}: do {entry.agency} giải quyết, không phải Ban Quản lý."
        where, needs = "Nộp ở đâu, thế nào: " + entry.where, "Thủ tục của Ban cần gì: " + entry.board_needs
        time = "Thời hạn: " + elsewhere_time(entry, lang) + "."
        source = f"Nguồn: {entry.source_url} (kiểm tra ngày {entry.verified.strftime('%d/%m/%Y')})."
        ask = f"Cần hỏi thêm về các bước của Ban: {board.hotline}." if board else ""
    else:
        agency = entry.agency_en[:1].lower() + entry.agency_en[1:] if entry.agency_en.startswith("The ") else entry.agency_en
        head = f"{entry.name_en}{code} is handled by {agency}, not the board."
        where, needs = "Where and how: " + entry.where_en, "What the board's procedures need: " + entry.board_needs_en
        time = "Time limit: " + elsewhere_time(entry, lang) + "."
        source = f"Source: {entry.source_url} (checked {entry.verified.isoformat()})."
        ask = f"Questions about the board's own steps: {board.hotline}." if board else ""
    fixed = [head, time, source]
    room = ELSEWHERE_LIMIT - sum(len(x) + 1 for x in fixed) - len(where) - len(needs)
    if ask and room < len(ask) + 1:  # the board's hotline goes first: the other parts matter more
        ask = ""
    room = max(ELSEWHERE_LIMIT - sum(len(x) + 1 for x in fixed) - (len(ask) + 1 if ask else 0) - 1, 0)
    # Share what is left between "where" and "what the board needs", the shorter keeping its all.
    short, long_ = sorted((where, needs), key=len)
    short_cut = _cut(short, max(room // 2, room - len(long_)))
    long_cut = _cut(long_, room - len(short_cut))
    where_text, needs_text = (short_cut, long_cut) if short is where else (long_cut, short_cut)
    lines = [head, where_text, time, needs_text, source] + ([ask] if ask else [])
    text = "\n".join(lines)
    return text if len(text) <= ELSEWHERE_LIMIT else _cut(text, ELSEWHERE_LIMIT)
