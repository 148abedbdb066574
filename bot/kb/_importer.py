"""`tthc-bot kb import-dvc`: national-portal records (JSON lines) to YAML drafts.

The portal's pages were crawled into one JSON object per procedure with Vietnamese field
names. Its HTML tables were flattened into text without separators, e.g. the dossier table
reads ``Tên giấy tờMẫu đơn, tờ khaiSố lượng<name><form file>1 bản chính<name>...``. This
module takes those texts apart into the knowledge format (see `_model.py`).

The importer never guesses silently. Whatever it cannot read with confidence is reported as
a warning for that record (printed by `run_import`, and written as comments at the top of the
draft); where a fact had to be taken from another part of the record (e.g. a time limit from
the steps text) the draft's `notes:` says so. Fields the record cannot tell (`name_en`,
`online_level`, `verified`) are written as ``TODO`` so that `tthc-bot kb check` fails until a
person fills them in.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Draft", "parse_dvc_record", "draft_yaml", "read_records", "read_records_file", "record_code", "is_portal_json"]

TODO = "TODO"
NAME_EN_TODO = "TODO: English name"
# The English text of every other public field (agency_en, a case's name_en and steps_en, a
# document's name_en, a time's or fee's text_en…): a person translates it.
ENGLISH_TODO = "TODO: English"
NO_INFO = {"", "không có thông tin", "không", "không có", "không quy định", "--", "-"}
CODE_RE = re.compile(r"^\d\.\d{6}$")

CHANNELS = {"Trực tuyến": "online", "Trực tiếp": "in_person", "Dịch vụ bưu chính": "post"}
CHANNEL_ORDER = ("online", "in_person", "post")
CHANNEL_VI = {"online": "nộp trực tuyến", "in_person": "nộp trực tiếp", "post": "nộp qua bưu chính"}


# --------------------------------------------------------------------------------------------
# Result type


@dataclass
class Draft:
    """One record turned into the knowledge format, with what could not be read."""

    code: str
    data: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    source_line: int | None = None

    @property
    def name(self) -> str:
        return str(self.data.get("name", ""))


# --------------------------------------------------------------------------------------------
# Text helpers


def clean(text: Any) -> str:
    """NFC, no non-breaking or zero-width spaces, whitespace squeezed to single spaces."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFC", str(text))
    s = s.replace("\u00a0", " ").replace("\u200b", "").replace("\ufeff", "")
    return re.sub(r"\s+", " ", s).strip()


def clean_lines(text: Any) -> str:
    """Like `clean` but keeps line breaks (for multi-line conditions); drops empty lines."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFC", str(text)).replace("\u00a0", " ").replace("\u200b", "")
    lines = [re.sub(r"[ \t\f\v]+", " ", line).strip() for line in s.splitlines()]
    return "\n".join(line for line in lines if line)


def is_no_info(text: str) -> bool:
    return clean(text).strip(" .()").lower() in NO_INFO


def strip_bullet(text: str) -> str:
    return re.sub(r"^(?:[-+*•–]\s*)+", "", text.strip()).strip()


def _short(text: str, n: int = 70) -> str:
    text = clean(text)
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _int(digits: str) -> int:
    return int(re.sub(r"\D", "", digits))


# --------------------------------------------------------------------------------------------
# Dossier documents (thanh_phan_ho_so)

TABLE_HEADER = "Tên giấy tờMẫu đơn, tờ khaiSố lượng"
QTY_RE = re.compile(r"(?<!\d)(\d+) bản chính(?:\s*,\s*(\d+) bản sao)?")
FILE_END_RE = re.compile(r"\.(?:docx?|pdf|xlsx?)(?:\s*\(\d+\)\.(?:docx?|pdf|xlsx?))?$", re.IGNORECASE)
FILE_EXT_RE = re.compile(r"\.(?:docx?|pdf|xlsx?)(?:\s*\(\d+\)\.(?:docx?|pdf|xlsx?))?", re.IGNORECASE)
MAU_RE = re.compile(r"m[ẫa]u\b", re.IGNORECASE)
# "(1) Trường hợp 1: …", "Trường hợp 1: …", "(4) Đối với trường hợp 4, hồ sơ bao gồm:",
# "(1.1) Đối với công trình không theo tuyến:", "1) Đối với …", "3 )Đối với …", "a) Đối với …"
CASE_HEAD_RE = re.compile(
    r"^[\s\-*+]*(?:\(?\s*(?P<num>\d+(?:\.\d+)?|[a-zđ])\s*\)\s*)?"
    r"(?P<body>(?:Đối với\s+)?[Tt]rường hợp\s+(?P<num2>\d+)\b.*|Đối với\b.*)$",
    re.DOTALL,
)


@dataclass
class DocGroup:
    heading: str
    docs: list[dict[str, Any]]


@dataclass
class DocCase:
    number: str | None
    heading: str
    docs: list[dict[str, Any]]


def case_heading(text: str) -> tuple[str, str] | None:
    """(number, heading) when `text` opens a numbered case, else None."""
    m = CASE_HEAD_RE.match(text)
    if not m:
        return None
    num = m.group("num2") or m.group("num")
    if not num:
        return None
    if m.group("num") and m.group("num2") and m.group("num") != m.group("num2"):
        num = m.group("num")
    if num.isalpha() and not m.group("body").startswith("Đối với"):
        return None
    return num, m.group("body")


def _quantity_is_cell(text: str, m: re.Match[str]) -> bool:
    """Tell the table's quantity cell from prose like '01 bản chính văn bản đề nghị…'."""
    after = text[m.end():]
    if after[:1].isspace() and not re.match(r"\s*(?:$|\(\s*\d)", after):
        return False  # '01 bản chính văn bản đề nghị …' written out inside a document's name
    return True


def _split_form_files(row: str, warnings: list[str]) -> tuple[str, list[str]]:
    """Split trailing form file names ('…chấp thuậnMẫu I.1.1.docx') off a row."""
    files: list[str] = []
    rest = row.rstrip()
    while True:
        m = FILE_END_RE.search(rest)
        if not m:
            break
        stem_end = m.start()
        start = _file_start(rest, stem_end)
        if start is None:
            warnings.append(f"could not tell the form file name from the document name in '{_short(rest, 90)}'")
            break
        if re.search(r"/|%20|www\.", rest[start:]):
            break  # part of a web address written in the name ('…/forms-notif-mov/vCOP8.doc')
        files.insert(0, rest[start:])
        rest = rest[:start].rstrip()
        if not rest:
            break
    return rest, files


def _file_start(text: str, stem_end: int) -> int | None:
    """Where a form's file name starts, given where its extension starts."""
    window_start = 0
    prev_ext = [m.end() for m in FILE_EXT_RE.finditer(text, 0, stem_end)]
    if prev_ext and prev_ext[-1] < stem_end:
        return prev_ext[-1]  # right after another file name
    region = text[window_start:stem_end]
    # a "Mẫu…" glued to the name (or at its very start)
    mau = [
        m.start() for m in MAU_RE.finditer(region)
        if m.start() > 0 and not region[m.start() - 1].isspace() and region[m.start() - 1] not in "(\"'“"
    ]
    if mau:
        return mau[-1]
    # a bare form number glued to the name: '…của dự án đầu tưI.1.10.docx'
    bare = re.search(r"[IVX]+\.\d+(?:\.\d+)*(?:\.[a-z])?$", region)
    if bare and bare.start() > 0 and region[bare.start() - 1].isalpha():
        return bare.start()
    # right after punctuation, glued: '…NĐ-CP).Nidungthamvn.docx'
    punct = [i for i in range(1, len(region)) if region[i - 1] in ".;:)”\"" and not region[i].isspace()]
    punct = [i for i in punct if region[i] not in ".;:)"]
    if punct:
        return punct[-1]
    # camel-case glue: '…xây dựngBaocaohoanthanhthicong.docx'
    camel = [
        i for i in range(1, len(region) - 1)
        if region[i].isupper() and region[i - 1].isalpha() and region[i + 1].islower()
    ]
    if camel:
        return camel[0]
    # digits glued to letters: '…TT-BNNMT22 đ sửa.docx'
    digit = [i for i in range(1, len(region)) if region[i].isdigit() and region[i - 1].isalpha()]
    if digit:
        return digit[-1]
    return None


def _form_code(file: str, doc_name: str, warnings: list[str]) -> str:
    stem = FILE_EXT_RE.sub("", file).strip()
    stem = re.sub(r"\s*\(\d+\)$", "", stem)
    stem = re.sub(r"\s+(?:sửa|sua)$", "", stem, flags=re.IGNORECASE).strip(" .-_")
    m = re.match(r"^(?i:m[ẫa]u)\s+(?:((?i:số|so))\s+)?([0-9IVX][0-9A-Za-zđ.]*?)\.?(?:\s|$)", stem)
    if m:
        return "Mẫu " + ("số " if m.group(1) else "") + m.group(2)
    m = re.match(r"^([IVX]+\.\d+(?:\.\d+)*(?:\.[a-z])?)$", stem)
    if m:
        warnings.append(f"form file '{file}' has no 'Mẫu' prefix; written as 'Mẫu {m.group(1)}'")
        return "Mẫu " + m.group(1)
    m = re.match(r"^(\d+)\s*([a-zđ]?)$", stem)
    if m:
        code = m.group(1) + m.group(2)
        named = re.search(rf"[Mm]ẫu\s+(số\s+)?{m.group(1)}\s*{m.group(2)}\b", doc_name)
        if named:
            return "Mẫu " + ("số " if named.group(1) else "") + code
        warnings.append(f"form file '{file}' does not name its form clearly; kept as '{code}'")
        return code
    warnings.append(f"form file '{file}' has no form number; kept its file name '{stem}'")
    return stem


def _document(row: str, originals: int, copies: int, warnings: list[str]) -> dict[str, Any] | None:
    row = clean(row)
    name, files = _split_form_files(row, warnings)
    name = strip_bullet(name)
    # '01 bản chính văn bản đề nghị …' inside the name repeats the quantity cell
    name = re.sub(r"^0\d+\s+bản\s+(?:chính|sao)(?:\s+có chứng thực)?\s+", "", name)
    name = re.sub(r"[\s.;,:]+$", "", name).lstrip(" ;,:")
    if not name:
        warnings.append(f"a document row has no name (quantity {originals} original(s), {copies} copy/copies)")
        return None
    name = name[0].upper() + name[1:]
    doc: dict[str, Any] = {"name": name}
    if files:
        codes = [_form_code(f, name, warnings) for f in files]
        if len(codes) > 1:
            warnings.append(f"document '{_short(name, 50)}' lists {len(codes)} forms ({', '.join(codes)}); check which applies")
        doc["form"] = FlowMap({"code": ", ".join(codes)})
    doc["originals"] = originals
    if copies:
        doc["copies"] = copies
    return doc


def parse_documents(text: str, warnings: list[str], remarks: list[str] | None = None) -> list[DocGroup]:
    """The dossier table(s): groups of documents, each under the heading written before it.

    Rows the portal lists with '0 bản chính' and no copies are remarks, not papers: they are
    collected in `remarks`.
    """
    remarks = remarks if remarks is not None else []
    text = unicodedata.normalize("NFC", text or "")
    if is_no_info(text):
        return []
    parts = text.split(TABLE_HEADER)
    if len(parts) == 1:
        warnings.append("documents: no dossier table found (header 'Tên giấy tờ…Số lượng' missing)")
        return []
    groups: list[DocGroup] = []
    heading = parts[0]
    for i, body in enumerate(parts[1:], start=1):
        docs: list[dict[str, Any]] = []
        pos = 0
        remarks_before = len(remarks)
        for m in QTY_RE.finditer(body):
            if not _quantity_is_cell(body, m):
                continue
            digits = m.group(1)
            row = body[pos:m.start()]
            if len(digits) > 1 and (digits.startswith("0") or int(digits) > 20):
                # a number glued to the quantity: 'Mẫu 02' + '1 bản chính', 'năm 2024' + '0 bản chính'
                row, digits = row + digits[:-1], digits[-1]
                warnings.append(
                    f"documents: read '{m.group(0)}' as '{digits} bản chính' after "
                    f"'…{_short(clean(row)[-40:], 42)}'; check the quantity"
                )
            copies = int(m.group(2)) if m.group(2) else 0
            pos = m.end()
            if int(digits) == 0 and copies == 0:
                # '0 bản chính' alone: a remark written as a table row, not a paper to hand in
                remark = strip_bullet(clean(row)).strip(" ;")
                if remark:
                    remarks.append(remark)
                continue
            doc = _document(row, int(digits), copies, warnings)
            if doc:
                docs.append(doc)
        tail = body[pos:]
        if i < len(parts) - 1:
            groups.append(DocGroup(clean(heading), docs))
            heading = tail
        else:
            groups.append(DocGroup(clean(heading), docs))
            rest = clean(tail).strip("-. ")
            if rest.startswith("(") and rest.endswith(")"):
                remarks.append(rest[1:-1])  # '(Trường hợp khai thác … thì hồ sơ không bao gồm …)'
            elif rest:
                warnings.append(f"documents: text after the last quantity was not read: '{_short(tail)}'")
        if not docs and len(remarks) == remarks_before:
            warnings.append(f"documents: table {i} has no rows with a quantity ('N bản chính')")
    return groups


def group_cases(groups: list[DocGroup], warnings: list[str], notes: list[str]) -> list[DocCase]:
    """Numbered case headings start cases; other headings become notes on their documents."""
    numbered = [case_heading(g.heading) for g in groups]
    cases: list[DocCase] = []
    headings: list[str] = []
    if not any(numbered):
        case = DocCase(None, "", [])
        for g in groups:
            _add_group(case, g, headings, notes)
        _warn_headings(headings, warnings)
        return [case] if case.docs or groups else []
    current: DocCase | None = None
    for g, head in zip(groups, numbered, strict=True):
        if head:
            title, _, sub = clean(head[1]).partition(" - ")
            current = DocCase(head[0], title, [])
            cases.append(current)
            sub = sub.strip(" :")
            # '(9) Đối với trường hợp 9, hồ sơ bao gồm: - Đối với trường hợp chậm được bàn giao đất…'
            if sub and g.docs:
                for d in g.docs:
                    d["note"] = sub
                headings.append(sub)
            current.docs.extend(g.docs)
            continue
        if current is None:
            current = DocCase(None, "Hồ sơ chung (trước các trường hợp)", [])
            cases.append(current)
            warnings.append("documents: some documents come before the first numbered case; kept as a separate case")
        _add_group(current, g, headings, notes)
    _warn_headings(headings, warnings)
    return cases


def _warn_headings(headings: list[str], warnings: list[str]) -> None:
    if headings:
        shown = "; ".join(f"'{_short(h, 50)}'" for h in headings[:4]) + ("; …" if len(headings) > 4 else "")
        warnings.append(
            f"documents: {len(headings)} unnumbered sub-heading(s) kept as the 'note' of their documents "
            f"(make them cases by hand where they are cases): {shown}"
        )


def _heading_text(heading: str) -> str:
    h = strip_bullet(heading.strip(" -"))
    return h.strip()


def _add_group(case: DocCase, g: DocGroup, headings: list[str], notes: list[str]) -> None:
    h = _heading_text(g.heading)
    if not h:
        case.docs.extend(g.docs)
        return
    if h.startswith("(") and h.endswith(")") or len(h) > 220:
        note = h.strip("()")
        if note not in notes:
            notes.append(f"Thành phần hồ sơ: {note}")
        case.docs.extend(g.docs)
        return
    note = h.rstrip(" :")
    for d in g.docs:
        d["note"] = note
    if g.docs:
        headings.append(note)
    case.docs.extend(g.docs)


# --------------------------------------------------------------------------------------------
# Channels, time limits and fees (cach_thuc_thuc_hien)

CHANNELS_HEADER = "Hình thức nộpThời gianPhí, lệ phíMô tả"
CHANNEL_RE = re.compile(r"(Trực tuyến|Trực tiếp|Dịch vụ bưu chính)(?=\d|Không có thông tin)")
TIME_CELL_RE = re.compile(r"(?:(\d+(?:[.,]\d+)?)(?: (Ngày làm việc|Ngày|Tháng|Giờ|Năm))?|Không có thông tin)")
FEE_HEAD_RE = re.compile(
    r"Miễn phí|Không có thông tin"
    r"|(?:Lệ phí|Phí)\s*:\s*[\d.,]*\s*(?:Việt Nam )?(?:Đồng|VNĐ|đồng)"
    r"|[\d.,]+\s*(?:Việt Nam Đồng|VNĐ|Đồng|đồng)"
)
UNITS = {"ngày làm việc": "working_days", "ngày": "days", "tháng": "months"}
DURATION_RE = re.compile(r"(?<![\d/.,])(\d{1,3})(?:\s*\([^)]{1,30}\))?\s*(ngày làm việc|ngày|tháng)(?!\s*\d)", re.IGNORECASE)


@dataclass
class Channel:
    kind: str
    time_value: int | None
    time_unit: str | None  # raw portal unit, e.g. 'Ngày làm việc'; None when missing
    time_raw: str
    fee_head: str
    fee_note: str
    description: str


def _balanced(text: str, start: int) -> int | None:
    depth = 0
    for j in range(start, len(text)):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            depth -= 1
            if depth == 0:
                return j + 1
    return None


def parse_channels(text: str, warnings: list[str]) -> list[Channel]:
    text = unicodedata.normalize("NFC", text or "")
    if is_no_info(text):
        warnings.append("channels: no submission channels, time or fees in the record")
        return []
    if text.startswith(CHANNELS_HEADER):
        text = text[len(CHANNELS_HEADER):]
    else:
        warnings.append("channels: header 'Hình thức nộp…Mô tả' missing; read anyway")
    marks = list(CHANNEL_RE.finditer(text))
    if not marks:
        warnings.append(f"channels: could not find any channel in '{_short(text)}'")
        return []
    if clean(text[: marks[0].start()]):
        warnings.append(f"channels: text before the first channel was not read: '{_short(text[: marks[0].start()])}'")
    out: list[Channel] = []
    for k, m in enumerate(marks):
        seg = text[m.end(): marks[k + 1].start() if k + 1 < len(marks) else len(text)]
        out.append(_channel(CHANNELS[m.group(1)], seg, warnings))
    return out


def _channel(kind: str, seg: str, warnings: list[str]) -> Channel:
    tm = TIME_CELL_RE.match(seg)
    assert tm is not None  # CHANNEL_RE only matches before a digit or 'Không có thông tin'
    value_s, unit = tm.group(1), tm.group(2)
    end = tm.end()
    if value_s and not unit:
        # No unit: the time ('1') may be glued to a numeric fee ('1100 VNĐ' = '1' + '100 VNĐ').
        fee_m = re.match(r"(\d+)([\d.,]*\s*(?:Việt Nam Đồng|VNĐ|Đồng|đồng))", seg)
        if fee_m:
            value_s = fee_m.group(1)[0]
            end = 1
            warnings.append(
                f"channels: time and fee are glued ('{_short(fee_m.group(0), 30)}'); "
                f"read as time '{value_s}' (no unit) and fee '{seg[1:fee_m.end()]}'"
            )
    value = None
    if value_s:
        try:
            value = int(float(value_s.replace(",", ".")))
        except ValueError:
            value = None
    time_raw = seg[:end] if end != tm.end() else tm.group(0)
    rest = seg[end:]
    fm = FEE_HEAD_RE.match(rest)
    fee_head, fee_note = "", ""
    if fm:
        fee_head = fm.group(0)
        rest = rest[fm.end():]
        if rest.startswith("("):
            close = _balanced(rest, 0)
            if close is None:
                fee_note, rest = rest[1:], ""
                warnings.append(f"channels ({CHANNEL_VI[kind]}): fee note has no closing bracket")
            else:
                fee_note, rest = rest[1: close - 1], rest[close:]
    else:
        warnings.append(f"channels ({CHANNEL_VI[kind]}): could not read the fee in '{_short(rest, 60)}'")
    while fee_note.startswith("(") and _balanced(fee_note, 0) == len(fee_note):
        fee_note = fee_note[1:-1]
    rest = re.sub(r"^\)+", "", rest)
    return Channel(kind, value, unit, clean(time_raw), clean(fee_head), clean(fee_note), clean_lines(rest))


# --- fees


def _vnd(text: str) -> int | None:
    m = re.search(r"([\d][\d.,]*)\s*(?:Việt Nam Đồng|VNĐ|Đồng|đồng)", text)
    if not m:
        return None
    return _int(m.group(1))


def _fee(ch: Channel, warnings: list[str]) -> dict[str, Any] | None:
    """One channel's fee; problems are appended to `warnings` (without the channel)."""
    head, note = ch.fee_head, ch.fee_note
    trivial_note = is_no_info(note) or note.strip(" .") in {"Không có", "Không quy định"}
    if not head:
        return None
    if head == "Không có thông tin":
        warnings.append("the portal gives no fee information")
        return None
    if head == "Miễn phí":
        if trivial_note:
            return {"amount": 0, "text": "Miễn phí"}
        if re.fullmatch(r"[-\s]*Miễn lệ phí[^\d]*", note) and "phí công bố" not in note.lower():
            return {"amount": 0, "text": f"Miễn phí ({note})"}
        warnings.append(f"marked 'Miễn phí' but the note says '{_short(note, 80)}'; amount left empty")
        return {"text": f"Miễn phí ({note})"}
    amount = _vnd(head)
    note = re.sub(r"^(?:Lệ phí|Phí)\s*:\s*Đồng\s*\((.*)\)$", r"\1", note)  # '(Phí : Đồng (…))'
    shown = head if amount is None or amount < 1000 else f"{amount:,}".replace(",", ".") + " đồng"
    text = shown + (f" ({note})" if note and not trivial_note else "")
    if amount is None:
        warnings.append(f"no amount in '{_short(head, 40)}'; amount left empty")
        return {"text": text}
    if 0 < amount < 1000:
        warnings.append(f"amount '{head}' is implausibly small (thousands of VND?); amount left empty")
        return {"text": text}
    return {"amount": amount, "text": text}


def build_fees(channels: list[Channel], warnings: list[str]) -> list[dict[str, Any]]:
    """The case's fees: one when all channels agree, else one per group of channels."""
    per: list[tuple[str, dict[str, Any]]] = []
    problems: dict[str, list[str]] = {}
    for ch in channels:
        local: list[str] = []
        fee = _fee(ch, local)
        for w in local:
            problems.setdefault(w, []).append(ch.kind)
        if fee is not None:
            per.append((ch.kind, fee))
    for w, ks in problems.items():
        where = "" if len(ks) == len(channels) else " (" + ", ".join(CHANNEL_VI[k] for k in ks) + ")"
        warnings.append(f"fees{where}: {w}")
    distinct: list[dict[str, Any]] = []
    kinds: list[list[str]] = []
    for kind, fee in per:
        if fee in distinct:
            kinds[distinct.index(fee)].append(kind)
        else:
            distinct.append(fee)
            kinds.append([kind])
    if len(distinct) <= 1:
        return distinct
    warnings.append("fees differ by channel; one fee per group of channels written (see each fee's 'name')")
    out = []
    for fee, ks in zip(distinct, kinds, strict=True):
        named = {"name": "Khi " + ", ".join(CHANNEL_VI[k] for k in ks)}
        named.update(fee)
        out.append(named)
    return out


# --- time limits


@dataclass
class Time:
    value: int
    unit: str
    text: str
    source: str = "table"  # 'table', 'description', 'steps'


def _sentence(text: str, start: int) -> str:
    """From `start` to the end of its clause (., ;, newline)."""
    end = len(text)
    for m in re.finditer(r"[;\n]|\.(?:\s|$)", text[start:]):
        end = start + m.start()
        break
    out = clean(text[start:end]).rstrip(" .;,:")
    return re.sub(r",?\s*cụ thể(?: như sau)?$", "", out)


def _clause(text: str) -> str:
    """Cut a time's text at its first comma unless what follows names another duration."""
    head, sep, rest = text.partition(", ")
    if sep and "kể từ" in head and not DURATION_RE.search(rest):
        return head
    return text


def _durations(text: str) -> list[Time]:
    out: list[Time] = []
    for m in DURATION_RE.finditer(text):
        unit = UNITS[m.group(2).lower()]
        out.append(Time(int(m.group(1)), unit, _sentence(text, m.start())))
    return out


PER_CASE_RE = re.compile(
    r"[Đđ]ối với\s+(?:các\s+)?trường hợp\s+(?P<spec>[^:]{1,40}?)\s*:\s*(?P<dur>\d{1,3})\s*(?P<unit>ngày làm việc|ngày|tháng)",
)


def _case_numbers(spec: str) -> set[str]:
    nums = re.findall(r"\d+", spec)
    if "đến" in spec and len(nums) == 2:
        return {str(n) for n in range(int(nums[0]), int(nums[1]) + 1)}
    return set(nums)


def per_case_times(channels: list[Channel]) -> dict[str, Time]:
    """'Đối với trường hợp (1) và (4): 10 ngày làm việc …' in the descriptions."""
    out: dict[str, Time] = {}
    for ch in channels:
        for m in PER_CASE_RE.finditer(ch.description):
            t = Time(int(m.group("dur")), UNITS[m.group("unit").lower()], _sentence(ch.description, m.start("dur")), "description")
            for n in _case_numbers(m.group("spec")):
                out.setdefault(n, t)
    return out


def _table_unit(raw: str | None) -> str | None:
    return {"ngày làm việc": "working_days", "ngày": "days", "tháng": "months"}.get((raw or "").lower())


def _table_unit_wins(d: Time, table_unit: str | None, label: str, warnings: list[str]) -> Time:
    """The description's time, in the table's unit when the table says 'Ngày làm việc' and the text a bare 'ngày'."""
    if _table_unit(table_unit) == "working_days" and d.unit == "days":
        warnings.append(
            f"time ({label}): the table says '{d.value} Ngày làm việc' and the description '{_short(d.text, 50)}'; "
            "read as working days"
        )
        return Time(d.value, "working_days", d.text, "table")
    return Time(d.value, d.unit, d.text, "description")


def resolve_time(
    channels: list[Channel], case_no: str | None, steps_text: str, label: str,
    warnings: list[str], notes: list[str],
) -> Time | None:
    """The time limit for one case, from the description, the table or (as a fallback) the steps."""
    per_case = per_case_times(channels)
    if case_no is not None and case_no in per_case:
        return per_case[case_no]
    if per_case and case_no is not None:
        warnings.append(f"time ({label}): the description gives times per case but none for case {case_no}")

    with_unit = [c for c in channels if c.time_value and c.time_unit]
    unitless = [c for c in channels if not c.time_unit]
    table: set[tuple[int, str]] = {
        (c.time_value, c.time_unit) for c in with_unit if c.time_value is not None and c.time_unit is not None
    }
    descr: list[Time] = []
    for c in channels:
        for t in _durations(c.description):
            if all((t.value, t.unit) != (d.value, d.unit) for d in descr):
                descr.append(t)
    problem = ""
    if unitless:
        vals = ", ".join(f"'{c.time_raw}' ({CHANNEL_VI[c.kind]})" for c in unitless)
        problem = f"the portal's time {vals} has no unit"
    if len(table) > 1:
        vals = ", ".join(sorted({f"{c.time_raw} ({CHANNEL_VI[c.kind]})" for c in with_unit}))
        problem = f"the channels disagree: {vals}"
    elif len(table) == 1:
        (tv, tu), = table
        if len(descr) == 1:
            d = descr[0]
            if d.value == tv:
                if not unitless or d.unit:
                    if unitless:
                        warnings.append(f"time ({label}): {problem}; used the other channels' {d.value} and the description's '{d.text}'")
                    return _table_unit_wins(d, tu, label, warnings)
            else:
                problem = f"the table says '{tv} {tu}' but the description says '{d.text}'"
        elif len(descr) > 1:
            matching = [d for d in descr if d.value == tv]
            if matching and len({d.unit for d in matching}) == 1:
                d = matching[0]
                warnings.append(
                    f"time ({label}): the description gives several times "
                    f"({', '.join(f'{x.value} {x.unit}' for x in descr)}); used the table's {tv} confirmed by '{_short(d.text, 60)}'"
                )
                return _table_unit_wins(d, tu, label, warnings)
            problem = f"the table says '{tv} {tu}' and the description gives several times"
        else:
            unit = _table_unit(tu)
            if unit == "working_days" or unit == "months":
                if unitless:
                    warnings.append(f"time ({label}): {problem}; used the other channels' '{tv} {tu}'")
                return Time(tv, unit, f"{tv} {tu.lower()}", "table")
            if unit == "days":
                # '10 Ngày' on the portal often means working days: look for confirmation
                st = [t for t in _durations(steps_text) if t.value == tv]
                if len({t.unit for t in st}) == 1:
                    t = st[0]
                    t = Time(t.value, t.unit, _clause(t.text), "steps")
                    note = f"Thời hạn ({label}): bảng của Cổng ghi “{tv} Ngày”; đơn vị lấy từ trình tự thực hiện: “{t.text}”."
                    notes.append(note)
                    warnings.append(f"time ({label}): the table says '{tv} Ngày'; unit taken from the steps: '{_short(t.text, 60)}'")
                    return Time(tv, t.unit, t.text, "steps")
                notes.append(f"Thời hạn ({label}): bảng của Cổng ghi “{tv} Ngày”, không rõ ngày làm việc hay ngày lịch; cần kiểm tra.")
                warnings.append(f"time ({label}): the table says '{tv} Ngày' and nothing says whether these are working days; written as days")
                return Time(tv, "days", f"{tv} ngày", "table")
            problem = f"the table's unit '{tu}' is not a known unit"
    else:
        if len(descr) == 1 and not any(c.time_value for c in channels if c.time_unit):
            d = descr[0]
            if unitless:
                warnings.append(f"time ({label}): {problem}; used the description '{_short(d.text, 60)}'")
                notes.append(f"Thời hạn ({label}): bảng của Cổng không ghi đơn vị; lấy từ mô tả: “{d.text}”.")
            return Time(d.value, d.unit, d.text, "description")
        if descr:
            problem = (problem + "; " if problem else "") + "the description gives several times"
        elif not problem:
            problem = "the portal gives no time limit"

    # fall back on the steps text
    hints = {c.time_value for c in channels if c.time_value and c.time_value > 1}
    fallback = _steps_time(steps_text, hints)
    if fallback is not None:
        warnings.append(f"time ({label}): {problem}; taken from the steps: '{_short(fallback.text, 70)}'")
        notes.append(f"Thời hạn ({label}): {problem_vi(problem)}; lấy từ trình tự thực hiện: “{fallback.text}”.")
        return fallback
    found = _durations(steps_text)
    extra = f" (the steps mention {', '.join(sorted({f'{t.value} {t.unit}' for t in found}))})" if found else ""
    warnings.append(f"time ({label}): {problem} and the steps do not settle it{extra}; left empty")
    return None


def problem_vi(problem: str) -> str:
    """A short Vietnamese version of a time problem for the draft's notes."""
    if "no unit" in problem:
        return "bảng của Cổng ghi thời hạn không có đơn vị"
    if "disagree" in problem:
        return "các hình thức nộp ghi thời hạn khác nhau"
    if "but the description says" in problem:
        return "bảng và mô tả của Cổng ghi thời hạn khác nhau"
    if "several" in problem:
        return "mô tả ghi nhiều thời hạn"
    return "Cổng không ghi thời hạn"


RECEIPT_VALID_RE = re.compile(
    r"^\s*(?:\([^)]*\)\s*)?kể từ (?:ngày|khi) (?:tiếp )?nhận (?:được )?(?:đủ |đầy đủ )?(?:hồ sơ|văn bản)"
    r"(?:(?! bổ sung)[^,.;]){0,40}?hợp lệ|^\s*(?:\([^)]*\)\s*)?kể từ (?:ngày|khi) (?:tiếp )?nhận (?:được )?đủ hồ sơ"
)
RECEIPT_RE = re.compile(r"^\s*(?:\([^)]*\)\s*)?kể từ (?:ngày|khi) (?:tiếp )?nhận (?:được )?(?:đủ |đầy đủ )?hồ sơ(?! bổ sung)")
REQUEST_RE = re.compile(r"^\s*(?:\([^)]*\)\s*)?kể từ (?:ngày|khi) (?:tiếp )?nhận (?:được )?(?:văn bản đề nghị|thông báo)")


def _steps_time(steps_text: str, hints: set[int] | None = None) -> Time | None:
    """The time limit the steps state ('Trong thời hạn 10 ngày làm việc kể từ…'), if one stands out.

    In order: the only duration the steps mention; the only one with the number the portal's
    table gives (`hints`); the only one counted from receiving a valid dossier, then any
    dossier, then a request or notice. With `hints`, a duration the table does not give is
    never taken (it is one step's deadline, not the whole procedure's).
    """
    found = _durations(steps_text)
    if not found:
        return None

    def unique(times: list[Time]) -> Time | None:
        if len({(t.value, t.unit) for t in times}) == 1:
            t = times[0]
            if hints and t.value not in hints:
                return None  # the table gives other numbers: a step's own deadline, not the total
            return Time(t.value, t.unit, _clause(t.text), "steps")
        return None

    tiers = [found]
    if hints:
        tiers.append([t for t in found if t.value in hints])
    after = [(t, steps_text[m.end():]) for t, m in zip(found, DURATION_RE.finditer(steps_text), strict=True)]
    tiers.append([t for t, rest in after if RECEIPT_VALID_RE.match(rest)])
    tiers.append([t for t, rest in after if RECEIPT_RE.match(rest)])
    tiers.append([t for t, rest in after if REQUEST_RE.match(rest)])
    for tier in tiers:
        got = unique(tier)
        if got is not None:
            return got
    return None


# --------------------------------------------------------------------------------------------
# Steps (trinh_tu_thuc_hien)

STEP_RE = re.compile(r"(?:(?<=\s)|^)(?:-\s*)?Bước\s*(\d+)\s*[:.\-]?\s*", re.MULTILINE)
STEP_CASE_RE = re.compile(
    r"(?:^|(?<=[\s.;:*]))(?:\(\s*(\d+(?:\.\d+)?)\s*\)\s*)?Trường hợp\s+(\d+)\s*:", re.MULTILINE
)


def split_steps(text: str) -> list[str]:
    """Steps as one line each: by 'Bước N', else by top-level '-' bullets, else by line."""
    text = unicodedata.normalize("NFC", text or "").replace("\r", "")
    if is_no_info(text):
        return []
    marks = list(STEP_RE.finditer(text))
    steps: list[str] = []
    if marks:
        pre = clean(text[: marks[0].start()])
        if pre and len(pre) > 3 and not re.fullmatch(r"(?:Trình tự thực hiện|Các bước)\s*:?", pre, re.IGNORECASE):
            steps.append(pre)
        for k, m in enumerate(marks):
            body = text[m.end(): marks[k + 1].start() if k + 1 < len(marks) else len(text)]
            steps.append(_step_body(body))
    else:
        # one step a line; '+' sub-items and lines starting in lower case continue the step above
        chunks: list[list[str]] = []
        for line in (ln.strip() for ln in text.split("\n")):
            if not line:
                continue
            if chunks and (line.startswith("+") or line[:1].islower()):
                chunks[-1].append(line)
            else:
                chunks.append([line])
        steps = [clean(SUBSTEP_MARK_RE.sub("", strip_bullet(" ".join(c)))) for c in chunks]
    return [s for s in steps if s]


SUBSTEP_MARK_RE = re.compile(r"^\((?:[ivx]+|\d+)\)\s*")


def _step_body(body: str) -> str:
    lines = [line.strip() for line in body.strip().split("\n") if line.strip()]
    if not lines:
        return ""
    first = lines[0]
    rest = " ".join(lines[1:])
    if rest and len(first) < 80 and not re.search(r"[.:;,]$", first):
        return clean(f"{first}: {rest}")
    return clean(" ".join(lines)).rstrip()


STEP_LABEL_RE = re.compile(r"^[ \t]*(?:\(\s*([\da-zđ.]+)\s*\)|([a-zđ]|\d+(?:\.\d+)?)\))\s+", re.MULTILINE)


def split_steps_by_case(text: str, labels: list[str] | None = None) -> dict[str, str]:
    """Case number -> its part of the steps text, when the steps are written per case.

    Cases are marked 'Trường hợp N:' (anywhere) or, for the documents' own case `labels`,
    '(1.1) …' / 'a) …' at the start of a line.
    """
    text = unicodedata.normalize("NFC", text or "")
    found: list[tuple[int, str, re.Match[str]]] = []
    for m in STEP_CASE_RE.finditer(text):
        found.append((m.start(), m.group(2), m))
    wanted = set(labels or [])
    for m in STEP_LABEL_RE.finditer(text):
        label = m.group(1) or m.group(2)
        if label in wanted:
            found.append((m.start(), label, m))
    found.sort(key=lambda x: x[0])
    marks: list[tuple[str, re.Match[str]]] = []
    seen: set[str] = set()
    last_end = -1
    for start, n, m in found:
        if n in seen or start < last_end:
            continue
        seen.add(n)
        last_end = m.end()
        marks.append((n, m))
    if len(marks) < 2:
        return {}
    parts: dict[str, str] = {}
    for k, (n, m) in enumerate(marks):
        end = marks[k + 1][1].start() if k + 1 < len(marks) else len(text)
        parts[n] = text[m.end():end]
    # cases listed without their own steps share the steps of the next case that has some
    nums = [n for n, _ in marks]
    for i, n in enumerate(nums):
        if not STEP_RE.search(parts[n]):
            for later in nums[i + 1:]:
                if STEP_RE.search(parts[later]):
                    body = STEP_RE.search(parts[later])
                    assert body is not None
                    parts[n] = parts[n] + "\n" + parts[later][body.start():]
                    break
    return parts


def _steps_only(part: str) -> str:
    """Drop a case's heading text before its first step ('Bước 1', or '(i)' on its first line)."""
    m = STEP_RE.search(part)
    if m:
        return part[m.start():]
    first = part.split("\n", 1)[0]
    m = re.search(r"\(i\)\s", first)
    return part[m.start():] if m else part


# --------------------------------------------------------------------------------------------
# Legal basis (can_cu_phap_ly)

LEGAL_HEADER = "Tên văn bản pháp lýMã văn bản"
DOC_CODE_RE = re.compile(
    r"((?<!\d)\d{1,3}\.\d{1,3}|\d+)/(?:(\d{4})/)?((?:UBTVQH|QH)\d{2}|NĐ-CP|NQ-CP|(?:TT|TTLT|QĐ|NQ|CT|VBHN)-[A-ZĐ]+(?:-[A-ZĐ]+)*)"
)
DOC_TYPES = {
    "QH": "Luật", "NĐ-CP": "Nghị định", "NQ": "Nghị quyết", "TTLT": "Thông tư liên tịch",
    "TT": "Thông tư", "QĐ": "Quyết định", "CT": "Chỉ thị", "UBTVQH": "Pháp lệnh",
}


def _code_type(suffix: str) -> str:
    if suffix.startswith("VBHN"):
        return "Văn bản hợp nhất"
    if suffix.startswith("UBTVQH"):
        return "Nghị quyết"
    if suffix.startswith("QH"):
        return "Luật"
    if suffix == "NĐ-CP":
        return "Nghị định"
    if suffix == "NQ-CP":
        return "Nghị quyết"
    head = suffix.split("-")[0]
    return DOC_TYPES.get(head, "Văn bản")


@dataclass
class CodeHit:
    code: str  # as written, e.g. '02/2022/TT-BTNMT'
    key: str  # for de-duplication, e.g. '2/2022/TT-BTNMT'
    suffix: str
    start: int
    end: int
    has_year: bool


ASCII_CAPS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZĐ")


def _code_hits(text: str) -> list[CodeHit]:
    hits = []
    for m in DOC_CODE_RE.finditer(text):
        number, start = m.group(1), m.start()
        suffix, end = m.group(3), m.end()
        # '…55/2026/TT-BTCLuật Đầu tư', '…TT-BTNMTSỬA ĐỔI': the next title glued to the code
        while (
            end < len(text) and text[end].isalpha() and text[end] not in ASCII_CAPS
            and suffix[-1:].isupper() and re.search(r"-[A-ZĐ]{3,}$", suffix)
        ):
            suffix, end = suffix[:-1], end - 1
        # '…năm 202072/2020/QH14': a year glued to the number
        if len(number) > 4 and "." not in number:
            cut = 4 if re.match(r"(19|20)\d\d", number) else len(number) - 4
            start += cut
            number = number[cut:]
        year = m.group(2)
        if not year and len(number) > 3:
            continue  # '…QH13' + '2015/…' read the wrong way round
        code = f"{number}/{year}/{suffix}" if year else f"{number}/{suffix}"
        key = f"{number.lstrip('0') or '0'}/{year or ''}/{suffix}"
        hits.append(CodeHit(code, key, suffix, start, end, bool(year)))
    return hits


def parse_legal(text: str, warnings: list[str]) -> list[str]:
    text = clean(text)
    if is_no_info(text):
        warnings.append("legal basis: none in the record")
        return []
    text = re.sub(r"(?<=[A-ZĐ])-\s+(?=[A-ZĐ])", "-", text)  # 'TT- BKHĐT'
    if text.startswith(LEGAL_HEADER):
        text = text[len(LEGAL_HEADER):]
    hits = _code_hits(text)
    rows: list[tuple[str, CodeHit]] = []
    row_start = 0
    for h in hits:
        before = text[row_start:h.start]
        after = text[h.end:]
        prev = text[h.start - 1] if h.start > 0 else ""
        glued_next = after == "" or re.match(r"[A-ZĐÂĂÊÔƠƯ]", after)
        if re.search(r"(?:số|Số|SỐ)\s*$", before) and not glued_next:
            continue  # 'Nghị định số 08/2022/NĐ-CP…': the number inside a title
        if prev and prev.isspace() and not re.match(r"\s*(?:$|[A-ZĐÂĂÊÔƠƯ(])", after):
            continue  # '… của 08/2022/NĐ-CP ngày …': another document named inside a title
        rows.append((clean(before), h))
        row_start = h.end
    leftover = clean(text[row_start:])
    if leftover:
        warnings.append(f"legal basis: text without a document code was not read: '{_short(leftover, 60)}'")
    out: list[str] = []
    seen: set[str] = set()
    for title, h in rows:
        if not h.has_year:
            # '…Nghị định số 225/2025/NĐ-CP của Chính phủ: …225/NĐ-CP': take the year from the title
            number = h.code.split("/")[0]
            full = [x for x in _code_hits(title) if x.has_year and x.code.startswith(number + "/") and x.suffix == h.suffix]
            if full:
                h = CodeHit(full[0].code, full[0].key, h.suffix, h.start, h.end, True)
            elif not h.suffix.startswith("VBHN"):
                warnings.append(f"legal basis: document code '{h.code}' has no year")
        if h.key in seen:
            continue
        seen.add(h.key)
        out.append(_legal_entry(title, h))
    if not out and text:
        warnings.append("legal basis: no document codes found")
    return out


DATE_RE = r"ngày\s+(\d{1,2})\s*(?:/|tháng\s+)(\d{1,2})\s*(?:/|năm\s+)(\d{4})"


def _legal_entry(title: str, h: CodeHit) -> str:
    """'Nghị định số 35/2022/NĐ-CP quy định về quản lý khu công nghiệp và khu kinh tế'."""
    kind = _code_type(h.suffix)
    title = re.sub(r"^Trang chủ\s+", "", title).strip(" ;,.")
    name = ""
    if kind == "Luật":
        m = re.match(r"^Luật\s+(?!số\b)([^\d\s].+?)(?=\s+số\b|\s+ngày\b|\s*:|\s+\d|$)", title)
        if m and len(m.group(1)) <= 120 and not re.match(r"sửa đổi", m.group(1)):
            name = " " + m.group(1).strip()
    date = ""
    subject = title
    at = title.find(h.code)
    if at >= 0:
        rest = title[at + len(h.code):]
        m = re.match(r"\s*(?:của[^,;:]{0,40}?\s+)?" + DATE_RE, rest)
        if m:
            date = f" ngày {m.group(1)}/{m.group(2)}/{m.group(3)}"
            rest = rest[m.end():]
        subject = rest
    elif name:
        subject = ""
    types = r"(?:[Ll]uật|[Nn]ghị định|[Tt]hông tư|[Nn]ghị quyết|[Qq]uyết định)"
    keyword = r"(?:[Ss]ửa đổi|[Qq]uy định|[Hh]ướng dẫn|[Bb]an hành|về)\b"
    for _ in range(2):
        subject = re.sub(r"^\s*[:;,.]?\s*", "", subject)
        subject = re.sub(r"^" + types + r"\s+(?=của\b|" + keyword + ")", "", subject)
        subject = re.sub(
            r"^của\s+(?:Chính phủ|Quốc hội|Thủ tướng Chính phủ|Bộ trưởng\s+Bộ\s.{2,60}?|Bộ\s.{2,60}?)"
            r"(?=\s*:|\s+" + keyword + ")",
            "", subject,
        )
    subject = re.sub(r"\s*" + types + r"?\s*số\s*$", "", subject)  # '…môi trườngLuật số' (the code's own label)
    subject = subject.strip(" ;,.:")
    if re.fullmatch(types + r"?", subject):
        subject = ""
    if subject.isupper():
        subject = _lower_keep_codes(subject)
    if subject and kind == "Luật" and name:
        subject = ""
    if subject:
        subject = " " + subject[0].lower() + subject[1:] if not subject[:2].isupper() else " " + subject
    return f"{kind}{name} số {h.code}{date}{subject}"


def _lower_keep_codes(text: str) -> str:
    """Sentence case for an ALL-CAPS title, keeping document codes and a few proper names."""
    out, pos = [], 0
    for m in DOC_CODE_RE.finditer(text):
        out.append(text[pos:m.start()].lower())
        out.append(m.group(0))
        pos = m.end()
    out.append(text[pos:].lower())
    low = "".join(out)
    for proper in ("Chính phủ", "Quốc hội", "Nghị định", "Thông tư", "Luật"):
        low = re.sub(rf"\b{proper.lower()}\b", proper, low)
    return low


# --------------------------------------------------------------------------------------------
# Result, conditions, name

RESULT_JUNK_RE = re.compile(r"Từ khóa.*$|Chọn cơ quan thực hiện.*$|Nộp hồ sơ\s*$", re.DOTALL)


def parse_result(text: str) -> str | None:
    text = unicodedata.normalize("NFC", text or "")
    text = RESULT_JUNK_RE.sub("", text)
    items = [clean(strip_bullet(x)) for x in re.split(r"Mã\s*:\s*[A-Z]{2}[\w.\-]*", text)]
    out = []
    for item in items:
        item = item.strip(" ;")
        if not item or is_no_info(item):
            continue
        # 'Giấy chứng nhận đăng ký đầu tưGiấy chứng nhận đăng ký đầu tư theo mẫu I.2.6 …'
        for k in range(8, len(item) // 2 + 1):
            if item[k:].startswith(item[:k]) and not item[k - 1].isspace():
                item = item[k:]
                break
        item = item.rstrip(" .;")
        if item and item not in out:
            out.append(item)
    return "; ".join(out) + "." if out else None


def parse_conditions(text: str) -> str | None:
    text = clean_lines(text)
    if not text or is_no_info(text):
        return None
    return text


def parse_name(text: str) -> str:
    name = clean(text)
    name = re.sub(r"\s*\(\s*\d\.\d{6}\s*\)\s*$", "", name)
    return name.rstrip(" .")


def parse_agency(record: dict[str, Any], warnings: list[str]) -> str:
    for key in ("co_quan_thuc_hien", "co_quan_co_tham_quyen"):
        value = clean(record.get(key))
        if value and not is_no_info(value):
            if key != "co_quan_thuc_hien":
                warnings.append(f"agency: co_quan_thuc_hien is empty; used co_quan_co_tham_quyen '{_short(value, 50)}'")
            return value
    warnings.append("agency: the record names no agency; written as TODO")
    return TODO


# --------------------------------------------------------------------------------------------
# The record


def _case_name(number: str | None, heading: str, steps_heading: str | None) -> str:
    h = clean(heading).rstrip(" :")
    h = re.sub(r",?\s*hồ sơ (?:bao )?gồm\s*:?.*$", "", h) if re.match(r"^Đối với trường hợp \d+", h) else h
    if re.fullmatch(r"(?:Đối với\s+)?[Tt]rường hợp \d+", h) and steps_heading:
        h = steps_heading
    h = re.sub(r"^Đối với trường hợp (\d+)$", r"Trường hợp \1", h)
    h = h[:1].upper() + h[1:]
    return h or (f"Trường hợp {number}" if number else "Trường hợp chung")


def _steps_heading(part: str) -> str:
    head = part[: len(part) - len(_steps_only(part))]
    return clean(head).strip(" -.:")


def build_cases(
    doc_cases: list[DocCase], channels: list[Channel], fees: list[dict[str, Any]], kinds: list[str],
    steps_text: str, warnings: list[str], notes: list[str],
) -> list[dict[str, Any]]:
    """The draft's cases: documents per case, with their steps, time limit, fees and channels."""
    step_parts = split_steps_by_case(steps_text, [c.number for c in doc_cases if c.number])
    if not doc_cases:
        doc_cases = [DocCase(None, "", [])]
    numbered = [c.number for c in doc_cases if c.number]
    if numbered and step_parts and not set(numbered) & set(step_parts):
        warnings.append("steps: the steps' cases do not match the documents' cases; all steps copied to every case")
    cases: list[dict[str, Any]] = []
    shared_time: dict[str, Time | None] = {}
    per_case = per_case_times(channels)
    for dc in doc_cases:
        label = f"trường hợp {dc.number}" if dc.number else "chung"
        part = step_parts.get(dc.number or "", None)
        if part is not None:
            steps = split_steps(_steps_only(part))
            case_steps_text = part
        else:
            steps = split_steps(steps_text if not step_parts else _strip_case_parts(steps_text))
            case_steps_text = steps_text
            if dc.number and step_parts:
                warnings.append(f"steps ({label}): no steps written for this case; all steps copied")
        if not steps:
            warnings.append(f"steps ({label}): none in the record")
        if (dc.number is None or dc.number not in per_case) and case_steps_text is steps_text and not per_case:
            # the same sources for every case: resolve (and warn) once
            if "all" not in shared_time:
                all_label = "chung" if len(doc_cases) == 1 else "mọi trường hợp"
                shared_time["all"] = resolve_time(channels, None, steps_text, all_label, warnings, notes)
            time = shared_time["all"]
        else:
            time = resolve_time(channels, dc.number, case_steps_text, label, warnings, notes)
        steps_head = _steps_heading(part) if part else None
        steps_head = re.sub(r"^\(\d+\)\s*", "", steps_head) if steps_head else None
        case: dict[str, Any] = {
            "name": _case_name(dc.number, dc.heading, f"Trường hợp {dc.number}: {steps_head}" if steps_head else None),
            "steps": steps,
            "documents": dc.docs,
        }
        if time is not None:
            case["time"] = FlowMap({"value": time.value, "unit": time.unit, "text": time.text})
        case["fees"] = [FlowMap(f) if len(str(f.get("text", ""))) < 60 else f for f in fees]
        case["channels"] = FlowList(kinds)
        cases.append(case)
    return cases


def is_portal_json(record: dict[str, Any]) -> bool:
    """The portal's own JSON (``code``, ``name``, ``executionCases``…) rather than a crawled page."""
    return "ma_thu_tuc" not in record and "code" in record and (
        "executionCases" in record or "executionMethods" in record or "executionSteps" in record
    )


def record_code(record: dict[str, Any]) -> str:
    """The national code of a record of either shape."""
    return clean(record.get("ma_thu_tuc") if "ma_thu_tuc" in record else record.get("code"))


def parse_dvc_record(record: dict[str, Any]) -> Draft:
    """Turn one crawled page's record (flattened text, Vietnamese field names, as in
    ``data/dvc/``) into a draft (the YAML data) and the list of what was not read.
    `bot.kb._drafts.parse_record` reads the portal's own JSON too."""
    warnings: list[str] = []
    notes: list[str] = []
    code = clean(record.get("ma_thu_tuc"))
    name = parse_name(record.get("ten_thu_tuc", ""))
    if not name:
        warnings.append("name: ten_thu_tuc is empty")
        name = TODO

    remarks: list[str] = []
    groups = parse_documents(record.get("thanh_phan_ho_so", ""), warnings, remarks)
    doc_cases = group_cases(groups, warnings, notes)
    if remarks:
        warnings.append(
            f"documents: {len(remarks)} row(s) with '0 bản chính' and no copies read as remarks and put in notes"
        )
        notes.extend(f"Ghi chú hồ sơ: {r}" for r in dict.fromkeys(remarks))
    if not any(c.docs for c in doc_cases):
        warnings.append("documents: no documents could be read; the draft has none")
    channels = parse_channels(record.get("cach_thuc_thuc_hien", ""), warnings)
    steps_text = record.get("trinh_tu_thuc_hien", "") or ""
    fees = build_fees(channels, warnings)
    kinds = [k for k in CHANNEL_ORDER if any(c.kind == k for c in channels)]
    if not kinds:
        warnings.append("channels: none could be read; the draft lists none")
    cases = build_cases(doc_cases, channels, fees, kinds, steps_text, warnings, notes)

    data: dict[str, Any] = {
        "code": QuotedStr(code),
        "name": name,
        "name_en": NAME_EN_TODO,
        "aliases": FlowList([]),
        "field": clean(record.get("linh_vuc")) or TODO,
        "agency": parse_agency(record, warnings),
        "online_level": TODO,
        "cases": cases,
        "conditions": parse_conditions(record.get("yeu_cau_dieu_kien", "")),
        "result": parse_result(record.get("ket_qua_xu_ly", "")),
        "legal_basis": parse_legal(record.get("can_cu_phap_ly", ""), warnings),
        "source_url": clean(record.get("detail_url")) or TODO,
        "publish_decision": clean(record.get("so_quyet_dinh")) or None,
        "verified": TODO,
        "notes": "\n".join(dict.fromkeys(notes)) or None,
    }
    if data["field"] == TODO:
        warnings.append("field: linh_vuc is empty; written as TODO")
    if data["source_url"] == TODO:
        warnings.append("source_url: detail_url is empty; written as TODO")
    if data["result"] is None:
        warnings.append("result: ket_qua_xu_ly is empty")
    for key in ("conditions", "result", "publish_decision", "notes"):
        if data[key] is None:
            del data[key]
    return Draft(code=code, data=english_todos(data), warnings=list(dict.fromkeys(warnings)))


def _with_after(d: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """`d` (of the same class: a FlowMap stays one) with `after[key]` placed right after each key."""
    out = type(d)() if isinstance(d, dict) else {}
    for key, value in d.items():
        out[key] = value
        for new_key, new_value in after.get(key, {}).items():
            if new_key not in d:
                out[new_key] = new_value
    return out


def english_todos(data: dict[str, Any]) -> dict[str, Any]:
    """The draft with an English placeholder beside every public Vietnamese text (`tthc-bot kb
    check` requires them): agency_en, conditions_en, result_en; each case's name_en and steps_en
    (one per step); each document's name_en; time and fee text_en (and fee name_en, exempt_en)."""
    def en(d: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
        return _with_after(d, {k: {k + "_en": ENGLISH_TODO} for k in keys if d.get(k)})

    cases = []
    for case in data.get("cases") or []:
        c = en(case, ("name",))
        if case.get("steps"):
            c = _with_after(c, {"steps": {"steps_en": [ENGLISH_TODO for _ in case["steps"]]}})
        c["documents"] = [en(doc, ("name",)) if isinstance(doc, dict) else doc for doc in case.get("documents") or []]
        if isinstance(case.get("time"), dict):
            c["time"] = en(case["time"], ("text",))
        if case.get("fees"):
            c["fees"] = [en(fee, ("name", "text", "exempt")) for fee in case["fees"]]
        cases.append(c)
    out = en(data, ("agency", "conditions", "result"))
    if "cases" in out:
        out["cases"] = cases
    return out


def _strip_case_parts(text: str) -> str:
    return text


# --------------------------------------------------------------------------------------------
# YAML output


class QuotedStr(str):
    """A string always written in double quotes (the procedure code)."""


class FlowMap(dict):  # type: ignore[type-arg]
    """A short mapping written on one line: {code: Mẫu I.1.1}."""


class FlowList(list):  # type: ignore[type-arg]
    """A short list written on one line: [online, in_person, post]."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # indent list items under their key, like the hand-written knowledge files
        super().increase_indent(flow, False)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(
    QuotedStr, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v), style='"')
)
_Dumper.add_representer(
    FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", dict(v), flow_style=True)
)
_Dumper.add_representer(
    FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", list(v), flow_style=True)
)


def draft_yaml(draft: Draft) -> str:
    """The draft as a YAML file for board staff: a header comment, then block-style fields."""
    head = [
        f"# DRAFT imported from the national portal record {draft.code}: {draft.name}",
        "# Check every field by hand against the source before moving this file into knowledge/procedures/.",
        f"# Fill in every TODO ({', '.join(_todo_fields(draft))}{', …' if _has_other_todo(draft) else ''}) "
        f"and write each English text where it says {ENGLISH_TODO!r}; `tthc-bot kb check` fails until then.",
    ]
    if draft.warnings:
        head.append(f"# The importer could not read everything ({len(draft.warnings)} warning(s)):")
        head.extend(f"#  - {_comment(w)}" for w in draft.warnings)
    body = yaml.dump(
        draft.data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=4096,
        default_flow_style=False, indent=2,
    )
    return "\n".join(head) + "\n" + body


def _todo_fields(draft: Draft) -> list[str]:
    keys = ("name_en", "online_level", "verified")
    return [k for k in keys if str(draft.data.get(k, "")).startswith(TODO)] or ["verified"]


def _has_other_todo(draft: Draft) -> bool:
    return any(draft.data.get(k) == TODO for k in ("agency", "field", "source_url"))


def _comment(text: str) -> str:
    return clean(text).replace("\n", " ")


# --------------------------------------------------------------------------------------------
# Reading the file and the command


@dataclass
class ReadProblem:
    line: int
    message: str


def read_records(lines: list[str]) -> tuple[list[tuple[int, dict[str, Any]]], list[ReadProblem]]:
    """Records with their 1-based line numbers, and the lines that could not be read."""
    records: list[tuple[int, dict[str, Any]]] = []
    problems: list[ReadProblem] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(ReadProblem(n, f"not valid JSON ({exc.msg} at column {exc.colno}); skipped"))
            continue
        if isinstance(obj, dict) and isinstance(obj.get("data"), dict) and "code" in obj["data"]:
            obj = obj["data"]  # the portal's API answer {"data": {...}}
        if not isinstance(obj, dict):
            problems.append(ReadProblem(n, f"not a JSON object (got {type(obj).__name__}); skipped"))
            continue
        code = record_code(obj)
        if not CODE_RE.match(code):
            key = "ma_thu_tuc" if "ma_thu_tuc" in obj or "code" not in obj else "code"
            problems.append(ReadProblem(n, f"no valid procedure code in {key} (got {code!r}); skipped"))
            continue
        records.append((n, obj))
    return records, problems


def read_records_file(file: Path) -> list[tuple[int, dict[str, Any]]] | None:
    """The records of a JSON-lines file, each line's problem printed to stderr; None (also
    printed) when the file cannot be read."""
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {file}: {exc}", file=sys.stderr)
        return None
    records, problems = read_records(text.splitlines())
    for p in problems:
        print(f"{file}:{p.line}: {p.message}", file=sys.stderr)
    return records
