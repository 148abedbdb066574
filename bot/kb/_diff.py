"""`tthc-bot kb diff RECORDS`: what newer portal records say differently from the knowledge.

Each record (either shape `kb import-dvc` reads) is turned into a draft by the importer, and the
draft is compared with the curated procedure of the same code, field by field:

- ``name``: the official name;
- ``time``: the time limit of each case (value and unit);
- ``documents``: the number and the names of each case's documents;
- ``fees``: the amounts;
- ``legal_basis``: the documents cited, by their codes (``66.18/2026/NQ-CP``).

Records that carry no date of their own (the crawled pages) can be given one with ``--date``
(the day they were copied); a record older than a procedure's ``record_date`` is not compared.

A difference a person has looked at and kept on purpose is *explained* by an item of the
procedure's ``diff_explained:`` list that starts with the field's name (``"documents: the board
lists the land papers as one item"``). An explanation holds for the record the procedure was
compared with: when a record is newer than the procedure's ``record_date``, its differences are
reported again until someone looks at them and moves ``record_date`` on.

The command prints every procedure with a difference and exits 1 when any is unexplained.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ._drafts import parse_record
from ._importer import Draft, _code_hits, clean, read_records_file, record_code
from ._loader import DIFF_FIELDS, check_knowledge
from ._model import Procedure

__all__ = ["Difference", "ProcedureDiff", "compare", "diff_records", "run_diff"]

UNIT_VI = {"working_days": "ngày làm việc", "days": "ngày", "months": "tháng"}


@dataclass
class Difference:
    """One field on which the record and the knowledge disagree."""

    field: str  # one of DIFF_FIELDS
    text: str
    explained: str | None = None  # the diff_explained item that covers it


@dataclass
class ProcedureDiff:
    """The differences between one record and the procedure of the same code."""

    code: str
    name: str
    record_url: str | None
    record_date: date | None
    known_date: date | None  # the procedure's record_date
    differences: list[Difference] = field(default_factory=list)
    stale: bool = False  # the record is newer than the procedure's record_date

    @property
    def unexplained(self) -> list[Difference]:
        return [d for d in self.differences if d.explained is None]


# --------------------------------------------------------------------------------------------
# Normalising what is compared


def _norm(text: str) -> str:
    """Case-, spacing- and punctuation-blind form of a name."""
    s = unicodedata.normalize("NFC", text or "").casefold()
    s = re.sub(r"\(\s*\d\.\d{6}\s*\)", " ", s)  # '(1.010727)' written into a name
    s = re.sub(r"[^\w]+", " ", s)
    return re.sub(r"\s+", " ", s).strip()


def _time(value: Any, unit: Any) -> str:
    if value is None or unit is None:
        return "không nêu"
    v = int(value) if float(value).is_integer() else value
    return f"{v} {UNIT_VI.get(str(unit), str(unit))}"


def _short(text: str, n: int = 80) -> str:
    text = clean(text)
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _codes(entries: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Document key -> code as written, for every document code in a legal-basis list."""
    out: dict[str, str] = {}
    for entry in entries:
        text = re.sub(r"(?<=[A-ZĐ])-\s+(?=[A-ZĐ])", "-", clean(entry))
        for hit in _code_hits(text):
            if hit.has_year:
                out.setdefault(hit.key, hit.code)
    return out


def _same_document(a: str, b: str) -> bool:
    from rapidfuzz import fuzz

    x, y = _norm(a), _norm(b)
    if not x or not y:
        return False
    if x == y or fuzz.ratio(x, y) >= 85:
        return True
    short = min(len(x), len(y))
    return short >= 15 and fuzz.partial_ratio(x, y) >= 90


def _unmatched(names: list[str], others: list[str]) -> list[str]:
    return [n for n in names if not any(_same_document(n, o) for o in others)]


# --------------------------------------------------------------------------------------------
# Comparing one procedure


def _case_label(i: int, name: str, many: bool) -> str:
    return f"trường hợp {i + 1} '{_short(name, 50)}': " if many else ""


def pair_cases(p: Procedure, cases: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The record's cases in the knowledge's order (by their names), or None when they do not pair.

    Records list cases in any order ('(1.2) …' before '(1.1) …'); a case is paired with the
    record's case whose name is closest, one to one. Same number of cases, no names to go by:
    in order.
    """
    from rapidfuzz import fuzz

    if len(p.cases) != len(cases):
        return None
    if len(cases) == 1:
        return list(cases)
    scores = sorted(
        ((fuzz.token_set_ratio(_norm(c.name), _norm(str(r.get("name", "")))), i, j)
         for i, c in enumerate(p.cases) for j, r in enumerate(cases)),
        reverse=True,
    )
    taken_i: dict[int, int] = {}
    taken_j: set[int] = set()
    for score, i, j in scores:
        if score < 80 or i in taken_i or j in taken_j:
            continue
        taken_i[i] = j
        taken_j.add(j)
    if len(taken_i) != len(cases):
        return list(cases)  # names do not tell: keep the order
    return [cases[taken_i[i]] for i in range(len(cases))]


def _time_differences(p: Procedure, cases: list[dict[str, Any]]) -> list[str]:
    known = [(c.time.value, c.time.unit) for c in p.cases]
    got_all = [((c.get("time") or {}).get("value"), (c.get("time") or {}).get("unit")) for c in cases]
    out: list[str] = []
    if any(v is None for v, _ in got_all) and any(v is not None for v, _ in known):
        unread = [i + 1 for i, (v, _) in enumerate(got_all) if v is None]
        out.append(
            f"the record's time limit could not be read (case {', '.join(map(str, unread))}); compare it by hand"
        )
    if len(known) == len(got_all):
        for i, ((kv, ku), (rv, ru), case) in enumerate(zip(known, got_all, p.cases, strict=True)):
            if rv is None:
                continue
            if kv is None or float(kv) != float(rv) or ku != ru:
                out.append(f"{_case_label(i, case.name, len(known) > 1)}{_time(kv, ku)} → {_time(rv, ru)}")
        return out
    mine = {(float(v), u) for v, u in known if v is not None}
    theirs = {(float(v), u) for v, u in got_all if v is not None}
    if theirs and mine != theirs:
        k = ", ".join(sorted(_time(v, u) for v, u in mine)) or "không nêu"
        r = ", ".join(sorted(_time(v, u) for v, u in theirs))
        out.append(f"{len(known)} case(s) in the knowledge ({k}), {len(got_all)} in the record ({r})")
    return out


def _document_differences(p: Procedure, cases: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    mine = [[d.name for d in c.documents] for c in p.cases]
    theirs = [[str(d.get("name", "")) for d in c.get("documents") or []] for c in cases]
    pairs: list[tuple[str, list[str], list[str]]]
    if len(mine) == len(theirs):
        pairs = [(_case_label(i, c.name, len(mine) > 1), m, t) for i, (c, m, t) in enumerate(zip(p.cases, mine, theirs, strict=True))]
    else:
        out.append(f"{len(mine)} case(s) in the knowledge, {len(theirs)} in the record")
        pairs = [("all cases: ", [n for m in mine for n in m], [n for t in theirs for n in t])]
    for label, m, t in pairs:
        new = _unmatched(t, m)
        gone = _unmatched(m, t)
        if not new and not gone and len(m) == len(t):
            continue
        parts = [f"{label}{len(m)} in the knowledge, {len(t)} in the record"]
        if new:
            parts.append("only in the record: " + "; ".join(f"'{_short(n, 70)}'" for n in new))
        if gone:
            parts.append("only in the knowledge: " + "; ".join(f"'{_short(n, 70)}'" for n in gone))
        if not new and not gone:
            parts.append("every name matches one on the other side")
        out.append("; ".join(parts))
    return out


def _fee_differences(p: Procedure, cases: list[dict[str, Any]]) -> list[str]:
    mine = {f.amount for c in p.cases for f in c.fees if f.amount is not None}
    theirs = {f.get("amount") for c in cases for f in c.get("fees") or [] if f.get("amount") is not None}
    if mine == theirs:
        return []

    def show(amounts: set[Any]) -> str:
        if not amounts:
            return "no amount"
        return ", ".join("miễn phí" if a == 0 else f"{a:,}".replace(",", ".") + " đồng" for a in sorted(amounts))

    return [f"{show(mine)} → {show(theirs)}"]


def _legal_differences(p: Procedure, legal: list[str]) -> list[str]:
    mine, theirs = _codes(p.legal_basis), _codes(legal)
    out = []
    added = [theirs[k] for k in theirs if k not in mine]
    removed = [mine[k] for k in mine if k not in theirs]
    if added:
        out.append("the record adds " + ", ".join(added))
    if removed:
        out.append("the record does not cite " + ", ".join(removed))
    return out


def record_date_of(draft: Draft, undated: date | None = None) -> date | None:
    """The record's own date (the portal's JSON gives it), else `undated` (the date of the copy)."""
    value = draft.data.get("record_date")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return undated
    return undated


def compare(p: Procedure, draft: Draft, undated: date | None = None) -> ProcedureDiff:
    """Every difference between a procedure and a record's draft, with its explanation if any."""
    data = draft.data
    rec_date = record_date_of(draft, undated)
    url = data.get("source_url")
    result = ProcedureDiff(p.code, p.name, url if isinstance(url, str) and url.startswith("http") else None,
                           rec_date if isinstance(rec_date, date) else None, p.record_date)
    cases = list(data.get("cases") or [])
    cases = pair_cases(p, cases) or cases
    found: list[tuple[str, str]] = []
    name = str(data.get("name", ""))
    if name and _norm(name) != _norm(p.name):
        found.append(("name", f"'{_short(p.name, 90)}' → '{_short(name, 90)}'"))
    found += [("time", t) for t in _time_differences(p, cases)]
    found += [("documents", t) for t in _document_differences(p, cases)]
    found += [("fees", t) for t in _fee_differences(p, cases)]
    found += [("legal_basis", t) for t in _legal_differences(p, list(data.get("legal_basis") or []))]
    # only a record's own date can tell that it changed after the knowledge was checked
    own = record_date_of(draft)
    result.stale = bool(own and p.record_date and own > p.record_date)
    reasons: dict[str, str] = {}
    for item in p.diff_explained:
        head, _, why = item.partition(":")
        if head.strip() in DIFF_FIELDS:
            reasons.setdefault(head.strip(), why.strip())
    for fld, text in found:
        explained = None if result.stale else reasons.get(fld)
        result.differences.append(Difference(fld, text, explained))
    return result


# --------------------------------------------------------------------------------------------
# The command


def diff_records(
    records: list[tuple[int, dict[str, Any]]], procedures: dict[str, Procedure], codes: list[str] | None = None,
    undated: date | None = None, older: list[str] | None = None,
) -> tuple[list[ProcedureDiff], list[str], list[str]]:
    """(the procedures compared, codes of records not in the knowledge, problems met).

    A record older than the procedure's `record_date` (its own date, or `undated` for records that
    carry none) is not compared: the knowledge was checked against a newer one. Its code goes to
    `older` when a list is given.
    """
    by_code: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for n, rec in records:
        code = record_code(rec)
        if code in by_code:
            problems.append(f"line {n}: {code} is in the file twice; the later record is used")
        by_code[code] = rec
    wanted = [clean(c) for c in codes] if codes else list(by_code)
    diffs: list[ProcedureDiff] = []
    outside: list[str] = []
    for code in dict.fromkeys(wanted):
        found_rec = by_code.get(code)
        if found_rec is None:
            problems.append(f"no record with code {code}")
            continue
        proc = procedures.get(code)
        if proc is None:
            outside.append(code)
            continue
        try:
            draft = parse_record(found_rec)
        except Exception as exc:  # one unreadable record must not hide the others
            problems.append(f"{code}: could not be read: {type(exc).__name__}: {exc}")
            continue
        when = record_date_of(draft, undated)
        if when and proc.record_date and when < proc.record_date:
            if older is not None:
                older.append(code)
            continue
        diffs.append(compare(proc, draft, undated))
    return diffs, outside, problems


def _print(d: ProcedureDiff) -> None:
    print(f"{d.code}  {_short(d.name, 100)}")
    when = d.record_date.isoformat() if d.record_date else "no date"
    known = d.known_date.isoformat() if d.known_date else "not set"
    print(f"    record {when} {d.record_url or ''}  (knowledge record_date: {known})".rstrip())
    if d.stale:
        print("    the record is newer than the knowledge's record_date: explanations are not applied")
    for x in d.differences:
        if x.explained is None:
            print(f"  ! {x.field}: {x.text}")
        else:
            print(f"    {x.field} (explained: {_short(x.explained, 70)}): {x.text}")


def run_diff(
    file: Path, root: Path, codes: list[str] | None = None, show_explained: bool = False, undated: date | None = None,
) -> int:
    """0: nothing unexplained differs; 1: something does (or a code was not found); 2: unreadable."""
    records = read_records_file(file)
    if records is None:
        return 2
    kb, kb_problems = check_knowledge(root)
    if kb_problems:
        print(f"warning: {root} has {len(kb_problems)} problem(s) (`tthc-bot kb check`); "
              "procedures that do not load are not compared", file=sys.stderr)
    procedures = {p.code: p for p in kb.procedures}
    older: list[str] = []
    diffs, outside, problems = diff_records(records, procedures, codes, undated, older)
    for msg in problems:
        print(f"{file}: {msg}", file=sys.stderr)
    changed = [d for d in diffs if d.unexplained]
    explained = [d for d in diffs if d.differences and not d.unexplained]
    for d in changed + (explained if show_explained else []):
        _print(d)
    n_unexplained = sum(len(d.unexplained) for d in diffs)
    n_explained = sum(len(d.differences) - len(d.unexplained) for d in diffs)
    print(
        f"{len(records)} record(s), {len(diffs)} compared with {root}: "
        f"{len(changed)} procedure(s) with {n_unexplained} unexplained difference(s), "
        f"{n_explained} explained difference(s); {len(outside)} record(s) of procedures not in the knowledge"
        + (f"; {len(older)} record(s) older than the knowledge's record_date, not compared" if older else "")
        + "."
    )
    missing = any(m.startswith("no record with code") for m in problems)
    return 1 if changed or missing else 0
