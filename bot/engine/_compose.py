"""Reply texts: a procedure and its facets, in Vietnamese (with diacritics) or English.

Plain text only: adapters escape it for their channel. The facet asked for comes first; cases
are named where they differ; every answer about a procedure ends with its source and the date
it was checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..kb import Board, Case, Document, ExternalProcedure, Fee, Procedure
from ._reply import Button

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

LEVEL_TEXT = {
    "vi": {
        "toàn trình": "Dịch vụ công trực tuyến toàn trình: nộp hồ sơ, theo dõi, nộp phí (nếu có) và nhận kết quả đều trực tuyến, không phải đến cơ quan.",
        "một phần": "Dịch vụ công trực tuyến một phần: có thể nộp hồ sơ trực tuyến, nhưng một số bước (như nộp bản gốc hoặc nhận kết quả) phải làm trực tiếp hoặc qua bưu chính.",
        "không": "Chưa có dịch vụ công trực tuyến: nộp hồ sơ trực tiếp hoặc qua dịch vụ bưu chính công ích.",
    },
    "en": {
        "toàn trình": "Full online service (toàn trình): you can file, follow the dossier, pay any fee and receive the result entirely online, without visiting the office.",
        "một phần": "Partial online service (một phần): you can file online, but some steps (such as handing in originals or collecting the result) are done in person or by post.",
        "không": "No online service yet: file in person or through the public postal service.",
    },
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


def short_name(p: Procedure, limit: int = 60) -> str:
    """The procedure's name without the "Thủ tục" prefix and parentheses, cut for a button."""
    name = re.sub(r"\s*\([^()]*\)", "", p.name)
    name = re.sub(r"^Thủ tục\s+", "", name).strip()
    name = name[:1].upper() + name[1:]
    if len(name) > limit:
        name = name[: limit - 1].rsplit(" ", 1)[0] + "…"
    return name


def title(p: Procedure, lang: str) -> str:
    """The heading of an answer: official name and code, and the English name for English."""
    if lang == "en":
        return f"{p.name_en}\n({p.name}, code {p.code})"
    return f"{p.name} (mã {p.code})"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def time_value(case: Case, lang: str) -> str:
    if case.time.value is None or case.time.unit is None:
        return "chưa có thời hạn cố định — hãy hỏi Ban Quản lý" if lang == "vi" else "no fixed time limit published — ask the board"
    return f"{_num(case.time.value)} {UNIT_TEXT[lang][case.time.unit]}"


def _case_label(p: Procedure, case: Case, index: int, lang: str) -> str:
    if len(p.cases) == 1:
        return ""
    name = _CASE_PREFIX_RE.sub("", case.name).strip()
    word = "Trường hợp" if lang == "vi" else "Case"
    if name.lower().startswith(("trường hợp", "case")):
        return name
    return f"{word} {index}: {name}"


def _grouped(p: Procedure, key: Callable[[Case], str], lang: str) -> list[tuple[str, list[int]]]:
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


def fee_text(fee: Fee, lang: str) -> str:
    if fee.amount == 0:
        base = "Miễn phí" if lang == "vi" else "Free of charge"
        extra = fee.text if fee.text.lower() not in ("miễn phí", "không", "free") else ""
        if extra and lang == "vi":
            base = f"{base} — {extra}"
        elif extra:
            base = f"{base} (Vietnamese note: {extra})"
    elif fee.amount:
        amount = f"{fee.amount:,}".replace(",", ".") + (" đồng" if lang == "vi" else " VND")
        name = f"{fee.name}: " if fee.name else ""
        base = f"{name}{amount}" + (f" — {fee.text}" if fee.text and lang == "vi" else "")
    else:
        base = fee.text if lang == "vi" else f"Set by regulation (Vietnamese: {fee.text})"
    if fee.exempt:
        base += f". Miễn: {fee.exempt}" if lang == "vi" else f". Exempt: {fee.exempt}"
    return base


def _fees_of(case: Case, lang: str) -> str:
    if not case.fees:
        return "Không thu phí, lệ phí" if lang == "vi" else "No fee"
    return "; ".join(fee_text(f, lang) for f in case.fees)


def document_line(n: int, d: Document, lang: str) -> str:
    parts = [d.name.rstrip(" ;.")]
    if d.form:
        parts.append(d.form.code + (f" ({d.form.url})" if d.form.url else ""))
    qty = []
    if d.originals:
        qty.append(f"{d.originals} bản chính" if lang == "vi" else f"{d.originals} original{'s' if d.originals > 1 else ''}")
    if d.copies:
        qty.append(f"{d.copies} bản sao" if lang == "vi" else f"{d.copies} cop{'ies' if d.copies > 1 else 'y'}")
    if qty:
        parts.append(", ".join(qty))
    line = f"{n}. " + " — ".join(parts)
    if d.note:
        line += f" ({d.note})"
    return line


def source_line(p: Procedure, lang: str) -> str:
    checked = p.verified.strftime("%d/%m/%Y")
    if lang == "vi":
        return f"Nguồn: {p.source_url} (kiểm tra ngày {checked})"
    return f"Source: {p.source_url} (checked {checked})"


def facet_buttons(p: Procedure, lang: str, exclude: str) -> tuple[Button, ...]:
    labels = FACET_LABELS[lang]
    order = ("procedure", "documents", "time", "fee", "where", "level", "legal")
    return tuple(Button(labels[f], f"f:{f}:{p.code}") for f in order if f != exclude)


def overview(p: Procedure, lang: str, board: Board | None) -> str:
    vi = lang == "vi"
    lines = [title(p, lang), ""]
    lines.append(("Cơ quan giải quyết: " if vi else "Handled by: ") + p.agency)
    times = _grouped(p, lambda c: time_value(c, lang), lang)
    lines.append(
        ("Thời hạn giải quyết: " if vi else "Time limit: ")
        + "; ".join(v + cases_word(n, len(p.cases), lang) for v, n in times)
    )
    fees = _grouped(p, lambda c: _fees_of(c, lang), lang)
    lines.append(("Phí, lệ phí: " if vi else "Fees: ") + "; ".join(v + cases_word(n, len(p.cases), lang) for v, n in fees))
    lines.append(LEVEL_TEXT[lang][p.online_level])
    if len(p.cases) > 1:
        lines.append("")
        lines.append(f"Thủ tục có {len(p.cases)} trường hợp:" if vi else f"The procedure has {len(p.cases)} cases:")
        for i, c in enumerate(p.cases, 1):
            lines.append(f"{i}. {_CASE_PREFIX_RE.sub('', c.name)}")
    steps = p.cases[0].steps
    if len(p.cases) == 1 and steps:
        lines.append("")
        lines.append("Các bước:" if vi else "Steps (official Vietnamese text):")
        lines.extend(f"{i}. {s}" for i, s in enumerate(steps, 1))
    ndocs = sum(len(c.documents) for c in p.cases)
    lines.append("")
    lines.append(
        f"Hồ sơ gồm {ndocs} loại giấy tờ — bấm «Hồ sơ» để xem chi tiết." if vi and len(p.cases) == 1 else
        "Bấm «Hồ sơ» để xem giấy tờ cần nộp theo từng trường hợp." if vi else
        f"The dossier has {ndocs} documents — press “Documents” for the list." if len(p.cases) == 1 else
        "Press “Documents” for the papers to file in each case."
    )
    lines.append(source_line(p, lang))
    return "\n".join(lines)


def documents(p: Procedure, lang: str) -> str:
    vi = lang == "vi"
    lines = [("Hồ sơ cần nộp — " if vi else "Documents to file — ") + title(p, lang)]
    if not vi:
        lines.append("(Documents are listed under their official Vietnamese names.)")
    for i, c in enumerate(p.cases, 1):
        lines.append("")
        label = _case_label(p, c, i, lang)
        if label:
            lines.append(label + ":")
        lines.extend(document_line(n, d, lang) for n, d in enumerate(c.documents, 1))
    lines.append("")
    lines.append(
        "Thiếu giấy tờ là lý do phổ biến nhất khiến hồ sơ bị trả lại: hãy kiểm tra đủ các mục trên trước khi nộp."
        if vi else "Missing papers are the most common reason a dossier is returned: check every item before filing."
    )
    lines.append(source_line(p, lang))
    return "\n".join(lines)


def time_answer(p: Procedure, lang: str, expected: str | None = None) -> str:
    vi = lang == "vi"
    lines = [("Thời hạn giải quyết — " if vi else "Time limit — ") + title(p, lang), ""]
    groups = _grouped(p, lambda c: c.time.text, lang)
    for text, numbers in groups:
        case = p.cases[numbers[0] - 1]
        head = time_value(case, lang) + cases_word(numbers, len(p.cases), lang)
        lines.append(f"• {head}: {text}" if text and vi else f"• {head}" + (f" (official text: {text})" if text else ""))
    if any(c.time.unit == "working_days" for c in p.cases):
        lines.append(
            "Ngày làm việc không tính thứ Bảy, Chủ nhật và ngày nghỉ lễ, Tết; thời hạn tính từ khi nhận đủ hồ sơ hợp lệ."
            if vi else "Working days exclude Saturdays, Sundays and public holidays; the clock starts when a complete, valid dossier is received."
        )
    if expected:
        lines.append(expected)
    lines.append(source_line(p, lang))
    return "\n".join(lines)


def fee_answer(p: Procedure, lang: str) -> str:
    vi = lang == "vi"
    lines = [("Phí, lệ phí — " if vi else "Fees — ") + title(p, lang), ""]
    for value, numbers in _grouped(p, lambda c: _fees_of(c, lang), lang):
        lines.append(f"• {value}{cases_word(numbers, len(p.cases), lang)}")
    lines.append(source_line(p, lang))
    return "\n".join(lines)


def level_answer(p: Procedure, lang: str, board: Board | None) -> str:
    vi = lang == "vi"
    lines = [("Nộp trực tuyến — " if vi else "Filing online — ") + title(p, lang), "", LEVEL_TEXT[lang][p.online_level]]
    channels = {ch for c in p.cases for ch in c.channels}
    if "online" in channels:
        portal = board.portal_url if board else "https://dichvucong.gov.vn"
        lines.append(
            f"Nộp tại {portal}: đăng nhập bằng tài khoản định danh điện tử VNeID (mức 2) hoặc tài khoản tổ chức, tìm mã thủ tục {p.code}."
            if vi else f"File at {portal}: sign in with a VNeID electronic identity (level 2) or an organisation account and search for procedure code {p.code}."
        )
    lines.append(("Cách nộp khác: " if vi else "Other ways to file: ") + "; ".join(
        CHANNEL_TEXT[lang][ch] for ch in ("in_person", "post") if ch in channels) or "—")
    lines.append(source_line(p, lang))
    return "\n".join(lines)


def where_answer(p: Procedure, lang: str, board: Board | None) -> str:
    vi = lang == "vi"
    lines = [("Nơi nộp hồ sơ — " if vi else "Where to file — ") + title(p, lang), ""]
    lines.append(("Cơ quan giải quyết: " if vi else "Handled by: ") + p.agency)
    channels = [ch for ch in ("online", "in_person", "post") if any(ch in c.channels for c in p.cases)]
    for ch in channels:
        detail = ""
        if board and ch == "online":
            detail = f": {board.portal_url}"
        elif board and ch == "in_person":
            detail = f": {board.one_stop_address}"
        elif board and ch == "post":
            detail = (": gửi về " if vi else ": to ") + board.address
        lines.append(f"• {CHANNEL_TEXT[lang][ch]}{detail}")
    lines.append(LEVEL_TEXT[lang][p.online_level])
    if board:
        lines.append(("Giờ tiếp nhận: " if vi else "Office hours: ") + (board.working_hours if vi else board.working_hours_en))
    lines.append(source_line(p, lang))
    return "\n".join(lines)


def legal_answer(p: Procedure, lang: str) -> str:
    vi = lang == "vi"
    lines = [("Căn cứ pháp lý — " if vi else "Legal basis — ") + title(p, lang), ""]
    lines.extend(f"• {b}" for b in p.legal_basis)
    if p.publish_decision:
        lines.append(("Quyết định công bố: " if vi else "Published by decision: ") + p.publish_decision)
    lines.append(source_line(p, lang))
    return "\n".join(lines)


def contact(board: Board | None, lang: str) -> str:
    if board is None:
        return ("Thông tin liên hệ của Ban Quản lý chưa được cấu hình." if lang == "vi"
                else "The board's contact details have not been configured.")
    vi = lang == "vi"
    lines = [board.name if vi else board.name_en]
    lines.append(("Địa chỉ: " if vi else "Address: ") + board.address)
    lines.append(("Đường dây nóng: " if vi else "Hotline: ") + board.hotline)
    lines.append("Email: " + board.email)
    lines.append(("Giờ làm việc: " if vi else "Office hours: ") + (board.working_hours if vi else board.working_hours_en))
    lines.append(("Nộp hồ sơ trực tiếp: " if vi else "File in person: ") + board.one_stop_address)
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
