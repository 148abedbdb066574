"""QR codes: `tthc-bot qr --out DIR` writes codes for the board and each procedure on Telegram, Zalo
and the web; each picture holds exactly its link (read back module by module), the Telegram deep
link opens the procedure, and the web link opens it in the chat page (headless Chromium)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from test_webchat_browser import PHONE, Chat, browser, server, shots  # noqa: F401 (fixtures)

from bot.config import Settings
from bot.conversation import Assistant
from bot.core._links import start_action
from bot.guide._qr import plan_codes, render_qr
from bot.kb import default_knowledge_dir, load_knowledge

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
SETTINGS = Settings(telegram_bot_username="TthcBqlBot", zalo_oa_id="1234567890123456789",
                    public_url="https://tthc.bqlkcn.example.gov.vn")


def read_modules(png: Path | bytes, link: str) -> tuple[list[list[bool]], list[list[bool]]]:
    """(the modules read from the picture, the modules of `link`'s QR code): the picture is
    sampled at the centre of each module of the expected grid (14 px modules, 4 of quiet zone)."""
    import io

    image = Image.open(png if isinstance(png, Path) else io.BytesIO(png)).convert("L")
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=14, border=4)
    qr.add_data(link)
    qr.make(fit=True)
    expected = [row[4:-4] for row in qr.get_matrix()[4:-4]]
    n = len(expected)
    # The finder pattern's top edge is the first row with a dark run of 7 modules (text has none).
    width, height = image.size
    pixels = image.load()
    module = 14
    for top in range(16, height):  # below the coloured band
        run, left = 0, -1
        for x in range(width):
            run = run + 1 if pixels[x, top] < 60 else 0
            if run >= 7 * module - 4:
                left = x - run + 1
                break
        if left >= 0:
            break
    else:
        raise AssertionError("no QR code in the picture")
    got = [[pixels[left + (c * module) + module // 2, top + (r * module) + module // 2] < 128 for c in range(n)]
           for r in range(n)]
    return got, expected


@pytest.fixture(scope="module")
def kb() -> Any:
    return load_knowledge(default_knowledge_dir())


def test_plan_covers_the_board_and_every_procedure(kb: Any) -> None:
    items = plan_codes(kb, SETTINGS)
    names = [i.name for i in items]
    assert names[:3] == ["board-telegram.png", "board-zalo.png", "board-web.png"]
    assert len(items) == 3 + 2 * len(kb.procedures)
    links = {i.name: i.link for i in items}
    assert links["board-zalo.png"] == "https://zalo.me/1234567890123456789"
    assert links["1.014199-telegram.png"] == "https://t.me/TthcBqlBot?start=p_1_014199"
    assert links["1.014199-web.png"] == "https://tthc.bqlkcn.example.gov.vn/?p=1.014199"
    only_web = plan_codes(kb, Settings(public_url="https://x.example"), ["1.009664"])
    assert [i.name for i in only_web] == ["board-web.png", "1.009664-web.png"]


def test_deep_links_open_the_procedure(kb: Any) -> None:
    engine = Assistant(kb)
    for item in plan_codes(kb, SETTINGS, ["1.014199", "1.009664"]):
        if item.channel != "telegram" or item.code is None:
            continue
        payload = item.link.split("start=")[1]
        answer = engine.answer(start_action(payload), {})
        assert answer.intent == "procedure" and answer.matches[0].procedure.code == item.code


def test_each_picture_holds_its_link(kb: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    items = plan_codes(kb, SETTINGS, ["1.014199"])
    for item in items:
        png = render_qr(item, "vi", "Ban Quản lý các Khu công nghiệp tỉnh Mẫu (VÍ DỤ)")
        image = Image.open(__import__("io").BytesIO(png))
        assert image.format == "PNG" and image.width == 800 and 600 < image.height < 1200
        got, expected = read_modules(png, item.link)
        assert got == expected, f"{item.name} does not hold {item.link}"
        (ARTIFACTS / f"qr-{item.name}").write_bytes(png)


def test_qr_command(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_", "TTHC_"))}
    env["TTHC_DB"] = str(tmp_path / "none.db")
    out = tmp_path / "qr"
    args = [sys.executable, "-m", "bot", "qr", "--out", str(out), "--telegram", "TthcBqlBot",
            "--web", "https://tthc.example.gov.vn", "--code", "1.014199", "--code", "1.009664"]
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "6 QR codes" in done.stdout
    rows = list(csv.DictReader((out / "index.csv").open(encoding="utf-8")))
    assert {r["file"] for r in rows} == {p.name for p in out.glob("*.png")}
    row = next(r for r in rows if r["file"] == "1.009664-web.png")
    got, expected = read_modules(out / row["file"], row["link"])
    assert got == expected
    none = subprocess.run([sys.executable, "-m", "bot", "qr", "--out", str(out)], capture_output=True, text=True, env=env)
    assert none.returncode == 2 and "TELEGRAM_BOT_USERNAME" in none.stderr
    bad = subprocess.run(args[:8] + ["--code", "9.999999"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "9.999999" in bad.stderr


def test_web_link_opens_the_procedure_and_the_roadmap_picture_shows(browser: Any, server: str, shots: Path) -> None:  # noqa: F811
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="vi-VN")
    page = context.new_page()
    chat = Chat(page, server)
    try:
        with page.expect_response(lambda r: r.url.endswith("/api/ask"), timeout=10_000) as info:
            page.goto(server + "/?p=1.014199")
        assert json.loads(info.value.request.post_data or "{}")["text"] == "p:1.014199:procedure"
        first = chat.wait_answer(1)
        assert "1.014199" in first and "giấy phép lao động" in first.lower()
        chat.ask("lộ trình thủ tục từ đăng ký đầu tư đến khi đi vào hoạt động")
        chat.wait_answer(2)
        img = chat.bots().nth(1).locator("figure img")
        img.wait_for(state="attached", timeout=10_000)
        img.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle(), timeout=10_000)
        assert img.evaluate("i => i.naturalWidth") == 640  # drawn for a phone (test_answers_browser.py)
        assert img.get_attribute("src", timeout=5_000).endswith("/roadmap/vi/default.png")
        page.screenshot(path=str(shots / "webchat-roadmap.png"))
        assert chat.errors == [] and chat.outside == []
    finally:
        context.close()
