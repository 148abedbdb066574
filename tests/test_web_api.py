"""The HTTP face: the chat page, static files, /healthz and POST /api/ask on the bundled knowledge.

Assertions are on behaviour (status codes, intents, procedure codes, non-empty replies), not on
wording the engine may change.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aiohttp import web

from bot.config import Settings
from bot.server import create_app

WORK_PERMIT = "1.014199"
ANSWER_KEYS = {"q", "lang", "intent", "matches", "reply"}


@pytest.fixture
def app(tmp_path: Any) -> web.Application:
    # The bundled knowledge; a database of the test's own, never the working directory's.
    return create_app(Settings(db=str(tmp_path / "test.db")))


@pytest.fixture
async def client(aiohttp_client: Any, app: web.Application) -> Any:
    return await aiohttp_client(app)


async def ask(client: Any, text: Any, **fields: Any) -> dict[str, Any]:
    resp = await client.post("/api/ask", json={"text": text, **fields})
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "application/json"
    data: dict[str, Any] = await resp.json()
    return data


def assert_answer_shape(data: dict[str, Any]) -> None:
    assert ANSWER_KEYS <= set(data)
    assert data["lang"] in ("vi", "en")
    assert isinstance(data["intent"], str) and data["intent"]
    assert isinstance(data["matches"], list)
    for m in data["matches"]:
        assert {"id", "code", "name", "score"} <= set(m)
        assert isinstance(m["score"], (int, float))
    reply = data["reply"]
    assert isinstance(reply["text"], str) and reply["text"].strip()
    assert isinstance(reply["buttons"], list)
    for b in reply["buttons"]:
        assert set(b) >= {"label", "action"} and b["label"] and b["action"]
    if "image" in reply:
        assert isinstance(reply["image"], dict)


# -- the page and static files ------------------------------------------------------------


async def test_index_serves_the_chat_page(client: Any) -> None:
    resp = await client.get("/")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    html = await resp.text()
    assert '<form class="ask" id="ask"' in html and '<textarea id="q"' in html
    assert '<label class="sr" for="q"' in html and 'aria-live="polite"' in html
    assert "/static/app.js" in html and "/static/app.css" in html
    assert "Trợ lý thủ tục hành chính — Ban Quản lý KCN/KKT" in html
    # Offline-safe: no resource from another host (no CDN, no web font).
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)


@pytest.mark.parametrize(("path", "kind"), [("/static/app.js", "javascript"), ("/static/app.css", "text/css")])
async def test_static_files_are_served(client: Any, path: str, kind: str) -> None:
    resp = await client.get(path)
    assert resp.status == 200
    assert kind in resp.content_type
    body = await resp.text()
    assert body.strip()
    for unsafe in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert unsafe not in body, f"{unsafe}: bot and user text must never be inserted as HTML"
    assert not re.search(r"@import|url\(\s*[\"']?(https?:)?//|@font-face", body), "no outside resources"


async def test_static_does_not_list_or_escape(client: Any) -> None:
    assert (await client.get("/static/")).status in (403, 404)
    assert (await client.get("/static/../_app.py")).status in (403, 404)
    assert (await client.get("/static/%2e%2e/_app.py")).status in (403, 404)


async def test_the_whole_chat_page_stays_light(client: Any) -> None:
    total = 0
    for path in ("/", "/static/app.js", "/static/app.css"):
        resp = await client.get(path)
        total += len(await resp.read())
    assert total < 30 * 1024


async def test_healthz(client: Any) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200
    data = await resp.json()
    assert data["status"] == "ok" and data["procedures"] > 0


# -- answers ------------------------------------------------------------------------------


async def test_ask_a_real_question(client: Any) -> None:
    data = await ask(client, "giay phep lao dong can ho so gi")
    assert_answer_shape(data)
    assert data["lang"] == "vi" and data["intent"] == "documents"
    assert data["matches"][0]["code"] == WORK_PERMIT
    assert data["reply"]["buttons"], "a procedure answer offers the other facets"


async def test_ask_in_english(client: Any) -> None:
    data = await ask(client, "how long does a work permit take")
    assert_answer_shape(data)
    assert data["lang"] == "en" and data["intent"] == "time"
    assert data["matches"][0]["code"] == WORK_PERMIT


async def test_the_welcome_action(client: Any) -> None:
    data = await ask(client, "menu:greeting", session="s-welcome", lang="vi")
    assert_answer_shape(data)
    assert data["intent"] == "greeting" and data["lang"] == "vi"
    assert data["reply"]["buttons"]


async def test_a_button_action_answers_its_facet(client: Any) -> None:
    first = await ask(client, "giấy phép lao động", session="s-button")
    fee = next(b for b in first["reply"]["buttons"] if b["action"].startswith("f:fee:"))
    data = await ask(client, fee["action"], session="s-button", lang="vi")
    assert data["intent"] == "fee" and data["lang"] == "vi"
    assert data["matches"][0]["code"] == WORK_PERMIT


async def test_lang_switch_action_and_forced_language(client: Any) -> None:
    data = await ask(client, "lang:en", session="s-lang", lang="en")
    assert data["lang"] == "en" and data["reply"]["text"].strip()
    data = await ask(client, "giấy phép lao động mất bao lâu", session="s-lang", lang="en")
    assert data["lang"] == "en" and data["intent"] == "time"
    assert data["matches"][0]["code"] == WORK_PERMIT


async def test_follow_up_in_the_same_session(client: Any) -> None:
    first = await ask(client, "giấy phép lao động", session="s-follow")
    code = first["matches"][0]["code"]
    assert code == WORK_PERMIT
    data = await ask(client, "còn lệ phí?", session="s-follow")
    assert data["intent"] == "fee"
    assert data["matches"] and data["matches"][0]["code"] == code
    # Another session knows nothing of that conversation.
    other = await ask(client, "còn lệ phí?", session="s-other")
    assert other["matches"] == []
    assert other["reply"]["text"].strip()
    # Nor does a request without a session.
    alone = await ask(client, "còn lệ phí?")
    assert alone["matches"] == []


async def test_sessions_are_independent(client: Any) -> None:
    await ask(client, "gia hạn giấy phép lao động", session="s-a")
    await ask(client, "giấy phép lao động", session="s-b")
    a = await ask(client, "còn lệ phí?", session="s-a")
    b = await ask(client, "còn lệ phí?", session="s-b")
    assert a["matches"][0]["code"] == "1.014201"
    assert b["matches"][0]["code"] == WORK_PERMIT


# -- bad input: 400 JSON, never 5xx -------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"\xff\xfe\x00bad utf-8", "application/json"),
        (json.dumps(["giấy phép lao động"]).encode(), "application/json"),
        (json.dumps("giấy phép lao động").encode(), "application/json"),
        (json.dumps(None).encode(), "application/json"),
        (json.dumps({}).encode(), "application/json"),
        (json.dumps({"session": "s1"}).encode(), "application/json"),
        (json.dumps({"text": None}).encode(), "application/json"),
        (json.dumps({"text": 42}).encode(), "application/json"),
        (json.dumps({"text": ["a"]}).encode(), "application/json"),
        (json.dumps({"text": {"q": "a"}}).encode(), "application/json"),
        (json.dumps({"text": "hi", "lang": "fr"}).encode(), "application/json"),
        (json.dumps({"text": "hi", "lang": 1}).encode(), "application/json"),
        (json.dumps({"text": "hi", "session": "x" * 129}).encode(), "application/json"),
        (json.dumps({"text": "hi", "session": ""}).encode(), "application/json"),
        (json.dumps({"text": "hi", "session": 7}).encode(), "application/json"),
        (b"text=hello", "application/x-www-form-urlencoded"),
    ],
    ids=[
        "invalid-json", "empty-body", "bad-utf8", "json-list", "json-string", "json-null", "missing-text",
        "only-session", "text-null", "text-number", "text-list", "text-object", "bad-lang", "lang-number",
        "session-too-long", "session-empty", "session-number", "form-encoded",
    ],
)
async def test_bad_input_is_400_json(client: Any, body: bytes, content_type: str) -> None:
    resp = await client.post("/api/ask", data=body, headers={"Content-Type": content_type})
    assert resp.status == 400
    data = await resp.json()
    assert isinstance(data.get("error"), str) and data["error"]


async def test_a_body_over_the_limit_is_413_not_5xx(client: Any) -> None:
    resp = await client.post("/api/ask", json={"text": "a" * (2 * 1024 * 1024)})
    assert resp.status == 413


async def test_ask_is_post_only(client: Any) -> None:
    resp = await client.get("/api/ask")
    assert resp.status == 405


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t  ",
        "😀🙏🎉",
        "\x00\x01\x02\x1b[31m\x7f",
        "giấy phép\x00 lao động\u200b\u202e",
        "x" * 100_000,
        "giấy phép lao động " * 6_000,
        "'; DROP TABLE procedures; --",
        "1' OR '1'='1",
        "<script>alert(1)</script>",
        "{{7*7}} ${7*7} %s %n",
        "f:fee:../../etc/passwd",
        "p:",
        "menu:",
        "lang:fr",
        "f:fee:9.999999",
        "\ud83d",
    ],
    ids=[
        "empty", "whitespace", "emoji", "control", "zero-width-and-bidi", "100kB", "100kB-words", "sql",
        "sql-or", "script", "templates", "action-path", "action-empty", "menu-empty", "lang-unknown",
        "unknown-code", "lone-surrogate",
    ],
)
async def test_odd_text_gets_a_polite_200(client: Any, text: str) -> None:
    resp = await client.post(
        "/api/ask",
        data=json.dumps({"text": text, "session": "s-odd"}),  # ensure_ascii: lone surrogates survive as \ud83d
        headers={"Content-Type": "application/json"},
    )
    assert resp.status == 200, await resp.text()
    data = await resp.json()
    assert_answer_shape(data)
    assert len(data["q"]) <= 1_000, "the question is cut before it is echoed back"


async def test_the_session_survives_odd_input(client: Any) -> None:
    await ask(client, "giấy phép lao động", session="s-survive")
    for text in ("", "😀", "'; DROP TABLE x; --"):
        await ask(client, text, session="s-survive")
    data = await ask(client, "còn lệ phí?", session="s-survive")
    assert data["intent"] == "fee" and data["matches"][0]["code"] == WORK_PERMIT


async def test_many_sessions_do_not_break_the_server(client: Any) -> None:
    for i in range(50):
        await ask(client, "giấy phép lao động", session=f"s-many-{i}")
    resp = await client.get("/healthz")
    assert resp.status == 200


async def test_pages_carry_security_headers(client: Any) -> None:
    resp = await client.get("/")
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
