"""What the bot keeps for staff: questions it answered with low confidence (from every face,
`ask` included, without personal data), 👍 / 👎 under answers, `tthc-bot report questions`, and
the staff charts of dossier figures by month."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.config import Settings
from bot.conversation import Assistant
from bot.guide import Guide, mask
from bot.guide._charts import chart_pngs, months
from bot.guide._questions import build_questions_report, group, questions_text
from bot.kb import default_knowledge_dir, load_knowledge
from bot.server import create_app
from bot.storage import VN_TZ, Storage

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"


@pytest.fixture(scope="module")
def kb() -> Any:
    return load_knowledge(default_knowledge_dir())


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage(tmp_path / "guide.db")


@pytest.fixture
def engine(kb: Any, storage: Storage) -> Assistant:
    return Assistant(kb, guide=Guide(storage))


def _range(storage: Storage) -> Any:
    today = datetime.now(VN_TZ).date()
    return build_questions_report(storage, today - timedelta(days=1), today + timedelta(days=1))


def test_mask_removes_personal_data() -> None:
    text = mask("tôi là A, sđt 0912 345 678, email a.b@gmail.com, CCCD 001203004567, hồ sơ H42.25-241105-0003 ?secret=AB12")
    for secret in ("0912", "345 678", "a.b@gmail.com", "001203004567", "H42.25-241105-0003", "AB12"):
        assert secret not in text
    assert "[số điện thoại]" in text and "[email]" in text and "[mã hồ sơ]" in text
    assert mask("giấy phép lao động") == "giấy phép lao động"
    assert len(mask("x " * 1000)) <= 300


def test_unknown_and_unsure_questions_are_recorded_confident_ones_not(engine: Assistant, storage: Storage) -> None:
    engine.answer("thủ tục khai thác cát sỏi, gọi 0912345678", {}, chat=("telegram", "42"))
    engine.answer("xin phép khai thác cát", {}, chat=("web", "s1"))
    engine.answer("mất bao lâu", {})  # a facet without a procedure: the bot asks which one
    engine.answer("giấy phép lao động cần hồ sơ gì", {}, chat=("web", "s1"))  # confident
    engine.answer("menu:roadmap", {})  # a button, not a question
    report = _range(storage)
    assert report.total_unanswered == 3
    first = report.unanswered[0]
    assert first.count == 2 and set(first.channels) == {"telegram", "web"}, "similar wordings are one group"
    texts = [t for g in report.unanswered for t in g.variants]
    assert "mất bao lâu" in texts
    assert all("0912345678" not in t for t in texts)
    assert "42" not in json.dumps(report.to_dict()).replace("2026", ""), "no chat ids are kept"


def test_feedback_buttons_and_votes(engine: Assistant, storage: Storage) -> None:
    state: dict[str, Any] = {}
    answer = engine.answer("gia hạn giấy phép lao động mất bao lâu", state, chat=("telegram", "7"))
    actions = [b.action for b in answer.reply.buttons]
    assert actions[-2:] == ["fb:+:time:1.014201", "fb:-:time:1.014201"]
    assert all(len(a.encode()) <= 64 for a in actions)
    down = engine.answer("fb:-:time:1.014201", state, chat=("telegram", "7"))
    assert down.intent == "feedback" and "Cảm ơn" in down.reply.text
    up = engine.answer("fb:+:faq:-", {}, chat=("web", "x"))
    assert up.intent == "feedback"
    assert engine.answer("fb:?:time:1.0", {}).intent == "unknown", "a malformed vote is an old button"
    report = _range(storage)
    assert report.total_down == 1 and report.thumbs_up == 1
    [g] = report.thumbs_down
    assert g.text == "gia hạn giấy phép lao động mất bao lâu" and dict(g.codes) == {"1.014201": 1}
    text = questions_text(report)
    assert "👎: 1" in text and "→ 1.014201" in text
    greeting = engine.answer("xin chào", {})
    assert not any(b.action.startswith("fb:") for b in greeting.reply.buttons), "only answers are rated"


def test_grouping_keeps_different_subjects_apart() -> None:
    rows = [{"text": t, "channel": "web", "at": "2026-11-20"} for t in (
        "đăng ký kết hôn ở đâu", "làm sao đăng ký kết hôn", "cấp sổ đỏ", "cấp sổ đỏ nhà ở", "how to get a visa")]
    groups = group(rows)
    assert [g.count for g in groups] == [2, 2, 1]


async def test_web_questions_are_recorded_with_their_channel(aiohttp_client: Any, tmp_path: Path) -> None:
    db = tmp_path / "web.db"
    client = await aiohttp_client(create_app(Settings(db=str(db))))
    resp = await client.post("/api/ask", json={"text": "cách nuôi cá cảnh", "session": "w"})
    assert (await resp.json())["intent"] == "unknown"
    with Storage(db) as storage:
        rows = storage.unanswered(datetime(2000, 1, 1, tzinfo=VN_TZ), datetime(2100, 1, 1, tzinfo=VN_TZ))
    assert [(r["channel"], r["text"], r["intent"]) for r in rows] == [("web", "cách nuôi cá cảnh", "unknown")]


def _run(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


def test_ask_batch_records_silently_and_works_without_a_database(tmp_path: Path) -> None:
    questions = "cách nuôi cá cảnh\ngiấy phép lao động cần hồ sơ gì\n"
    missing = tmp_path / "missing.db"
    out = _run(["ask", "--json"], {"TTHC_DB": str(missing)}, questions)
    assert out.returncode == 0 and out.stderr == ""
    lines = out.stdout.splitlines()
    assert len(lines) == 2 and [json.loads(x)["intent"] for x in lines] == ["unknown", "documents"]
    assert not missing.exists(), "no database is made by `ask`: recording is skipped"

    db = tmp_path / "here.db"
    Storage(db).close()
    out = _run(["ask", "--json"], {"TTHC_DB": str(db)}, questions)
    assert out.returncode == 0 and out.stderr == "" and len(out.stdout.splitlines()) == 2
    with Storage(db) as storage:
        rows = storage.unanswered(datetime(2000, 1, 1, tzinfo=VN_TZ), datetime(2100, 1, 1, tzinfo=VN_TZ))
    assert [(r["channel"], r["text"]) for r in rows] == [("cli", "cách nuôi cá cảnh")]

    report = _run(["report", "questions"], {"TTHC_DB": str(db)})
    assert report.returncode == 0 and "1× cách nuôi cá cảnh" in report.stdout
    as_json = json.loads(_run(["report", "questions", "--json"], {"TTHC_DB": str(db)}).stdout)
    assert as_json["unanswered"]["total"] == 1
    assert _run(["report", "questions"], {"TTHC_DB": str(missing)}).returncode == 1


def test_a_read_only_database_does_not_break_an_answer(kb: Any, tmp_path: Path) -> None:
    class Broken:
        def record_unanswered(self, *args: Any) -> None:
            raise OSError("read-only")

    answer = Assistant(kb, guide=Guide(Broken())).answer("cách nuôi cá cảnh", {})
    assert answer.intent == "unknown"


def test_staff_charts_by_month(storage: Storage, tmp_path: Path) -> None:
    from bot.dossiers._demo import fill_demo
    from bot.workdays import calendar_for_settings

    fill_demo(storage, calendar_for_settings(Settings()))
    assert months(date(2026, 3, 15), 3) == [
        (date(2026, 1, 1), date(2026, 1, 31)), (date(2026, 2, 1), date(2026, 2, 28)), (date(2026, 3, 1), date(2026, 3, 31))]
    pngs = chart_pngs(storage, 6)
    ARTIFACTS.mkdir(exist_ok=True)
    for name, png in pngs.items():
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG" and image.size == (1280, 760)
        assert len(image.convert("RGB").getcolors(1 << 16) or []) > 4, "not blank"
        (ARTIFACTS / f"chart-{name}").write_bytes(png)
    env = {"TTHC_DB": str(storage.path)}
    out = _run(["report", "charts", "--out", str(tmp_path / "charts"), "--months", "3"], env)
    assert out.returncode == 0 and len(list((tmp_path / "charts").glob("*.png"))) == 2
