"""Notices to the applicant on Zalo: ZNS to the dossier's phone and OA transaction messages to a
follower outside the consultation window, against a local fake of the OA API, the OAuth token
endpoint and the ZNS API (only HTTP is faked). The fake checks the documented request shapes and
answers with Zalo's documented errors: an expired token (-124 for ZNS, -216 for the OA API), an
unknown template (-109), template data that does not fit (-112), a spent daily quota (-144), a
consultation message outside the window (-230), a transaction message to a non-follower (-213)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from test_applicant_notices import NINE, Clock, Inbox, email_settings, record
from test_applicant_notices import smtp as smtp  # noqa: F401 (the fixture)

from bot.channels._sessions import Conversations
from bot.channels._zalo_oa import ZaloOAChannel
from bot.channels._zns import ZnsSender, load_templates, parse_templates
from bot.config import Settings
from bot.dossiers import Notifier, import_records
from bot.dossiers._applicant import ApplicantChannels, EmailSender
from bot.dossiers._staff import StaffCommands
from bot.dossiers._status import STATUSES
from bot.storage import VN_TZ, Storage

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=VN_TZ)
CODE = "H42.25-260213-0007"
PHONE = "0912345678"
FOLLOWER = "6142494823000000001"
APP_SECRET = "app-secret-Qp02z"
TEMPLATES = {"statuses": {s: {"template_id": str(300000 + s), "params": {
    "ma_ho_so": "code", "trang_thai": "status", "ngay": "date", "noi_dung": {"field": "supplement", "max": 200}}}
    for s in NINE}}
TRANSACTION_TYPES = {"transaction_order", "transaction_billing", "transaction_booking", "transaction_contract",
                     "transaction_event", "transaction_transaction", "transaction_account", "transaction_membership"}


class FakeZalo:
    """OA API (message/cs, message/transaction), OAuth refresh, ZNS message/template."""

    def __init__(self) -> None:
        self.valid_access = "fresh-access"
        self.refresh_token = "refresh-0"
        self.followers = {FOLLOWER}
        self.silent: set[str] = set()  # users outside the consultation window
        self.templates = {t["template_id"]: set(t["params"]) for t in TEMPLATES["statuses"].values()}
        self.quota = 1000
        self.cs: list[dict[str, Any]] = []
        self.transactions: list[dict[str, Any]] = []
        self.zns: list[dict[str, Any]] = []
        self.refreshes = 0
        self.refused: list[int] = []
        self.app = web.Application()
        self.app.router.add_post("/v3.0/oa/message/cs", self.message_cs)
        self.app.router.add_post("/v3.0/oa/message/transaction", self.message_transaction)
        self.app.router.add_post("/v4/oa/access_token", self.access_token)
        self.app.router.add_post("/message/template", self.zns_template)

    def _error(self, code: int, message: str) -> web.Response:
        self.refused.append(code)
        return web.json_response({"error": code, "message": message})

    async def message_cs(self, request: web.Request) -> web.Response:
        if request.headers.get("access_token") != self.valid_access:
            return self._error(-216, "Access token is invalid")
        body = await request.json()
        user = body["recipient"]["user_id"]
        if user in self.silent:
            return self._error(-230, "User has not interacted with the OA in the past 7 days")
        if user not in self.followers:
            return self._error(-213, "User has not followed the OA")
        assert 1 <= len(body["message"]["text"]) <= 2000
        self.cs.append(body)
        return web.json_response({"error": 0, "message": "Success", "data": {"message_id": f"cs{len(self.cs)}"}})

    async def message_transaction(self, request: web.Request) -> web.Response:
        if request.headers.get("access_token") != self.valid_access:
            return self._error(-216, "Access token is invalid")
        body = await request.json()
        user = body.get("recipient", {}).get("user_id")
        attachment = body.get("message", {}).get("attachment", {})
        payload = attachment.get("payload", {})
        elements = payload.get("elements")
        if attachment.get("type") != "template" or payload.get("template_type") not in TRANSACTION_TYPES \
                or payload.get("language") not in ("VI", "EN") or not isinstance(elements, list) or not elements \
                or elements[0].get("type") != "header" or not 1 <= len(elements[0].get("content", "")) <= 100:
            return self._error(-201, "Invalid parameters")
        for e in elements[1:]:
            if e["type"] == "text" and not 1 <= len(e["content"]) <= 250:
                return self._error(-201, "text too long")
            if e["type"] == "table" and any(len(r["key"]) > 25 or len(r["value"]) > 100 for r in e["content"]):
                return self._error(-201, "table row too long")
        for b in payload.get("buttons", []):
            if len(b["title"]) > 35 or b["type"] not in ("oa.query.hide", "oa.query.show", "oa.open.url"):
                return self._error(-201, "invalid button")
        if user not in self.followers:
            return self._error(-213, "User has not followed the OA")
        self.transactions.append(body)
        return web.json_response({"error": 0, "message": "Success", "data": {"message_id": f"tx{len(self.transactions)}"}})

    async def access_token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if request.headers.get("secret_key") != APP_SECRET or form.get("refresh_token") != self.refresh_token:
            return web.json_response({"error": -14014, "error_name": "Invalid refresh token"})
        self.refreshes += 1
        self.refresh_token = f"refresh-{self.refreshes}"
        return web.json_response({"access_token": self.valid_access, "refresh_token": self.refresh_token,
                                  "expires_in": "90000"})

    async def zns_template(self, request: web.Request) -> web.Response:
        if request.headers.get("access_token") != self.valid_access:
            return self._error(-124, "Access token is invalid")
        body = await request.json()
        if not re.fullmatch(r"84\d{9}", str(body.get("phone", ""))):
            return self._error(-108, "Phone number invalid")
        params = self.templates.get(str(body.get("template_id")))
        if params is None:
            return self._error(-109, "Template ID invalid")
        data = body.get("template_data")
        if not isinstance(data, dict) or set(data) != params or not all(isinstance(v, str) and v for v in data.values()):
            return self._error(-112, "Template data invalid")
        if not isinstance(body.get("tracking_id"), str) or not body["tracking_id"]:
            return self._error(-100, "tracking_id")
        if self.quota <= 0:
            return self._error(-144, "OA has exceeded the daily quota for ZNS")
        self.quota -= 1
        self.zns.append(body)
        return web.json_response({"error": 0, "message": "Success", "data": {
            "msg_id": f"zns{len(self.zns)}", "sent_time": "1740000000000",
            "quota": {"dailyQuota": "1000", "remainingQuota": str(self.quota)}}})


@pytest.fixture
async def zalo(aiohttp_server: Any, storage: Storage, tmp_path: Path) -> Any:
    fake = FakeZalo()
    server = await aiohttp_server(fake.app)
    base = str(server.make_url("")).rstrip("/")
    settings = Settings(zalo_oa_app_id="2553928453557884079", zalo_oa_secret_key="oa-secret",
                        zalo_oa_access_token="stale-access", zalo_oa_refresh_token="refresh-0", zalo_app_secret=APP_SECRET,
                        zalo_oa_api_base=base, zalo_oauth_base=base, zns_api_base=base,
                        staff_chats="telegram:-1001")
    channel = ZaloOAChannel(settings, Conversations(None, storage), storage)
    await channel.start()
    fake.settings = settings  # type: ignore[attr-defined]
    fake.channel = channel  # type: ignore[attr-defined]
    yield fake
    await channel.stop()


def notifier_for(storage: Storage, fake: Any, clock: Clock, templates: dict[str, Any] = TEMPLATES) -> Notifier:
    notifier = Notifier(storage, clock=clock, base_delay=timedelta(minutes=5))
    channel = fake.channel
    notifier.register("zalo_oa", channel.deliver)
    notifier.register_payload("zns", ZnsSender(fake.settings, parse_templates(templates), channel.tokens,
                                               lambda: channel.http, storage, [("telegram", "-1001")]))
    return notifier


ZNS = ApplicantChannels(zns_statuses=frozenset(NINE))


async def run_statuses(storage: Storage, notifier: Notifier, clock: Clock, channels: ApplicantChannels,
                       **extra: Any) -> None:
    import_records(storage, [(1, record(1, **extra))], now=T0, applicant=channels)
    for i, status in enumerate(NINE):
        clock.now = T0 + timedelta(hours=i + 1)
        for _ in range(2):  # the same record pushed twice queues nothing more
            import_records(storage, [(1, record(status, **extra))], now=clock.now, applicant=channels)
        await notifier.deliver_once()


async def test_each_status_reaches_the_phone_by_zns_once(storage: Storage, zalo: Any) -> None:
    clock = Clock(T0)
    notifier = notifier_for(storage, zalo, clock)
    await run_statuses(storage, notifier, clock, ZNS, SoDienThoai=PHONE)
    assert zalo.refreshes == 1 and zalo.refused == [-124]  # the stale token: refreshed, then sent
    assert [m["template_id"] for m in zalo.zns] == [str(300000 + s) for s in NINE]
    for status, message in zip(NINE, zalo.zns, strict=True):
        assert message["phone"] == "84912345678"
        assert message["template_data"]["ma_ho_so"] == CODE
        assert message["template_data"]["trang_thai"] == STATUSES[status].official
        assert message["template_data"]["ngay"] == "02/03/2026"
    assert zalo.zns[NINE.index(5)]["template_data"]["noi_dung"] == "Bản sao hộ chiếu"
    assert len({m["tracking_id"] for m in zalo.zns}) == len(NINE)
    results = storage.deliveries(CODE)
    assert [r["result"] for r in results] == ["sent"] * len(NINE) and {r["channel"] for r in results} == {"zns"}


async def test_each_status_reaches_a_silent_follower_by_transaction_message_once(storage: Storage, zalo: Any) -> None:
    zalo.silent.add(FOLLOWER)
    clock = Clock(T0)
    notifier = notifier_for(storage, zalo, clock)
    import_records(storage, [(1, record(1))], now=T0)
    storage.subscribe(CODE, "zalo_oa", FOLLOWER, "vi", T0)
    await run_statuses(storage, notifier, clock, ApplicantChannels())
    assert zalo.cs == [] and len(zalo.transactions) == len(NINE)
    assert zalo.refused.count(-230) == len(NINE)
    for status, body in zip(NINE, zalo.transactions, strict=True):
        payload = body["message"]["attachment"]["payload"]
        assert body["recipient"]["user_id"] == FOLLOWER
        assert CODE in payload["elements"][0]["content"]
        rows = {r["key"]: r["value"] for e in payload["elements"] if e["type"] == "table" for r in e["content"]}
        assert STATUSES[status].vi.startswith(rows["Trạng thái"].rstrip("…"))
        assert payload["buttons"][0]["payload"] == f"dossier:unsub:{CODE}"
    assert [r["result"] for r in storage.deliveries(CODE)] == ["sent"] * len(NINE)


async def test_a_follower_in_the_window_gets_a_consultation_message(storage: Storage, zalo: Any) -> None:
    clock = Clock(T0)
    notifier = notifier_for(storage, zalo, clock)
    import_records(storage, [(1, record(1))], now=T0)
    storage.subscribe(CODE, "zalo_oa", FOLLOWER, "vi", T0)
    import_records(storage, [(1, record(5))], now=T0)
    await notifier.deliver_once()
    assert len(zalo.cs) == 1 and zalo.transactions == []


async def test_out_of_window_and_no_follower_falls_back_to_zns_then_email(
        storage: Storage, zalo: Any, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    zalo.followers.clear()  # silent, then unfollowed: neither consultation nor transaction messages reach them
    zalo.silent.add(FOLLOWER)
    clock = Clock(T0)
    templates = {"statuses": {**TEMPLATES["statuses"], 5: {"template_id": "999999", "params": {"ma_ho_so": "code"}}}}
    notifier = notifier_for(storage, zalo, clock, templates)
    notifier.register_payload("email", EmailSender(email_settings(port), storage))
    channels = ApplicantChannels(email=True, zns_statuses=frozenset(NINE))
    import_records(storage, [(1, record(1, SoDienThoai=PHONE, Email="a@example.vn"))], now=T0, applicant=channels)
    storage.subscribe(CODE, "zalo_oa", FOLLOWER, "vi", T0)
    import_records(storage, [(1, record(4, SoDienThoai=PHONE, Email="a@example.vn"))], now=T0, applicant=channels)
    await notifier.deliver_once()
    # The chat cannot be reached: its notice falls back to ZNS, which was queued already (once).
    assert len(zalo.zns) == 1 and inbox.mails == [] and zalo.refused[:3] == [-216, -230, -213]
    states = {(r["channel"], r["state"]) for r in storage.outbox()}
    assert states == {("zalo_oa", "dead"), ("zns", "sent")}

    # Status 5's template is unknown to Zalo (-109): permanent, so email goes instead; staff told.
    import_records(storage, [(1, record(5, SoDienThoai=PHONE, Email="a@example.vn"))], now=T0, applicant=channels)
    await notifier.deliver_once()
    assert -109 in zalo.refused and len(zalo.zns) == 1
    assert len(inbox.mails) == 1 and "Yêu cầu bổ sung giấy tờ" in inbox.mails[0][2]["Subject"]
    alerts = [r for r in storage.outbox() if r["channel"] == "telegram"]
    assert len(alerts) == 1 and "-109" in alerts[0]["payload"]["text"] and alerts[0]["chat_id"] == "-1001"
    codes = [(r["channel"], r["result"], r["error_code"]) for r in storage.deliveries(CODE)]
    assert ("zns", "dead", "-109") in codes and ("email", "sent", None) in codes
    assert ("zalo_oa", "dead", "-213") in codes


async def test_a_spent_quota_is_retried_later_and_staff_told(storage: Storage, zalo: Any) -> None:
    zalo.quota = 0
    clock = Clock(T0)
    notifier = notifier_for(storage, zalo, clock)
    import_records(storage, [(1, record(1, SoDienThoai=PHONE))], now=T0, applicant=ZNS)
    import_records(storage, [(1, record(2, SoDienThoai=PHONE))], now=T0, applicant=ZNS)
    stats = await notifier.deliver_once()
    assert stats.retried == 1 and zalo.zns == []
    (row,) = [r for r in storage.outbox() if r["channel"] == "zns"]
    assert row["state"] == "pending"
    (alert,) = [r for r in storage.outbox() if r["channel"] == "telegram"]
    assert "quota" in alert["payload"]["text"]
    zalo.quota = 10
    clock.now = T0 + timedelta(minutes=6)
    await notifier.deliver_once()
    assert len(zalo.zns) == 1
    assert [(r["result"], r["error_code"]) for r in storage.deliveries(CODE)] == [("retry", "-144"), ("sent", None)]


async def test_dung_thong_bao_from_the_oa_stops_zns_and_oa(storage: Storage, zalo: Any) -> None:
    clock = Clock(T0)
    notifier = notifier_for(storage, zalo, clock)
    import_records(storage, [(1, record(1, SoDienThoai=PHONE))], now=T0, applicant=ZNS)
    storage.subscribe(CODE, "zalo_oa", FOLLOWER, "vi", T0)
    import_records(storage, [(1, record(2, SoDienThoai=PHONE))], now=T0, applicant=ZNS)
    await notifier.deliver_once()
    assert len(zalo.zns) == 1 and len(zalo.cs) == 1
    reply = StaffCommands(storage, [])("Dừng thông báo", ("zalo_oa", FOLLOWER))
    assert reply is not None and "Đã dừng thông báo" in reply.text
    for status in (4, 5, 9):
        import_records(storage, [(1, record(status, SoDienThoai=PHONE))], now=T0, applicant=ZNS)
        await notifier.deliver_once()
    assert len(zalo.zns) == 1 and len(zalo.cs) == 1
    assert storage.subscribers(CODE) == []


def test_templates_are_checked_with_clear_errors(tmp_path: Path) -> None:
    good = tmp_path / "zns.yaml"
    good.write_text("statuses:\n  5:\n    template_id: '312345'\n    params: {ma_ho_so: code, ghi_chu: '=Xin cảm ơn'}\n",
                    encoding="utf-8")
    (t,) = load_templates(good).values()
    assert t.template_id == "312345" and t.params[1].text == "Xin cảm ơn"
    cases = {
        "statuses:\n  12: {template_id: '1', params: {a: code}}\n": "status 12",
        "statuses:\n  5: {template_id: 'abc', params: {a: code}}\n": "template_id",
        "statuses:\n  5: {template_id: '1', params: {a: colour}}\n": "unknown field 'colour'",
        "statuses:\n  5: {template_id: '1', params: {}}\n": "params",
        "statuses:\n  5: {template_id: '1', params: {a: {field: code, max: 0}}}\n": "max",
        "[1, 2]\n": "statuses",
        "statuses: {5: [\n": "not valid YAML",
    }
    for text, message in cases.items():
        bad = tmp_path / "bad.yaml"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match=re.escape(message)):
            load_templates(bad)
    with pytest.raises(ValueError, match="cannot read"):
        load_templates(tmp_path / "missing.json")



def test_the_server_does_not_start_with_a_wrong_templates_file(tmp_path: Path) -> None:
    from bot.config import SettingError
    from bot.server import create_app

    bad = tmp_path / "zns.json"
    bad.write_text('{"statuses": {"5": {"template_id": "312345", "params": {"ma_ho_so": "ma"}}}}', encoding="utf-8")
    settings = Settings(db=str(tmp_path / "bot.db"), zalo_oa_app_id="1", zalo_oa_secret_key="s",
                        zalo_oa_access_token="a", zns_templates=str(bad))
    with pytest.raises(SettingError, match=r"status 5, parameter ma_ho_so: unknown field 'ma'"):
        create_app(settings)
    good = tmp_path / "zns.yaml"
    good.write_text("statuses:\n  5: {template_id: '312345', params: {ma_ho_so: code}}\n", encoding="utf-8")
    app = create_app(Settings(db=str(tmp_path / "bot2.db"), zalo_oa_app_id="1", zalo_oa_secret_key="s",
                              zalo_oa_access_token="a", zns_templates=str(good)))
    from bot.web._dossiers import APPLICANT, NOTIFIER

    assert app[APPLICANT].zns_statuses == {5} and "zns" in app[NOTIFIER].payload_senders
