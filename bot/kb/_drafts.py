"""Drafts of procedure files from portal records of either shape: the crawled pages' flattened
text (`_importer`) and the portal's own JSON (`_portal`), and `tthc-bot kb import-dvc`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ._importer import (
    Draft,
    clean,
    draft_yaml,
    is_portal_json,
    parse_dvc_record,
    read_records_file,
    record_code,
)
from ._portal import parse_portal_record


def parse_record(record: dict[str, Any]) -> Draft:
    """Turn one portal record into a draft (the YAML data) and the list of what was not read.

    Both shapes are read: the crawled pages' flattened text (Vietnamese field names, as in
    ``data/dvc/``) and the portal's own JSON (``code``, ``executionCases``…, see `_portal.py`).
    """
    if is_portal_json(record):
        return parse_portal_record(record)
    return parse_dvc_record(record)


def run_import(file: Path, codes: list[str], out: Path) -> int:
    """`tthc-bot kb import-dvc`: write one draft per record; 0 ok, 1 code not found, 2 unreadable file."""
    records = read_records_file(file)
    if records is None:
        return 2
    wanted = [clean(c) for c in codes]
    by_code: dict[str, tuple[int, dict[str, Any]]] = {}
    for n, rec in records:
        code = record_code(rec)
        if code in by_code:
            print(f"{file}:{n}: {code} also on line {by_code[code][0]}; the later record is used", file=sys.stderr)
        by_code[code] = (n, rec)
    selected = [c for c in (wanted or list(by_code)) if c in by_code]
    missing = [c for c in wanted if c not in by_code]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"error: cannot create {out}: {exc}", file=sys.stderr)
        return 2
    failed = 0
    total_warnings = 0
    for code in dict.fromkeys(selected):
        n, rec = by_code[code]
        try:
            draft = parse_record(rec)
            draft.source_line = n
            (out / f"{code}.yaml").write_text(draft_yaml(draft), encoding="utf-8")
        except Exception as exc:  # never crash on one record: report it and go on
            print(f"{code} (line {n}): could not be drafted: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed += 1
            continue
        cases = draft.data["cases"]
        docs = sum(len(c["documents"]) for c in cases)
        total_warnings += len(draft.warnings)
        print(f"{code}  {len(cases)} case(s), {docs} document(s), {len(draft.warnings)} warning(s)  -> {out / (code + '.yaml')}")
        for w in draft.warnings:
            print(f"    - {w}")
    for code in missing:
        print(f"error: no record with code {code} in {file}", file=sys.stderr)
    drafted = len(selected) - failed
    print(
        f"{drafted} draft(s) written to {out}, {total_warnings} warning(s); "
        "every draft needs its TODO fields (name_en, verified and, for crawled pages, online_level) and "
        "its English texts (every other TODO: English) filled in."
    )
    return 1 if missing or failed else 0
