"""The bundled knowledge covers what a board handles and is current to the newest portal records.

The last test runs `kb diff` on the July 2026 portal records in shared/data (skipped when that
folder is not checked out beside the project).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from rapidfuzz import fuzz, process

from bot.conversation import Assistant
from bot.core._text import fold
from bot.kb import check_knowledge, default_knowledge_dir
from bot.kb._diff import run_diff

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
JULY = SHARED / "dvc_2026-07" / "procedures.jsonl"
JUNE = SHARED / "dvc" / "procedures.jsonl"


@pytest.fixture(scope="module")
def kb():
    kb, problems = check_knowledge(default_knowledge_dir())
    assert not problems, "\n".join(str(p) for p in problems)
    return kb


def test_at_least_sixty_procedures_each_with_its_source_and_check(kb) -> None:
    assert len(kb.procedures) >= 60
    for p in kb.procedures:
        assert re.match(r"^https?://", p.source_url), p.code
        assert isinstance(p.verified, date), p.code
        if "dichvucong.gov.vn" in p.source_url:
            # a portal record: its date is stored, and it was checked on or after that date
            assert p.record_date is not None, p.code
            assert p.verified >= p.record_date, p.code


def test_the_procedures_the_issue_names_are_in(kb) -> None:
    codes = {p.code for p in kb.procedures}
    assert {"1.009642", "1.009644", "1.009645", "1.009646", "1.009659", "1.014316",
            "1.115336", "1.115337", "1.115338", "1.115339", "1.115340", "1.013225"} <= codes


def test_every_new_procedure_has_aliases_and_examples(kb) -> None:
    for code in ("1.009642", "1.009645", "1.014316", "1.115336", "1.013225", "2.002603", "1.009794"):
        p = kb.procedure(code)
        assert p is not None and p.aliases and len(p.examples) >= 12, code
    multi = kb.procedure("1.009646")
    assert multi is not None and len(multi.cases) == 9
    assert all(len(c.examples) >= 3 for c in multi.cases)


@pytest.mark.parametrize(("code", "days"), [("1.013236", 10), ("1.013231", 9), ("1.013230", 10), ("1.013238", 10)])
def test_construction_permits_give_the_july_2026_limits(kb, code: str, days: int) -> None:
    p = kb.procedure(code)
    assert p is not None
    for case in p.cases:
        assert (case.time.value, case.time.unit) == (days, "working_days"), case.name
        assert "1077/QĐ-BXD" in case.time.text
    assert any("66.18/2026/NQ-CP" in basis for basis in p.legal_basis)
    assert p.publish_decision == "1077/QĐ-BXD"
    assert p.record_date == date(2026, 6, 22)


def test_asked_how_long_a_construction_permit_takes_the_bot_gives_ten_working_days(kb) -> None:
    engine = Assistant(kb)
    answer = engine.answer("cấp giấy phép xây dựng mất bao lâu", {})
    assert answer.matches and answer.matches[0].procedure.code == "1.013236"
    assert "10 ngày làm việc" in answer.reply.text and "20 ngày" not in answer.reply.text
    english = engine.answer("How long does a construction permit take?", {})
    assert "10 working days" in english.reply.text


@pytest.mark.skipif(not JULY.exists(), reason=f"{JULY} is not available")
def test_kb_diff_on_the_july_2026_records_reports_nothing_unexplained(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_diff(JULY, default_knowledge_dir()) == 0
    out = capsys.readouterr().out
    assert "0 procedure(s) with 0 unexplained difference(s)" in out


@pytest.mark.skipif(not JUNE.exists(), reason=f"{JUNE} is not available")
def test_kb_diff_on_the_june_2026_copy_reports_nothing_unexplained(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_diff(JUNE, default_knowledge_dir(), undated=date(2026, 6, 10)) == 0


def test_no_example_is_a_question_of_a_bench_set(kb) -> None:
    """The examples are written from how people ask, never copied from a question set: a set
    scored on questions the knowledge already holds would measure nothing."""
    examples = [e for p in kb.procedures for e in (*p.examples, *(x for c in p.cases for x in c.examples))]
    examples += [e for other in kb.elsewhere for e in other.examples]
    questions = [c["q"] for f in sorted((ROOT / "bench").glob("questions_*.yaml"))
                 for c in yaml.safe_load(f.read_text(encoding="utf-8"))]
    shared = SHARED.parent / "eval" / "dev_questions.yaml"
    if shared.exists():
        questions += [c["q"] for c in yaml.safe_load(shared.read_text(encoding="utf-8"))]
    assert len(examples) > 1000 and len(questions) > 2000
    close = process.cdist([fold(e) for e in examples], [fold(q) for q in questions], scorer=fuzz.ratio,
                          score_cutoff=95, workers=1)
    copied = [(examples[i], questions[j]) for i, j in zip(*close.nonzero(), strict=True)]
    assert not copied, copied[:5]
