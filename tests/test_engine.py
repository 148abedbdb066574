"""The answer engine on the bundled knowledge: what an investor would notice."""

from __future__ import annotations

from typing import Any

import pytest

from bot.conversation import Assistant
from bot.kb import default_knowledge_dir, load_knowledge


@pytest.fixture(scope="module")
def engine() -> Assistant:
    return Assistant(load_knowledge(default_knowledge_dir()))


def top(engine: Assistant, q: str, state: dict[str, Any] | None = None) -> str | None:
    answer = engine.answer(q, state if state is not None else {})
    return answer.matches[0].procedure.code if answer.matches else None


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("Giấy phép lao động cho người lao động nước ngoài", "1.014199"),
        ("giay phep lao dong", "1.014199"),
        ("gia hạn gplđ", "1.014201"),
        ("GIA HAN GPLD", "1.014201"),
        ("cấp lại giấy phép lao động bị mất", "1.014200"),
        ("miễn giấy phép lao động", "1.014196"),
        ("giay phep lao dng", "1.014199"),  # a dropped letter
        ("đăng ký nội quy lao động", None),
    ],
)
def test_vietnamese_with_and_without_diacritics_and_abbreviations(engine: Assistant, question: str, code: str | None) -> None:
    got = top(engine, question)
    if code is None:
        assert got is not None and "nội quy" in engine.by_code[got].name.lower()
    else:
        assert got == code


@pytest.mark.parametrize(
    ("question", "code", "intent"),
    [
        ("apply for a work permit", "1.014199", "procedure"),
        ("work permit extension", "1.014201", "procedure"),
        ("how long does a work permit take", "1.014199", "time"),
        ("What documents do I need for a work permit?", "1.014199", "documents"),
    ],
)
def test_english_questions_get_english_answers(engine: Assistant, question: str, code: str, intent: str) -> None:
    answer = engine.answer(question, {})
    assert answer.lang == "en" and answer.intent == intent
    assert answer.matches and answer.matches[0].procedure.code == code
    p = engine.by_code[code]
    assert p.name_en in answer.reply.text and p.source_url in answer.reply.text
    assert "Source:" in answer.reply.text


def test_facet_answers_lead_with_what_was_asked(engine: Assistant) -> None:
    time = engine.answer("gia hạn giấy phép lao động mất bao lâu", {})
    assert time.intent == "time"
    assert time.reply.text.startswith("Thời hạn giải quyết")
    assert "ngày làm việc" in time.reply.text
    docs = engine.answer("hồ sơ xin giấy phép lao động gồm những gì", {})
    assert docs.intent == "documents"
    first_doc = engine.by_code["1.014199"].cases[0].documents[0].name
    assert first_doc.split()[0] in docs.reply.text
    fee = engine.answer("cấp lại giấy phép lao động có mất phí không", {})
    assert fee.intent == "fee" and fee.matches[0].procedure.code == "1.014200"


def test_follow_up_reuses_the_last_procedure(engine: Assistant) -> None:
    state: dict[str, Any] = {}
    first = engine.answer("gia hạn giấy phép lao động", state)
    assert first.matches[0].procedure.code == "1.014201"
    follow = engine.answer("còn lệ phí?", state)
    assert follow.intent == "fee"
    assert follow.matches and follow.matches[0].procedure.code == "1.014201"
    again = engine.answer("mất bao lâu", state)
    assert again.intent == "time" and again.matches[0].procedure.code == "1.014201"
    # Without the conversation the same follow-up names no procedure and asks which one.
    alone = engine.answer("còn lệ phí?", {})
    assert alone.intent == "fee" and alone.matches == [] and alone.reply.buttons


def test_follow_up_naming_another_variant(engine: Assistant) -> None:
    state: dict[str, Any] = {}
    engine.answer("cấp giấy phép lao động", state)
    other = engine.answer("còn gia hạn thì sao?", state)
    assert other.matches and other.matches[0].procedure.code in ("1.014201", "1.014198")


def test_buttons_open_facets_of_the_procedure(engine: Assistant) -> None:
    answer = engine.answer("giấy phép lao động", {})
    actions = {b.action for b in answer.reply.buttons}
    assert "f:fee:1.014199" in actions
    for button in answer.reply.buttons:
        assert len(button.action.encode()) <= 64
    pressed = engine.answer("f:fee:1.014199", {})
    assert pressed.intent == "fee" and pressed.matches[0].procedure.code == "1.014199"
    stale = engine.answer("f:fee:9.999999", {})
    assert stale.intent == "unknown" and stale.reply.text


@pytest.mark.parametrize(
    "question",
    ["hôm nay trời có mưa không", "cách nấu phở bò", "qwerty zxcv", "giá vàng hôm nay", "who won the football match"],
)
def test_unknown_questions_claim_no_procedure(engine: Assistant, question: str) -> None:
    answer = engine.answer(question, {})
    assert answer.matches == []
    assert answer.intent == "unknown"
    assert answer.reply.text


@pytest.mark.parametrize(
    "text",
    ["", "   ", "\n\t", "😀😀😀", "\x00\x01\x02", "a" * 100_000, "'; DROP TABLE dossiers; --", "<script>alert(1)</script>"],
)
def test_bad_input_gets_a_polite_reply(engine: Assistant, text: str) -> None:
    answer = engine.answer(text, {})
    assert answer.reply.text
    assert len(answer.q) <= engine.max_chars


def test_status_question_naming_its_procedure_says_that_procedures_time_limit(engine: Assistant) -> None:
    """ "I filed the IRC amendment ten days ago, no answer yet": the lookup, and how long that
    procedure takes, with its button; the same question naming no procedure names none."""
    for q, lang in (("em đã nộp hồ sơ điều chỉnh giấy chứng nhận đăng ký đầu tư tuần trước, giờ muốn tra cứu tình trạng hồ sơ", "vi"),
                    ("we filed our work permit extension dossier last week, how can I check the status of the dossier", "en")):
        answer = engine.answer(q, {})
        assert answer.intent == "status", q
        assert len(answer.matches) == 1
        p = answer.matches[0].procedure
        assert ("điều chỉnh" in p.name) if lang == "vi" else ("Gia hạn giấy phép lao động" in p.name)
        text = answer.reply.text
        assert ("Thời hạn giải quyết" if lang == "vi" else "time limit") in text
        for case in p.cases:
            assert f"{case.time.value:g}" in text
        assert f"p:{p.code}:procedure" in [b.action for b in answer.reply.buttons]
    plain = engine.answer("hồ sơ của tôi đã nộp tuần trước, tra cứu tình trạng hồ sơ thế nào", {})
    assert plain.intent == "status" and plain.matches == [] and "Thời hạn" not in plain.reply.text


def test_dossier_codes_mean_status(engine: Assistant) -> None:
    for q in ("ho so H40.21-250101-0001 xu ly den dau roi", "000.00.27.H42-240312-0011", "where is my dossier",
              "tra cứu tình trạng hồ sơ"):
        answer = engine.answer(q, {})
        assert answer.intent == "status", q
        assert answer.matches == []
    # Without a dossier service the bot points to the portal instead of asking for a secret.
    state: dict[str, Any] = {}
    reply = engine.answer("tình trạng hồ sơ H42.25-241105-0003", state).reply.text
    assert "pending" not in state and "dichvucong" in reply


def test_greeting_contact_roadmap(engine: Assistant) -> None:
    assert engine.answer("chào bạn", {}).intent == "greeting"
    assert engine.answer("hi there", {}).lang == "en"
    contact = engine.answer("hotline ban quản lý", {})
    assert contact.intent == "contact"
    assert engine.kb.board is not None and engine.kb.board.hotline in contact.reply.text
    assert engine.answer("investor roadmap", {}).intent == "roadmap"


def test_language_switch_sticks(engine: Assistant) -> None:
    state: dict[str, Any] = {}
    engine.answer("lang:en", state)
    answer = engine.answer("giấy phép lao động", state)
    assert answer.lang == "en" and "Source:" in answer.reply.text


def test_json_shape(engine: Assistant) -> None:
    data = engine.answer("gia hạn gplđ", {}).to_dict()
    assert set(data) == {"q", "lang", "intent", "matches", "reply"}
    assert set(data["matches"][0]) == {"id", "code", "name", "score"}
    assert set(data["reply"]) >= {"text", "buttons"}
    assert all(set(b) == {"label", "action"} for b in data["reply"]["buttons"])
    assert len(data["matches"]) <= 5


def _kb_with(tmp_path: Any, names: list[tuple[str, str, list[str]]]) -> Assistant:
    """A small knowledge base of procedures (code, name, aliases) sharing one case."""
    from tests.test_kb_loader import BOARD, GOOD

    root = tmp_path / "knowledge"
    (root / "procedures").mkdir(parents=True)
    (root / "board.yaml").write_text(BOARD, encoding="utf-8")
    for code, name, aliases in names:
        text = GOOD.replace('code: "1.009664"', f'code: "{code}"')
        text = text.replace("name: Thủ tục cấp Giấy chứng nhận đăng ký đầu tư", f"name: {name}")
        text = text.replace("aliases: [GCNĐKĐT, IRC]", f"aliases: [{', '.join(aliases)}]")
        (root / "procedures" / f"{code}.yaml").write_text(text, encoding="utf-8")
    return Assistant(load_knowledge(root))


def test_two_close_candidates_make_the_bot_ask_with_buttons(tmp_path: Any) -> None:
    engine = _kb_with(tmp_path, [
        ("1.000001", "Cấp giấy phép khai thác nước mặt", []),
        ("1.000002", "Cấp giấy phép khai thác nước dưới đất", []),
        ("1.000003", "Đăng ký nội quy lao động", []),
    ])
    state: dict[str, Any] = {}
    answer = engine.answer("cấp giấy phép khai thác nước", state)
    codes = {b.action.split(":")[1] for b in answer.reply.buttons}
    assert codes == {"1.000001", "1.000002"}
    assert "?" in answer.reply.text.splitlines()[0]
    assert {m.procedure.code for m in answer.matches} >= {"1.000001", "1.000002"}
    chosen = engine.answer(answer.reply.buttons[1].action, state)
    assert chosen.matches[0].procedure.code == answer.reply.buttons[1].action.split(":")[1]
    # Naming the distinguishing word puts that procedure first (answered, or offered first when
    # the other still scores close: a question back costs less than a wrong answer).
    clear = engine.answer("giấy phép khai thác nước dưới đất", {})
    assert clear.matches[0].procedure.code == "1.000002"
    if clear.reply.buttons and clear.reply.text.splitlines()[0].endswith("?"):
        assert clear.reply.buttons[0].action.startswith("p:1.000002:")


def test_a_question_about_a_missing_variant_is_not_answered_with_a_sibling(tmp_path: Any) -> None:
    engine = _kb_with(tmp_path, [("1.000001", "Cấp giấy phép khai thác nước mặt", ["giấy phép nước mặt"])])
    for q in ("gia hạn giấy phép khai thác nước mặt", "điều chỉnh giấy phép khai thác nước mặt"):
        answer = engine.answer(q, {})
        # Not answered as if it were the issuance: nothing, or a question back.
        assert answer.matches == [] or answer.reply.text.splitlines()[0].endswith("?"), q
    assert engine.answer("cấp giấy phép khai thác nước mặt", {}).matches


def test_words_that_only_fold_like_a_synonym_are_not_read_as_it(engine: Assistant) -> None:
    # "lao động của" folds like "đóng cửa" (close down): with its marks it is not that.
    q = ("Dạ em chào Ban, giấy phép lao động của trưởng phòng người Hàn Quốc sắp hết hạn, "
         "cho em hỏi thủ tục gia hạn giấy phép lao động làm thế nào ạ?")
    answer = engine.answer(q, {})
    assert [m.procedure.code for m in answer.matches][:1] == ["1.014201"]
    assert not answer.unsure, answer.reply.text
    # Written without marks, the synonym still counts ("dong cua du an" closes the project).
    assert "cham dut" in engine.index.asked_variants("cong ty em muon dong cua du an")


@pytest.mark.parametrize("question", [
    "Kính gửi Ban quản lý. Công ty chúng tôi sản xuất linh kiện điện tử, vốn Nhật Bản, nhà máy đặt tại khu công "
    "nghiệp phía bắc tỉnh, hiện có khoảng 800 công nhân và 12 chuyên gia. Năm nay doanh thu giảm, một số chuyên "
    "gia về nước. Xin hỏi thủ tục gia hạn giấy phép lao động cho chuyên gia còn ở lại?",
    "Hello. We are a Korean garment company in the industrial park with 2 factories and about 1,500 workers, our "
    "production manager from Seoul has been here since 2024 and his contract is renewed. Please advise the "
    "procedure to extend his work permit.",
])
def test_context_first_question_last_is_answered_on_the_question(engine: Assistant, question: str) -> None:
    # The whole message scores low on every procedure; its last sentence names one.
    answer = engine.answer(question, {})
    assert [m.procedure.code for m in answer.matches][:1] == ["1.014201"], answer.reply.text[:200]
    assert not answer.unsure


@pytest.fixture()
def lookup_engine(engine: Assistant) -> Assistant:
    from bot.dossiers import DossierService, import_records
    from bot.storage import Storage
    from bot.workdays import WorkCalendar

    storage = Storage(":memory:")
    records = [
        {"MaHoSo": "H42.25-241105-0003", "MaTTHC": "1.014201", "TenTTHC": "Gia hạn giấy phép lao động",
         "ChuHoSo": "Công ty TNHH Mẫu", "SoDienThoai": "0912345678", "NgayTiepNhan": "20261116090000",
         "NgayHenTra": "20261130170000", "TrangThaiHoSo": 5, "PhongBanXuLy": "Phòng Quản lý lao động",
         "NoiDungBoSung": "Bổ sung giấy khám sức khỏe", "MaTraCuu": "AB12CD"},
        {"MaHoSo": "H42.25-241105-0004", "MaTTHC": "1.014199", "TenTTHC": "Cấp giấy phép lao động",
         "ChuHoSo": "Công ty Mẫu 2", "SoDienThoai": "0987650321", "NgayTiepNhan": "20261116090000",
         "NgayHenTra": "20261201170000", "TrangThaiHoSo": 4, "PhongBanXuLy": "Phòng Quản lý lao động"},
    ]
    result = import_records(storage, enumerate(records, 1))
    assert not result.rejected
    service = DossierService(storage, WorkCalendar.load(), board_contact="hotline 0200")
    return Assistant(engine.kb, dossiers=service)


def test_dossier_lookup_in_chat_with_the_secret(lookup_engine: Assistant) -> None:
    state: dict[str, Any] = {}
    ask = lookup_engine.answer("hồ sơ H42.25-241105-0003 đến đâu rồi", state)
    assert ask.intent == "status" and "mã tra cứu" in ask.reply.text
    shown = lookup_engine.answer("ab12cd", state, chat=("telegram", "42"))
    assert shown.intent == "status"
    assert "Gia hạn giấy phép lao động" in shown.reply.text
    assert "Bổ sung giấy khám sức khỏe" in shown.reply.text  # what was asked for (status 5)
    assert "ab12cd" not in shown.q.lower()  # the secret is not echoed back
    sub = shown.reply.buttons[0].action
    done = lookup_engine.answer(sub, state, chat=("telegram", "42"))
    assert "H42.25-241105-0003" in done.reply.text
    storage = lookup_engine.dossiers.storage  # type: ignore[union-attr]
    assert [s["chat_id"] for s in storage.subscribers("H42.25-241105-0003")] == ["42"]
    lookup_engine.answer("dossier:unsub:H42.25-241105-0003", {}, chat=("telegram", "42"))
    assert storage.subscribers("H42.25-241105-0003") == []


def test_phone_digits_when_the_receipt_has_no_secret(lookup_engine: Assistant) -> None:
    state: dict[str, Any] = {}
    lookup_engine.answer("H42.25-241105-0004", state)
    assert "Cấp giấy phép lao động" in lookup_engine.answer("0321", state).reply.text


def test_wrong_secret_and_unknown_code_get_the_same_reply_and_lock(lookup_engine: Assistant) -> None:
    def attempt(code: str, secret: str) -> str:
        state: dict[str, Any] = {}
        lookup_engine.answer(code, state)
        return lookup_engine.answer(secret, state).reply.text

    wrong = attempt("H42.25-241105-0003", "ZZZZ")
    unknown = attempt("H99.99-991231-9999", "ZZZZ")
    assert wrong == unknown
    for _ in range(4):
        attempt("H42.25-241105-0003", "nope")
    locked = attempt("H42.25-241105-0003", "AB12CD")  # even the right secret, while locked
    assert locked != wrong and "hotline 0200" in locked
    # Another dossier is not affected.
    assert "Cấp giấy phép lao động" in attempt("H42.25-241105-0004", "0321")


def test_subscribing_needs_a_successful_lookup_first(lookup_engine: Assistant) -> None:
    answer = lookup_engine.answer("dossier:sub:H42.25-241105-0003", {}, chat=("telegram", "7"))
    assert "tra cứu" in answer.reply.text
    assert lookup_engine.dossiers.storage.subscribers("H42.25-241105-0003") == []  # type: ignore[union-attr]


def test_a_question_instead_of_the_secret_is_answered_as_a_question(lookup_engine: Assistant) -> None:
    state: dict[str, Any] = {}
    lookup_engine.answer("H42.25-241105-0003", state)
    answer = lookup_engine.answer("giấy phép lao động cần hồ sơ gì", state)
    assert answer.intent == "documents" and "pending" not in state


def test_large_catalogue_shortcut_finds_the_same_procedures(engine: Assistant, monkeypatch: Any) -> None:
    """On a catalogue of thousands, common words only add to candidates opened by rarer ones;
    forced on the bundled knowledge, that must not change what is found."""
    from bot.engine import _index

    questions = ["gia hạn gplđ", "giấy phép xây dựng", "how long does a work permit take", "báo cáo ĐTM",
                 "điều chỉnh giấy chứng nhận đăng ký đầu tư", "góp vốn mua cổ phần", "giấy phép"]
    before = [[m.procedure.code for m in engine.index.search(q)[:3]] for q in questions]
    monkeypatch.setattr(_index, "COMMON_POSTINGS", 0)
    shortcut = _index.ProcedureIndex(engine.kb)
    assert len(shortcut.postings["giay"]) > len(shortcut.phrases) // 20  # "giấy" is a common word here
    after = [[m.procedure.code for m in shortcut.search(q)[:3]] for q in questions]
    assert [b[0] for b in before] == [a[0] for a in after]


def test_time_answer_says_when_a_dossier_filed_today_is_due(lookup_engine: Assistant) -> None:
    import re

    from bot.core import now_vn

    answer = lookup_engine.answer("gia hạn giấy phép lao động mất bao lâu", {})
    line = next(x for x in answer.reply.text.splitlines() if "hôm nay" in x)
    due = lookup_engine.calendar.add_working_days(now_vn().date(), 10)  # type: ignore[union-attr]
    assert due.strftime("%d/%m/%Y") in line
    assert re.search(r"\d{2}/\d{2}/\d{4}", line)


def test_staff_report_command_only_in_staff_chats(lookup_engine: Assistant) -> None:
    from bot.dossiers._staff import StaffCommands

    storage = lookup_engine.dossiers.storage  # type: ignore[union-attr]
    engine = Assistant(lookup_engine.kb, dossiers=lookup_engine.dossiers,
                    staff_commands=StaffCommands(storage, [("telegram", "-100777")]))
    staff = engine.answer("/baocao 2026-11-01 2026-11-30", {}, chat=("telegram", "-100777"))
    assert staff.intent == "staff"
    assert "Tiếp nhận: 2" in staff.reply.text and "01/11/2026" in staff.reply.text
    other = engine.answer("/baocao", {}, chat=("telegram", "42"))
    assert other.intent != "staff" and "Tiếp nhận" not in other.reply.text


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("kiểm tra hồ sơ của tôi", "status"),
        ("hồ sơ đã nộp bao giờ có kết quả", "status"),
        ("muốn xem trạng thái hồ sơ", "status"),
        ("hồ sơ gplđ bao giờ có kết quả", "time"),
        ("hồ sơ bị trả lại phải làm sao", "faq"),
        ("cho tôi hỏi giờ làm việc", "contact"),
    ],
)
def test_everyday_phrasings_of_status_time_and_help(engine: Assistant, question: str, intent: str) -> None:
    assert engine.answer(question, {}).intent == intent


def test_a_nearly_named_procedure_is_offered_not_claimed(engine: Assistant) -> None:
    """Below the confidence threshold, a question that contains a procedure's name almost whole
    gets a question back with that procedure as a button, never an answer about it."""
    state: dict[str, Any] = {}
    answer = engine.answer("GPLĐ sai thông tin họ tên thì cấp lại được không", state)
    if answer.matches:  # understood from the re-issue's examples: then it is that procedure
        assert [m.procedure.code for m in answer.matches][:1] == ["1.014200"]
    else:
        assert answer.unsure and "Có phải bạn muốn hỏi" in answer.reply.text
        assert answer.reply.buttons[0].action.startswith("p:1.014200:")
        # Pressing it answers about the re-issue.
        pressed = engine.answer(answer.reply.buttons[0].action, state)
        assert [m.procedure.code for m in pressed.matches] == ["1.014200"]
    # Questions about other things entirely are not offered a look-alike.
    for q in ("cấp giấy phép lái xe", "đăng ký kết hôn với người nước ngoài", "how do I get a driving license"):
        other = engine.answer(q, {})
        assert other.intent == "unknown" and not other.reply.buttons[0].action.startswith("p:"), q


def test_circumstance_words_do_not_hide_the_procedure(engine: Assistant) -> None:
    # "trước thời hạn" shares "thời hạn" with the extension of a project's term.
    assert top(engine, "chấm dứt dự án đầu tư trước thời hạn") == "1.009662"
    assert top(engine, "terminate the project early") == "1.009662"


@pytest.mark.parametrize(
    "question",
    ["cấp giấy phép lao động cho người Việt Nam đi làm ở Nhật", "xuat khau lao dong sang han quoc",
     "work permit for Vietnamese working in Japan"],
)
def test_vietnamese_working_abroad_is_not_the_work_permit_for_foreigners(engine: Assistant, question: str) -> None:
    answer = engine.answer(question, {})
    assert answer.matches == [] and answer.intent == "unknown"
    assert ("nước ngoài" in answer.reply.text) if answer.lang == "vi" else ("abroad" in answer.reply.text)


@pytest.mark.parametrize(
    "question",
    ["giấy phép lao động cho chuyên gia Nhật làm việc tại Việt Nam", "kỹ sư Hàn Quốc sang làm việc ở KCN cần giấy phép lao động"],
)
def test_foreigners_working_in_vietnam_still_get_the_work_permit(engine: Assistant, question: str) -> None:
    assert top(engine, question) == "1.014199"


def test_an_investor_asking_where_to_start_gets_the_roadmap(engine: Assistant) -> None:
    q = "bên em là công ty Hàn Quốc muốn đầu tư nhà máy vào KCN thì cần xin giấy tờ gì đầu tiên"
    assert engine.answer(q, {}).intent == "roadmap"
    assert engine.answer("where do we start investing in an industrial park", {}).intent == "roadmap"
    # A named procedure's first step is about that procedure.
    assert top(engine, "cấp GPLĐ bắt đầu từ đâu") == "1.014199"


@pytest.mark.parametrize(
    "question",
    ["thứ bảy có tính là ngày làm việc không", "giấy tờ tiếng nước ngoài có cần dịch công chứng không",
     "có được gửi hồ sơ qua bưu điện không", "can I pay the fee online"],
)
def test_faq_answers_questions_said_in_other_words(engine: Assistant, question: str) -> None:
    assert engine.answer(question, {}).intent == "faq"


@pytest.mark.parametrize(
    "question",
    ["xin giấy phép kinh doanh xăng dầu",  # shares "xin giấy phép", and "dầu" folds like "đâu"
     "gia hạn thẻ tạm trú cho người nước ngoài", "đăng ký mã số thuế cá nhân"],
)
def test_faq_does_not_answer_look_alikes(engine: Assistant, question: str) -> None:
    answer = engine.answer(question, {})
    assert answer.intent == "unknown" and answer.matches == []


def test_vietnamese_employees_need_no_work_permit(engine: Assistant) -> None:
    for q in ("cấp giấy phép lao động cho người Việt Nam làm việc trong công ty nước ngoài",
              "nhân viên Việt Nam có cần giấy phép lao động không"):
        answer = engine.answer(q, {})
        assert answer.matches == [] and "chỉ cấp cho người nước ngoài" in answer.reply.text, q
    # A foreigner married to a Vietnamese is asking about the work permit (or the exemption).
    married = engine.answer("người nước ngoài kết hôn với người Việt Nam có cần giấy phép lao động không", {})
    assert "1.014196" in {m.procedure.code for m in married.matches}


def test_asking_whether_a_work_permit_is_needed_offers_the_exemption(engine: Assistant) -> None:
    answer = engine.answer("do I need a work permit", {})
    codes = [b.action.split(":")[1] for b in answer.reply.buttons if b.action.startswith("p:")]
    assert "1.014196" in codes and "1.014199" in codes
    # In English, with the English names.
    assert "certificate of exemption" in answer.reply.text and "Cấp giấy" not in answer.reply.text


def test_what_must_be_submitted_asks_for_the_documents(engine: Assistant) -> None:
    answer = engine.answer("nội quy lao động cần nộp những gì", {})
    assert answer.intent == "documents" and answer.matches[0].procedure.code == "2.001955"


def test_a_procedure_of_another_agency_is_answered_as_handled_elsewhere(engine: Assistant) -> None:
    """Asked about a procedure another agency handles, the bot says who handles it and where, and
    never presents it as one of the board's."""
    for q in ("dang ky doanh nghiep o dau", "xin visa cho chuyên gia"):
        answer = engine.answer(q, {})
        assert answer.matches == [], q
        assert "Ban Quản lý" not in answer.reply.text.split("\n")[0] or "không" in answer.reply.text
        assert any(e.name.split(" (")[0] in answer.reply.text for e in engine.kb.elsewhere), q
    # A board procedure named in full is still the board's.
    assert top(engine, "thẩm định thiết kế xây dựng") in {p.code for p in engine.kb.procedures}


def test_a_negated_procedure_is_not_the_one_asked(engine: Assistant) -> None:
    """"Không phải xin chủ trương" says the project needs no policy approval: the certificate it
    asks for is the investment registration certificate, not the policy approval."""
    answer = engine.answer("du an cua em khong phai xin chu truong thi cap IRC mat bao lau", {})
    assert answer.matches and answer.matches[0].procedure.code == "1.009664"
    assert "1.009748" not in [m.procedure.code for m in answer.matches[:1]]


def test_english_verb_forms_read_like_the_verb(engine: Assistant) -> None:
    answer = engine.answer("How many times can a construction permit be extended?", {})
    assert answer.matches[0].procedure.code == "1.013233"


def test_a_yes_to_is_this_the_procedure_answers_it_and_follow_ups_stay_on_it(engine: Assistant) -> None:
    state: dict[str, Any] = {}
    first = engine.answer("em chao anh chi, cong ty em la DN FDI trong KCN, muon xin giay phep lao dong "
                          "cho chuyen gia Han Quoc thi can giay to gi a", state)
    assert first.matches and first.matches[0].procedure.code == "1.014199"
    if first.reply.text.startswith("Có phải"):
        yes = engine.answer("dung roi", state)
        assert yes.intent == "documents" and [m.procedure.code for m in yes.matches] == ["1.014199"]
    fee = engine.answer("con le phi thi sao", state)
    assert fee.intent == "fee" and fee.matches[0].procedure.code == "1.014199"
    # A facet alone names no other agency's procedure.
    later = engine.answer("mat bao lau", state)
    assert later.intent == "time" and later.matches[0].procedure.code == "1.014199"


def test_a_number_picks_an_option_of_the_question_back(engine: Assistant) -> None:
    state: dict[str, Any] = {}
    asked = engine.answer("thủ tục cấp giấy chứng nhận đăng ký đầu tư", state)
    if asked.reply.text.startswith("Bạn muốn hỏi"):
        codes = [b.action.split(":")[1] for b in asked.reply.buttons]
        picked = engine.answer("2", state)
        assert [m.procedure.code for m in picked.matches] == [codes[1]]


@pytest.mark.parametrize("question", [
    "GPLĐ cho chuyên gia Nhật cần hồ sơ gì? Ngoài ra gia hạn giấy phép xây dựng nhà xưởng mất bao lâu?",
    "cấp giấy phép lao động cần gì, ngoài ra cho em hỏi thêm gia hạn giấy phép xây dựng mất bao lâu",
])
def test_two_questions_in_one_message_answer_the_first_and_offer_the_second(engine: Assistant, question: str) -> None:
    answer = engine.answer(question, {})
    assert answer.intent == "documents" and answer.matches[0].procedure.code == "1.014199"
    second = answer.reply.buttons[0]
    assert second.action == "p:1.013233:time" and "Gia hạn giấy phép xây dựng" in second.label
    assert engine.answer(second.action, {}).matches[0].procedure.code == "1.013233"


def test_names_and_examples_disagreeing_ask_back_instead_of_answering(engine: Assistant) -> None:
    """A permit extension asked without the works' grade: the names say one grade's procedure,
    the examples the other's; the bot asks which, offering both, rather than answer one."""
    answer = engine.answer("Our construction permit will expire in 2 weeks and we haven't started construction yet. "
                           "How to extend it? Any fee?", {})
    assert answer.unsure and answer.reply.text.startswith("Which procedure do you mean?")
    codes = [m.procedure.code for m in answer.matches]
    assert set(codes) == {"1.013233", "1.013227"}, codes  # grade I/II and grade III/IV extensions
    assert {b.action for b in answer.reply.buttons} >= {f"p:{c}:fee" for c in codes}


def test_a_situation_described_without_the_procedures_name_is_asked_back_about_it(engine: Assistant) -> None:
    """No word of any name, only the situation: the procedure its examples describe is offered as
    a question back, never answered as sure; small talk still gets "not found"."""
    answer = engine.answer("cty e it don hang qua, tinh nghi chay xuong 3-4 thang r chay lai, co can thong bao BQL ko", {})
    assert answer.unsure and answer.reply.text.startswith("Có phải bạn hỏi")
    assert [m.procedure.code for m in answer.matches] == ["1.009661"]  # suspending the project
    assert engine.answer("hôm nay trời có mưa không", {}).matches == []


@pytest.mark.parametrize(("question", "code"), [
    ("mấy anh kỹ sư Hàn sắp hết hạn giấy, muốn ở lại làm thêm", "1.014201"),  # work permit extension
    ("nhà máy nghỉ chạy vài tháng vì ít đơn hàng", "1.009661"),  # suspending the project
])
def test_a_situation_whose_words_point_to_one_procedure_is_asked_back_about_it(engine: Assistant, question: str, code: str) -> None:
    """No name said and no example close word for word: the classifier over the examples says
    which procedure the message's words point to together; the bot asks whether it is that one
    (a question back, never a sure answer)."""
    answer = engine.answer(question, {})
    assert answer.unsure and answer.reply.text.startswith("Có phải bạn hỏi"), answer.reply.text
    assert [m.procedure.code for m in answer.matches] == [code]


def test_the_classifier_ranks_by_probability_and_knows_when_it_knows_nothing(engine: Assistant) -> None:
    """The classifier's probabilities: the procedure a situation describes far ahead of the
    next, in English as in Vietnamese; flat (no item ahead) for words no text uses; nothing for
    an empty message."""
    learned = engine.engine.index.learned
    for question, code in (("our plant will stop running for a few months because orders are low", "1.009661"),
                           ("chuyên gia Hàn Quốc của công ty sắp hết hạn giấy phép, muốn làm tiếp 2 năm", "1.014201")):
        ranked = learned.classify(question, limit=3)
        assert learned.procedures[ranked[0][0]].code == code
        probabilities = [p for _, p in ranked]
        assert probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1
        assert probabilities[0] > 3 * probabilities[1]
    flat = learned.classify("xyzzy qwerty plugh", limit=2)
    assert flat[0][1] < 2 * flat[1][1] and flat[0][1] < 0.05
    assert learned.classify("", limit=3) == []


def test_a_procedure_the_classifier_prefers_to_the_named_one_is_offered_beside_it(engine: Assistant) -> None:
    """"nhà ở riêng lẻ" is in the grade III/IV amendment's name, while the grade I/II one's alias
    is said in full: the message's words, summed, point to the first, so the bot asks back with
    both instead of answering the alias as sure; a plain short question is still answered."""
    answer = engine.answer("Điều chỉnh giấy phép xây dựng nhà ở riêng lẻ", {})
    assert answer.unsure and answer.reply.text.splitlines()[0].endswith("?"), answer.reply.text
    assert "1.013226" in [m.procedure.code for m in answer.matches]
    sure = engine.answer("how long does a work permit take", {})
    assert not sure.unsure and [m.procedure.code for m in sure.matches][:1] == ["1.014199"]


def test_another_agencys_business_wins_over_a_board_procedure_it_mentions(engine: Assistant) -> None:
    """Importing used machinery is the customs' and the ministry's business, though the message
    shares words with the board's investment procedures: the bot says who handles it and offers no
    board procedure. A message that names the board's procedure in full keeps it."""
    answer = engine.answer("cty minh nhap khau may moc da qua su dung tu nhat ve de san xuat, co may tren 10 nam "
                           "tuoi. nghe noi phai giam dinh hoac co chung thu, vay cho hoi quy dinh nhu the nao", {})
    assert answer.matches == [] and "hải quan" in answer.reply.text
    named = engine.answer("Chào anh chị, thủ tục điều chỉnh giấy chứng nhận đăng ký đầu tư khi thay đổi người đại "
                          "diện theo pháp luật của nhà đầu tư tổ chức có phải nộp lệ phí gì không ạ?", {})
    assert [m.procedure.code for m in named.matches][:1] == ["1.009647"]


def test_a_negation_inside_another_ones_reach_starts_its_own(engine: Assistant) -> None:
    """"không xin đất nên không thuộc diện xin chủ trương": the second negation is not used up by
    the first one's reach, so the policy approval is not what the message asks about."""
    answer = engine.answer("Kính gửi Ban Quản lý, một nhà đầu tư Nhật muốn mở xưởng gia công trong KCN, thuê nhà "
                           "xưởng 2.000 m2, không xin đất nên không thuộc diện xin chủ trương. Vậy Ban cấp giấy cho "
                           "dự án này trong bao nhiêu ngày ạ?", {})
    codes = [m.procedure.code for m in answer.matches]
    assert "1.009748" not in codes[:1] and "1.009645" not in codes[:1], codes


def test_company_context_never_makes_another_agencys_subject(engine: Assistant) -> None:
    """"Doanh nghiệp" is company context: it does not turn a question naming the investment
    registration certificate into one about registering an enterprise."""
    answer = engine.answer("Doanh nghiệp chế xuất có phải xin giấy chứng nhận đăng ký đầu tư không?", {})
    assert [m.procedure.code for m in answer.matches][:1] == ["1.009664"], answer.reply.text


@pytest.mark.parametrize(("question", "agency"), [
    ("cty e duoc uu dai thue tndn may nam a, lam ho so o dau", "thuế"),
    ("thong bao danh muc mien thue nhap khau may moc tao tai san co dinh lam o dau", "hải quan"),
])
def test_tax_and_customs_business_is_sent_to_its_agency(engine: Assistant, question: str, agency: str) -> None:
    """Tax incentives and the duty-free import list are not the board's procedures: the bot says
    who handles them (knowledge/elsewhere.yaml) and offers no board procedure."""
    answer = engine.answer(question, {})
    assert answer.matches == [] and agency in answer.reply.text.lower(), answer.reply.text


def test_a_word_only_the_other_authoritys_name_has_makes_the_bot_ask_which() -> None:
    """Without the examples that name it, the province's amendment of an investor approval loses
    to the board's, whose short alias the question says in full; "cấp tỉnh" is in the province's
    name only, so the bot asks which rather than answer the board's as sure."""
    import dataclasses

    kb = load_knowledge(default_knowledge_dir())
    procs = tuple(dataclasses.replace(p, examples=()) if p.code == "1.009644" else p for p in kb.procedures)
    engine = Assistant(dataclasses.replace(kb, procedures=procs))
    answer = engine.answer("sửa đổi quyết định chấp thuận nhà đầu tư cấp tỉnh", {})
    codes = [m.procedure.code for m in answer.matches]
    assert answer.reply.text.splitlines()[0].endswith("?"), answer.reply.text
    assert {"1.009644", "1.115145"} <= set(codes), codes  # the province's and the board's


def test_the_special_procedure_said_in_short_is_that_variant(engine: Assistant) -> None:
    """'the special procedure' is 'thủ tục đầu tư đặc biệt': the exchange under it, not the ordinary one."""
    answer = engine.answer("we registered under the special procedure, now we want to exchange our old IRC, is there a fee", {})
    assert [m.procedure.code for m in answer.matches][:1] == ["2.002727"]


def test_a_permit_that_runs_out_is_asked_about_its_extension(engine: Assistant) -> None:
    """'runs out', 'expires': the permit's extension comes first, not a new permit."""
    answer = engine.answer("our factory building permit runs out soon and we have not started yet, what to do", {})
    assert [m.procedure.code for m in answer.matches][:1] == ["1.013233"]
