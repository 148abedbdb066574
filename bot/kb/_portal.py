"""The national portal's own JSON records (as in ``data/dvc_2026-07/``) to knowledge drafts.

The portal's API gives each procedure as one JSON object: ``code``, ``name``, ``executionSteps``
(the steps text), ``executionMethods`` (one entry per submission channel and time limit, with
its ``fees``), ``executionCases`` (the dossier per case, each document with ``originalQty`` /
``copyQty`` and its form files in ``attachments``), ``legalBasisesDetails``, the agencies, the
publishing decision (``procedureProposal``), ``isFullProcess`` (online "toàn trình") and the
record's own dates (``createdAt`` / ``updatedAt``, milliseconds). No text has to be taken apart
here; the same rules as for the crawled pages then decide cases, time limits and fees
(`_importer.build_cases`), so a record gives the same draft whichever shape it comes in.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ._importer import (
    CHANNEL_ORDER,
    CHANNEL_VI,
    DOC_CODE_RE,
    NAME_EN_TODO,
    TODO,
    Channel,
    DocGroup,
    Draft,
    FlowList,
    FlowMap,
    QuotedStr,
    _code_type,
    _fee,
    _form_code,
    _lower_keep_codes,
    _short,
    build_cases,
    case_heading,
    clean,
    clean_lines,
    english_todos,
    group_cases,
    is_no_info,
    parse_conditions,
    parse_name,
    strip_bullet,
)

__all__ = ["PORTAL_URL", "parse_portal_record", "portal_record_date"]

PORTAL_URL = "https://dichvucong.gov.vn/thu-tuc-hanh-chinh/"
METHODS = {"ONLINE": "online", "DIRECT": "in_person", "POSTAL": "post"}
# the portal's time units as its pages write them (the importer's rules read these)
UNITS = {"WORKING_DAY": "Ngày làm việc", "DAY": "Ngày", "MONTH": "Tháng"}
FEE_KINDS = {"FEE": "Lệ phí", "SERVICE_FEE": "Phí", "PRICE_LEVEL": "Mức giá"}
VIETNAM = timedelta(hours=7)


def portal_record_date(record: dict[str, Any]) -> date | None:
    """The day (Vietnam time) the portal last updated the record, else the day it created it."""
    for key in ("updatedAt", "createdAt"):
        value = record.get(key)
        if isinstance(value, (int, float)) and value > 0:
            return (datetime.fromtimestamp(value / 1000, UTC) + VIETNAM).date()
    return None


def _names(items: Any) -> list[str]:
    out: list[str] = []
    for item in items or []:
        name = clean(item.get("name")) if isinstance(item, dict) else clean(item)
        if name and name not in out:
            out.append(name)
    return out


def _agency(record: dict[str, Any], warnings: list[str]) -> str:
    for key in ("departmentsExecuting", "unitGroupsExecuting", "departmentsAuthority", "unitGroupsAuthority"):
        names = _names(record.get(key))
        if names:
            if key != "departmentsExecuting" and key != "unitGroupsExecuting":
                warnings.append(f"agency: no executing agency; used the competent one ({_short(', '.join(names), 50)})")
            return ", ".join(names)
    text = clean(record.get("executingAgencies"))
    if text and not is_no_info(text):
        return text
    warnings.append("agency: the record names no agency; written as TODO")
    return TODO


def _steps_text(record: dict[str, Any]) -> str:
    parts = []
    for step in record.get("executionSteps") or []:
        if not isinstance(step, dict):
            continue
        name = clean(step.get("name"))
        body = str(step.get("description") or "").replace("\r", "").strip()
        if name and body:
            parts.append(f"{name}: {body}" if not body.startswith(name) else body)
        elif body or name:
            parts.append(body or name)
    return "\n".join(parts)


def _fee_head(fee: dict[str, Any]) -> str:
    value = fee.get("value")
    if value == 0:
        return "Miễn phí"
    if isinstance(value, (int, float)) and value > 0:
        kind = FEE_KINDS.get(str(fee.get("type")), "Phí")
        return f"{kind} : {int(value)} Đồng"
    return "Không có thông tin"


def _channels(record: dict[str, Any], warnings: list[str]) -> tuple[list[Channel], list[list[dict[str, Any]]]]:
    """One importer `Channel` per execution method, and each method's fees (drafts' fee dicts)."""
    channels: list[Channel] = []
    fees: list[list[dict[str, Any]]] = []
    for m in record.get("executionMethods") or []:
        if not isinstance(m, dict):
            continue
        kind = METHODS.get(str(m.get("submissionMethod")))
        if kind is None:
            warnings.append(f"channels: unknown submission method {m.get('submissionMethod')!r}; skipped")
            continue
        value = m.get("processingTime")
        unit = UNITS.get(str(m.get("processingTimeUnit")))
        number: int | float | None = None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            number = int(value) if float(value).is_integer() else float(value)
        if isinstance(number, float):
            warnings.append(f"channels ({CHANNEL_VI[kind]}): the time limit {number} is not a whole number; kept as written")
        if number is not None and unit is None:
            warnings.append(
                f"channels ({CHANNEL_VI[kind]}): time unit {m.get('processingTimeUnit')!r} is not a known unit"
            )
        shown = str(number).replace(".", ",") if isinstance(number, float) else str(number)
        raw = f"{shown} {unit}" if number is not None and unit else str(value or "")
        description = clean_lines(m.get("description"))
        own: list[dict[str, Any]] = []
        for f in m.get("fees") or []:
            if not isinstance(f, dict):
                continue
            local: list[str] = []
            # A fractional limit (0,5 ngày) stays as it is: the time rules read it, the type says int.
            ch = Channel(kind, number, unit, raw, _fee_head(f), clean(f.get("description")), description)  # type: ignore[arg-type]
            got = _fee(ch, local)
            warnings.extend(f"fees ({CHANNEL_VI[kind]}): {w}" for w in local)
            if got is not None:
                if len(m.get("fees") or []) > 1:
                    got = {"name": FEE_KINDS.get(str(f.get("type")), "Phí"), **got}
                own.append(got)
        first = own[0] if own else None
        head = "Miễn phí" if first and first.get("amount") == 0 else ""
        channels.append(Channel(kind, number, unit if number is not None else None, raw, head, "", description))  # type: ignore[arg-type]
        fees.append(own)
    return channels, fees


def _merge_fees(channels: list[Channel], fees: list[list[dict[str, Any]]], warnings: list[str]) -> list[dict[str, Any]]:
    """One list of fees when every channel asks the same, else one per group of channels."""
    groups: list[tuple[list[dict[str, Any]], list[str]]] = []
    for ch, own in zip(channels, fees, strict=True):
        for seen, kinds in groups:
            if seen == own:
                if ch.kind not in kinds:
                    kinds.append(ch.kind)
                break
        else:
            groups.append((own, [ch.kind]))
    if len(groups) <= 1:
        return groups[0][0] if groups else []
    warnings.append("fees differ by channel; one fee per group of channels written (see each fee's 'name')")
    out: list[dict[str, Any]] = []
    for own, kinds in groups:
        when = "Khi " + ", ".join(CHANNEL_VI[k] for k in kinds)
        for fee in own:
            named = dict(fee)
            named["name"] = f"{fee['name']} ({when.lower()})" if fee.get("name") else when
            out.append(named)
    return out


NUMBERING_RE = re.compile(r"^(?:\d+[.)]\s+|[a-zđ]\)\s+)")


def _document(component: dict[str, Any], warnings: list[str]) -> dict[str, Any] | None:
    name = strip_bullet(clean(component.get("name")))
    name = NUMBERING_RE.sub("", name)
    name = re.sub(r"[\s.;,:]+$", "", name).lstrip(" ;,:")
    originals = component.get("originalQty") or 0
    copies = component.get("copyQty") or 0
    if not name:
        warnings.append(f"a document has no name ({originals} original(s), {copies} copy/copies)")
        return None
    name = name[0].upper() + name[1:]
    doc: dict[str, Any] = {"name": name}
    files = [clean(a.get("fileName")) for a in component.get("attachments") or [] if isinstance(a, dict)]
    files = [f for f in files if f]
    if files:
        codes = [_form_code(f, name, warnings) for f in files]
        if len(codes) > 1:
            warnings.append(f"document '{_short(name, 50)}' lists {len(codes)} forms ({', '.join(codes)}); check which applies")
        doc["form"] = FlowMap({"code": ", ".join(codes)})
    doc["originals"] = int(originals)
    if copies:
        doc["copies"] = int(copies)
    return doc


def _groups(record: dict[str, Any], warnings: list[str], remarks: list[str]) -> list[DocGroup]:
    cases = [c for c in record.get("executionCases") or [] if isinstance(c, dict)]
    numbers = [case_heading(clean(c.get("name"))) for c in cases]
    if len(cases) > 1 and all(numbers):
        # the portal stores cases in any order ('(1.2) …' before '(1.1) …'): put them in theirs
        def order(i: int) -> tuple[int, ...]:
            head = numbers[i]
            assert head is not None
            num = head[0]
            return tuple(int(x) for x in num.split(".")) if re.fullmatch(r"\d+(?:\.\d+)*", num) else (ord(num),)

        cases = [cases[i] for i in sorted(range(len(cases)), key=order)]
    if not cases and record.get("profileComponents"):
        cases = [{"name": "", "profileComponents": record["profileComponents"]}]
    groups: list[DocGroup] = []
    for c in cases:
        docs: list[dict[str, Any]] = []
        for comp in c.get("profileComponents") or []:
            if not isinstance(comp, dict):
                continue
            if not (comp.get("originalQty") or comp.get("copyQty")):
                # '0 bản chính' and no copy: a remark written as a row, not a paper to hand in
                remark = strip_bullet(clean(comp.get("name"))).strip(" ;")
                if remark:
                    remarks.append(remark)
                continue
            doc = _document(comp, warnings)
            if doc:
                docs.append(doc)
        groups.append(DocGroup(clean(c.get("name")), docs))
    return groups


def _result(record: dict[str, Any]) -> str | None:
    names = [n.rstrip(" .;") for n in _names(record.get("resultsDetails"))]
    names = [n for n in names if n and not is_no_info(n)]
    return "; ".join(dict.fromkeys(names)) + "." if names else None


DOC_KINDS = ("Luật", "Nghị định", "Nghị quyết", "Thông tư liên tịch", "Thông tư", "Quyết định", "Chỉ thị", "Văn bản hợp nhất")


def _legal_entry(name: str, code: str) -> str | None:
    """One legal document from the record's (name, code) pair: '<kind> số <code> <subject>'."""
    code = re.sub(r"^(?:" + "|".join(DOC_KINDS) + r")\s+(?:số\s+)?", "", code, flags=re.IGNORECASE)
    code = re.sub(r"(\d)\.(?=/)", r"\1", code)  # '09./2025/NQ-HĐND'
    m = DOC_CODE_RE.search(code)
    if not m:
        return name or None
    code = m.group(0)
    if name.isupper():
        name = _lower_keep_codes(name)
    name = name.rstrip(" .;")
    if code in name:
        return name
    kind = _code_type(m.group(3))
    for k in DOC_KINDS:
        if name.lower().startswith(k.lower() + " ") or name.lower() == k.lower():
            rest = name[len(k):].strip()
            if k == "Luật" and rest and not rest[0].islower():
                return f"Luật {rest} số {code}"  # 'Luật Tổ chức chính quyền địa phương' + '72/2025/QH15'
            name = rest
            break
    if not name:
        return f"{kind} số {code}"
    return f"{kind} số {code} {name[0].lower() + name[1:] if not name[:2].isupper() else name}"


def _legal(record: dict[str, Any], warnings: list[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for item in record.get("legalBasisesDetails") or []:
        if not isinstance(item, dict):
            continue
        entry = _legal_entry(clean(item.get("name")), clean(item.get("code")))
        if not entry:
            continue
        key = entry.casefold()
        hits = DOC_CODE_RE.findall(entry)
        if hits:
            key = "/".join(hits[0]).casefold()
        if key in seen:
            continue
        seen.add(key)
        out.append(entry)
    if not out:
        warnings.append("legal basis: none in the record")
    return out


def parse_portal_record(record: dict[str, Any]) -> Draft:
    """One JSON record of the portal to a draft, with what could not be read."""
    warnings: list[str] = []
    notes: list[str] = []
    code = clean(record.get("code"))
    name = parse_name(record.get("name", ""))
    if not name:
        warnings.append("name: the record's name is empty")
        name = TODO
    remarks: list[str] = []
    groups = _groups(record, warnings, remarks)
    doc_cases = group_cases(groups, warnings, notes)
    if remarks:
        warnings.append(
            f"documents: {len(remarks)} row(s) with no original and no copy read as remarks and put in notes"
        )
        notes.extend(f"Ghi chú hồ sơ: {r}" for r in dict.fromkeys(remarks))
    if not any(c.docs for c in doc_cases):
        warnings.append("documents: no documents could be read; the draft has none")
    channels, per_channel_fees = _channels(record, warnings)
    fees = _merge_fees(channels, per_channel_fees, warnings)
    kinds = [k for k in CHANNEL_ORDER if any(c.kind == k for c in channels)]
    if not kinds:
        warnings.append("channels: none could be read; the draft lists none")
    cases = build_cases(doc_cases, channels, fees, kinds, _steps_text(record), warnings, notes)

    full = record.get("isFullProcess")
    if full is True:
        online = "toàn trình"
    elif full is False:
        online = "một phần" if "online" in kinds else "không"
    else:
        online = TODO
    if online != TODO:
        notes.append(f"Mức độ trực tuyến “{online}”: từ cờ isFullProcess = {str(full).lower()} của bản ghi.")
    raw_proposal = record.get("procedureProposal")
    proposal: dict[str, Any] = raw_proposal if isinstance(raw_proposal, dict) else {}
    decision = clean(proposal.get("proposalNumber") or proposal.get("decisionNumber") or record.get("decisionNo"))
    categories = _names(record.get("categoriesDetails"))
    conditions = parse_conditions(record.get("requirementsAndConditions") or "")
    uid = clean(record.get("id"))
    when = portal_record_date(record)
    data: dict[str, Any] = {
        "code": QuotedStr(code),
        "name": name,
        "name_en": NAME_EN_TODO,
        "aliases": FlowList([]),
        "field": categories[0] if categories else TODO,
        "agency": _agency(record, warnings),
        "online_level": online,
        "cases": cases,
        "conditions": conditions,
        "result": _result(record),
        "legal_basis": _legal(record, warnings),
        "source_url": PORTAL_URL + uid if uid else TODO,
        "publish_decision": decision or None,
        "verified": TODO,
        "record_date": when.isoformat() if when else None,
        "notes": "\n".join(dict.fromkeys(notes)) or None,
    }
    if data["field"] == TODO:
        warnings.append("field: the record has no category; written as TODO")
    if data["source_url"] == TODO:
        warnings.append("source_url: the record has no id; written as TODO")
    if data["result"] is None:
        warnings.append("result: the record names no result")
    if when is None:
        warnings.append("record_date: the record carries no date")
    for key in ("conditions", "result", "publish_decision", "record_date", "notes"):
        if data[key] is None:
            del data[key]
    return Draft(code=code, data=english_todos(data), warnings=list(dict.fromkeys(warnings)))
