"""Looking up a dossier: right and wrong secrets, unknown codes, the lock, texts and logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.dossiers import DOSSIER_CODE_RE, DossierService, find_dossier_code, import_records
from bot.storage import VN_TZ, Storage
from bot.workdays import WorkCalendar, default_calendar_file

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=VN_TZ)  # Monday
CONTACT = "hotline 0200 000 0000, email bqlkcn@example.gov.vn"


def record(code: str, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "MaHoSo": code,
        "MaTTHC": "1.014199",
        "TenTTHC": "Cấp giấy phép lao động đối với người lao động nước ngoài làm việc tại Việt Nam",
        "ChuHoSo": "Công ty TNHH Bí Mật",
        "SoDienThoai": "0912 345 678",
        "NgayTiepNhan": "20260213103000",
        "NgayHenTra": "20260306170000",
        "TrangThaiHoSo": 4,
        "PhongBanXuLy": "Phòng Quản lý Lao động",
        "NguoiXuLy": "Nguyễn Văn A",
        "MaTraCuu": "AB12CD",
    }
    base.update(over)
    return base


@pytest.fixture
def storage(db_url: str) -> Iterator[Storage]:
    s = Storage(db_url)
    import_records(
        s,
        enumerate(
            [
                record("H42.25-260213-0001"),
                record("H42.25-260213-0002", MaTraCuu="", SoDienThoai="+84 912 345 678"),
                record("H42.25-260213-0003", TrangThaiHoSo=5, NoiDungBoSung="Bản sao hộ chiếu có chứng thực"),
                record("H42.25-260213-0004", TrangThaiHoSo=10, NgayTra="20260304150000"),
                record("H42.25-260213-0005", MaTraCuu="", SoDienThoai=""),
            ],
            start=1,
        ),
        now=T0,
    )
    yield s
    s.close()


@pytest.fixture
def service(storage: Storage, calendar: WorkCalendar) -> DossierService:
    return DossierService(storage, calendar, CONTACT)


def test_right_secret_shows_the_facts(service: DossierService) -> None:
    result = service.lookup(" h42.25-260213-0001 ", "ab12cd", now=T0)
    assert result.ok and not result.locked and result.facts is not None
    facts = result.facts
    assert facts.code == "H42.25-260213-0001"
    assert facts.status == 4 and not facts.overdue
    # From Monday 2/3 to Friday 6/3: 4 working days left.
    assert facts.working_days_left == 4
    text = service.status_text(facts, "vi")
    for expected in (
        "Cấp giấy phép lao động", "Ngày tiếp nhận: 13/02/2026", "Ngày hẹn trả: 06/03/2026",
        "Đang xử lý", "còn 4 ngày làm việc", "Phòng Quản lý Lao động", "Bước tiếp theo",
    ):
        assert expected in text, expected
    en = service.status_text(facts, "en")
    assert "Being processed" in en and "4 working days left" in en
    # Nothing about the applicant.
    assert "Bí Mật" not in text and "0912" not in text


def test_overdue_is_computed_from_the_due_date(service: DossierService) -> None:
    result = service.lookup("H42.25-260213-0001", "AB12CD", now=T0 + timedelta(days=8))  # Tuesday 10/3
    assert result.facts is not None
    assert result.facts.overdue and result.facts.status == 4
    assert result.facts.working_days_late == 2
    assert "Quá hạn 2 ngày làm việc" in service.status_text(result.facts, "vi")


def test_supplement_request_shows_what_was_asked_for(service: DossierService) -> None:
    result = service.lookup("H42.25-260213-0003", "AB12CD", now=T0)
    assert result.facts is not None and result.facts.paused and not result.facts.overdue
    text = service.status_text(result.facts, "vi")
    assert "Cần bổ sung: Bản sao hộ chiếu có chứng thực" in text
    assert "Nộp bổ sung" in text


def test_finished_dossier_says_early_on_time_or_late(service: DossierService) -> None:
    result = service.lookup("H42.25-260213-0004", "AB12CD", now=T0 + timedelta(days=5))
    assert result.facts is not None and result.facts.timeliness == "early"
    assert "trước hạn" in service.status_text(result.facts, "vi")


def test_last_four_phone_digits_when_there_is_no_lookup_code(service: DossierService) -> None:
    assert service.lookup("H42.25-260213-0002", "5678", now=T0).ok
    assert not service.lookup("H42.25-260213-0002", "AB12CD", now=T0).ok
    # A record with neither can never be looked up.
    assert not service.lookup("H42.25-260213-0005", "", now=T0).ok


def test_unknown_code_and_wrong_secret_look_the_same(service: DossierService) -> None:
    wrong = service.lookup("H42.25-260213-0001", "XXXXXX", now=T0)
    unknown = service.lookup("H42.25-260213-9999", "AB12CD", now=T0)
    assert wrong == type(wrong)(ok=False, locked=False, facts=None, code="H42.25-260213-0001")
    assert (wrong.ok, wrong.locked, wrong.facts) == (unknown.ok, unknown.locked, unknown.facts)
    assert service.reply(wrong).text == service.reply(unknown).text == service.not_found_text("vi")


@pytest.mark.parametrize("code", ["H42.25-260213-0001", "H42.25-260213-9999"])
def test_five_wrong_secrets_lock_the_code_for_15_minutes_everywhere(
    storage: Storage, calendar: WorkCalendar, code: str
) -> None:
    chat_a = DossierService(storage, calendar, CONTACT)
    chat_b = DossierService(storage, calendar, CONTACT)  # another session, same database
    for i in range(4):
        r = chat_a.lookup(code, f"WRONG{i}", now=T0 + timedelta(minutes=i))
        assert not r.ok and not r.locked
    fifth = chat_a.lookup(code, "WRONG5", now=T0 + timedelta(minutes=10))
    assert fifth.locked
    # Even the right secret, from another session, is refused while locked.
    during = chat_b.lookup(code, "AB12CD", now=T0 + timedelta(minutes=24))
    assert during.locked and not during.ok and during.facts is None
    assert CONTACT in chat_b.reply(during).text
    assert "15 phút" in chat_b.locked_text("vi")
    assert chat_b.locked_until(code, now=T0 + timedelta(minutes=26)) is None
    after = chat_b.lookup(code, "AB12CD", now=T0 + timedelta(minutes=26))
    exists = code.endswith("0001")
    assert after.ok == exists
    # Once the lock is over, one more miss within the hour locks the code again.
    assert after.locked == (not exists)
    # Other codes were never locked.
    assert chat_a.lookup("H42.25-260213-0003", "AB12CD", now=T0 + timedelta(minutes=12)).ok


def test_wrong_secrets_spread_over_more_than_an_hour_do_not_lock(service: DossierService) -> None:
    for i in range(4):
        service.lookup("H42.25-260213-0001", "NO", now=T0 + timedelta(minutes=i))
    r = service.lookup("H42.25-260213-0001", "NO", now=T0 + timedelta(minutes=65))
    assert not r.locked


def test_a_right_secret_resets_the_count(service: DossierService) -> None:
    for i in range(4):
        service.lookup("H42.25-260213-0001", "NO", now=T0 + timedelta(minutes=i))
    assert service.lookup("H42.25-260213-0001", "AB12CD", now=T0 + timedelta(minutes=5)).ok
    assert not service.lookup("H42.25-260213-0001", "NO", now=T0 + timedelta(minutes=6)).locked


def test_logs_name_the_code_only(service: DossierService, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    service.lookup("H42.25-260213-0001", "AB12CD", now=T0)
    service.lookup("H42.25-260213-0002", "5678", now=T0)
    service.lookup("H42.25-260213-0001", "WRONGSECRET", now=T0)
    service.subscribe("H42.25-260213-0001", "telegram", "555", now=T0)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "H42.25-260213-0001" in logged
    for private in ("AB12CD", "WRONGSECRET", "5678", "0912", "Bí Mật", "Lao động", "555"):
        assert private not in logged


def test_subscribe_after_lookup(service: DossierService, storage: Storage) -> None:
    assert service.subscribe("h42.25-260213-0001", "telegram", "42", "en", now=T0)
    assert not service.subscribe("H42.25-260213-9999", "telegram", "42", now=T0)
    (sub,) = storage.subscribers("H42.25-260213-0001")
    assert (sub["channel"], sub["chat_id"], sub["lang"]) == ("telegram", "42", "en")
    ok = service.lookup("H42.25-260213-0001", "AB12CD", now=T0)
    buttons = service.reply(ok, "vi").buttons
    assert [b.label for b in buttons] == ["Nhận thông báo"]
    assert buttons[0].action == "dossier:sub:H42.25-260213-0001"
    assert service.unsubscribe("H42.25-260213-0001", "telegram", "42")


@pytest.mark.parametrize(
    "text, code",
    [
        ("Hồ sơ H42.25-241105-0003 của tôi đến đâu rồi?", "H42.25-241105-0003"),
        ("ma ho so 000.00.27.h42-240312-0011.", "000.00.27.H42-240312-0011"),
        ("(H40.21-250101-0001)", "H40.21-250101-0001"),
        ("tra cứu Ｈ４２.25-241105-0003", "H42.25-241105-0003"),
        ("thủ tục 1.009664 cần gì?", None),
        ("gọi 0912-345-678", None),
        ("H42.25-241105-00031234567", None),
    ],
)
def test_dossier_codes_are_found_in_free_text(text: str, code: str | None) -> None:
    assert find_dossier_code(text) == code
    assert (DOSSIER_CODE_RE.search(text) is not None) == (code is not None and "Ｈ" not in text)


def test_status_texts_are_nfc_vietnamese_with_diacritics() -> None:
    import unicodedata

    from bot.dossiers import STATUSES

    assert sorted(STATUSES) == list(range(1, 11))
    for st in STATUSES.values():
        for text in (st.official, st.vi, st.next_vi, st.en, st.next_en):
            assert text == unicodedata.normalize("NFC", text)
    assert STATUSES[5].official == "Yêu cầu bổ sung giấy tờ"
    assert STATUSES[10].official == "Đã trả kết quả"


def test_service_from_settings_uses_the_board_contact(storage: Storage) -> None:
    from bot.config import Settings
    from bot.kb import Board

    board = Board("Ban", "Board", "Địa chỉ", "0200 999 8888", "a@b.vn", "", "", "https://x", "Trung tâm")
    service = DossierService.from_settings(storage, Settings(calendar=str(default_calendar_file())), board)
    assert "0200 999 8888" in service.locked_text("vi") and "0200 999 8888" in service.not_found_text("en")


def test_overdue_dossier_next_step_says_to_contact_the_board() -> None:
    from datetime import datetime

    from bot.core import VN_TZ
    from bot.dossiers._service import facts_for
    from bot.workdays import WorkCalendar

    row = {"code": "H1.1-260101-0001", "status": 4, "received_at": "2026-11-02T09:00:00+07:00",
           "due_at": "2026-11-10T17:00:00+07:00"}
    facts = facts_for(row, WorkCalendar.load(), datetime(2026, 11, 20, 9, tzinfo=VN_TZ))
    assert facts.overdue and facts.working_days_late
    assert "quá ngày hẹn" in facts.next_step_vi and "past its due date" in facts.next_step_en
