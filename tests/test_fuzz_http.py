"""Every HTTP endpoint, fuzzed: thousands of malformed request lines, paths, headers and bodies,
sent as raw bytes to the real server (web chat, JSON API, dossier routes, metrics and the
three channels' webhooks, with the right secrets too, so the adapters behind them run).
Among them the shapes of issue 15's attacks: JSON nested past any parser's limit on every
route that reads a body (with the right credentials too), other scripts' digits ("²", "١",
"０") in every path parameter, and lone surrogates and odd ids in every id a client chooses.

Never a 5xx, never an unhandled exception in any log, and the server keeps answering. The
examples are derandomized (the same every run) and bounded, so the test is deterministic.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serverthread import (
    STAFF_CHAT,
    TELEGRAM_SECRET,
    ZALO_APP_ID,
    ZALO_BOT_SECRET,
    ZALO_OA_SECRET,
    Records,
    ServerThread,
)

FUZZ = settings(
    max_examples=600, derandomize=True, deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
STATUS_RE = re.compile(rb"^HTTP/1\.[01] (\d{3})")
SYNC_TOKEN = "fuzz-sync-token"
SENT = [0]  # requests sent by this module (the README's figures)
UPDATE_IDS = [10**9]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    records = Records()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(records)
    root.setLevel(logging.INFO)
    # Limits high enough that the fuzz reaches the engine every time (test_limits covers them).
    srv = ServerThread(
        Path(tmp_path_factory.mktemp("fuzz")),
        user_messages_per_minute=1_000_000, api_requests_per_minute=1_000_000, pictures_per_minute=0,
        sync_token=SYNC_TOKEN,
    ).start()
    srv.records = records  # type: ignore[attr-defined]
    try:
        yield srv
    finally:
        srv.stop()
        root.removeHandler(records)
        root.setLevel(old_level)


def send(port: int, data: bytes, timeout: float = 10.0) -> int | None:
    """Send raw bytes, read until the server closes; the status code, or None when the server
    closed the connection without a response (what it does with some broken request lines)."""
    SENT[0] += 1
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:  # the server refused the rest of a broken request and closed
            pass
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if len(chunks) == 1 and not data.startswith(b"HEAD") and b"\r\n\r\n" in chunk and b"Connection: close" not in data:
                    break
        except (TimeoutError, ConnectionResetError):
            pass
    head = b"".join(chunks)
    m = STATUS_RE.match(head)
    return int(m.group(1)) if m else None


def request(method: str, target: str, headers: dict[str, str] | list[tuple[str, str]], body: bytes = b"") -> bytes:
    items = list(headers.items()) if isinstance(headers, dict) else list(headers)
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{k}: {v}" for k, v in items]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + body


def ok_status(status: int | None, allow_none: bool = False) -> None:
    assert status is not None or allow_none, "no HTTP response"
    assert status is None or status < 500, f"server error {status}"


# -- strategies -------------------------------------------------------------------------------

ROUTES = [
    "/", "/healthz", "/metrics", "/api/ask", "/api/dossiers", "/api/dossiers/H42.25-241105-0003",
    "/api/dossiers/%00", "/telegram/webhook", "/zalo/webhook", "/zalo-bot/webhook", "/static/app.js",
    "/static/", "/static/../_app.py", "/static/%2e%2e/%2e%2e/etc/passwd", "/nope", "//", "/api/ask/",
]
METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", "FOO"]
json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40)
# Other scripts' digits, lone surrogates, control characters, overlong: what an id must not be.
ODD_DIGITS = ["\u00b2", "\u0661", "\uff10", "\U0001d7d9", "0\u00b2", "\u0967\u0968", "\u2460"]
odd_ids = st.sampled_from(["\ud800", "\udfff", "a\x00b", "x" * 300, " ", "../x", *ODD_DIGITS]) | st.text(
    st.characters(categories=("Cs", "Nd", "No", "Cc")), min_size=1, max_size=6)
json_value = st.recursive(json_leaf, lambda c: st.lists(c, max_size=5) | st.dictionaries(st.text(max_size=10), c, max_size=5), max_leaves=20)
questions = st.sampled_from([
    "gia han gpld", "giấy phép lao động cần hồ sơ gì", "how long does a work permit take", "còn lệ phí?",
    "H42.25-241105-0003", "7KQ2PX", "f:fee:1.014199", "p:1.009664:documents", "lang:en", "menu:status",
    "dossier:sub:H42.25-241105-0003", "dossier:unsub:X", "/start", "/start p_1_009664", "/baocao",
    "/baocao 2026-10-01 2026-10-31", "/reload", "/lang", "/tracuu H42.25-241105-0003", "/help", "1", "",
]) | st.text(max_size=300)


def live_routes(server: ServerThread) -> list[str]:
    """Every route template the running app has (so routes added later are fuzzed too)."""
    assert server.app is not None
    return sorted({r.canonical for r in server.app.router.resources()})


PARAM_RE = re.compile(r"\{[^}]+\}")
param_values = st.sampled_from(["1.014199", "1.009664", "vi", "en", "H42.25-241105-0003", "0", "..", "%2e%2e", "x" * 300,
                                "%ED%A0%80", "01%C2%B2"] + [quote(d) for d in ODD_DIGITS]) | st.text(max_size=20).map(lambda t: quote(t, safe=""))


@st.composite
def paths(draw: st.DrawFn, routes: list[str] | None = None) -> str:
    base = draw(st.sampled_from(ROUTES + (routes or [])))
    base = PARAM_RE.sub(lambda _: draw(param_values), base)
    extra = draw(st.text(max_size=30))
    path = base + quote(extra, safe="/%?=&") if extra else base
    if draw(st.booleans()):
        query = "&".join(f"{quote(k)}={quote(v)}" for k, v in draw(st.dictionaries(st.text(max_size=10), st.text(max_size=30), max_size=4)).items())
        path += "?" + query
    return path


header_name = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=1, max_size=20)
header_value = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"), max_size=60)
known_headers = st.sampled_from([
    ("Content-Type", "application/json"), ("Content-Type", "text/plain"), ("Content-Type", "multipart/form-data; boundary=x"),
    ("Content-Type", "application/x-www-form-urlencoded"), ("Content-Type", "application/json; charset=latin-1"),
    ("Authorization", "Bearer nope"), ("Authorization", "Basic Zm9vOmJhcg=="), ("Authorization", "Bearer "),
    ("X-Telegram-Bot-Api-Secret-Token", TELEGRAM_SECRET), ("X-Telegram-Bot-Api-Secret-Token", "wrong"),
    ("X-Bot-Api-Secret-Token", ZALO_BOT_SECRET), ("X-ZEvent-Signature", "mac=00"), ("X-ZEvent-Signature", ""),
    ("X-Forwarded-For", "1.2.3.4, ::1, garbage"), ("Accept-Encoding", "gzip, br, zstd"), ("Accept-Language", "en"),
    ("Cookie", "a=b; c"), ("Range", "bytes=0-10"), ("Range", "bytes=-5,abc"), ("If-Modified-Since", "yesterday"),
    ("Expect", "100-continue"), ("Content-Encoding", "gzip"), ("Content-Encoding", "deflate"), ("Transfer-Encoding", "gzip"),
])
bodies = st.one_of(
    st.binary(max_size=300),
    json_value.map(lambda v: json.dumps(v).encode()),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.integers(min_value=1, max_value=3000).map(lambda n: b"[" * n),
    st.integers(min_value=1, max_value=3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.just(b'{"text": "\\ud800"}'), st.just(b"\xff\xfe{}"), st.just(b'{"text": 1e999}'),
    st.just(b'{"text": Infinity}'), st.just(b'{"text": NaN}'), st.just(b'{"text": "hi", "session": "\\ud800"}'),
)


# -- the fuzz -----------------------------------------------------------------------------------


@FUZZ
@given(data=st.data(), method=st.sampled_from(METHODS), headers=st.lists(known_headers | st.tuples(header_name, header_value), max_size=6), body=bodies)
def test_fuzz_any_route(server: ServerThread, data: st.DataObject, method: str, headers: list[tuple[str, str]], body: bytes) -> None:
    path = data.draw(paths(live_routes(server)), label="path")
    ok_status(send(server.port, request(method, path, headers, body)))


def test_every_route_is_fuzzed(server: ServerThread) -> None:
    """The fuzz draws from the live route table: nothing mounted escapes it."""
    routes = live_routes(server)
    for known in ("/api/ask", "/api/dossiers/{code}", "/telegram/webhook", "/zalo/webhook", "/zalo-bot/webhook", "/metrics"):
        assert known in routes


SESSION_RE = re.compile(r"[A-Za-z0-9_.-]{1,128}")


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(["text", "session", "lang", "other"]), json_value | questions | odd_ids, max_size=4),
       raw=st.booleans())
def test_fuzz_api_ask_fields(server: ServerThread, fields: dict[str, Any], raw: bool) -> None:
    body = json.dumps(fields if not raw else [fields]).encode()
    status = send(server.port, request("POST", "/api/ask", {"Content-Type": "application/json"}, body))
    ok_status(status)
    session = fields.get("session")
    good = (not raw and isinstance(fields.get("text"), str) and fields.get("lang") in (None, "vi", "en")
            and (session is None or isinstance(session, str) and SESSION_RE.fullmatch(session) is not None))
    assert status == (200 if good else 400), (fields, status)


ids = st.sampled_from([1, 2, STAFF_CHAT, -1001234567890, 0]) | st.integers()
telegram_user = st.fixed_dictionaries({"id": ids, "is_bot": st.booleans(), "first_name": st.text(max_size=10)},
                                      optional={"language_code": st.sampled_from(["vi", "en", "xx"])})
telegram_chat = st.fixed_dictionaries({"id": ids, "type": st.sampled_from(["private", "group", "supergroup", "channel", "weird"])})
telegram_message = st.fixed_dictionaries(
    {"message_id": st.integers(), "date": st.integers(min_value=0, max_value=2**31), "chat": telegram_chat},
    optional={"text": questions, "from": telegram_user, "sticker": json_value,
              "entities": st.just([{"type": "bot_command", "offset": 0, "length": 6}])},
)
telegram_update = st.fixed_dictionaries({"update_id": st.integers()}, optional={
    "message": telegram_message | json_value,
    "edited_message": telegram_message,
    "callback_query": st.fixed_dictionaries({"id": st.text(max_size=5), "from": telegram_user, "chat_instance": st.just("1")},
                                            optional={"data": questions, "message": telegram_message}),
}) | json_value


@FUZZ
@given(update=telegram_update)
def test_fuzz_telegram_webhook(server: ServerThread, update: Any) -> None:
    if isinstance(update, dict) and type(update.get("update_id")) is int:
        # A new update each time, so the adapters behind run (a repeated update_id is answered
        # once: test_attacks_web.py); the drawn one stays in the body's shape.
        UPDATE_IDS[0] += 1
        update["update_id"] = UPDATE_IDS[0]
    body = json.dumps(update).encode()
    status = send(server.port, request("POST", "/telegram/webhook", {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
                                                                   "Content-Type": "application/json"}, body))
    assert status == 200


zalo_event = st.fixed_dictionaries(
    {"event_name": st.sampled_from(["user_send_text", "follow", "user_send_image", "unfollow", "user_send_sticker", "oa_send_text"]) | st.text(max_size=10),
     "timestamp": st.just("now") | st.text(max_size=14)},
    optional={
        "app_id": st.sampled_from([ZALO_APP_ID, "1"]),
        "sender": st.fixed_dictionaries({"id": st.sampled_from(["6142494823000000001", "7"]) | st.text(max_size=20) | odd_ids}) | json_value,
        "recipient": json_value, "follower": st.fixed_dictionaries({"id": st.text(max_size=20) | odd_ids}) | json_value,
        "message": st.fixed_dictionaries({}, optional={"text": questions | json_value | odd_ids,
                                                       "msg_id": st.text(max_size=12) | odd_ids}) | json_value,
        "user_id_by_app": st.text(max_size=20),
    },
) | json_value


@FUZZ
@given(event=zalo_event, signed=st.booleans())
def test_fuzz_zalo_oa_webhook(server: ServerThread, event: Any, signed: bool) -> None:
    if isinstance(event, dict) and event.get("timestamp") == "now":
        event["timestamp"] = str(int(time.time() * 1000))
    raw = json.dumps(event).encode()
    ts = str(event.get("timestamp", "")) if isinstance(event, dict) else ""
    mac = hashlib.sha256(ZALO_APP_ID.encode() + raw + ts.encode() + ZALO_OA_SECRET.encode()).hexdigest() if signed else "0" * 64
    status = send(server.port, request("POST", "/zalo/webhook", {"X-ZEvent-Signature": f"mac={mac}", "Content-Type": "application/json"}, raw))
    assert status in (200, 401)
    if not signed:
        assert status == 401


zalo_bot_update = st.fixed_dictionaries(
    {"event_name": st.sampled_from(["message.text.received", "message.image.received", "message.sticker.received",
                                    "message.unsupported.received"]) | st.text(max_size=10)},
    optional={"message": st.fixed_dictionaries(
        {"chat": st.fixed_dictionaries({"id": st.text(max_size=12) | st.integers() | odd_ids},
                                       optional={"chat_type": st.sampled_from(["PRIVATE", "GROUP"]) | json_value}) | json_value},
        optional={"message_id": st.text(max_size=10) | json_value | odd_ids, "text": questions | json_value | odd_ids,
                  "date": json_value,
                  "from": st.fixed_dictionaries({"id": st.text(max_size=8)}, optional={"is_bot": json_value}) | json_value},
    ) | json_value},
)


@FUZZ
@given(update=zalo_bot_update | json_value, wrapped=st.booleans())
def test_fuzz_zalo_bot_webhook(server: ServerThread, update: Any, wrapped: bool) -> None:
    body = json.dumps({"ok": True, "result": update} if wrapped else update).encode()
    status = send(server.port, request("POST", "/zalo-bot/webhook", {"X-Bot-Api-Secret-Token": ZALO_BOT_SECRET}, body))
    assert status == 200


raw_lines = st.one_of(
    st.binary(max_size=200).map(lambda b: b + b"\r\n\r\n"),
    st.tuples(st.sampled_from([b"GET", b"POST", b"G\x00T", b""]), st.binary(max_size=60), st.sampled_from([b"HTTP/1.1", b"HTTP/9.9", b"HTTP/1.1 x", b""]))
    .map(lambda t: t[0] + b" " + t[1] + b" " + t[2] + b"\r\nHost: x\r\n\r\n"),
    st.tuples(st.sampled_from([b"Content-Length: -1", b"Content-Length: abc", b"Content-Length: 5\r\nContent-Length: 6",
                               b"Transfer-Encoding: chunked\r\nContent-Length: 3", b"Transfer-Encoding: chunked",
                               b"Transfer-Encoding: chunked, chunked", b"X: \x00", b" folded: header", b"NoColon"]),
              st.binary(max_size=40))
    .map(lambda t: b"POST /api/ask HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + t[0] + b"\r\n\r\n" + t[1] + b"\r\n0\r\n\r\n"),
)


@settings(FUZZ, max_examples=300)
@given(data=raw_lines)
def test_fuzz_raw_requests(server: ServerThread, data: bytes) -> None:
    ok_status(send(server.port, data, timeout=3.0), allow_none=True)


# -- limits on size -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/ask", "/api/dossiers", "/telegram/webhook", "/zalo/webhook", "/zalo-bot/webhook", "/healthz"])
def test_bodies_over_one_megabyte_get_413(server: ServerThread, path: str) -> None:
    big = b'{"text": "' + b"a" * (1024 * 1024) + b'"}'
    assert send(server.port, request("POST", path, {"Content-Type": "application/json"}, big)) == 413


@pytest.mark.parametrize("path", ["/api/ask", "/api/dossiers", "/telegram/webhook", "/zalo/webhook", "/zalo-bot/webhook"])
def test_chunked_bodies_over_one_megabyte_get_413(server: ServerThread, path: str) -> None:
    chunk = b"a" * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
    head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n"
            f"Authorization: Bearer x\r\nX-Telegram-Bot-Api-Secret-Token: {TELEGRAM_SECRET}\r\n"
            f"X-Bot-Api-Secret-Token: {ZALO_BOT_SECRET}\r\n\r\n").encode()
    status = send(server.port, head + body)
    # The push route refuses the wrong token first (401); the others read and refuse the body.
    assert status == (401 if path == "/api/dossiers" else 413)


def test_json_errors_are_400_with_a_short_message(server: ServerThread) -> None:
    for body in (b"{", b"[" * 100_000, b"\xff", b"[]", b'{"text": 5}', b'{"text": "x", "lang": "fr"}'):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(request("POST", "/api/ask", {"Content-Type": "application/json"}, body))
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        head, _, payload = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400"), head
        error = json.loads(payload)["error"]
        assert isinstance(error, str) and 0 < len(error) <= 80


# -- issue 15: deep JSON, other scripts' digits, odd ids -------------------------------------------


DEEP_BODIES = [b"[" * 1100, b"{" * 1100, b'{"a":' * 1100 + b"1" + b"}" * 1100, b"[" * 200_000,
               b'{"update_id": 1, "message": ' + b"[" * 1100, b'{"event_name": "user_send_text", "message": {"text": ' + b"[" * 5000]


def zalo_headers(raw: bytes, timestamp: str = "") -> dict[str, str]:
    mac = hashlib.sha256(ZALO_APP_ID.encode() + raw + timestamp.encode() + ZALO_OA_SECRET.encode()).hexdigest()
    return {"X-ZEvent-Signature": f"mac={mac}", "Content-Type": "application/json"}


@pytest.mark.parametrize("body", DEEP_BODIES, ids=lambda b: f"{b[:12]!r}x{len(b)}")
def test_deep_json_on_every_route_that_reads_a_body(server: ServerThread, body: bytes) -> None:
    """Parsed before the signature check (Zalo OA), or with the right secret: never a
    RecursionError, a 500 or a traceback; each route's normal refusal."""
    expected = {
        ("/zalo/webhook", "unsigned"): ({"X-ZEvent-Signature": "mac=" + "0" * 64}, 401),
        ("/zalo/webhook", "signed"): (zalo_headers(body), 200),
        ("/telegram/webhook", "secret"): ({"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}, 200),
        ("/telegram/webhook", "none"): ({}, 403),
        ("/zalo-bot/webhook", "secret"): ({"X-Bot-Api-Secret-Token": ZALO_BOT_SECRET}, 200),
        ("/api/ask", "open"): ({"Content-Type": "application/json"}, 400),
        ("/api/dossiers", "token"): ({"Authorization": f"Bearer {SYNC_TOKEN}"}, 400),
        ("/api/dossiers", "none"): ({}, 401),
    }
    for (path, _how), (headers, status) in expected.items():
        assert send(server.port, request("POST", path, headers, body)) == status, (path, _how)


def test_other_scripts_digits_in_every_path_parameter(server: ServerThread) -> None:
    """`isdigit()` accepts "²" (int() then fails) and "١" (int() takes it): each parameter of
    every live route gets them (alone, around ASCII digits, and a lone surrogate), the others a
    valid value; never a 5xx, and the routes that take numbers say 404."""
    valid = {"lang": "vi", "key": "01", "code": "1.014199", "case": "1"}
    routes = [r for r in live_routes(server) if PARAM_RE.search(r)]
    assert "/roadmap/{lang}/{key}.png" in routes and "/checklist/{code}/{case}" in routes
    for route in routes:
        params = PARAM_RE.findall(route)
        for odd_param in params:
            for odd in ODD_DIGITS + ["\ud800"]:
                for value in (odd, "0" + odd, odd + "1", "1.014199" + odd):
                    def fill(m: re.Match[str], value: str = value, odd_param: str = odd_param) -> str:
                        name = m.group(0)
                        if name == odd_param:
                            return quote(value, safe="", errors="surrogatepass")
                        return valid.get(name.strip("{}").split(":")[0], "x")
                    target = PARAM_RE.sub(fill, route)
                    status = send(server.port, request("GET", target, {}))
                    ok_status(status)
                    if route.startswith(("/roadmap/", "/checklist/")):
                        assert status == 404, (target, status)
    assert send(server.port, request("GET", "/api/messages?session=%ED%A0%80", {})) == 400


@pytest.mark.parametrize("odd", ["\\ud800", "\\udfff", "\\u00b2", "\\u0661", "a\\u0000b", "x" * 300, "\\ud83d\\ude00"])
def test_odd_ids_in_every_id_a_client_chooses(server: ServerThread, odd: str) -> None:
    """Session ids are validated (400); ids inside signed webhooks are acknowledged and either
    answered once or ignored, never skipping the replay check or logging an error."""
    ask = f'{{"text": "hi", "session": "{odd}"}}'.encode()
    assert send(server.port, request("POST", "/api/ask", {"Content-Type": "application/json"}, ask)) == 400
    assert send(server.port, request("GET", f"/api/messages?session={quote(odd)}", {})) == 400
    ts = str(int(time.time() * 1000))
    event = (f'{{"app_id": "{ZALO_APP_ID}", "event_name": "user_send_text", "sender": {{"id": "{odd}"}}, '
             f'"message": {{"text": "l\u1ec7 ph\u00ed", "msg_id": "{odd}"}}, "timestamp": "{ts}"}}').encode()
    for _ in range(2):
        assert send(server.port, request("POST", "/zalo/webhook", zalo_headers(event, ts), event)) == 200
    update = (f'{{"event_name": "message.text.received", "message": {{"message_id": "{odd}", "text": "hi", '
              f'"chat": {{"id": "{odd}", "chat_type": "PRIVATE"}}, "from": {{"id": "{odd}"}}}}}}').encode()
    for _ in range(2):
        assert send(server.port, request("POST", "/zalo-bot/webhook", {"X-Bot-Api-Secret-Token": ZALO_BOT_SECRET}, update)) == 200
    telegram = (f'{{"update_id": 77{len(odd)}, "message": {{"message_id": 1, "date": 0, "text": "{odd}", '
                f'"chat": {{"id": 5, "type": "private", "first_name": "{odd}"}}}}}}').encode()
    for _ in range(2):
        assert send(server.port, request("POST", "/telegram/webhook", {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}, telegram)) == 200


# -- afterwards --------------------------------------------------------------------------------------


def test_zz_server_still_answers_and_logged_no_error(server: ServerThread) -> None:
    """Runs last in this module (file order): after all of the above, the server answers and
    nothing was logged as an error (no unhandled exception in a handler or a background task)."""
    from bot.channels._telegram import TELEGRAM

    app = server.app
    assert app is not None
    server.call(lambda: app[TELEGRAM].application.update_queue.join(), timeout=120)
    for channel_key in ("zalo_oa_channel", "zalo_bot_channel"):
        channel = next(v for k, v in app.items() if getattr(k, "_name", "").endswith(channel_key))
        server.call(channel.background.idle, timeout=120)
    assert send(server.port, request("GET", "/healthz", {})) == 200
    assert send(server.port, request("POST", "/api/ask", {}, b'{"text": "gia han gpld"}')) == 200
    errors = server.records.errors()  # type: ignore[attr-defined]
    assert not errors, "\n".join(errors[:20])
    print(f"\nfuzz: {SENT[0]} requests sent, no 5xx, no error logged")
    assert len(server.fakes.calls) > 100, "the adapters behind the webhooks ran and replied"
