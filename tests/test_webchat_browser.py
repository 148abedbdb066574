"""End-to-end: the web chat in headless Chromium (Playwright) against the real server.

Needs the Python package `playwright` and a system Chromium (Debian: `apt-get install chromium`);
no browser is ever downloaded. Without them the test is skipped locally, but fails when the
environment variable CI is set, so CI cannot silently skip it. Screenshots: artifacts/webchat-*.png.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
WORK_PERMIT = "1.014199"
SERVER: dict[str, Path] = {}  # the server fixture's database, for tests that put data behind the page
PHONE = {"width": 390, "height": 844}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the browser test must run, not be skipped)", pytrace=False)
    pytest.skip(reason)


def _chromium() -> str:
    """The system Chromium: TTHC_CHROMIUM when set (and then only it), else Debian's."""
    chosen = os.environ.get("TTHC_CHROMIUM")
    candidates = [chosen] if chosen else ["/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    _unavailable(f"Chromium not found ({chosen or '/usr/bin/chromium'}): install Debian's package "
                 "(apt-get install chromium) or point TTHC_CHROMIUM at a Chromium binary")
    raise AssertionError("unreachable")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`tthc-bot serve` as a subprocess on a free local port, with a throw-away database."""
    port = _free_port()
    tmp = tmp_path_factory.mktemp("webchat")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_", "TTHC_"))}
    env.update({"TTHC_DB": str(tmp / "bot.db"), "TTHC_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"})
    SERVER["db"] = tmp / "bot.db"
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{(tmp / 'server.log').read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("server did not answer /healthz within 30 s")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install playwright; no browser download needed)")
    executable = _chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def shots() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


class Chat:
    """The page plus the /api/ask exchanges it made (request body, response JSON)."""

    def __init__(self, page: Any, base: str) -> None:
        self.page = page
        self.base = base
        self.exchanges: list[tuple[dict[str, Any], Any]] = []
        self.outside: list[str] = []
        self.errors: list[str] = []
        page.on("request", self._request)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))

    def _request(self, request: Any) -> None:
        if not request.url.startswith((self.base + "/", "data:")):
            self.outside.append(request.url)

    def bots(self) -> Any:
        return self.page.locator("#log .msg.bot")

    def wait_answer(self, count: int) -> str:
        """Wait until there are `count` bot messages; the text of the last one."""
        self.page.wait_for_function(
            "n => document.querySelectorAll('#log .msg.bot').length >= n", arg=count, timeout=10_000,
        )
        return str(self.bots().nth(count - 1).locator(".text").inner_text())

    def exchange(self, action: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Run `action` (typing, a click) and return the /api/ask request and answer it caused."""
        with self.page.expect_response(lambda r: r.url.endswith("/api/ask"), timeout=10_000) as info:
            action()
        response = info.value
        assert response.status == 200, response.text()
        body = json.loads(response.request.post_data or "{}")
        data = response.json()
        self.exchanges.append((body, data))
        return body, data

    def ask(self, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
        box = self.page.locator("#q")

        def type_and_enter() -> None:
            box.fill(text)
            box.press("Enter")

        return self.exchange(type_and_enter)


def _open(browser: Any, base: str, viewport: dict[str, int], mobile: bool = True) -> tuple[Any, Chat]:
    context = browser.new_context(
        viewport=viewport, device_scale_factor=2 if mobile else 1, is_mobile=mobile, has_touch=mobile,
        locale="vi-VN",
    )
    page = context.new_page()
    chat = Chat(page, base)
    with page.expect_response(lambda r: r.url.endswith("/api/ask"), timeout=10_000) as info:
        page.goto(base + "/")
    welcome = info.value
    assert welcome.status == 200
    assert json.loads(welcome.request.post_data or "{}")["text"] == "menu:greeting"
    chat.wait_answer(1)
    return context, chat


def test_phone_conversation_vietnamese_buttons_english(browser: Any, server: str, shots: Path) -> None:
    context, chat = _open(browser, server, PHONE)
    page = chat.page
    try:
        assert page.title() == "Trợ lý thủ tục hành chính — Ban Quản lý KCN/KKT"
        assert page.locator("html").get_attribute("lang") == "vi"
        welcome = chat.bots().first
        assert welcome.locator(".text").inner_text().strip()
        assert welcome.locator(".chip").count() > 0, "the welcome offers buttons"
        session = page.evaluate("localStorage.getItem('tthc.session')")
        assert session and 1 <= len(session) <= 128
        # The question box is labelled and on screen.
        assert page.get_by_label("Câu hỏi của bạn").is_visible()
        assert page.locator("#q").bounding_box()["y"] + 40 <= PHONE["height"]
        page.screenshot(path=str(shots / "webchat-1-welcome.png"))

        # A Vietnamese question typed without diacritics.
        body, data = chat.ask("giay phep lao dong can ho so gi")
        assert body["session"] == session and body["text"] == "giay phep lao dong can ho so gi"
        assert data["matches"] and data["matches"][0]["code"] == WORK_PERMIT
        shown = chat.wait_answer(2)
        assert "giấy phép lao động" in shown.lower()
        assert shown.strip() == data["reply"]["text"].strip()
        assert page.locator("#log .msg.user").last.inner_text().endswith("giay phep lao dong can ho so gi")
        assert page.locator("#q").input_value() == "", "the box is cleared after sending"
        # Only the last answer carries buttons; links open safely in a new tab.
        assert chat.bots().first.locator(".chip").count() == 0
        for link in chat.bots().last.locator("a").all():
            assert link.get_attribute("href").startswith(("http://", "https://"))
            assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel")
        page.screenshot(path=str(shots / "webchat-2-documents.png"))

        # Press a facet button (fee, or time): its label is the user's message, its action the text.
        chips = chat.bots().last.locator(".chip")
        labels = [c.inner_text() for c in chips.all()]
        wanted = next(i for i, label in enumerate(labels) if label.lower() in ("lệ phí", "thời gian"))
        button = data["reply"]["buttons"][wanted]
        body, data = chat.exchange(lambda: chips.nth(wanted).click())
        assert body["text"] == button["action"] and body["session"] == session
        assert data["intent"] in ("fee", "time") and data["lang"] == "vi"
        assert data["matches"][0]["code"] == WORK_PERMIT
        shown = chat.wait_answer(3)
        assert shown.strip() == data["reply"]["text"].strip()
        assert page.locator("#log .msg.user").last.inner_text().endswith(button["label"])
        page.screenshot(path=str(shots / "webchat-3-button.png"))

        # Switch to English: the switch sends lang:en, then every question carries lang=en.
        body, data = chat.exchange(lambda: page.locator("#langs [data-lang=en]").click())
        assert body["text"] == "lang:en" and body["lang"] == "en"
        assert data["lang"] == "en"
        chat.wait_answer(4)
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("#langs [data-lang=en]").get_attribute("aria-pressed") == "true"
        assert page.get_by_label("Your question").is_visible()
        body, data = chat.ask("how long does a work permit take")
        assert body["lang"] == "en"
        assert data["lang"] == "en" and data["intent"] == "time"
        assert data["matches"][0]["code"] == WORK_PERMIT
        shown = chat.wait_answer(5)
        assert "work permit" in shown.lower()
        page.screenshot(path=str(shots / "webchat-4-english.png"))

        # An on-screen keyboard taking half the screen: the question box stays in view.
        page.set_viewport_size({"width": PHONE["width"], "height": 420})
        page.locator("#q").focus()
        box = page.locator("#q").bounding_box()
        assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 420
        page.screenshot(path=str(shots / "webchat-4-keyboard.png"))
        page.set_viewport_size(PHONE)

        # Reloading keeps the session and the chosen language.
        with page.expect_response(lambda r: r.url.endswith("/api/ask")) as info:
            page.reload()
        again = json.loads(info.value.request.post_data or "{}")
        assert again["session"] == session and again["lang"] == "en"
        chat.wait_answer(1)

        assert not chat.outside, f"the page loaded outside resources: {chat.outside}"
        assert not chat.errors, f"JavaScript errors: {chat.errors}"
    finally:
        context.close()


def test_text_is_never_markup_and_errors_are_polite(browser: Any, server: str, shots: Path) -> None:
    context, chat = _open(browser, server, {"width": 320, "height": 640})
    page = chat.page
    try:
        # Nothing sticks out sideways on the narrowest phone.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        hostile = '<img src=x onerror="window.pwned=1"><b>bold</b> https://example.org/x?a=1&b=2.'
        chat.ask(hostile)
        chat.wait_answer(2)
        user = page.locator("#log .msg.user").last
        assert user.locator("img, b").count() == 0 and "<b>bold</b>" in user.inner_text()
        assert page.evaluate("window.pwned === undefined")
        link = user.locator("a")
        assert link.count() == 1 and link.get_attribute("href") == "https://example.org/x?a=1&b=2"
        assert link.get_attribute("rel") and "noopener" in link.get_attribute("rel")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        # A slow answer shows the typing indicator (announced politely), hidden again after.
        page.evaluate("""() => {
            const real = window.fetch;
            window.__realFetch = real;
            window.fetch = (...args) => new Promise((ok) => setTimeout(() => ok(real(...args)), 800));
        }""")
        page.locator("#q").fill("giấy phép lao động")
        page.locator("#q").press("Enter")
        typing = page.locator("#typing")
        typing.wait_for(state="visible", timeout=5_000)
        assert typing.get_attribute("role") == "status" and typing.inner_text().strip()
        assert page.locator("#send").get_attribute("aria-disabled") == "true"
        page.screenshot(path=str(shots / "webchat-5-typing.png"))
        chat.wait_answer(3)
        typing.wait_for(state="hidden", timeout=5_000)
        page.evaluate("() => { window.fetch = window.__realFetch; }")

        # The server unreachable: a polite message with a retry button, then the retry works.
        page.route("**/api/ask", lambda route: route.abort())
        page.locator("#q").fill("giấy phép lao động")
        page.locator("#q").press("Enter")
        error = page.locator("#log .msg.error").last
        error.wait_for(timeout=10_000)
        assert error.get_attribute("role") == "alert" and error.inner_text().strip()
        page.screenshot(path=str(shots / "webchat-6-offline.png"))
        page.unroute("**/api/ask")
        body, data = chat.exchange(lambda: error.locator(".chip").first.click())
        assert body["text"] == "giấy phép lao động" and data["matches"][0]["code"] == WORK_PERMIT
        chat.wait_answer(4)
        assert "giấy phép lao động" in chat.bots().last.inner_text().lower()

        # The server answering an error (400 / 500): a polite message, never a raw body.
        for status in (400, 500):
            page.route("**/api/ask", _fulfil(status, {"error": "boom"}))
            count = page.locator("#log .msg.error").count()
            page.locator("#q").fill("còn lệ phí?")
            page.locator("#q").press("Enter")
            page.wait_for_function("n => document.querySelectorAll('#log .msg.error').length > n", arg=count)
            text = page.locator("#log .msg.error").last.inner_text()
            assert text.strip() and "boom" not in text
            page.unroute("**/api/ask")

        # An image in the reply is shown when it has a url, and skipped without one.
        fake = {"q": "x", "lang": "vi", "intent": "procedure", "matches": [], "reply": {
            "text": "Mã QR", "buttons": [], "image": {"caption": "Mã QR nộp hồ sơ", "url": "/static/qr-test.png"}}}
        page.route("**/static/qr-test.png", lambda route: route.fulfill(status=200, content_type="image/png", body=_PNG))
        page.route("**/api/ask", lambda route: _fulfil(200, fake)(route))
        page.locator("#q").fill("mã qr")
        page.locator("#q").press("Enter")
        img = chat.bots().last.locator("img")
        img.wait_for(timeout=10_000)
        assert img.get_attribute("alt") == "Mã QR nộp hồ sơ"
        del fake["reply"]["image"]["url"]
        page.locator("#q").fill("mã qr")
        page.locator("#q").press("Enter")
        page.wait_for_function("() => document.querySelectorAll('#log .msg.bot').length >= 6")
        assert chat.bots().last.locator("img").count() == 0
        page.unroute("**/api/ask")
        page.screenshot(path=str(shots / "webchat-7-narrow.png"))

        # A session id the server refuses: the page takes a fresh one and asks again, silently.
        refused: list[str] = []

        def refuse_once(route: Any) -> None:
            if not refused:
                refused.append(json.loads(route.request.post_data or "{}")["session"])
                _fulfil(400, {"error": '"session" must be a string of 1 to 128 characters'})(route)
            else:
                route.continue_()

        page.route("**/api/ask", refuse_once)
        errors = page.locator("#log .msg.error").count()
        with page.expect_response(lambda r: r.url.endswith("/api/ask") and r.status == 200) as info:
            page.locator("#q").fill("giấy phép lao động")
            page.locator("#q").press("Enter")
        body = json.loads(info.value.request.post_data or "{}")
        data = info.value.json()
        assert refused and body["session"] != refused[0]
        assert body["session"] == page.evaluate("localStorage.getItem('tthc.session')")
        assert data["matches"][0]["code"] == WORK_PERMIT
        chat.wait_answer(7)
        assert page.locator("#log .msg.error").count() == errors
        page.unroute("**/api/ask")
        assert not chat.outside, f"the page loaded outside resources: {chat.outside}"
        assert not [e for e in chat.errors if "Failed to load resource" not in e and "ERR_FAILED" not in e]
    finally:
        context.close()


def test_keyboard_only_on_desktop(browser: Any, server: str, shots: Path) -> None:
    context, chat = _open(browser, server, {"width": 1280, "height": 800}, mobile=False)
    page = chat.page
    try:
        # The question box has the focus at start; Enter sends, Shift+Enter does not.
        assert page.evaluate("document.activeElement.id") == "q"
        page.keyboard.type("gia han gpld")
        page.keyboard.press("Shift+Enter")
        assert page.locator("#log .msg.user").count() == 0
        page.locator("#q").fill("gia han gpld")
        body, data = chat.exchange(lambda: page.keyboard.press("Enter"))
        assert data["matches"] and data["matches"][0]["code"] == "1.014201"
        chat.wait_answer(2)
        # A focused answer button is pressed with Enter; the focus comes back to the box.
        chip = chat.bots().last.locator(".chip").first
        chip.focus()
        body, data = chat.exchange(lambda: page.keyboard.press("Enter"))
        assert body["text"] == data["q"] and data["matches"][0]["code"] == "1.014201"
        chat.wait_answer(3)
        assert page.evaluate("document.activeElement.id") == "q"
        page.screenshot(path=str(shots / "webchat-8-desktop.png"))

        # "New conversation": a fresh session, an empty log and a new welcome; no follow-up context.
        old = page.evaluate("localStorage.getItem('tthc.session')")
        body, data = chat.exchange(lambda: page.locator("#reset").click())
        assert body["text"] == "menu:greeting" and body["session"] != old
        assert body["session"] == page.evaluate("localStorage.getItem('tthc.session')")
        chat.wait_answer(1)
        assert page.locator("#log .msg").count() == 1
        body, data = chat.ask("còn lệ phí?")
        assert data["matches"] == []
    finally:
        context.close()


def _fulfil(status: int, payload: dict[str, Any]) -> Any:
    """A route handler answering with `status` and the JSON `payload` (read when called)."""

    def handler(route: Any) -> None:
        route.fulfill(status=status, content_type="application/json", body=json.dumps(payload))

    return handler


# A 1x1 PNG.
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005000200c6d0a2b50000000049454e44ae426082"
)


def test_a_message_waiting_on_the_server_appears_in_the_page(browser: Any, server: str, shots: Path) -> None:
    """A staff reply (or a dossier notification) for a web-chat session waits on the server; the
    open page fetches it by itself and shows it with its buttons, once."""
    from bot.storage import Storage

    session = "w-inbox-test"
    with Storage(SERVER["db"]) as storage:
        storage.put_web_message(session, {"text": "👤 Cán bộ Ban Quản lý: Anh bổ sung lý lịch tư pháp nhé.",
                                          "buttons": [{"label": "Kết thúc", "action": "ho:end"}]})
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="vi-VN")
    context.add_init_script(f"window.localStorage.setItem('tthc.session', '{session}')")
    page = context.new_page()
    chat = Chat(page, server)
    try:
        page.goto(server + "/")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#log .msg.bot .text')].some(e => e.textContent.includes('lý lịch tư pháp'))",
            timeout=10_000,
        )
        assert page.get_by_role("button", name="Kết thúc").is_visible()
        page.screenshot(path=str(shots / "webchat-staff-reply.png"))
        with urllib.request.urlopen(f"{server}/api/messages?session={session}", timeout=5) as r:
            assert json.load(r)["messages"] == [], "the page took it: it is not shown twice"
        texts = page.locator("#log .msg.bot .text").all_inner_texts()
        assert sum("lý lịch tư pháp" in t for t in texts) == 1
        assert chat.errors == [] and chat.outside == []
    finally:
        context.close()
