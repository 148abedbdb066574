"""Notices that reach the applicant: email through a real SMTP server on loopback (aiosmtpd),
the unsubscribe link, consent (NhanThongBao), "dừng thông báo", order and fallback in the outbox."""

from __future__ import annotations

import email
import email.policy
import html
import re
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from bot.config import Settings
from bot.dossiers import Notifier, import_records
from bot.dossiers._applicant import (
    ApplicantChannels,
    EmailSender,
    is_stop_request,
    parse_smtp_url,
    stop_from_chat,
    zns_phone,
)
from bot.dossiers._notify import PermanentError
from bot.dossiers._status import STATUSES
from bot.storage import VN_TZ, Storage
from bot.web._dossiers import unsubscribe
from bot.web._keys import STORAGE

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=VN_TZ)
CODE = "H42.25-260213-0007"
#: The 9 statuses a dossier moves to after it is registered (1), as Đồng Nai's OA pushes them.
NINE = (2, 3, 4, 5, 6, 7, 8, 9, 10)


def record(status: int, code: str = CODE, **extra: Any) -> dict[str, Any]:
    return {"MaHoSo": code, "TenTTHC": "Cấp giấy phép lao động", "NgayTiepNhan": "20260213103000",
            "NgayHenTra": "20260306170000", "TrangThaiHoSo": status, "MaTraCuu": "AB12CD",
            "NoiDungBoSung": "Bản sao hộ chiếu" if status == 5 else "", **extra}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """An aiosmtpd handler keeping what it receives; refuses addresses at refused.example."""

    def __init__(self) -> None:
        self.mails: list[tuple[str, list[str], email.message.EmailMessage]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def email_settings(port: int) -> Settings:
    return Settings(smtp_url=f"smtp://127.0.0.1:{port}", mail_from="Ban Quản lý KCN <motcua@kcn.example.vn>",
                    public_url="https://bot.kcn.example.vn")


def bodies(msg: email.message.EmailMessage) -> tuple[str, str]:
    plain = msg.get_body(("plain",))
    rich = msg.get_body(("html",))
    assert plain is not None and rich is not None
    return plain.get_content(), rich.get_content()


async def test_each_status_reaches_the_applicant_by_email_once(storage: Storage, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    settings = email_settings(port)
    channels = ApplicantChannels(email=True)
    clock = Clock(T0)
    notifier = Notifier(storage, clock=clock)
    notifier.register_payload("email", EmailSender(settings, storage))
    import_records(storage, [(1, record(1, Email="chu.ho.so@example.vn"))], now=T0, applicant=channels)
    for i, status in enumerate(NINE):
        clock.now = T0 + timedelta(hours=i + 1)
        import_records(storage, [(1, record(status, Email="chu.ho.so@example.vn"))], now=clock.now, applicant=channels)
        import_records(storage, [(1, record(status, Email="chu.ho.so@example.vn"))], now=clock.now, applicant=channels)
        await notifier.deliver_once()
    await notifier.deliver_once()
    assert len(inbox.mails) == len(NINE)
    for status, (sender, rcpts, msg) in zip(NINE, inbox.mails, strict=True):
        assert sender == "motcua@kcn.example.vn" and rcpts == ["chu.ho.so@example.vn"]
        st = STATUSES[status]
        assert CODE in msg["Subject"] and st.official in msg["Subject"]
        plain, rich = bodies(msg)
        assert st.vi in plain and st.en in plain and html.escape(st.vi) in rich and html.escape(st.en) in rich
        links = re.findall(r"https://bot\.kcn\.example\.vn/unsubscribe/[A-Za-z0-9_-]+", plain)
        assert links and len(set(links)) == 1 and links[0] in rich and links[0] in msg["List-Unsubscribe"]
        if status == 5:
            assert "Bản sao hộ chiếu" in plain
    assert {d["result"] for d in storage.deliveries(CODE)} == {"sent"}
    assert len(storage.deliveries(CODE)) == len(NINE)


async def test_the_unsubscribe_link_stops_further_mails(storage: Storage, smtp: tuple[Inbox, int], aiohttp_client: Any) -> None:
    inbox, port = smtp
    channels = ApplicantChannels(email=True)
    clock = Clock(T0)
    notifier = Notifier(storage, clock=clock)
    notifier.register_payload("email", EmailSender(email_settings(port), storage))
    import_records(storage, [(1, record(1, Email="a@example.vn"))], now=T0, applicant=channels)
    import_records(storage, [(1, record(2, Email="a@example.vn"))], now=T0, applicant=channels)
    await notifier.deliver_once()
    (first,) = [m for _, _, m in inbox.mails]
    path = re.search(r"/unsubscribe/[A-Za-z0-9_-]+", bodies(first)[0])
    assert path is not None
    inbox.mails.clear()
    import_records(storage, [(1, record(4, Email="a@example.vn"))], now=T0, applicant=channels)  # queued before the click

    app = web.Application()
    app[STORAGE] = storage
    app.router.add_get("/unsubscribe/{token}", unsubscribe)
    client = await aiohttp_client(app)
    resp = await client.get(path.group(0))
    assert resp.status == 200 and "Đã dừng thông báo" in await resp.text()
    assert (await client.get("/unsubscribe/not-a-real-token-at-all-xyz")).status == 404
    assert storage.notices_stopped(CODE)

    import_records(storage, [(1, record(9, Email="a@example.vn"))], now=T0, applicant=channels)
    clock.now = T0 + timedelta(hours=1)
    await notifier.deliver_once()
    assert inbox.mails == []
    assert [r["state"] for r in storage.outbox()] == ["sent", "dead"]  # the 9 was not even queued
    assert storage.deliveries(CODE)[-1]["result"] == "stopped"


async def test_no_consent_no_mail_and_a_refused_address_is_given_up(storage: Storage, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    channels = ApplicantChannels(email=True)
    notifier = Notifier(storage, clock=Clock(T0))
    notifier.register_payload("email", EmailSender(email_settings(port), storage))
    other = "H42.25-260213-0008"
    import_records(storage, [(1, record(1, Email="a@example.vn", NhanThongBao=0)),
                             (2, record(1, other, Email="x@refused.example"))], now=T0, applicant=channels)
    import_records(storage, [(1, record(2, Email="a@example.vn")), (2, record(2, other, Email="x@refused.example"))],
                   now=T0, applicant=channels)
    assert [r["channel"] for r in storage.outbox()] == ["email"]  # consent 0 kept from the first record
    await notifier.deliver_once()
    assert inbox.mails == []
    (row,) = storage.outbox()
    assert row["state"] == "dead" and row["attempts"] == 1  # a 550 is not retried
    (attempt,) = storage.deliveries(other)
    assert attempt["result"] == "dead" and attempt["error_code"] == "550"


def test_settings_and_words() -> None:
    assert parse_smtp_url("smtps://u%40x:p%3Aw@mail.example.vn").port == 465
    s = parse_smtp_url("smtp://user:pw@mail.example.vn:2525")
    assert (s.host, s.port, s.tls, s.username, s.password) == ("mail.example.vn", 2525, False, "user", "pw")
    with pytest.raises(ValueError, match="smtp://"):
        parse_smtp_url("http://mail.example.vn")
    with pytest.raises(ValueError, match="TTHC_PUBLIC_URL"):
        ApplicantChannels.from_settings(Settings(smtp_url="smtp://h:25", mail_from="a@b.vn"))
    assert zns_phone("0912 345 678") == "84912345678" and zns_phone("+84912345678") == "84912345678"
    assert zns_phone("1234") is None
    for text in ("dừng thông báo", "Dung thong bao", "ngừng nhận thông báo!", "stop notifications", "HỦY THÔNG BÁO"):
        assert is_stop_request(text), text
    assert not is_stop_request("thông báo hồ sơ của tôi")
    assert PermanentError("x", -109).permanent


async def test_stop_from_a_chat(storage: Storage, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    channels = ApplicantChannels(email=True)
    notifier = Notifier(storage, clock=Clock(T0))
    sent: list[str] = []

    async def telegram(chat_id: str, reply: Any) -> None:
        sent.append(reply.text)

    notifier.register("telegram", telegram)
    notifier.register_payload("email", EmailSender(email_settings(port), storage))
    import_records(storage, [(1, record(1, Email="a@example.vn"))], now=T0, applicant=channels)
    storage.subscribe(CODE, "telegram", "111", "vi", T0)
    import_records(storage, [(1, record(2, Email="a@example.vn"))], now=T0, applicant=channels)
    reply = stop_from_chat(storage, ("telegram", "111"))
    assert "Đã dừng thông báo" in reply.text and CODE in reply.text
    import_records(storage, [(1, record(4, Email="a@example.vn"))], now=T0, applicant=channels)
    for _ in range(3):
        await notifier.deliver_once()
    assert sent == [] and inbox.mails == []
    assert "chưa đăng ký" in stop_from_chat(storage, ("telegram", "111")).text


async def test_a_push_with_an_email_sends_it_and_the_served_link_stops_it(
        aiohttp_client: Any, tmp_path: Any, storage: Storage, smtp: tuple[Inbox, int]) -> None:
    from bot.web._dossiers import NOTIFIER, add_routes
    from bot.web._keys import SETTINGS
    from bot.workdays import default_calendar_file

    inbox, port = smtp
    kb = tmp_path / "knowledge"
    kb.mkdir()
    (kb / "board.yaml").write_text(
        "name: Ban thử\nname_en: Test board\naddress: Số 1\nhotline: '0200 111 2222'\nemail: t@example.gov.vn\n"
        "working_hours: T2-T6\nworking_hours_en: Mon-Fri\nportal_url: https://dichvucong.gov.vn\n", encoding="utf-8")
    app = web.Application()
    app[SETTINGS] = Settings(sync_token="tok", knowledge=str(kb), calendar=str(default_calendar_file()),
                             smtp_url=f"smtp://127.0.0.1:{port}", mail_from="motcua@kcn.example.vn",
                             public_url="https://bot.kcn.example.vn")
    app[STORAGE] = storage
    add_routes(app)
    client = await aiohttp_client(app)
    auth = {"Authorization": "Bearer tok"}
    for status in (2, 5):
        resp = await client.post("/api/dossiers", json=[record(status, Email="chu.ho.so@example.vn")], headers=auth)
        assert resp.status == 200, await resp.text()
    for _ in range(50):
        if inbox.mails:
            break
        await app[NOTIFIER].deliver_once()
    ((_, rcpts, msg),) = inbox.mails
    assert rcpts == ["chu.ho.so@example.vn"] and "Bản sao hộ chiếu" in bodies(msg)[0]
    link = re.search(r"https://bot\.kcn\.example\.vn(/unsubscribe/[A-Za-z0-9_-]+)", bodies(msg)[0])
    assert link is not None
    assert (await client.get(link.group(1))).status == 200
    resp = await client.post("/api/dossiers", json=[record(9, Email="chu.ho.so@example.vn")], headers=auth)
    assert resp.status == 200 and (await resp.json())["notifications"] == 0


def test_dung_thong_bao_through_the_engine(storage: Storage) -> None:
    from bot.conversation import build_assistant

    engine = build_assistant(Settings(), storage)
    import_records(storage, [(1, record(2, Email="a@example.vn"))], now=T0)
    storage.subscribe(CODE, "telegram", "111", "vi", T0)
    answer = engine.answer("dừng thông báo", {}, None, ("telegram", "111"))
    assert "Đã dừng thông báo" in answer.reply.text and CODE in answer.reply.text
    assert storage.subscribers(CODE) == [] and storage.notices_stopped(CODE)
    other = engine.answer("Stop notifications", {}, None, ("zalo_bot", "u9"))
    assert "no dossier notifications here" in other.reply.text


def test_delivery_results_are_counted_shown_and_pruned(db_url: str, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main
    from bot.core import now_vn

    with Storage(db_url) as s:
        now = now_vn()
        s.record_delivery(now, "zns", "retry", CODE, 1, "-144", "ZnsError: quota")
        s.record_delivery(now, "zns", "sent", CODE, 1)
        s.record_delivery(now - timedelta(days=400), "email", "dead", CODE, 2, "550")
        assert [(d["channel"], d["result"], d["error_code"], d["n"]) for d in s.delivery_counts(now - timedelta(days=1))] \
            == [("zns", "retry", "-144", 1), ("zns", "sent", None, 1)]
    monkeypatch.setenv("TTHC_DB", db_url)
    assert main(["dossiers", "outbox"]) == 0
    out = capsys.readouterr().out
    assert "status notices" in out and "-144" in out and "550" not in out
    with Storage(db_url) as s:
        assert s.prune_deliveries(now_vn() - timedelta(days=180)) == 1
        assert len(s.deliveries(CODE)) == 2
