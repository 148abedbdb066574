"""The staff console (/staff/): logins and the lock, the login wall over every route, CSRF,
Today, Figures (XLSX read back), Questions to teach (the bot answers after), the accounts CLI."""

from __future__ import annotations

import io
import re
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.config import Settings
from bot.console import CONSOLE
from bot.console._auth import MAX_FAILURES, check_login, hash_password
from bot.core import now_vn
from bot.dossiers._demo import fill_demo
from bot.dossiers._digest import build_digest
from bot.dossiers._report import build_report
from bot.kb import default_knowledge_dir
from bot.server import create_app
from bot.storage import Storage
from bot.workdays import WorkCalendar, default_calendar_file

PASSWORD = "mật-khẩu-đủ-dài"
DEPT = "Phòng Quản lý doanh nghiệp"
QUESTION = "chúng tôi là công ty gia đình, muốn sản xuất tất vớ ở đây thì phải bắt đầu từ giấy nào trước vậy ạ"
TAUGHT_CODE = "1.009664"


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(default_knowledge_dir(), target)
    return target


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Storage]:
    storage = Storage(tmp_path / "console.db")
    storage.add_staff("anna", hash_password(PASSWORD), "officer", DEPT, now_vn())
    storage.add_staff("boss", hash_password(PASSWORD), "admin", None, now_vn())
    yield storage
    storage.close()


@pytest.fixture
async def client(aiohttp_client: Any, knowledge: Path, db: Storage, tmp_path: Path) -> AsyncIterator[Any]:
    settings = Settings(knowledge=str(knowledge), db=str(tmp_path / "console.db"))
    yield await aiohttp_client(create_app(settings, storage=db))


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


async def login(client: Any, user: str = "anna", password: str = PASSWORD, follow: bool = False) -> Any:
    page = await client.get("/staff/login")
    assert page.status == 200
    token = csrf_of(await page.text())
    return await client.post("/staff/login", data={"username": user, "password": password, "csrf": token,
                                                   "next": "/staff/today"}, allow_redirects=follow)


async def form_token(client: Any, path: str) -> str:
    resp = await client.get(path)
    assert resp.status == 200, path
    return csrf_of(await resp.text())


async def test_every_console_route_needs_a_login(client: Any) -> None:
    console = client.app[CONSOLE]
    walked = 0
    for route in console.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix")
        assert path, info
        if "prefix" in info:  # the stylesheet: public, so the login page has its looks
            continue
        url = "/staff" + re.sub(r"\{[^}]+\}", "X", path).replace("figures.X", "figures.csv")
        if url == "/staff/login":
            continue
        resp = await client.request(route.method, url, allow_redirects=False, data={"csrf": "x"})
        if route.method in ("GET", "HEAD"):
            assert resp.status == 302, (route.method, url, resp.status)
            assert resp.headers["Location"].startswith("/staff/login"), url
        else:
            assert resp.status == 401, (route.method, url, resp.status)
        walked += 1
    assert walked >= 10
    # The prefix itself, and a path the console does not know, give nothing away either.
    for url in ("/staff/", "/staff", "/staff/nothing-here"):
        resp = await client.get(url, allow_redirects=False)
        assert resp.status in (302, 404), url
        assert "anna" not in await resp.text()


async def test_login_then_pages_and_strict_headers(client: Any) -> None:
    resp = await login(client)
    assert resp.status == 302 and resp.headers["Location"] == "/staff/today"
    page = await client.get("/staff/today")
    assert page.status == 200
    html = await page.text()
    assert "anna" in html and "Hồ sơ cần chú ý" in html
    csp = page.headers["Content-Security-Policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp and "form-action 'self'" in csp
    assert page.headers["Cache-Control"] == "no-store"
    css = await client.get("/staff/static/console.css")
    assert css.status == 200
    # An officer has no audit page; the admin does, and sees the logins there.
    assert (await client.get("/staff/audit")).status == 403
    token = csrf_of(html)
    out = await client.post("/staff/logout", data={"csrf": token}, allow_redirects=False)
    assert out.status == 302
    assert (await client.get("/staff/today", allow_redirects=False)).status == 302
    await login(client, "boss")
    audit = await client.get("/staff/audit")
    assert audit.status == 200 and "login" in await audit.text() and "anna" in await audit.text()


async def test_wrong_passwords_lock_the_account(client: Any, db: Storage) -> None:
    for _ in range(MAX_FAILURES):
        resp = await login(client, password="sai-mat-khau")
        assert resp.status == 401
    resp = await login(client)  # the right password, but locked
    assert resp.status == 401 and "khoá" in await resp.text()
    assert (await client.get("/staff/today", allow_redirects=False)).status == 302
    # Another account is not locked; 15 minutes later anna is not either.
    assert (await login(client, "boss")).status == 302
    later = now_vn() + timedelta(minutes=16)
    assert check_login(db, "anna", PASSWORD, later).account is not None
    assert check_login(db, "nobody", PASSWORD, later).account is None


async def test_forms_need_their_csrf_token(client: Any) -> None:
    page = await client.get("/staff/login")
    assert page.status == 200
    resp = await client.post("/staff/login", data={"username": "anna", "password": PASSWORD},
                             allow_redirects=False)
    assert resp.status == 403
    assert (await login(client)).status == 302
    resp = await client.post("/staff/questions/teach", data={"text": QUESTION, "code": TAUGHT_CODE, "csrf": "forged"},
                             allow_redirects=False)
    assert resp.status == 403


async def test_a_disabled_account_is_logged_out(client: Any, db: Storage) -> None:
    assert (await login(client)).status == 302
    assert (await client.get("/staff/today", allow_redirects=False)).status == 200
    db.disable_staff("anna", now_vn())
    assert (await client.get("/staff/today", allow_redirects=False)).status == 302
    assert (await login(client)).status == 401


async def test_today_lists_a_near_due_demo_dossier_with_its_history(client: Any, db: Storage, knowledge: Path) -> None:
    calendar = WorkCalendar.load(default_calendar_file())
    fill_demo(db, calendar, today=now_vn().date(), knowledge_dir=knowledge)
    digest = build_digest(db, calendar, now_vn().date(), 3)
    items = [i for g in digest.departments for i in (*g.overdue, *g.due_soon)]
    assert items, "the demo data has dossiers to watch"
    await login(client)
    html = await (await client.get("/staff/today")).text()
    for item in items:
        assert item.code in html
    mine = [g.department for g in digest.departments if g.department == DEPT]
    if mine:  # the officer's department comes first
        assert html.index(DEPT) < min(html.index(g.department) for g in digest.departments if g.department != DEPT)
    page = await client.get(f"/staff/dossier/{items[0].code}")
    assert page.status == 200
    text = await page.text()
    assert items[0].code in text and "Lịch sử trạng thái" in text
    assert len(db.status_history(items[0].code)) >= 1 and "Được tiếp nhận" in text or "Mới đăng ký" in text
    assert (await client.get("/staff/dossier/NOPE-1")).status == 404
    assert any(r["action"] == "view_dossier" for r in db.audit())


async def test_figures_export_as_xlsx_and_csv(client: Any, db: Storage, knowledge: Path) -> None:
    from openpyxl import load_workbook

    calendar = WorkCalendar.load(default_calendar_file())
    fill_demo(db, calendar, today=now_vn().date(), knowledge_dir=knowledge)
    today = now_vn().date()
    start = today.replace(day=1) - timedelta(days=60)
    report = build_report(db, start, today)
    assert report.total.received > 0
    await login(client)
    page = await client.get(f"/staff/figures?from={start}&to={today}")
    assert page.status == 200 and "Theo phòng ban" in await page.text()
    assert (await client.get("/staff/figures?from=not-a-date")).status == 200
    resp = await client.get(f"/staff/figures.xlsx?from={start}&to={today}")
    assert resp.status == 200
    assert "attachment" in resp.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(await resp.read()))
    sheet = book.active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:3] == ("Nhóm", "Tên", "Tiếp nhận")
    total = rows[2]
    assert total[0] == "Tổng" and total[2] == report.total.received and total[6] == report.total.finished_late
    departments = {r[1]: r for r in rows[3:] if r[0] == "Phòng ban"}
    assert set(departments) == set(report.by_department)
    for name, f in report.by_department.items():
        assert departments[name][2] == f.received and departments[name][8] == f.paused
    csv = await client.get(f"/staff/figures.csv?from={start}&to={today}")
    assert csv.status == 200
    body = (await csv.read()).decode("utf-8-sig")
    assert body.splitlines()[0].startswith("Nhóm,Tên,Tiếp nhận")
    assert f"Tổng,{start:%d/%m/%Y} – {today:%d/%m/%Y},{report.total.received}," in body
    assert {r["action"] for r in db.audit()} >= {"export_xlsx", "export_csv"}


async def test_teaching_a_question_makes_the_bot_answer_it(client: Any, db: Storage, knowledge: Path) -> None:
    db.record_unanswered(now_vn(), "web", QUESTION, "unknown", 0.3)
    db.record_unanswered(now_vn(), "telegram", QUESTION, "unknown", 0.3)
    before = await (await client.post("/api/ask", json={"text": QUESTION})).json()
    assert [m["code"] for m in before["matches"]][:1] != [TAUGHT_CODE] or before.get("unsure")
    await login(client)
    page = await client.get("/staff/questions")
    html = await page.text()
    assert QUESTION in html and re.search(r"[23]×", html), html
    token = csrf_of(html)
    resp = await client.post("/staff/questions/teach", data={"text": QUESTION, "code": "1.000000",
                                                             "other_code": TAUGHT_CODE, "csrf": token})
    assert resp.status == 200
    html = await resp.text()
    assert "Đã nạp lại kiến thức" in html, html
    assert QUESTION not in html  # the list shrinks as staff teach
    assert QUESTION in (knowledge / "procedures" / f"{TAUGHT_CODE}.yaml").read_text(encoding="utf-8")
    after = await (await client.post("/api/ask", json={"text": QUESTION})).json()
    assert [m["code"] for m in after["matches"]][:1] == [TAUGHT_CODE]
    teach = db.audit(action="teach")
    assert teach and teach[0]["username"] == "anna" and QUESTION in teach[0]["detail"]
    # An unknown procedure is refused, and said so.
    resp = await client.post("/staff/questions/teach", data={"text": "câu khác", "code": "9.999999", "csrf": token})
    assert "9.999999" in await resp.text()


def test_staff_accounts_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    db_path = tmp_path / "cli.db"
    monkeypatch.setenv("TTHC_DB", str(db_path))
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["staff", "add", "chi", "--role", "officer", "--department", DEPT]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["staff", "add", "chi", "--role", "admin"]) == 1
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["staff", "passwd", "chi"]) == 2
    with Storage(db_path) as storage:
        account = storage.staff_account("chi")
        assert account is not None and account["role"] == "officer" and account["department"] == DEPT
        assert account["password_hash"].startswith("$argon2id$") and PASSWORD not in account["password_hash"]
        assert check_login(storage, "chi", PASSWORD, now_vn()).account is not None
    monkeypatch.setattr(sys, "stdin", io.StringIO("một-mật-khẩu-mới\n"))
    assert main(["staff", "passwd", "chi"]) == 0
    assert main(["staff", "disable", "chi"]) == 0
    assert main(["staff", "disable", "nobody"]) == 1
    assert main(["staff", "list"]) == 0
    assert "disabled" in capsys.readouterr().out
    with Storage(db_path) as storage:
        assert check_login(storage, "chi", "một-mật-khẩu-mới", now_vn()).account is None
        assert [r["action"] for r in storage.audit()][:3] == ["staff_disable", "staff_passwd", "staff_add"]


@pytest.fixture
async def staffed(aiohttp_client: Any, knowledge: Path, db: Storage, tmp_path: Path) -> AsyncIterator[Any]:
    """The console with a staff chat for handovers (messages to users go through the outbox)."""
    settings = Settings(knowledge=str(knowledge), db=str(tmp_path / "console.db"), handover_chat="telegram:-100777")
    yield await aiohttp_client(create_app(settings, storage=db))


async def web_messages(client: Any, session: str, seconds: float = 15.0) -> list[dict[str, Any]]:
    """The messages waiting for a web-chat session, once the outbox delivered them."""
    import asyncio

    for _ in range(int(seconds * 10)):
        resp = await client.get(f"/api/messages?session={session}")
        assert resp.status == 200
        found = (await resp.json()).get("messages") or []
        if found:
            return list(found)
        await asyncio.sleep(0.1)
    return []


async def test_a_complaint_goes_received_processing_answered_closed(staffed: Any, db: Storage) -> None:
    client = staffed
    ref = db.add_complaint("PA-261201-", now_vn(), "web", "sess-pa", "vi", "delay", "Hồ sơ của tôi chậm quá", None)
    await login(client)
    html = await (await client.get("/staff/complaints")).text()
    assert ref in html and "Đã tiếp nhận" in html
    token = csrf_of(html)
    url = f"/staff/complaints/{ref}"
    assert (await client.post(url, data={"csrf": token, "status": "closed"})).status == 200  # not from "new"
    assert db.complaint(ref)["status"] == "new"
    await client.post(url, data={"csrf": token, "status": "processing"})
    assert db.complaint(ref)["status"] == "processing"
    resp = await client.post(url, data={"csrf": token, "status": "answered", "answer": "Hồ sơ đã được giải quyết hôm nay."})
    assert "Đã gửi câu trả lời" in await resp.text()
    assert db.complaint(ref)["status"] == "answered"
    messages = await web_messages(client, "sess-pa")  # the outbox delivered it to the web chat
    assert messages and ref in messages[-1]["text"] and "giải quyết hôm nay" in messages[-1]["text"]
    # The owner asks about it: answered.
    told = await (await client.post("/api/ask", json={"text": ref, "session": "sess-pa"})).json()
    assert "đã được trả lời" in told["reply"]["text"]
    await client.post(url, data={"csrf": token, "status": "closed"})
    assert db.complaint(ref)["status"] == "closed"
    assert {r["action"] for r in db.audit()} >= {"complaint_processing", "complaint_answered", "complaint_closed"}


async def test_a_handed_over_web_conversation_is_answered_from_the_console(staffed: Any, db: Storage) -> None:
    client = staffed
    resp = await client.post("/api/ask", json={"text": "gặp cán bộ", "session": "sess-ho"})
    assert resp.status == 200 and "cán bộ" in (await resp.json())["reply"]["text"]
    await login(client)
    html = await (await client.get("/staff/conversations")).text()
    found = re.search(r"#(U[0-9a-f]{10})", html)
    assert found and "Đang chờ" in html and "sess-ho" not in html
    ticket = found.group(1)
    token = csrf_of(html)
    resp = await client.post(f"/staff/conversations/{ticket}", data={"csrf": token, "text": "Chào anh, tôi nghe đây."})
    assert "Đã gửi trả lời" in await resp.text()
    messages = await web_messages(client, "sess-ho")  # the reply arrives in the web chat
    assert messages and "tôi nghe đây" in messages[-1]["text"]
    assert "Đang trả lời" in await (await client.get("/staff/conversations")).text()
    await client.post("/api/ask", json={"text": "kết thúc", "session": "sess-ho"})
    html = await (await client.get("/staff/conversations")).text()
    assert "Đã kết thúc" in html
    resp = await client.post(f"/staff/conversations/{ticket}", data={"csrf": token, "text": "còn đó không?"})
    assert "đã kết thúc" in await resp.text()


def test_the_staff_repository_on_each_database(storage: Storage) -> None:
    """Accounts, logins, the audit, server secrets and complaint moves, on SQLite and PostgreSQL."""
    at = now_vn()
    assert storage.add_staff("lan", hash_password(PASSWORD), "officer", DEPT, at)
    assert not storage.add_staff("lan", hash_password(PASSWORD), "admin", None, at)
    assert [a["username"] for a in storage.staff_accounts()] == ["lan"]
    for n in range(MAX_FAILURES):
        assert check_login(storage, "lan", "sai-mat-khau", at + timedelta(seconds=n)).account is None
    assert check_login(storage, "lan", PASSWORD, at + timedelta(seconds=10)).account is None  # locked
    assert check_login(storage, "lan", PASSWORD, at + timedelta(minutes=16)).account is not None
    assert storage.staff_login_failures("lan", at - timedelta(hours=1)) == []  # counted from the last success
    assert storage.disable_staff("lan", at) and not storage.disable_staff("nobody", at)
    assert check_login(storage, "lan", PASSWORD, at + timedelta(minutes=17)).account is None
    assert storage.set_staff_password("lan", hash_password("mới-mật-khẩu-1"), at)
    assert check_login(storage, "lan", "mới-mật-khẩu-1", at + timedelta(minutes=18)).account is not None
    storage.add_audit(at, "lan", "teach", "1.009664\tcâu hỏi")
    storage.add_audit(at, "lan", "login", "127.0.0.1")
    assert [r["action"] for r in storage.audit()] == ["login", "teach"]
    assert [r["detail"] for r in storage.audit(action="teach")] == ["1.009664\tcâu hỏi"]
    first = storage.server_secret("k", "one", at)
    assert first == "one" and storage.server_secret("k", "two", at) == "one"
    ref = storage.add_complaint("PA-261201-", at, "web", "s", "vi", "other", "text", None)
    assert not storage.set_complaint_status(ref, "closed", ("answered",))
    assert storage.set_complaint_status(ref, "processing", ("new",))
    assert [c["ref"] for c in storage.staff_complaints(at + timedelta(days=1))] == [ref]
    assert storage.set_complaint_status(ref, "closed", ("processing",))
    assert storage.staff_complaints(at + timedelta(days=1)) == []
    storage.link_handover("telegram", "-1", "U0123456789", "web", "s", at)
    assert [r["message_id"] for r in storage.handover_chats(at - timedelta(days=1))] == ["U0123456789"]


async def test_knowledge_health_lists_a_broken_file_and_reloads(client: Any, knowledge: Path, db: Storage) -> None:
    await login(client, "boss")
    html = await (await client.get("/staff/knowledge")).text()
    assert "thủ tục đang dùng" in html and "Các tệp kiến thức hợp lệ" in html
    path = knowledge / "procedures" / "2.001955.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("unit: working_days", "unit: weeks", 1), encoding="utf-8")
    html = await (await client.get("/staff/knowledge")).text()
    assert "2.001955.yaml" in html and "unit" in html
    resp = await client.post("/staff/knowledge/reload", data={"csrf": csrf_of(html)})
    assert "Không nạp lại được" in await resp.text()
    assert db.audit(action="reload")[0]["username"] == "boss"
    await client.post("/staff/logout", data={"csrf": csrf_of(html)})
    await login(client)  # an officer sees the health, and cannot reload
    html = await (await client.get("/staff/knowledge")).text()
    assert "Nạp lại kiến thức" not in html
    assert (await client.post("/staff/knowledge/reload", data={"csrf": csrf_of(html)})).status == 403


DOWN_QUESTION = "công ty tôi muốn làm nhà máy đóng giày trong khu công nghiệp thì xin cái gì"


async def test_a_thumbs_down_answer_is_listed_with_its_procedure_and_taught(client: Any, db: Storage,
                                                                             knowledge: Path) -> None:
    before = await (await client.post("/api/ask", json={"text": DOWN_QUESTION})).json()
    answered = [m["code"] for m in before["matches"]][:1] or ["1.000000"]
    db.add_feedback(now_vn(), "web", -1, "procedure", answered[0], DOWN_QUESTION)
    db.add_feedback(now_vn(), "web", -1, "procedure", answered[0], None)  # no question: nothing to teach
    db.add_feedback(now_vn(), "web", 1, "procedure", answered[0], "cảm ơn")
    await login(client)
    html = await (await client.get("/staff/questions")).text()
    assert "bị đánh giá 👎" in html and "2 lượt 👎 (👍: 1), 1 nhóm" in html, html
    section = html[html.index('id="thumbs-down"'):]
    assert DOWN_QUESTION in section and f"Bot đã trả lời bằng: {answered[0]}" in section
    assert section.count('type="radio"') >= 1  # the bot's best guesses, to pick from
    resp = await client.post("/staff/questions/teach", data={"text": DOWN_QUESTION, "other_code": TAUGHT_CODE,
                                                             "csrf": csrf_of(html)})
    html = await resp.text()
    assert "Đã nạp lại kiến thức" in html, html
    section = html[html.index('id="thumbs-down"'):]
    assert DOWN_QUESTION not in section and "0 nhóm cần xem lại" in section  # the list shrinks
    assert DOWN_QUESTION in (knowledge / "procedures" / f"{TAUGHT_CODE}.yaml").read_text(encoding="utf-8")
    after = await (await client.post("/api/ask", json={"text": DOWN_QUESTION})).json()
    assert [m["code"] for m in after["matches"]][:1] == [TAUGHT_CODE]


async def test_figures_charts_are_pngs_behind_the_login_cached_per_period(client: Any, db: Storage,
                                                                          knowledge: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.guide._charts as charts
    from bot.console._pages import CHARTS

    calendar = WorkCalendar.load(default_calendar_file())
    fill_demo(db, calendar, today=now_vn().date(), knowledge_dir=knowledge)
    today = now_vn().date()
    url = f"/staff/figures/ho-so-theo-thang.png?from={today.replace(day=1)}&to={today}"
    resp = await client.get(url, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"].startswith("/staff/login")
    assert not (await resp.read()).startswith(b"\x89PNG")
    drawn: list[int] = []
    real = charts.chart_pngs

    def counting(*args: Any, **kwargs: Any) -> dict[str, bytes]:
        drawn.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(charts, "chart_pngs", counting)
    await login(client)
    html = await (await client.get("/staff/figures")).text()
    assert 'src="/staff/figures/ho-so-theo-thang.png?from=' in html and "tam-dung-bo-sung-theo-thang.png" in html
    resp = await client.get(url)
    assert resp.status == 200 and resp.content_type == "image/png"
    assert (await resp.read()).startswith(b"\x89PNG\r\n\x1a\n")
    other = await client.get(url.replace("ho-so-theo-thang", "tam-dung-bo-sung-theo-thang"))
    assert other.status == 200 and (await other.read()).startswith(b"\x89PNG")
    assert len(drawn) == 1  # both charts of a period drawn once
    assert (await client.get(f"/staff/figures/ho-so-theo-thang.png?from={today - timedelta(days=90)}&to={today}")).status == 200
    assert len(drawn) == 2 and len(client.app[CONSOLE][CHARTS]) == 2  # another period, drawn apart
    assert (await client.get("/staff/figures/nothing.png")).status == 404
    await client.post("/staff/logout", data={"csrf": csrf_of(html)})
    resp = await client.get(url, allow_redirects=False)
    assert resp.status == 302  # the cached image is not served without a login either


async def test_the_conversations_queue_shows_the_office_hours(staffed: Any, db: Storage,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime

    import bot.console._pages as pages
    import bot.guide._service as service
    from bot.storage import VN_TZ

    client = staffed
    saturday = datetime(2026, 12, 5, 10, 0, tzinfo=VN_TZ)  # a Saturday; Monday 7 December is a working day
    monkeypatch.setattr(service, "now_vn", lambda: saturday)
    monkeypatch.setattr(pages, "now", lambda: saturday + timedelta(minutes=5))
    told = await (await client.post("/api/ask", json={"text": "gặp cán bộ", "session": "sess-sat"})).json()
    assert "ngoài giờ làm việc" in told["reply"]["text"] and "07:30 Thứ Hai 07/12/2026" in told["reply"]["text"]
    await login(client)
    html = await (await client.get("/staff/conversations")).text()
    assert "Giờ làm việc: " in html and "7:30" in html
    assert "Ngoài giờ làm việc</b>: người dùng được hẹn cán bộ trả lời từ 07:30 Thứ Hai 07/12/2026" in html, html
    assert "đã hẹn trả lời từ 07:30 Thứ Hai 07/12/2026" in html  # the waiting conversation, as its user was told
    monkeypatch.setattr(pages, "now", lambda: datetime(2026, 12, 7, 9, 0, tzinfo=VN_TZ))
    html = await (await client.get("/staff/conversations")).text()
    assert "Đang trong giờ làm việc" in html and "Ngoài giờ làm việc</b>" not in html
