"""Readable answers: every procedure × facet × language (and every case of a procedure with
several), asked as the facet's button would ask it, without a case.

    .venv/bin/python bench/answers.py [--json] [--worst 5]

Prints, for the figures in the README:
- the share of English words in the English replies (text and button labels; target ≥ 85 %),
  overall and for the worst replies;
- the longest and the 95th-percentile first reply (target ≤ 1,200 characters), and the longest
  page that a "More" button leads to;
- curators' notes found in replies (Document.note, Procedure.notes, the portal-record remarks;
  target 0);
- for procedures with several cases, how many of the facets whose answer depends on the case
  got the case question first (target: all of them), and how many were answered at once
  because every case has the same answer.

A word counts as English when it is in the vocabulary's `english_words`, or is written in ASCII
and cannot be a Vietnamese syllable (`is_vi_syllable`: "investment", "documents"); an ASCII word
that could be a Vietnamese syllable ("ban", "tin") counts as English unless a word beside it
carries Vietnamese marks (then it is part of a Vietnamese phrase: "Ban Quản lý"). Any word with
Vietnamese marks is Vietnamese. Addresses, numbers and form codes are words like the others; web
addresses are left out.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.conversation import Assistant  # noqa: E402
from bot.core._text import has_vietnamese_marks, is_vi_syllable  # noqa: E402
from bot.engine._compose import CASE_FACETS, PAGE_LIMIT, needs_case  # noqa: E402
from bot.kb import KnowledgeBase, Procedure, default_knowledge_dir, load_knowledge  # noqa: E402
from bot.kb._model import public_texts  # noqa: E402
from bot.workdays import WorkCalendar, default_calendar_file  # noqa: E402

FACETS = ("procedure", "documents", "time", "fee", "level", "where", "legal")
LANGS = ("vi", "en")
_URL_RE = re.compile(r"https?://\S+")
_WORD_RE = re.compile(r"[^\W\d_]+")
# Remarks about the portal's record, written for curators ("Bản ghi ghi …", "(Cổng ghi … ghi chú này)").
RECORD_REMARK_RE = re.compile(r"\b[Bb]ản ghi (?:ghi|gắn|liệt kê|đính kèm|không nêu)|ghi chú này|chép đúng|chép nguyên")


def english_words(text: str, vocabulary: frozenset[str]) -> tuple[int, int]:
    """(English words, all words) of `text`, by the rule in the module's docstring."""
    words = _WORD_RE.findall(_URL_RE.sub(" ", text))
    english = 0
    for i, word in enumerate(words):
        if has_vietnamese_marks(word):
            continue
        lower = word.lower()
        if lower in vocabulary or not is_vi_syllable(lower):
            english += 1
            continue
        beside = words[max(i - 1, 0):i] + words[i + 1:i + 2]
        if not any(has_vietnamese_marks(w) for w in beside):
            english += 1
    return english, len(words)


def curation_notes(kb: KnowledgeBase) -> dict[str, list[str]]:
    """Each procedure's curators' texts, as pieces long enough to be searched for in a reply:
    every document's `note` and the sentences of `notes`, less those that only quote a public
    text of the procedure (a note keeping the record's old wording of a time limit is no leak
    when the reply shows that time limit)."""
    out: dict[str, list[str]] = {}
    for p in kb.procedures:
        public = "\n".join(public_texts(p, "vi") + public_texts(p, "en"))
        pieces = [d.note.strip() for c in p.cases for d in c.documents if d.note and len(d.note.strip()) >= 12]
        for sentence in re.split(r"(?<=[.;:!?])\s+|\n+", p.notes or ""):
            if len(sentence.strip()) >= 25:
                pieces.append(sentence.strip())
        out[p.code] = sorted({n for n in pieces if n not in public})
    return out


def notes_in(text: str, pieces: list[str]) -> list[str]:
    """The curators' texts (and record remarks) found in a reply."""
    found = [n for n in pieces if n in text]
    found += [m.group(0) for m in RECORD_REMARK_RE.finditer(text)]
    return found


@dataclass
class Asked:
    code: str
    facet: str
    lang: str
    case: int | None
    text: str
    labels: list[str]
    case_question: bool
    pages: list[str]


def ask_all(engine: Assistant, kb: KnowledgeBase) -> Iterator[Asked]:
    """Every procedure × facet × language, without a case and then with each case (procedures
    with several), with every page its "More" buttons lead to."""
    for p in kb.procedures:
        cases: list[int | None] = [None] + (list(range(1, len(p.cases) + 1)) if len(p.cases) > 1 else [])
        for facet in FACETS:
            for lang in LANGS:
                for case in cases:
                    state: dict[str, Any] = {}
                    action = f"f:{facet}:{p.code}" + (f":{case}" if case else "")
                    answer = engine.answer(action, state, lang=lang)
                    reply = answer.reply
                    pages = []
                    seen = 0
                    while seen < 40:
                        more = [b for b in reply.buttons if b.label.startswith(("Xem tiếp", "More"))]
                        if not more:
                            break
                        reply = engine.answer(more[0].action, {}, lang=lang).reply
                        pages.append(reply.text)
                        seen += 1
                    yield Asked(p.code, facet, lang, case, answer.reply.text, [b.label for b in answer.reply.buttons],
                                (state.get("pending") or {}).get("kind") == "case", pages)


def measure(kb: KnowledgeBase | None = None) -> dict[str, Any]:
    kb = kb or load_knowledge(default_knowledge_dir())
    engine = Assistant(kb, calendar=WorkCalendar.load(default_calendar_file()))
    vocabulary = engine.vocabulary.english_words
    notes = curation_notes(kb)
    by_code: dict[str, Procedure] = {p.code: p for p in kb.procedures}
    asked = list(ask_all(engine, kb))
    first = [a for a in asked]
    lengths = sorted(len(a.text) for a in first)
    page_lengths = [len(t) for a in asked for t in a.pages]
    en_words = en_total = 0
    shares: list[tuple[float, str]] = []
    for a in asked:
        if a.lang != "en":
            continue
        e, n = english_words("\n".join([a.text, *a.labels]), vocabulary)
        en_words, en_total = en_words + e, en_total + n
        shares.append((e / n if n else 1.0, f"f:{a.facet}:{a.code}" + (f":{a.case}" if a.case else "")))
    found = [(a.code, a.facet, a.lang, n) for a in asked for t in (a.text, *a.pages) for n in notes_in(t, notes[a.code])]
    multi = [a for a in asked if a.case is None and len(by_code[a.code].cases) > 1 and a.facet in CASE_FACETS]
    depends = [a for a in multi if needs_case(by_code[a.code], a.facet)]
    return {
        "replies": len(first),
        "english_share": round(en_words / en_total, 4) if en_total else 1.0,
        "english_words": en_words,
        "words_in_english_replies": en_total,
        "english_share_worst": sorted(shares)[:5],
        "first_reply_max": lengths[-1],
        "first_reply_p95": lengths[int(0.95 * (len(lengths) - 1))],
        "first_reply_median": int(statistics.median(lengths)),
        "first_replies_over_limit": sum(1 for n in lengths if n > PAGE_LIMIT),
        "pages_after_more": len(page_lengths),
        "page_max": max(page_lengths, default=0),
        "curation_notes_found": len(found),
        "curation_notes_examples": found[:5],
        "multi_case_asks": len(multi),
        "case_dependent_asks": len(depends),
        "case_question_first": sum(1 for a in depends if a.case_question),
        "same_in_every_case_answered_at_once": sum(1 for a in multi if a not in depends and not a.case_question),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    m = measure()
    if args.json:
        print(json.dumps(m, ensure_ascii=False, indent=2))
        return 0
    print(f"replies (procedure × facet × language, and × case): {m['replies']}")
    print(f"English words in English replies: {m['english_share']:.1%} ({m['english_words']} of {m['words_in_english_replies']})")
    print("  lowest: " + ", ".join(f"{s:.0%} {where}" for s, where in m["english_share_worst"]))
    print(f"first reply: max {m['first_reply_max']}, p95 {m['first_reply_p95']}, median {m['first_reply_median']} characters;"
          f" over {PAGE_LIMIT}: {m['first_replies_over_limit']}")
    print(f"pages behind 'More': {m['pages_after_more']}, longest {m['page_max']} characters")
    print(f"curators' notes in replies: {m['curation_notes_found']}" + (f" e.g. {m['curation_notes_examples']}" if m["curation_notes_found"] else ""))
    print(f"procedures with several cases, asked without one: {m['multi_case_asks']} (facets procedure, documents, time, fee);"
          f" answer depends on the case: {m['case_dependent_asks']}, got the case question first: {m['case_question_first']};"
          f" same in every case, answered at once: {m['same_in_every_case_answered_at_once']}")
    ok = (m["english_share"] >= 0.85 and m["first_reply_max"] <= PAGE_LIMIT and m["curation_notes_found"] == 0
          and m["case_question_first"] == m["case_dependent_asks"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
