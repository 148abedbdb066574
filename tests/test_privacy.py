"""Privacy: nothing personal or secret in any log record (a filter, and the whole server run at
DEBUG with real personal data going through every face); conversation state kept only for
TTHC_KEEP_DAYS; `tthc-bot backup` makes a consistent copy while the database is being written."""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from serverthread import (
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    ZALO_APP_ID,
    ZALO_BOT_SECRET,
    ZALO_BOT_TOKEN,
    ZALO_OA_SECRET,
    Records,
    ServerThread,
)
from test_fuzz_http import request, send

from bot.cli import main
from bot.config import Settings
from bot.core import now_vn
from bot.logs import REDACTED, redact
from bot.server import create_app
from bot.storage import Storage
from bot.web._runtime import KEEP_SESSION_PREFIXES, prune

PHONE = "0912345678"
CCCD = "001203004567"
SECRET = "7KQ2PX"
APPLICANT = "Nguyễn Văn Riêng Tư"
EMAIL = "rieng.tu@example.vn"
SYNC_TOKEN = "push-token-XYZ123abc"
CODE = "H42.25-241105-0003"


@pytest.mark.parametrize("text, hidden", [
    ("call 0912 345 678 now", "345 678"),
    ("call 0912.345.678", "345.678"),
    ("+84912345678", "84912345678"),
    ("sđt:0912345678.", "0912345678"),
    (f"CCCD {CCCD}", CCCD),
    ("CMND 123456789,", "123456789"),
    (f"GET /api/dossiers/{CODE}?secret={SECRET}&lang=vi", SECRET),
    (f'{{"MaTraCuu": "{SECRET}", "SoDienThoai": "0912 345 678"}}', SECRET),
    ("Authorization: Bearer abc.DEF-123_x", "abc.DEF-123_x"),
    ("https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
    ("X-Telegram-Bot-Api-Secret-Token: abcdef", "abcdef"),
    ("form refresh_token=r3fr3sh&app_id=1", "r3fr3sh"),
])
def test_redaction(text: str, hidden: str) -> None:
    out = redact(text)
    assert hidden not in out and REDACTED in out


@pytest.mark.parametrize("text", [
    f"lookup {CODE}: ok", "lookup 000.00.27.H42-240312-0011: no match", "ask intent=time lang=vi matches=1 ms=0.6",
    "due 2026-02-13T10:30:00+07:00", "NgayTiepNhan 20260213103000", "outbox 12 (telegram): attempt 3 failed",
    "1.014199 1.009664 2.002731", "knowledge reloaded: 41 procedures", "127.0.0.1 \"GET /healthz HTTP/1.1\" 200 0.002s",
])
def test_ordinary_log_lines_are_kept(text: str) -> None:
    assert redact(text) == text


def test_nothing_personal_or_secret_reaches_any_log(tmp_path: Path) -> None:
    records = Records()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(records)
    root.setLevel(logging.DEBUG)
    server = ServerThread(tmp_path, sync_token=SYNC_TOKEN).start()
    try:
        port = server.port
        push = json.dumps([{"MaHoSo": CODE, "TrangThaiHoSo": 4, "NgayTiepNhan": "20241105083000",
                            "NgayHenTra": "20241119170000", "MaTraCuu": SECRET, "SoDienThoai": PHONE,
                            "ChuHoSo": APPLICANT, "Email": EMAIL, "MaTTHC": "1.014199"}]).encode()
        assert send(port, request("POST", "/api/dossiers", {"Authorization": f"Bearer {SYNC_TOKEN}",
                                                             "Content-Type": "application/json"}, push)) == 200
        assert send(port, request("GET", f"/api/dossiers/{CODE}?secret={SECRET}", {})) == 200
        assert send(port, request("GET", f"/api/dossiers/{CODE}?secret=0000", {})) == 404
        for text in (f"số của tôi là {PHONE}, CCCD {CCCD}", CODE, SECRET, "0912 345 678"):
            body = json.dumps({"text": text, "session": "s-privacy"}).encode()
            assert send(port, request("POST", "/api/ask", {"Content-Type": "application/json"}, body)) == 200
        for i, text in enumerate((f"tra cứu {CODE}", SECRET, f"gọi {PHONE}")):
            update = {"update_id": 900 + i, "message": {"message_id": i, "date": 0, "text": text,
                      "chat": {"id": 77, "type": "private"}, "from": {"id": 77, "is_bot": False, "first_name": "A"}}}
            assert send(port, request("POST", "/telegram/webhook", {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
                                      json.dumps(update).encode())) == 200
            event = {"event_name": "user_send_text", "app_id": ZALO_APP_ID, "sender": {"id": "u77"},
                     "message": {"text": text, "msg_id": f"p{i}"}, "timestamp": str(int(time.time() * 1000))}
            raw = json.dumps(event).encode()
            mac = hashlib.sha256(ZALO_APP_ID.encode() + raw + event["timestamp"].encode() + ZALO_OA_SECRET.encode()).hexdigest()
            assert send(port, request("POST", "/zalo/webhook", {"X-ZEvent-Signature": f"mac={mac}"}, raw)) == 200
            zb = {"event_name": "message.text.received", "message": {"message_id": f"z{i}", "text": text,
                  "from": {"id": "z77"}, "chat": {"id": "z77", "chat_type": "PRIVATE"}}}
            assert send(port, request("POST", "/zalo-bot/webhook", {"X-Bot-Api-Secret-Token": ZALO_BOT_SECRET},
                                      json.dumps(zb).encode())) == 200
        from bot.channels._telegram import TELEGRAM

        app = server.app
        assert app is not None
        server.call(lambda: app[TELEGRAM].application.update_queue.join())
        for key in list(app):
            channel = app[key]
            if hasattr(channel, "background"):
                server.call(channel.background.idle)
    finally:
        server.stop()
        root.removeHandler(records)
        root.setLevel(old_level)
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    text = "\n".join(formatter.format(r) for r in records.records)
    assert "lookup H42.25-241105-0003: ok" in text, "the log still says what happened"
    for leaked in (PHONE, "0912 345 678", CCCD, SECRET, APPLICANT, EMAIL, SYNC_TOKEN, TELEGRAM_TOKEN, TELEGRAM_SECRET,
                   ZALO_BOT_TOKEN, ZALO_BOT_SECRET, ZALO_OA_SECRET, "fuzz-access"):
        assert leaked not in text, f"{leaked!r} reached a log"


# -- retention ----------------------------------------------------------------------------------------


def test_old_conversations_are_pruned_but_not_the_zalo_token_chain(tmp_path: Path) -> None:
    now = now_vn()
    with Storage(tmp_path / "t.db") as storage:
        storage.save_session("tg:1", {"last": "1.014199"}, now - timedelta(days=31))
        storage.save_session("web:abc", {"lang": "en"}, now - timedelta(days=29))
        storage.save_session("seen:zalo-oa:m1", {"seen": True}, now - timedelta(days=40))
        storage.save_session(KEEP_SESSION_PREFIXES[0], {"refresh_token": "r"}, now - timedelta(days=200))
        storage.record_lookup(CODE, now - timedelta(days=2), False)
        storage.record_lookup(CODE, now - timedelta(hours=1), False)
        storage.record_unanswered(now - timedelta(days=11), "web", "câu hỏi cũ", "unknown", None)
        storage.record_unanswered(now - timedelta(days=9), "web", "câu hỏi mới", "unknown", None)
        assert prune(storage, Settings(keep_days=30, keep_questions_days=10)) == (2, 1, 1)
        assert [r["text"] for r in storage.unanswered(now - timedelta(days=60), now)] == ["câu hỏi mới"]
        assert storage.get_session("tg:1") is None and storage.get_session("seen:zalo-oa:m1") is None
        assert storage.get_session("web:abc") == {"lang": "en"}
        assert storage.get_session(KEEP_SESSION_PREFIXES[0]) == {"refresh_token": "r"}
        assert len(storage.lookup_failures(CODE, now - timedelta(days=7))) == 1


async def test_the_server_prunes_at_start(aiohttp_client: Any, tmp_path: Path) -> None:
    storage = Storage(tmp_path / "t.db")
    storage.save_session("tg:1", {"last": "1.014199"}, now_vn() - timedelta(days=8))
    await aiohttp_client(create_app(Settings(db=str(tmp_path / "t.db"), keep_days=7), storage=storage))
    for _ in range(1000):
        if storage.get_session("tg:1") is None:
            break
        await __import__("asyncio").sleep(0.01)
    assert storage.get_session("tg:1") is None


# -- backup -----------------------------------------------------------------------------------------


def test_backup_is_consistent_while_the_database_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "live.db"
    writer = Storage(db)
    for i in range(200):
        writer.save_session(f"warm:{i}", {"i": i})
    stop = threading.Event()
    written = [0]

    def write() -> None:
        # Each pair goes in one transaction: a consistent copy has both or neither.
        i = 0
        while not stop.is_set():
            with writer.transaction():
                writer.save_session(f"a:{i}", {"i": i})
                writer.save_session(f"b:{i}", {"i": i})
            i += 1
            written[0] = i

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while written[0] < 50:
            time.sleep(0.001)
        copies = [tmp_path / f"copy{n}.db" for n in range(3)]
        for copy in copies:
            assert main(["backup", str(copy), "--db", str(db)]) == 0
    finally:
        stop.set()
        thread.join()
        writer.close()
    assert "integrity ok" in capsys.readouterr().out
    for copy in copies:
        con = sqlite3.connect(copy)
        try:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            keys = {k for (k,) in con.execute("SELECT key FROM sessions")}
            version = con.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
        finally:
            con.close()
        a = {k[2:] for k in keys if k.startswith("a:")}
        b = {k[2:] for k in keys if k.startswith("b:")}
        assert a == b and len(a) >= 50
        assert {f"warm:{i}" for i in range(200)} <= keys
        assert version >= 2
    assert not list(tmp_path.glob("*.partial"))


def test_backup_refuses_a_missing_database_or_itself(tmp_path: Path) -> None:
    assert main(["backup", str(tmp_path / "x.db"), "--db", str(tmp_path / "missing.db")]) == 2
    Storage(tmp_path / "here.db").close()
    assert main(["backup", str(tmp_path / "here.db"), "--db", str(tmp_path / "here.db")]) == 2
