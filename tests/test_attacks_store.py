"""Attacks on the storage side that once broke the server (issue 15, items 4–10), each tried
again here: duplicate notifications from two processes, a long import freezing readers, a YAML
alias bomb, lookup secrets kept in clear, the same-second lock gap, locking the owner out, and
partial pushes wiping fields. Every test is bounded in time and asserts counts, not timings."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.config import Settings
from bot.conversation import Assistant
from bot.core import Reply, now_vn
from bot.dossiers import DossierService, Notifier, import_records
from bot.dossiers._service import MAX_CLIENT_FAILURES
from bot.guide import Guide
from bot.kb import KnowledgeBase, default_knowledge_dir, load_knowledge
from bot.storage import VN_TZ, Storage
from bot.web._dossiers import add_routes
from bot.web._keys import SETTINGS, STORAGE
from bot.workdays import WorkCalendar, default_calendar_file

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=VN_TZ)
CODE = "H42.25-260213-0001"
SECRET = "AB12CD"
PHONE_TAIL = "5678"  # of 0912345678
TOKEN = "sync-token-for-attack-tests"
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


def record(code: str = CODE, **over: Any) -> dict[str, Any]:
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
        "MaTraCuu": SECRET,
    }
    base.update(over)
    return base


@pytest.fixture
def dossiers(tmp_path: Path) -> Iterator[Storage]:
    s = Storage(tmp_path / "bot.db")
    import_records(s, [(1, record())], now=T0)
    yield s
    s.close()


@pytest.fixture
def service(dossiers: Storage, calendar: WorkCalendar) -> DossierService:
    return DossierService(dossiers, calendar, "hotline 0200 111 2222")


def make_app(tmp_path: Path, storage: Storage) -> web.Application:
    kb = tmp_path / "knowledge"
    kb.mkdir(exist_ok=True)
    (kb / "board.yaml").write_text(BOARD, encoding="utf-8")
    app = web.Application()
    app[SETTINGS] = Settings(sync_token=TOKEN, knowledge=str(kb), calendar=str(default_calendar_file()))
    app[STORAGE] = storage
    add_routes(app)
    return app


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, dossiers: Storage) -> TestClient:
    return await aiohttp_client(make_app(tmp_path, dossiers))


# -- 4. two processes on one database, a slow platform: each notification once ------------------


class SlowPlatform:
    """A chat platform that takes `seconds` to accept each message, shared by two workers."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.accepted: list[str] = []
        self.lock = threading.Lock()

    async def send(self, chat_id: str, reply: Reply) -> None:
        await asyncio.sleep(self.seconds)
        with self.lock:
            self.accepted.append(reply.text)


def _worker(db: Path, platform: SlowPlatform, lease: timedelta, done: threading.Event, errors: list[BaseException]) -> None:
    async def run() -> None:
        storage = Storage(db)
        try:
            notifier = Notifier(storage, {"telegram": platform.send}, lease=lease, send_timeout=5.0)
            deadline = time.monotonic() + 30
            while not done.is_set() and time.monotonic() < deadline:
                await notifier.deliver_once()
                await asyncio.sleep(0.02)
        finally:
            storage.close()

    try:
        asyncio.run(run())
    except BaseException as exc:  # reported by the test
        errors.append(exc)


def test_two_workers_with_a_slow_platform_deliver_each_notification_once(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    with Storage(db) as storage:
        for i in range(10):
            storage.enqueue(f"status:{i}", "telegram", "7001", {"text": f"notification {i}"}, T0)
    platform = SlowPlatform(0.3)  # ten messages: 3 s of sending, the lease is 1.5 s
    done = threading.Event()
    errors: list[BaseException] = []
    workers = [threading.Thread(target=_worker, args=(db, platform, timedelta(seconds=1.5), done, errors))
               for _ in range(2)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            with Storage(db) as storage:
                if storage.outbox_counts().get("sent", 0) == 10:
                    break
            time.sleep(0.1)
        time.sleep(2)  # longer than a lease: a row taken again would be sent again by now
    finally:
        done.set()
        for w in workers:
            w.join(15)
    assert not errors, errors
    counts = Counter(platform.accepted)
    assert sorted(counts) == [f"notification {i}" for i in range(10)], "every notification delivered"
    assert set(counts.values()) == {1}, f"delivered more than once: {counts}"
    with Storage(db) as storage:
        assert storage.outbox_counts() == {"sent": 10}


# -- 8. one right lookup, then wrong ones in the same second: still locked -----------------------


def test_one_right_lookup_then_twelve_wrong_in_the_same_second_locks_the_code(service: DossierService) -> None:
    assert service.lookup(CODE, SECRET, now=T0).ok
    results = [service.lookup(CODE, f"WRONG{i}", now=T0) for i in range(12)]
    assert not any(r.ok for r in results)
    assert [r.locked for r in results[:4]] == [False] * 4
    assert all(r.locked for r in results[4:]), "the fifth miss after the right lookup locks, same second or not"
    assert service.locked_until(CODE, now=T0) is not None
    assert service.lookup(CODE, SECRET, now=T0).locked, "the secret alone does not open a locked code"


# -- 9. the lock is on the guesser (address, chat), and the owner gets through ------------------


async def test_one_address_trying_700_codes_is_stopped_after_a_few(client: TestClient, dossiers: Storage) -> None:
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    for i in range(1, 701):
        resp = await client.get(f"/api/dossiers/H42.25-260301-{i:04d}", params={"secret": "ZZ99ZZ"})
        statuses[resp.status] += 1
        errors[(await resp.json())["error"]] += 1
    # Five secrets were tried (the fifth miss is answered "locked"), then none: 695 refused.
    assert statuses[404] == MAX_CLIENT_FAILURES - 1, statuses
    assert statuses[429] == 700 - MAX_CLIENT_FAILURES + 1 and errors["locked"] == statuses[429]
    assert len(dossiers.client_failures("ip:127.0.0.1", T0 - timedelta(days=3650))) == MAX_CLIENT_FAILURES
    # Locked for every code, the real one with its right secret included (it is the address
    # that is locked, not the codes: each was tried once).
    resp = await client.get(f"/api/dossiers/{CODE}", params={"secret": SECRET})
    assert resp.status == 429
    assert "từ đây" in (await resp.json())["message"]


def test_a_chat_guessing_codes_is_locked_for_all_codes_another_is_not(service: DossierService) -> None:
    attacker = ("telegram", "666")
    for i in range(MAX_CLIENT_FAILURES):
        r = service.lookup(f"H42.25-260301-{i:04d}", "ZZ99ZZ", now=T0 + timedelta(minutes=i), chat=attacker)
        assert not r.ok and r.locked == (i == MAX_CLIENT_FAILURES - 1)
    later = T0 + timedelta(minutes=10)
    assert service.lookup(CODE, SECRET, now=later, chat=attacker).scope == "client"
    assert service.lookup(CODE, SECRET, now=later, chat=("telegram", "7001")).ok, "other chats are not locked"
    assert service.lookup(CODE, SECRET, now=later + timedelta(minutes=20), chat=attacker).ok, "15 minutes, then free"


def _lock_code_from_many_addresses(service: DossierService, start: datetime = T0) -> None:
    for i in range(5):
        service.lookup(CODE, f"WRONG{i}", now=start + timedelta(seconds=i), address=f"198.51.100.{i}")
    assert service.locked_until(CODE, now=start + timedelta(seconds=5)) is not None


def test_a_code_attacked_from_many_addresses_is_locked_but_its_owner_gets_through(service: DossierService) -> None:
    _lock_code_from_many_addresses(service)
    now = T0 + timedelta(minutes=6)
    owner = "203.0.113.7"
    # The secret alone, even the right one, gets "locked", like a wrong one or an unknown code.
    plain = service.lookup(CODE, SECRET, now=now, address=owner)
    wrong = service.lookup(CODE, "WRONG9", now=now, address="203.0.113.8")
    assert plain.locked and not plain.ok and wrong.locked
    assert service.reply(plain).text == service.reply(wrong).text
    # The secret followed by the phone's last 4 digits: the record's second factor.
    both = service.lookup(CODE, f"{SECRET} {PHONE_TAIL}", now=now, address=owner)
    assert both.ok and both.facts is not None and both.facts.code == CODE
    # Not with someone else's digits.
    _lock_code_from_many_addresses(service)
    assert service.lookup(CODE, f"{SECRET} 1111", now=now, address="203.0.113.9").locked


def test_the_chat_subscribed_to_the_dossier_gets_through_a_locked_code(service: DossierService,
                                                                       dossiers: Storage) -> None:
    assert service.subscribe(CODE, "telegram", "7001", now=T0)
    _lock_code_from_many_addresses(service)
    now = T0 + timedelta(minutes=6)
    assert service.lookup(CODE, SECRET, now=now, chat=("telegram", "7002")).locked
    assert service.lookup(CODE, "WRONG0", now=now, chat=("telegram", "7001")).locked, "still needs the secret"
    assert service.lookup(CODE, SECRET, now=now, chat=("telegram", "7001")).ok


async def test_the_owner_gets_through_a_locked_code_over_http_with_the_phone_digits(
    client: TestClient, service: DossierService,
) -> None:
    _lock_code_from_many_addresses(service, now_vn() - timedelta(seconds=10))  # the server's clock
    resp = await client.get(f"/api/dossiers/{CODE}", params={"secret": SECRET})
    assert resp.status == 429 and "4 số cuối" in (await resp.json())["message"]
    resp = await client.get(f"/api/dossiers/{CODE}", params={"secret": SECRET, "phone": PHONE_TAIL})
    assert resp.status == 200 and (await resp.json())["code"] == CODE
    # An unknown code and a wrong secret still look the same, locked or not.
    unknown = await client.get("/api/dossiers/H42.25-260213-9999", params={"secret": SECRET})
    wrong = await client.get("/api/dossiers/H42.25-260213-0001", params={"secret": "WRONG7"})
    assert (unknown.status, await unknown.json()) == (wrong.status, await wrong.json()) == (404, await wrong.json())


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(default_knowledge_dir())


def test_a_chat_guessing_through_the_engine_is_locked(kb: KnowledgeBase, dossiers: Storage,
                                                      calendar: WorkCalendar) -> None:
    service = DossierService(dossiers, calendar, "hotline 0200 111 2222")
    engine = Assistant(kb, dossiers=service, guide=Guide(dossiers))
    texts = []
    for i in range(MAX_CLIENT_FAILURES + 2):
        state: dict[str, Any] = {}
        engine.answer(f"tra cứu hồ sơ H42.25-260301-{i:04d}", state, chat=("zalo_oa", "u-666"))
        texts.append(engine.answer("ZZ99ZZ", state, chat=("zalo_oa", "u-666")).reply.text)
    assert all("Không tìm thấy" in t for t in texts[: MAX_CLIENT_FAILURES - 1])
    assert all("từ đây" in t for t in texts[MAX_CLIENT_FAILURES:]), texts[-1]
    # The owner, on another chat, is not affected.
    state = {}
    engine.answer(f"tra cứu hồ sơ {CODE}", state, chat=("zalo_oa", "u-owner"))
    assert "Hồ sơ " + CODE in engine.answer(SECRET, state, chat=("zalo_oa", "u-owner")).reply.text


# -- 5. a long import, in this process or another, does not stop the server's reads and writes ---


def _many(n: int, prefix: str = "H42.25-260301") -> list[dict[str, Any]]:
    return [{"MaHoSo": f"{prefix}-{i:05d}", "TrangThaiHoSo": 4, "NgayTiepNhan": "20260213103000",
             "NgayHenTra": "20260306170000", "MaTraCuu": f"S{i:05d}X", "SoDienThoai": "0912345678",
             "TenTTHC": "Cấp giấy phép lao động", "PhongBanXuLy": "Phòng Quản lý Lao động"} for i in range(n)]


def test_an_in_process_push_of_5000_records_lets_reads_through(dossiers: Storage) -> None:
    rows = list(enumerate(_many(5000), start=1))
    worker = threading.Thread(target=import_records, args=(dossiers, rows), kwargs={"source": "push"})
    reads_during = 0
    worker.start()
    deadline = time.monotonic() + 120
    while worker.is_alive() and time.monotonic() < deadline:
        assert dossiers.get_dossier(CODE) is not None  # what a lookup reads
        if worker.is_alive():
            reads_during += 1
        time.sleep(0.005)
    worker.join(120)
    assert dossiers.count_dossiers() == 5001
    # One transaction for the whole push held the storage's lock throughout: no read got in.
    assert reads_during >= 10, f"only {reads_during} reads completed while the push ran"


def test_a_command_line_import_of_many_rows_lets_the_server_write(tmp_path: Path, dossiers: Storage) -> None:
    data = tmp_path / "export.json"
    data.write_text(json.dumps(_many(12000)), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "dossiers", "import", str(data), "--db", dossiers.path],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    writes_during = 0
    seen: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            n = dossiers.count_dossiers()
            if 1 < n < 12001:  # the import is under way: it has committed some rows, not all
                dossiers.save_session(f"web:s{writes_during}", {"lang": "vi"})  # what every answer writes
                writes_during += 1
                seen.append(n)
            time.sleep(0.01)
        assert proc.wait(120) == 0, proc.stderr.read().decode() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
        if proc.stderr:
            proc.stderr.close()
    assert dossiers.count_dossiers() == 12001
    # One transaction for the whole file: nothing committed, and every write of ours waiting,
    # until the end.
    assert writes_during >= 5 and len(set(seen)) >= 3, (writes_during, sorted(set(seen))[:5])


# -- 10. a partial push updates only the fields it names ---------------------------------------


async def test_a_partial_push_keeps_the_fields_it_does_not_name(client: TestClient, dossiers: Storage) -> None:
    before = dossiers.get_dossier(CODE)
    assert before is not None
    auth = {"Authorization": f"Bearer {TOKEN}"}
    partial = {"MaHoSo": CODE, "TrangThaiHoSo": 5, "NgayTiepNhan": "2026-02-13T10:30:00+07:00"}
    resp = await client.post("/api/dossiers", json=[partial], headers=auth)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["changed"] == 1
    after = dossiers.get_dossier(CODE)
    assert after is not None and after["status"] == 5
    for field in ("secret", "phone", "procedure_code", "procedure_name", "department", "applicant", "due_at"):
        assert after[field] == before[field], field
    # The owner's secret still works (it once got 404 and counted towards the lock).
    resp = await client.get(f"/api/dossiers/{CODE}", params={"secret": SECRET})
    assert resp.status == 200
    # The same partial push again changes nothing; a named empty field clears it.
    resp = await client.post("/api/dossiers", json=[partial], headers=auth)
    assert (await resp.json())["unchanged"] == 1
    resp = await client.post("/api/dossiers", json=[{**partial, "PhongBanXuLy": ""}], headers=auth)
    assert (await resp.json())["changed"] == 1
    assert dossiers.get_dossier(CODE)["department"] is None  # type: ignore[index]


def test_a_partial_import_keeps_the_fields_it_does_not_name(tmp_path: Path, dossiers: Storage) -> None:
    from bot.cli import main

    before = dossiers.get_dossier(CODE)
    assert before is not None
    data = tmp_path / "partial.csv"
    data.write_text(f"MaHoSo,TrangThaiHoSo,NgayTiepNhan\n{CODE},9,20260213103000\n", encoding="utf-8")
    assert main(["dossiers", "import", str(data), "--db", dossiers.path]) == 0
    after = dossiers.get_dossier(CODE)
    assert after is not None and after["status"] == 9
    for field in ("secret", "phone", "procedure_code", "procedure_name", "department", "applicant", "due_at"):
        assert after[field] == before[field], field
    # A partial record still has to make sense with what is stored.
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"MaHoSo": CODE, "TrangThaiHoSo": 9, "NgayTra": "20260101"}]), encoding="utf-8")
    assert main(["dossiers", "import", str(bad), "--db", dossiers.path]) == 1, "returned before it was received"


# -- 6. a YAML alias bomb in the knowledge is refused, fast and small -------------------------------


def alias_bomb(depth: int = 9, width: int = 9) -> str:
    """A few hundred bytes of YAML that expand to width**depth values (387 million here)."""
    lines = ["code: 9.999999", "name: Thủ tục bom", 'l0: &l0 ["ha", "ha", "ha", "ha", "ha", "ha", "ha", "ha", "ha"]']
    for level in range(1, depth):
        refs = ", ".join(f"*l{level - 1}" for _ in range(width))
        lines.append(f"l{level}: &l{level} [{refs}]")
    lines.append(f"cases: [*l{depth - 1}]")
    return "\n".join(lines) + "\n"


def _limit_memory() -> None:  # the child may not take the machine down if the bomb goes off
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def test_kb_check_refuses_a_yaml_alias_bomb_fast_and_names_the_file(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(default_knowledge_dir(), knowledge)
    (knowledge / "procedures" / "9.999999.yaml").write_text(alias_bomb(), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "bot", "kb", "check", str(knowledge)], capture_output=True,
                          text=True, timeout=120, env=env, preexec_fn=_limit_memory)
    assert done.returncode == 1, done.stderr[-2000:]
    problems = [line for line in done.stderr.splitlines() if "9.999999.yaml" in line]
    assert problems and "alias" in problems[0], done.stderr[-2000:]
    assert "MemoryError" not in done.stderr and "Traceback" not in done.stderr
    assert time.monotonic() - started < 60  # once 17.7 s and a MemoryError; now about a second


def test_reload_keeps_the_last_good_knowledge_when_a_file_is_an_alias_bomb(tmp_path: Path) -> None:
    import tracemalloc

    from bot.web._reload import LiveAssistant

    knowledge = tmp_path / "knowledge"
    shutil.copytree(default_knowledge_dir(), knowledge)
    live = LiveAssistant(Assistant(load_knowledge(knowledge)), lambda: Assistant(load_knowledge(knowledge)))
    before = live.current
    (knowledge / "procedures" / "9.999999.yaml").write_text(alias_bomb(), encoding="utf-8")
    tracemalloc.start()
    try:
        result = live.reload()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not result.ok
    assert any("9.999999.yaml" in p and "alias" in p for p in result.problems), result.problems
    assert live.current is before, "the last good knowledge keeps serving"
    assert peak < 300 << 20, f"{peak / 2**20:.0f} MB to refuse it"
    assert live.answer("gia hạn giấy phép lao động mất bao lâu", {}).matches


def test_the_working_day_calendar_refuses_an_alias_bomb_too(tmp_path: Path) -> None:
    from bot.workdays import CalendarError

    path = tmp_path / "calendar.yaml"
    bomb = alias_bomb().replace("code: 9.999999\nname: Thủ tục bom\n", "").replace("cases:", "days_off:")
    path.write_text(bomb, encoding="utf-8")
    with pytest.raises(CalendarError, match="alias"):
        WorkCalendar.from_yaml(path)


# -- 7. lookup secrets typed in messages are never kept in clear ------------------------------------

SENTENCES = ("mã tra cứu của tôi là DEMO39 mà tra không ra", "my lookup code is 7KQ2PX it fails")
SECRETS = ("DEMO39", "7KQ2PX", "Q7W3E9")


def _stored_texts(storage: Storage) -> str:
    """Every text the guide keeps: questions, votes, complaints, messages to staff, sessions."""
    with storage.transaction():
        tables = ("unanswered", "feedback", "complaints", "outbox", "sessions")
        rows = [list(r) for t in tables for r in storage.db.execute(f"SELECT * FROM {t}").fetchall()]
    return json.dumps(rows, ensure_ascii=False, default=str)


def test_secrets_in_questions_are_masked_in_the_log_and_the_report(kb: KnowledgeBase, dossiers: Storage) -> None:
    from bot.guide._questions import build_questions_report, questions_text

    import_records(dossiers, [(1, record("H42.25-260213-0002", MaTraCuu="Q7W3E9"))], now=T0)
    engine = Assistant(kb, guide=Guide(dossiers))
    for text in (*SENTENCES, "Q7W3E9 không dùng được"):  # the last: a known dossier's secret, alone
        assert engine.answer(text, {}, chat=("telegram", "7001")).intent == "unknown"
    today = now_vn().date()
    report = build_questions_report(dossiers, today - timedelta(days=1), today + timedelta(days=1))
    printed = questions_text(report) + json.dumps(report.to_dict(), ensure_ascii=False)
    assert report.total_unanswered == 3
    assert "mã tra cứu của tôi là [mã tra cứu]" in printed and "my lookup code is [mã tra cứu] it fails" in printed
    for secret in SECRETS:
        assert secret not in printed and secret not in _stored_texts(dossiers), secret


def test_secrets_are_masked_in_votes_complaints_and_messages_to_staff(kb: KnowledgeBase, dossiers: Storage) -> None:
    engine = Assistant(kb, guide=Guide(dossiers, staff_chat=("telegram", "-100200")))
    chat = ("telegram", "7001")
    # 👎 under an answer to a question that carried a secret
    state: dict[str, Any] = {}
    answer = engine.answer("gia hạn giấy phép lao động mất bao lâu, mã tra cứu DEMO39", state, chat=chat)
    down = [b.action for b in answer.reply.buttons if b.action.startswith("fb:-")]
    assert down, answer.reply.buttons
    engine.answer(down[0], state, chat=chat)
    # a complaint
    state = {}
    for text in ("pa:start", "pa:t:procedure", f"Tôi tra cứu hồ sơ {CODE}, {SENTENCES[1]}, xin xem giúp", "pa:skip"):
        engine.answer(text, state, chat=chat)
    # the handover to staff
    state = {}
    engine.answer("gặp cán bộ", state, chat=chat)
    assert "handover" in state
    engine.answer(SENTENCES[0], state, chat=chat)
    kept = _stored_texts(dossiers)
    votes = dossiers.feedback(T0 - timedelta(days=3650), now_vn() + timedelta(days=1))
    assert [v["vote"] for v in votes] == [-1] and "[mã tra cứu]" in votes[0]["text"]
    assert len(dossiers.complaints(T0 - timedelta(days=3650), now_vn() + timedelta(days=1))) == 1
    assert "💬" in kept and "📣" in kept, "the handed-over message and the complaint went to staff"
    assert "[mã tra cứu]" in kept and CODE in kept, "the dossier code stays for staff; the secret goes"
    for secret in SECRETS:
        assert secret not in kept, secret


async def test_a_web_visitor_changing_session_ids_is_still_locked_by_address(
    aiohttp_client: Any, tmp_path: Path, dossiers: Storage,
) -> None:
    """On the web a session id is the visitor's choice: a fresh one per guess must not reset the
    count, so web-chat lookups count against the client's address."""
    from bot.server import create_app

    dossiers.close()  # the server opens the same database file itself
    client = await aiohttp_client(create_app(Settings(db=str(tmp_path / "bot.db"), calendar=str(default_calendar_file()))))
    texts = []
    for i in range(MAX_CLIENT_FAILURES + 2):
        session = f"w-guess-{i}"
        resp = await client.post("/api/ask", json={"text": f"tra cứu hồ sơ H42.25-260301-{i:04d}", "session": session})
        assert resp.status == 200
        resp = await client.post("/api/ask", json={"text": "ZZ99ZZ", "session": session})
        texts.append((await resp.json())["reply"]["text"])
    assert all("Không tìm thấy" in t for t in texts[: MAX_CLIENT_FAILURES - 1]), texts
    assert all("từ đây" in t for t in texts[MAX_CLIENT_FAILURES:]), texts[-1]
    # The address is locked for the real dossier too, whatever session it uses.
    await client.post("/api/ask", json={"text": f"tra cứu hồ sơ {CODE}", "session": "w-new"})
    resp = await client.post("/api/ask", json={"text": SECRET, "session": "w-new"})
    assert "từ đây" in (await resp.json())["reply"]["text"]
