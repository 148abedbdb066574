"""Notices that reach the applicant at the phone or email on the dossier, and stopping them.

A phone (SoDienThoai) or an email (Email) on the record is the applicant's consent to hear about
the dossier there, as one-stop systems do, unless the record says `NhanThongBao: 0`. On each
status change the applicant's channels are tried in order of preference, one at a time, through
the outbox: ZNS to the phone (when the board's ZNS templates are configured and one is set for
that status), then email (when TTHC_SMTP_URL is set). A chat subscribed to the dossier gets its
own notice as before; when that chat cannot be reached (a Zalo OA follower outside both the
consultation window and the transaction message's reach), the applicant's channels are its
fallback. Every row is keyed per status change and channel, so a status change goes out at most
once per channel.

"dừng thông báo" from any chat (the chat's subscriptions) and the link in an email stop a
dossier's notices (`stop_notices`); nothing is sent to the phone or email after that.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit

from ..core import Reply, now_vn
from ..storage import Storage
from ._notify import PermanentError, status_change_payload, status_change_text
from ._status import STATUSES

log = logging.getLogger("bot.dossiers")

UNSUBSCRIBE_PATH = "/unsubscribe/"
#: How a dossier's notice rows name their status change (the outbox key is this + channel + address).
NOTICE_KEY = "status:{code}:{history_id}"


def zns_phone(phone: str | None) -> str | None:
    """The phone in the 84… form ZNS takes (84 and 9 digits), or None when it is not a mobile."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("84") and len(digits) == 11:
        return digits
    if digits.startswith("0") and len(digits) == 10:
        return "84" + digits[1:]
    if len(digits) == 9 and not digits.startswith("0"):
        return "84" + digits
    return None


def email_address(value: str | None) -> str | None:
    """A plausible single email address, or None."""
    text = (value or "").strip()
    if not text or len(text) > 254 or any(c in text for c in " ,;<>\"\r\n"):
        return None
    local, at, domain = text.rpartition("@")
    if not at or not local or "." not in domain or domain.startswith(".") or domain.endswith("."):
        return None
    return text


def parse_consent(value: Any) -> int | None:
    """NhanThongBao: 0 (no notices), 1 (yes), None (not said: a phone or email given is consent)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    text = unicodedata.normalize("NFC", str(value)).strip().lower()
    if text == "":
        return None
    if text in ("0", "không", "khong", "no", "false", "n"):
        return 0
    if text in ("1", "có", "co", "yes", "true", "y"):
        return 1
    raise ValueError(f"NhanThongBao must be 0 (no notices) or 1 (got {value!r})")


@dataclass(frozen=True)
class ApplicantChannels:
    """Which of the applicant's channels this installation can send on."""

    email: bool = False
    #: Statuses with a ZNS template (none: ZNS is off).
    zns_statuses: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def from_settings(cls, settings: Any) -> ApplicantChannels:
        """Email from TTHC_SMTP_URL / TTHC_MAIL_FROM / TTHC_PUBLIC_URL; raises ValueError for a
        broken setting. ZNS is the Zalo OA channel's to add (`bot.channels.applicant_channels`)."""
        email = bool(getattr(settings, "smtp_url", "")) and bool(getattr(settings, "mail_from", ""))
        if email:
            parse_smtp_url(settings.smtp_url)
            if not getattr(settings, "public_url", ""):
                raise ValueError("TTHC_SMTP_URL is set but TTHC_PUBLIC_URL is not: emails need it for their unsubscribe link")
        return cls(email=email)

    def chain(self, record: dict[str, Any]) -> list[list[str]]:
        """The applicant's channels for this record's status, preferred first: [[channel, address]]."""
        if record.get("consent") == 0:
            return []
        out: list[list[str]] = []
        phone = zns_phone(record.get("phone"))
        if phone and int(record["status"]) in self.zns_statuses:
            out.append(["zns", phone])
        address = email_address(record.get("email"))
        if address and self.email:
            out.append(["email", address])
        return out


def notice_of(record: dict[str, Any], history_id: int, now: datetime) -> dict[str, Any]:
    """What a notice row carries about its status change (the senders render it)."""
    return {
        "key": NOTICE_KEY.format(code=record["code"], history_id=history_id),
        "code": record["code"], "status": int(record["status"]), "at": now.isoformat(timespec="seconds"),
        "supplement": record.get("supplement"), "due_at": record.get("due_at"),
        "procedure_code": record.get("procedure_code"), "procedure_name": record.get("procedure_name"),
        "applicant": record.get("applicant"),
    }


def queue_status_notices(storage: Storage, record: dict[str, Any], history_id: int, now: datetime,
                         channels: ApplicantChannels | None = None) -> int:
    """Queue a status change's notices (in the transaction of the change): one for each chat
    subscribed to the dossier (falling back to the applicant's channels), and one on the
    applicant's preferred channel (falling back to the next). Returns how many were queued."""
    notice = notice_of(record, history_id, now)
    code = record["code"]
    chain = (channels or ApplicantChannels()).chain(record)
    if chain and storage.notices_stopped(code):
        chain = []
    queued = 0
    for sub in storage.subscribers(code):
        payload = dict(status_change_payload(record, sub["lang"]), notice=notice, fallback=chain)
        key = f"{notice['key']}:{sub['channel']}:{sub['chat_id']}"
        if storage.enqueue(key, sub["channel"], sub["chat_id"], payload, now,
                           thread=f"{code}:{sub['channel']}:{sub['chat_id']}"):
            queued += 1
    if chain:
        channel, address = chain[0]
        payload = {"text": status_change_text(record, "vi"), "buttons": [], "notice": notice, "fallback": chain[1:]}
        if storage.enqueue(f"{notice['key']}:{channel}:{address}", channel, address, payload, now,
                           thread=f"{code}:{channel}:{address}"):
            queued += 1
    return queued


# -- stopping --------------------------------------------------------------------------------

_STOP_RE = re.compile(
    r"^\s*(?:dừng|dung|ngừng|ngung|hủy|huỷ|huy|tắt|tat)\s+(?:nhận\s+|nhan\s+)?(?:thông báo|thong bao|tin nhắn|tin nhan)\s*[.!]*\s*$"
    r"|^\s*(?:stop notifications?|unsubscribe)\s*[.!]*\s*$",
    re.IGNORECASE,
)


def is_stop_request(text: str) -> bool:
    """True for "dừng thông báo" (and its plain-letter and English forms)."""
    return bool(_STOP_RE.match(unicodedata.normalize("NFC", text or "")))


def stop_from_chat(storage: Storage, chat: tuple[str, str], now: datetime | None = None) -> Reply:
    """"dừng thông báo" from a chat: unsubscribe it from its dossiers and stop their notices to
    the applicant's phone and email too."""
    now = now or now_vn()
    subs = storage.subscriptions_of(chat[0], str(chat[1]))
    codes = sorted({s["code"] for s in subs})
    with storage.transaction():
        for code in codes:
            storage.unsubscribe(code, chat[0], str(chat[1]))
            storage.stop_notices(code, now)
    log.info("notices stopped from %s for %d dossier(s)", chat[0], len(codes))
    if not codes:
        return Reply("Bạn chưa đăng ký nhận thông báo hồ sơ nào tại đây.\n"
                     "(You have no dossier notifications here.)")
    listed = ", ".join(codes)
    return Reply(f"Đã dừng thông báo về hồ sơ {listed} (tại đây, qua Zalo ZNS và email).\n"
                 f"(Notifications about dossier {listed} are stopped: here, by Zalo ZNS and by email.)")


def stop_by_token(storage: Storage, token: str, now: datetime | None = None) -> str | None:
    """The email's unsubscribe link: stop the dossier's notices; its code, or None for a wrong token."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{20,64}", token or ""):
        return None
    row = storage.dossier_by_notice_token(token)
    if row is None:
        return None
    storage.stop_notices(row["code"], now or now_vn())
    log.info("notices stopped by the email link for %s", row["code"])
    return str(row["code"])


# -- email -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: bool  # smtps: TLS from the first byte; smtp: STARTTLS when the server offers it
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpServer:
    """smtp://user:password@host:port or smtps://…; ValueError saying what is wrong."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("TTHC_SMTP_URL must start with smtp:// or smtps:// (e.g. smtps://user:password@mail.example.vn:465)")
    if not parts.hostname:
        raise ValueError("TTHC_SMTP_URL has no host (e.g. smtp://user:password@mail.example.vn:587)")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError("TTHC_SMTP_URL has a port that is not a number") from exc
    tls = parts.scheme == "smtps"
    return SmtpServer(parts.hostname, port or (465 if tls else 587), tls,
                      unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password else None)


def unsubscribe_url(public_url: str, token: str) -> str:
    return public_url.rstrip("/") + UNSUBSCRIBE_PATH + token


def build_email(notice: dict[str, Any], to: str, sender: str, link: str) -> EmailMessage:
    """The status email: plain text and HTML, Vietnamese with English beside it, an unsubscribe link."""
    st = STATUSES[int(notice["status"])]
    code = str(notice["code"])
    vi = status_change_text(notice, "vi")
    en = status_change_text(notice, "en")
    stop_vi = "Không muốn nhận thông báo này nữa? Mở liên kết sau để dừng:"
    stop_en = "Don't want these notifications? Open this link to stop them:"
    msg = EmailMessage()
    msg["Subject"] = f"Hồ sơ {code}: {st.official} / Dossier {code}: {st.en.split(':')[0]}"
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    msg["List-Unsubscribe"] = f"<{link}>"
    msg["Auto-Submitted"] = "auto-generated"
    text = f"{vi}\n\n{stop_vi}\n{link}\n\n— English —\n\n{en}\n\n{stop_en}\n{link}\n"
    msg.set_content(text)

    def para(block: str) -> str:
        return "".join(f"<p>{html.escape(line)}</p>" for line in block.splitlines() if line.strip())

    safe_link = html.escape(link, quote=True)
    body = (
        "<!doctype html><html lang=\"vi\"><body style=\"font-family:sans-serif\">"
        f"<div lang=\"vi\">{para(vi)}</div><hr><div lang=\"en\">{para(en)}</div><hr>"
        f"<p style=\"font-size:small\">{html.escape(stop_vi)} <a href=\"{safe_link}\">Dừng thông báo</a><br>"
        f"{html.escape(stop_en)} <a href=\"{safe_link}\">Stop notifications</a></p></body></html>"
    )
    msg.add_alternative(body, subtype="html")
    return msg


class EmailSender:
    """The outbox's sender for "email": renders the notice and sends it with aiosmtplib."""

    def __init__(self, settings: Any, storage: Storage, timeout: float = 30.0) -> None:
        self.server = parse_smtp_url(settings.smtp_url)
        self.sender = settings.mail_from
        self.public_url = settings.public_url
        self.storage = storage
        self.timeout = timeout

    async def __call__(self, address: str, payload: dict[str, Any]) -> None:
        import asyncio

        import aiosmtplib

        notice = payload.get("notice")
        if not isinstance(notice, dict):
            raise PermanentError("an email row without a notice")
        if self.storage.shared:
            token = await asyncio.to_thread(self.storage.notice_token, notice["code"])
        else:
            token = self.storage.notice_token(notice["code"])
        message = build_email(notice, address, self.sender, unsubscribe_url(self.public_url, token))
        s = self.server
        try:
            await aiosmtplib.send(
                message, hostname=s.host, port=s.port, username=s.username, password=s.password,
                use_tls=s.tls, start_tls=False if s.tls else None, timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise PermanentError(f"recipient refused ({codes})", codes[0] if codes else 550) from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentError(f"mail server refused: {exc.code}", exc.code) from exc
            raise
