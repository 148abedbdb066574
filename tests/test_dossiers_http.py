"""The JSON lookup and the push API."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.config import Settings
from bot.core import Reply
from bot.storage import Storage
from bot.web._dossiers import NOTIFIER, add_routes
from bot.web._keys import SETTINGS, STORAGE
from bot.workdays import default_calendar_file

TOKEN = "sync-token-for-tests"
BOARD = """\
name: Ban Quản lý thử
name_en: Test board
address: Số 1 Đường Thử
hotline: "0200 111 2222"
email: test@example.gov.vn
working_hours: Thứ Hai – Thứ Sáu
working_hours_en: Monday to Friday
portal_url: https://dichvucong.gov.vn
one_stop_address: Trung tâm thử
"""


def record(code: str = "H42.25-260213-0001", **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "MaHoSo": code,
        "MaTTHC": "1.014199",
        "TenTTHC": "Cấp giấy phép lao động",
        "ChuHoSo": "Công ty TNHH Thử",
        "SoDienThoai": "0912345678",
        "NgayTiepNhan": "2026-02-13T10:30:00+07:00",
        "NgayHenTra": "20260306170000",
        "TrangThaiHoSo": 4,
        "PhongBanXuLy": "Phòng Quản lý Lao động",
        "MaTraCuu": "AB12CD",
    }
    base.update(over)
    return base


def make_app(tmp_path: Path, storage: Storage | None, token: str = TOKEN) -> web.Application:
    kb = tmp_path / "knowledge"
    kb.mkdir(exist_ok=True)
    (kb / "board.yaml").write_text(BOARD, encoding="utf-8")
    app = web.Application()
    app[SETTINGS] = Settings(sync_token=token, knowledge=str(kb), calendar=str(default_calendar_file()))
    if storage is not None:
        app[STORAGE] = storage
    add_routes(app)
    return app


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, storage: Storage) -> TestClient:
    return await aiohttp_client(make_app(tmp_path, storage))


AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_push_needs_the_token(client: TestClient, storage: Storage) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        resp = await client.post("/api/dossiers", json=[record()], headers=headers)
        assert resp.status == 401
    assert storage.count_dossiers() == 0


async def test_push_is_off_without_a_configured_token(aiohttp_client: Any, tmp_path: Path, storage: Storage) -> None:
    client = await aiohttp_client(make_app(tmp_path, storage, token=""))
    resp = await client.post("/api/dossiers", json=[record()], headers={"Authorization": "Bearer "})
    assert resp.status == 404
    assert storage.count_dossiers() == 0


async def test_push_imports_and_reports_rejected_rows(client: TestClient, storage: Storage) -> None:
    resp = await client.post("/api/dossiers", json=[record(), record("H42.25-260213-0002", TrangThaiHoSo=0)], headers=AUTH)
    assert resp.status == 422
    body = await resp.json()
    assert body["added"] == 1
    assert body["rejected"] == [{"row": 2, "code": "H42.25-260213-0002", "reason": body["rejected"][0]["reason"]}]
    assert "TrangThaiHoSo" in body["rejected"][0]["reason"]

    storage.subscribe("H42.25-260213-0001", "telegram", "9", "vi", datetime.now())
    resp = await client.post("/api/dossiers", json=[record(TrangThaiHoSo=9)], headers=AUTH)
    assert resp.status == 200
    body = await resp.json()
    assert (body["changed"], body["notifications"]) == (1, 1)
    # The same push again is a no-op.
    resp = await client.post("/api/dossiers", json=[record(TrangThaiHoSo=9)], headers=AUTH)
    assert (await resp.json())["unchanged"] == 1
    assert len(storage.outbox()) == 1

    for bad in ("not json", '{"MaHoSo": 1, "x": }'):
        resp = await client.post("/api/dossiers", data=bad, headers=AUTH)
        assert resp.status == 400
    resp = await client.post("/api/dossiers", json={"x": 1}, headers=AUTH)
    assert resp.status == 400


async def test_json_lookup(client: TestClient, storage: Storage, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await client.post("/api/dossiers", json=[record(), record("H42.25-260213-0003", TrangThaiHoSo=5, NoiDungBoSung="Hộ chiếu")], headers=AUTH)

    resp = await client.get("/api/dossiers/h42.25-260213-0001", params={"secret": "ab12cd"})
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "no-store"
    body = await resp.json()
    assert body["code"] == "H42.25-260213-0001"
    assert body["status"]["code"] == 4 and body["status"]["name"] == "Đang xử lý"
    assert body["due"] == "2026-03-06T17:00:00+07:00"
    assert body["department"] == "Phòng Quản lý Lao động"
    assert "overdue" in body and "next_step" in body and "Hồ sơ H42.25-260213-0001" in body["text"]
    assert "ChuHoSo" not in str(body) and "Công ty" not in str(body) and "0912" not in str(body)

    resp = await client.get("/api/dossiers/H42.25-260213-0003", params={"secret": "AB12CD", "lang": "en"})
    body = await resp.json()
    assert body["supplement"] == "Hộ chiếu" and "More papers needed" in body["text"]

    wrong = await client.get("/api/dossiers/H42.25-260213-0001", params={"secret": "nope"})
    unknown = await client.get("/api/dossiers/H42.25-260213-7777", params={"secret": "AB12CD"})
    assert wrong.status == unknown.status == 404
    assert await wrong.json() == await unknown.json()

    missing = await client.get("/api/dossiers/H42.25-260213-0001")
    assert missing.status == 400
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "AB12CD" not in logged and "ab12cd" not in logged and "0912" not in logged
    assert "secret=[redacted]" in logged


async def test_json_lookup_locks_after_five_wrong_secrets(client: TestClient) -> None:
    await client.post("/api/dossiers", json=[record()], headers=AUTH)
    statuses = []
    for i in range(6):
        resp = await client.get("/api/dossiers/H42.25-260213-0001", params={"secret": f"bad{i}"})
        statuses.append(resp.status)
    assert statuses == [404, 404, 404, 404, 429, 429]
    resp = await client.get("/api/dossiers/H42.25-260213-0001", params={"secret": "AB12CD"})
    assert resp.status == 429
    body = await resp.json()
    assert "0200 111 2222" in body["message"]


async def test_lookup_without_a_database_says_so(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await aiohttp_client(make_app(tmp_path, None))
    resp = await client.get("/api/dossiers/H42.25-260213-0001", params={"secret": "x"})
    assert resp.status == 503


async def test_server_delivers_a_pushed_status_change_through_the_subscribed_channel(
    aiohttp_client: Any, tmp_path: Path, storage: Storage
) -> None:
    app = make_app(tmp_path, storage)
    delivered = asyncio.Event()
    got: list[tuple[str, str]] = []

    async def send(chat_id: str, reply: Reply) -> None:
        got.append((chat_id, reply.text))
        delivered.set()

    app[NOTIFIER].register("telegram", send)
    client = await aiohttp_client(app)
    await client.post("/api/dossiers", json=[record()], headers=AUTH)
    storage.subscribe("H42.25-260213-0001", "telegram", "77", "vi", datetime.now())
    resp = await client.post("/api/dossiers", json=[record(TrangThaiHoSo=9)], headers=AUTH)
    assert (await resp.json())["notifications"] == 1
    await asyncio.wait_for(delivered.wait(), timeout=20)
    assert got[0][0] == "77" and "Đã xử lý xong" in got[0][1]


async def test_web_chat_user_subscribes_and_the_page_fetches_the_notification(
    aiohttp_client: Any, tmp_path: Path, storage: Storage
) -> None:
    from bot.server import create_app

    app = create_app(Settings(sync_token=TOKEN), storage=storage)
    client = await aiohttp_client(app)
    await client.post("/api/dossiers", json=[record()], headers=AUTH)

    async def ask(text: str) -> dict[str, Any]:
        resp = await client.post("/api/ask", json={"text": text, "session": "w-sub"})
        data: dict[str, Any] = await resp.json()
        return data

    await ask("H42.25-260213-0001")
    found = await ask("AB12CD")
    subscribe = [b["action"] for b in found["reply"]["buttons"] if b["action"].startswith("dossier:sub:")]
    assert subscribe == ["dossier:sub:H42.25-260213-0001"], "the web chat offers notifications too"
    done = await ask(subscribe[0])
    assert "trang này" in done["reply"]["text"]
    await client.post("/api/dossiers", json=[record(TrangThaiHoSo=9)], headers=AUTH)
    await app[NOTIFIER].deliver_once()
    # The server's own delivery loop may hold the notice at that moment: the page polls.
    for _ in range(100):
        data = await (await client.get("/api/messages", params={"session": "w-sub"})).json()
        if data["messages"]:
            break
        await asyncio.sleep(0.1)
    assert len(data["messages"]) == 1 and "Đã xử lý xong" in data["messages"][0]["text"] and data["next"] == 30
    other = await (await client.get("/api/messages", params={"session": "w-someone-else"})).json()
    assert other["messages"] == []
