"""Demo data that looks real: departments by sector, histories spread over each dossier's life,
and the dossier code the README's lookup example uses."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest

from bot.dossiers import DossierService
from bot.dossiers._demo import (
    DEMO_PREFIX,
    DEPARTMENTS,
    README_CODE,
    README_SECRET,
    demo_lives,
    department_of,
    fill_demo,
    sector_of,
)
from bot.kb import default_knowledge_dir, load_knowledge
from bot.storage import VN_TZ, Storage
from bot.workdays import WorkCalendar

TODAY = date(2026, 12, 1)  # after the README's example dossier (received 12/11/2026) was handed over


@pytest.fixture(scope="module")
def kb() -> Any:
    return load_knowledge(default_knowledge_dir())


@pytest.fixture
def filled(storage: Storage, calendar: WorkCalendar) -> Storage:
    fill_demo(storage, calendar, today=TODAY, knowledge_dir=default_knowledge_dir())
    return storage


def _at(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


# -- departments by sector ------------------------------------------------------------------


@pytest.mark.parametrize(("code", "field", "name", "sector"), [
    ("1.014199", "Việc làm", "Cấp giấy phép lao động đối với người lao động nước ngoài", "labour"),
    ("2.001955", "Lao động, tiền lương", "Đăng ký nội quy lao động của doanh nghiệp", "labour"),
    ("1.010727", "Môi trường", "Cấp giấy phép môi trường (cấp Tỉnh)", "environment"),
    ("1.013236", "Hoạt động xây dựng", "Cấp giấy phép xây dựng mới công trình cấp đặc biệt", "construction"),
    ("1.009664", "Đầu tư tại Việt nam", "Thủ tục cấp Giấy chứng nhận đăng ký đầu tư", "investment"),
    ("2.002729", "Quản lý nhà nước về khu công nghiệp, khu kinh tế", "Thủ tục cấp/cấp lại Giấy chứng nhận doanh nghiệp sinh thái", "environment"),
    ("1.010733", "", "", "environment"),  # no field: the code's family
    ("1.014200", "", "", "labour"),
])
def test_sector_from_field_then_name_then_code(code: str, field: str, name: str, sector: str) -> None:
    assert sector_of(code, field, name) == sector


def test_every_bundled_procedure_goes_to_the_department_of_its_sector(kb: Any) -> None:
    for p in kb.procedures:
        dept = department_of(p.code, p.field, p.name)
        folded = p.field.casefold()
        if "môi trường" in folded:
            assert dept == DEPARTMENTS["environment"], p.code
        elif "xây dựng" in folded:
            assert dept == DEPARTMENTS["construction"], p.code
        elif "việc làm" in folded or "lao động" in folded:
            assert dept == DEPARTMENTS["labour"], p.code
        elif "đầu tư" in folded:
            assert dept == DEPARTMENTS["investment"], p.code


def test_demo_dossiers_are_handled_by_the_department_of_their_procedure(filled: Storage, kb: Any) -> None:
    rows = filled.dossiers()
    assert len(rows) == 40
    seen = set()
    for r in rows:
        if r["status"] == 1:
            assert not r["department"], "a dossier not yet received has no department"
            continue
        p = kb.procedure(r["procedure_code"])
        assert p is not None, r["procedure_code"]
        assert r["department"] == department_of(p.code, p.field, p.name), (r["code"], p.field, r["department"])
        seen.add(r["department"])
        if p.code.startswith("1.0107"):  # an environmental licence is never the Labour department's
            assert r["department"] == DEPARTMENTS["environment"]
    assert len(seen) >= 3, "forty dossiers reach several departments"


# -- histories over the dossier's life -------------------------------------------------------------


def test_histories_are_spread_over_each_dossiers_life(filled: Storage, calendar: WorkCalendar) -> None:
    rows = {r["code"]: r for r in filled.dossiers()}
    history = [h for code in rows for h in filled.status_history(code)]
    moments = [_at(h["at"]) for h in history]
    cutoff = datetime.combine(TODAY, time(17, 30), tzinfo=VN_TZ)
    assert max(moments) <= cutoff, "nothing happens after the day the data is made for"
    assert len({m.date() for m in moments}) >= 20, "status changes fall on many different days"
    assert min(moments).date() <= date(2026, 10, 15), "some dossiers were received weeks ago"
    assert len(history) >= 2 * len(rows), "most dossiers went through several statuses"
    for code, row in rows.items():
        steps = filled.status_history(code)
        at = [_at(h["at"]) for h in steps]
        assert at == sorted(at), code
        assert steps[0]["old_status"] is None and steps[-1]["status"] == row["status"], code
        assert all(b["old_status"] == a["status"] for a, b in zip(steps, steps[1:], strict=False)), code
        statuses = [h["status"] for h in steps]
        assert statuses[0] in (1, 2, 3), (code, statuses)
        for h in steps:
            m = _at(h["at"])
            if h["status"] != 1:  # online submissions come at any hour; the office works on working days
                assert calendar.is_working_day(m.date()) and 8 <= m.hour <= 17, (code, h)
        if row["status"] == 10:
            assert statuses[-2:] == [9, 10] and 4 in statuses, (code, statuses)
            assert row["returned_at"] == steps[-1]["at"], "handed over when the history says"
            assert _at(row["received_at"]) < _at(steps[-1]["at"])
        if row["received_at"]:
            received = [h for h in steps if h["status"] in (2, 3)]
            assert received and received[0]["at"] == row["received_at"], code


def test_supplement_requests_pause_the_dossier_and_move_its_due_date(filled: Storage) -> None:
    requests = filled.supplements()
    assert requests, "some dossiers were asked for more papers"
    assert len({r["requested_at"][:10] for r in requests}) >= 3, "on different days"
    resumed = 0
    for r in requests:
        history = filled.status_history(r["code"])
        assert any(h["status"] == 5 and h["at"] == r["requested_at"] for h in history), r
        row = filled.get_dossier(r["code"])
        assert row is not None
        if row["status"] == 5:
            assert row["supplement"], "the request says what is missing"
        elif [h["status"] for h in history].count(4) >= 2:  # papers supplied, processing resumed
            resumed += 1
            assert r["new_due_at"] and r["old_due_at"] and r["new_due_at"] > r["old_due_at"], r
    assert resumed >= 1


# -- the README's example ---------------------------------------------------------------------------


def test_the_readme_example_dossier_exists_and_can_be_looked_up(filled: Storage, calendar: WorkCalendar) -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "docs" / "staff.md").read_text(encoding="utf-8")
    assert f"{README_CODE}?secret={README_SECRET}" in readme
    row = filled.get_dossier(README_CODE)
    assert row is not None and row["procedure_code"] == "1.014199"
    assert row["received_at"].startswith("2026-11-12T09:30")
    assert row["status"] in (9, 10), "a work permit received on 12/11 is processed by 1/12"
    assert row["department"] == DEPARTMENTS["labour"]
    service = DossierService(filled, calendar, "hotline")
    assert service.lookup(README_CODE, README_SECRET, now=datetime(2026, 12, 1, 18, 0, tzinfo=VN_TZ)).ok


def test_before_the_readme_date_the_codes_follow_the_receipt_date(calendar: WorkCalendar) -> None:
    lives = demo_lives(calendar, count=12, seed=7, today=date(2026, 3, 16))
    codes = [life.record["MaHoSo"] for life in lives]
    assert README_CODE not in codes
    for life in lives:
        r = life.record
        assert r["MaHoSo"].startswith(DEMO_PREFIX)
        if r["NgayTiepNhan"]:
            assert r["MaHoSo"][len(DEMO_PREFIX):][:6] == r["NgayTiepNhan"][2:8], "the code carries the receipt date"


def test_running_demo_data_twice_keeps_the_histories(filled: Storage, calendar: WorkCalendar) -> None:
    before = {code: filled.status_history(code) for code in (r["code"] for r in filled.dossiers())}
    fill_demo(filled, calendar, today=TODAY, knowledge_dir=default_knowledge_dir())
    after = {code: filled.status_history(code) for code in before}
    assert after == before
