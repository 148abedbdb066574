"""Issue 13 on a phone, in headless Chromium at 320 and 390 px: the case question in the web chat,
the EN switch, the roadmap picture's text size, the printable checklist's width. Screenshots go
to artifacts/answers-*.png. Same Chromium and server as tests/test_webchat_browser.py (skipped
locally without them, a failure under CI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_webchat_browser import ARTIFACTS, _open, browser, server  # noqa: F401 (fixtures)

from bot.guide._picture import ROADMAP_SMALLEST_TEXT

NARROW = {"width": 320, "height": 640}
PHONE = {"width": 390, "height": 844}
IRC = "1.009664"


def _page(browser: Any, viewport: dict[str, int]) -> Any:  # noqa: F811
    context = browser.new_context(viewport=viewport, device_scale_factor=2, is_mobile=True, has_touch=True)
    return context, context.new_page()


def test_case_question_and_english_switch_in_the_web_chat(browser: Any, server: str) -> None:  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    context, chat = _open(browser, server, PHONE)
    page = chat.page
    try:
        body, data = chat.ask("hồ sơ cấp giấy chứng nhận đăng ký đầu tư cho dự án mới")
        shown = chat.wait_answer(2)
        if "Bạn muốn hỏi thủ tục nào?" in shown:  # the matcher asks which procedure: take the IRC
            chips = chat.bots().last.locator(".chip")
            index = next(i for i, b in enumerate(data["reply"]["buttons"]) if b["action"].startswith(f"p:{IRC}:"))
            body, data = chat.exchange(lambda: chips.nth(index).click())
            shown = chat.wait_answer(3)
        assert "Bạn thuộc trường hợp nào?" in shown and len(shown) <= 1200
        labels = [c.inner_text() for c in chat.bots().last.locator(".chip").all()]
        assert labels[0] == "Dự án mới, không cần chấp thuận chủ trương"
        page.screenshot(path=str(ARTIFACTS / "answers-case-question-390.png"))
        count = chat.bots().count()
        body, data = chat.exchange(lambda: chat.bots().last.locator(".chip").first.click())
        assert body["text"] == f"f:documents:{IRC}:1"
        shown = chat.wait_answer(count + 1)
        assert "Trường hợp 1/4" in shown and len(shown) <= 1200
        assert any(c.inner_text().startswith("Xem tiếp") for c in chat.bots().last.locator(".chip").all())
        # Nothing of the answer runs off a 390 px screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(ARTIFACTS / "answers-case-1-390.png"))

        # The EN switch answers in English without posting "English" as if the user typed it.
        users = page.locator("#log .msg.user").count()
        count = chat.bots().count()
        body, data = chat.exchange(lambda: page.locator("#langs [data-lang=en]").click())
        assert body["text"] == "lang:en" and data["lang"] == "en"
        chat.wait_answer(count + 1)
        assert page.locator("#log .msg.user").count() == users
        assert "English" not in [u.inner_text().split(": ")[-1] for u in page.locator("#log .msg.user").all()]
        # The case chosen is kept (the documents of case 1, now in English); "Change case" asks again.
        body, data = chat.ask(f"p:{IRC}:documents")
        assert "Case 1 of 4" in chat.wait_answer(count + 2)
        change = next(c for c in chat.bots().last.locator(".chip").all() if c.inner_text().startswith("↺"))
        body, data = chat.exchange(lambda: change.click())
        shown = chat.wait_answer(count + 3)
        assert "Which one is yours?" in shown
        assert all(not any(ch in c.inner_text() for ch in "ăâđêôơư") for c in chat.bots().last.locator(".chip").all())
        page.screenshot(path=str(ARTIFACTS / "answers-english-390.png"))
    finally:
        context.close()


def test_roadmap_picture_text_reads_at_14_px_on_a_390_px_phone(browser: Any, server: str) -> None:  # noqa: F811
    context, chat = _open(browser, server, PHONE)
    page = chat.page
    try:
        body, data = chat.ask("r:*")
        chat.wait_answer(2)
        img = chat.bots().last.locator("figure img")
        img.wait_for(state="attached", timeout=10_000)
        img.evaluate("img => img.scrollIntoView()")  # the picture loads lazily, once near the screen
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle(), timeout=10_000)
        shown, natural = img.evaluate("img => [img.getBoundingClientRect().width, img.naturalWidth]")
        assert natural == 640
        smallest = ROADMAP_SMALLEST_TEXT * shown / natural
        assert smallest >= 14, f"the picture's smallest text shows at {smallest:.1f} px"
        img.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "answers-roadmap-390.png"))
        assert "tức khoảng" in data["reply"]["text"] and "+" not in data["reply"]["image"]["caption"]
    finally:
        context.close()


def test_printable_checklist_fits_320_and_390_px(browser: Any, server: str) -> None:  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    for viewport in (NARROW, PHONE):
        for path in (f"/checklist/{IRC}", "/checklist/1.014199", "/checklist/1.014199?lang=en"):
            context, page = _page(browser, viewport)
            try:
                page.goto(server + path)
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport["width"], f"{path} is {width} px wide at {viewport['width']} px"
                # The form column is on screen: every cell's right edge within the viewport.
                right = page.evaluate("Math.max(...[...document.querySelectorAll('td')].map(td => td.getBoundingClientRect().right))")
                assert right <= viewport["width"]
                size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('td.name')).fontSize)")
                assert size >= 14
                if path == "/checklist/1.014199":
                    page.screenshot(path=str(ARTIFACTS / f"answers-checklist-{viewport['width']}.png"), full_page=True)
            finally:
                context.close()


def test_screenshots_are_kept() -> None:
    """Runs after the others in this file: the screenshots they took are there."""
    for name in ("answers-checklist-320.png", "answers-checklist-390.png"):
        path: Path = ARTIFACTS / name
        if path.exists():
            assert path.stat().st_size > 1000
