"""The investor roadmap: knowledge/roadmap.yaml, the plan for a set of answers, the numbered list,
the picture, the guided conversation (through the web API) and `tthc-bot roadmap`."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from bot.config import Settings
from bot.conversation import Assistant
from bot.guide import RoadmapGuide, plan_roadmap, roadmap_text
from bot.guide._picture import fonts_found
from bot.kb import check_knowledge, default_knowledge_dir, load_knowledge
from bot.server import create_app

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
DEFAULT_CODES = [
    "1.009748", "1.009664", "1.010733", "1.013239", "1.013234", "1.013236", "1.010727", "1.014199", "2.001955",
]
# The default road with the steps other agencies handle (knowledge/elsewhere.yaml) in their places.
DEFAULT_REFS = [
    "1.009748", "elsewhere:land-sublease-park", "1.009664", "elsewhere:enterprise-registration", "1.010733",
    "1.013239", "elsewhere:fire-safety-design", "1.013234", "1.013236", "elsewhere:electricity-connection",
    "elsewhere:fire-safety-acceptance", "1.010727", "elsewhere:customs-production-site", "1.014199",
    "elsewhere:temporary-residence-card", "2.001955",
]


@pytest.fixture(scope="module")
def kb() -> Any:
    return load_knowledge(default_knowledge_dir())


@pytest.fixture(scope="module")
def engine(kb: Any) -> Assistant:
    return Assistant(kb)


# -- knowledge ------------------------------------------------------------------------------


def test_bundled_roadmap_loads(kb: Any) -> None:
    roadmap = kb.roadmap
    assert roadmap is not None
    assert [q.id for q in roadmap.questions] == ["foreign", "zone", "policy", "build", "environment", "workers"]
    assert roadmap.defaults["environment"] == "eia" and roadmap.defaults["foreign"] == "yes"
    assert all(kb.procedure(s.code) if s.code else kb.external(s.elsewhere or "") for s in roadmap.steps)
    assert all(bool(s.code) != bool(s.elsewhere) for s in roadmap.steps), "a step names a code or an elsewhere id"


def _broken(tmp_path: Path, roadmap: str) -> list[str]:
    root = tmp_path / "knowledge"
    shutil.copytree(default_knowledge_dir(), root)
    (root / "roadmap.yaml").write_text(roadmap, encoding="utf-8")
    _kb, problems = check_knowledge(root)
    return [str(p) for p in problems]


BROKEN = """\
title: T
title_en: T
questions:
  - {id: foreign, ask: A?, ask_en: A?, default: yes}
  - {id: foreign, ask: B?, ask_en: B?, default: maybe}
  - id: env
    ask: C?
    ask_en: C?
    default: eia
    options:
      - {value: eia, label: ĐTM, label_en: EIA}
      - {value: eia, label: Giấy phép, label_en: Permit}
steps:
  - {code: "9.999999"}
  - {code: "1.009664", case: 9}
  - {code: "1.009748", when: {foriegn: yes}}
  - {code: "1.009748", when: {foreign: perhaps}}
  - {code: "1.009748", colour: red}
  - {elsewhere: no-such-step}
  - {elsewhere: fire-safety-design, code: "1.013236"}
  - {elsewhere: fire-safety-design, case: 1}
  - {when: {foreign: yes}}
"""


def test_roadmap_problems_name_file_line_and_field(tmp_path: Path) -> None:
    problems = _broken(tmp_path, BROKEN)
    text = "\n".join(problems)
    assert all(p.startswith("knowledge/roadmap.yaml:") for p in problems), text
    assert "questions[1].id: 'foreign' is used twice" in text
    assert "questions[1].default: must be one of the answers: yes, no (got 'maybe')" in text
    assert "questions[2].options: the answer 'eia' is listed twice" in text
    assert "steps[0].code: 9.999999 is not a procedure of this knowledge base" in text
    assert "steps[1].case: 1.009664 has 4 case(s), not 9" in text
    assert "steps[2].when.foriegn: unknown field (did you mean 'foreign'?)" in text
    assert "steps[3].when.foreign: must be one or more of: yes, no" in text
    assert "steps[4].colour: unknown field" in text
    assert "steps[5].elsewhere: 'no-such-step' is not an entry of elsewhere.yaml" in text
    assert "steps[6].elsewhere: give either code (a board procedure) or elsewhere" in text
    assert "steps[7].case: is only for a board procedure" in text
    assert "steps[8].code: is required" in text
    assert ":5 [roadmap] questions[1].id" in text, "the line of the problem is given"


def test_knowledge_without_a_roadmap_still_has_the_usual_road(tmp_path: Path) -> None:
    root = tmp_path / "knowledge"
    shutil.copytree(default_knowledge_dir(), root)
    (root / "roadmap.yaml").unlink()
    kb = load_knowledge(root)
    assert kb.roadmap is None
    answer = Assistant(kb).answer("lộ trình thủ tục đầu tư", {})
    assert answer.intent == "roadmap" and "1.009664" in answer.reply.text


# -- the plan and its text --------------------------------------------------------------------


def test_default_plan_order_and_totals(kb: Any) -> None:
    plan = plan_roadmap(kb, None, "vi")
    assert [s.ref for s in plan.steps] == DEFAULT_REFS
    assert [s.code for s in plan.steps if s.procedure is not None] == DEFAULT_CODES
    board = [s.case.time for s in plan.steps if s.case is not None]
    timed_elsewhere = [s.external.time for s in plan.steps if s.external is not None and s.external.time]
    assert [(t.value, t.unit) for t in timed_elsewhere] == [(3, "working_days"), (5, "working_days")], \
        "enterprise registration (3) and the temporary residence card (5) have a legal limit"
    wd = sum(t.value or 0 for t in board + timed_elsewhere if t.unit == "working_days")
    cd = sum(t.value or 0 for t in board if t.unit == "days") + sum(30 * (t.value or 0) for t in board if t.unit == "months")
    assert plan.working_days == round(wd) and plan.calendar_days == round(cd)
    assert plan.total_working_days == round(wd + cd * 5 / 7)
    assert plan.elsewhere_open == 5 and plan.elsewhere_timed == 2 and plan.open_ended == 0
    irc = next(s for s in plan.steps if s.code == "1.009664")
    assert irc.case is not None and irc.case.time.value == 5, "IRC after a policy approval: the 5-day case"


def test_fire_safety_design_comes_before_the_construction_permit(kb: Any) -> None:
    for answers in (None, {"foreign": "no", "policy": "no", "environment": "none", "workers": "no"}):
        refs = [s.ref for s in plan_roadmap(kb, answers, "vi").steps]
        fire = refs.index("elsewhere:fire-safety-design")
        assert fire < refs.index("1.013236"), refs
        assert refs.index("1.013239") < fire, "after the feasibility study the fire design is appraised"
        assert refs.index("elsewhere:fire-safety-acceptance") > refs.index("1.013236")
    step = next(s for s in plan_roadmap(kb, None, "vi").steps if s.ref == "elsewhere:fire-safety-design")
    assert step.code == "1.115391" and step.procedure is None and step.working_days() is None
    assert "Công an" in step.agency and step.time_text("vi") == "theo quy định của cơ quan đó"
    assert step.time_text("en") == "set by that agency's own rules"
    no_build = [s.ref for s in plan_roadmap(kb, {"build": "no"}, "vi").steps]
    assert "elsewhere:fire-safety-design" not in no_build and "1.013236" not in no_build


def test_elsewhere_steps_say_who_handles_them_and_keep_totals_honest(kb: Any) -> None:
    text = roadmap_text(plan_roadmap(kb, None, "vi"))
    assert "Thẩm định thiết kế về phòng cháy chữa cháy [1.115391] (không do Ban Quản lý giải quyết)" in text
    assert "Công an tỉnh (Cảnh sát PCCC và CNCH) · theo quy định của cơ quan đó" in text
    assert "Sở Tài chính · 03 ngày làm việc" in text
    assert "5 bước của cơ quan khác theo thời hạn của cơ quan đó, không tính vào tổng" in text
    en = roadmap_text(plan_roadmap(kb, None, "en"))
    assert "Fire safety design appraisal [1.115391] (not a board procedure)" in en
    assert "not counted" in en
    # A step with no national code (the sublease is a contract) shows no brackets.
    assert "Thuê lại đất, nhà xưởng trong khu công nghiệp của doanh nghiệp đầu tư kinh doanh hạ tầng (không do" in text
    outside = [s.ref for s in plan_roadmap(kb, {"zone": "no"}, "vi").steps]
    assert "elsewhere:land-lease-state" in outside and "elsewhere:land-sublease-park" not in outside


def test_answers_change_the_steps(kb: Any) -> None:
    domestic_no_policy_no_build = {"foreign": "no", "policy": "no", "build": "no", "environment": "none", "workers": "no"}
    plan = plan_roadmap(kb, domestic_no_policy_no_build, "vi")
    assert [s.code for s in plan.steps if s.procedure is not None] == ["2.001955"]
    assert [s.ref for s in plan.steps if s.procedure is None] == [
        "elsewhere:land-sublease-park", "elsewhere:enterprise-registration", "elsewhere:environmental-registration",
        "elsewhere:electricity-connection", "elsewhere:customs-production-site",
    ]
    foreign_no_policy = plan_roadmap(kb, {"policy": "no", "environment": "permit"}, "en")
    board_steps = [s for s in foreign_no_policy.steps if s.procedure is not None]
    codes = [s.code for s in board_steps]
    assert codes[0] == "1.009664" and board_steps[0].case is not None and board_steps[0].case.time.value == 10
    assert "1.010733" not in codes and "1.010727" in codes
    outside = plan_roadmap(kb, {"zone": "no"}, "vi")
    assert any("không phải Ban Quản lý" in n for n in outside.notes)


def test_numbered_text_has_agency_time_level_code_and_total(kb: Any) -> None:
    text = roadmap_text(plan_roadmap(kb, None, "vi"))
    assert "1. Chấp thuận chủ trương đầu tư" in text and "[1.009748]" in text
    assert "17 ngày làm việc · trực tuyến một phần" in text
    assert "chưa trực tuyến" in text, "1.013234 has no online service"
    plan = plan_roadmap(kb, None, "vi")
    assert "Tổng thời hạn giải quyết" in text and f"khoảng {plan.total_working_days} ngày làm việc" in text
    en = roadmap_text(plan_roadmap(kb, None, "en"))
    assert "working days" in en and "partly online" in en and "fully online" in en


# -- the engine ---------------------------------------------------------------------------------


@pytest.mark.parametrize("question", [
    "investor roadmap",
    "các bước thủ tục từ đầu tư đến khi nhà máy hoạt động",
    "lộ trình thủ tục từ đăng ký đầu tư đến khi đi vào hoạt động",
])
def test_plain_question_gets_the_numbered_roadmap_with_its_picture(engine: Assistant, question: str) -> None:
    answer = engine.answer(question, {})
    assert answer.intent == "roadmap" and answer.matches == []
    reply = answer.reply
    assert "1. " in reply.text and "9. " in reply.text
    assert reply.image is not None and reply.image.png.startswith(b"\x89PNG")
    assert reply.image.url and reply.image.url.endswith("/default.png")
    actions = [b.action for b in reply.buttons]
    assert actions[:2] == ["p:1.009748:procedure", "p:1.009664:procedure"]
    assert "r:" in actions, "a button starts the guided questions"
    assert all(len(a.encode()) <= 64 for a in actions)
    assert reply.to_dict()["image"]["url"] == reply.image.url


def test_roadmap_question_naming_a_procedure_says_which_step_it_is(engine: Assistant) -> None:
    answer = engine.answer("Is the investment registration certificate the first licence we need? "
                           "Please give us the roadmap of all procedures to open a factory in the industrial park", {})
    assert answer.intent == "roadmap"
    assert [m.procedure.code for m in answer.matches] == ["1.009664"]
    step = next(s.number for s in plan_roadmap(engine.kb, None, "en").steps if s.code == "1.009664")
    first, rest = answer.reply.text.split("\n", 1)
    assert f"is step {step} of the roadmap" in first
    assert f"{step}. Issuance of an Investment Registration Certificate" in rest and answer.reply.image is not None


def test_guided_conversation_by_buttons_and_typing(engine: Assistant) -> None:
    state: dict[str, Any] = {}
    first = engine.answer("menu:roadmap", state)
    assert first.intent == "roadmap" and "câu 1/6" in first.reply.text
    assert [b.action for b in first.reply.buttons] == ["r:0", "r:1", "r:*"]
    second = engine.answer("r:1", state)  # a domestic investor
    assert "câu 2/6" in second.reply.text
    third = engine.answer("có", state)  # typed: inside a zone
    assert "câu 3/6" in third.reply.text
    engine.answer("không", state)  # no policy approval
    assert "câu 5/6" in engine.answer("2", state).reply.text  # the second answer: does not build
    engine.answer("r:10111", state)  # a needs-a-permit answer, then changed from the same keyboard
    env = engine.answer("r:10112", state)
    assert "câu 6/6" in env.reply.text
    last = engine.answer("r:101121", state)
    assert "pending" not in state
    codes = [b.action.split(":")[1] for b in last.reply.buttons if b.action.startswith("p:")]
    assert codes == ["2.001955"], "domestic, no approval, no building, no permits, no foreign staff"
    assert last.reply.image is not None and last.reply.image.url == "/roadmap/vi/101121.png"


def test_a_question_during_the_flow_leaves_it(engine: Assistant) -> None:
    state: dict[str, Any] = {}
    engine.answer("menu:roadmap", state)
    answer = engine.answer("giấy phép lao động cần hồ sơ gì", state)
    assert answer.intent == "documents" and "pending" not in state


@pytest.mark.parametrize("action", ["r:9", "r:0000009", "r:abc", "r:0123456789012"])
def test_bad_roadmap_buttons_are_answered_politely(engine: Assistant, action: str) -> None:
    answer = engine.answer(action, {})
    assert answer.intent == "unknown" and "không còn hiệu lực" in answer.reply.text


# -- the picture --------------------------------------------------------------------------------


def test_roadmap_picture_is_a_phone_sized_png(kb: Any) -> None:
    guide = RoadmapGuide(kb)
    ARTIFACTS.mkdir(exist_ok=True)
    for lang in ("vi", "en"):
        png = guide.png("", lang)
        image = Image.open(io.BytesIO(png))
        # Narrow for a phone (640 px: its smallest text reads at 14 px or more in a 390 px screen's
        # chat, see test_answers_browser.py), tall with the bundled roadmap's 16 steps.
        assert image.format == "PNG" and image.width == 640 and 2000 < image.height < 14000
        assert len(png) < 400_000, "small enough to send on a phone connection"
        (ARTIFACTS / f"roadmap-{lang}.png").write_bytes(png)
        # Coloured by online level: the amber of "một phần" and the red of "không" are there.
        colours = {c for _n, c in image.convert("RGB").getcolors(1 << 16) or []}
        assert (204, 122, 0) in colours and (178, 50, 40) in colours and (30, 130, 60) in colours
        assert any(sum(abs(a - b) for a, b in zip(c, (70, 100, 140), strict=True)) <= 12 for c in colours), \
            "steps of other agencies have their own colour (slate blue, within the palette's rounding)"
    assert guide.png("", "vi") is guide.png("", "vi"), "cached"


def test_dejavu_font_is_used_in_ci() -> None:
    if not fonts_found():
        if os.environ.get("CI"):
            pytest.fail("DejaVu Sans is missing: .ci/run installs fonts-dejavu-core")
        pytest.skip("DejaVu Sans not installed here")
    from bot.guide._picture import font

    f = font(30)
    assert "DejaVu" in f.getname()[0]
    # Every Vietnamese letter of the roadmap has a glyph of its own (not the .notdef box).
    def drawn(ch: str) -> bytes:
        image = Image.new("L", (60, 60))
        ImageDraw.Draw(image).text((10, 5), ch, font=f, fill=255)
        return image.tobytes()

    missing = drawn("\U0010fffd")  # a private-use code point: surely no glyph, the .notdef box
    shapes = {ch: drawn(ch) for ch in "aăâảẩẫậđịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"}
    assert all(shape != missing for shape in shapes.values())
    assert len(set(shapes.values())) == len(shapes), "each letter has its own shape"


# -- the web server and the command ---------------------------------------------------------------


async def test_guided_roadmap_through_the_web_api_and_its_picture(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(Settings(db=str(tmp_path / "t.db"))))

    async def ask(text: str) -> dict[str, Any]:
        resp = await client.post("/api/ask", json={"text": text, "session": "road"})
        assert resp.status == 200
        data: dict[str, Any] = await resp.json()
        return data

    assert "1/6" in (await ask("menu:roadmap"))["reply"]["text"]
    for digits in ("0", "00", "001", "0010", "00101"):
        await ask("r:" + digits)
    final = await ask("có")
    assert final["intent"] == "roadmap"
    url = final["reply"]["image"]["url"]
    assert url == "/roadmap/vi/001010.png"
    resp = await client.get(url)
    assert resp.status == 200 and resp.content_type == "image/png"
    assert (await resp.read()).startswith(b"\x89PNG")
    assert (await client.get("/roadmap/vi/default.png")).status == 200
    for bad in ("/roadmap/vi/9.png", "/roadmap/fr/default.png", "/roadmap/vi/0000000.png"):
        assert (await client.get(bad)).status == 404


def test_roadmap_command(tmp_path: Path) -> None:
    env = {**os.environ, "TTHC_DB": str(tmp_path / "none.db")}
    out = subprocess.run([sys.executable, "-m", "bot", "roadmap"], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.startswith("Lộ trình thủ tục") and "16. Đăng ký nội quy lao động" in out.stdout
    png = tmp_path / "pics" / "roadmap.png"
    out = subprocess.run([sys.executable, "-m", "bot", "roadmap", "--png", str(png), "--lang", "en"],
                         capture_output=True, text=True, env=env, check=True)
    assert png.read_bytes().startswith(b"\x89PNG") and "16 steps" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "bot", "roadmap", "--answers", "7"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "--answers" in bad.stderr
