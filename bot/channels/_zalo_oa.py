"""Zalo Official Account adapter (OA API v3), mounted on the one aiohttp server.

Formats, as documented by Zalo and restated by integrators (Zalo's own pages need a login):
- Webhook events are POSTed to our POST /zalo/webhook, signed in the header
  X-ZEvent-Signature: "mac=" + hex SHA-256 of (app id + raw JSON body + the body's "timestamp" +
  OA secret key); the OA secret key is the one shown on the app's Webhook page, not the app
  secret (https://hainh.me/zalo-api-php-webhook-callback-official-account.html). The webhook
  must answer 200 within 2 seconds or Zalo retries
  (https://tinhoc88.com/zalo-api---php-xu-ly-su-kien-webhook.html), so replies are sent in the
  background. A text event looks like {"event_name": "user_send_text", "app_id", "sender":
  {"id"}, "recipient": {"id": <OA id>}, "message": {"text", "msg_id"}, "timestamp": "<ms>",
  "user_id_by_app"} (https://docs.a4b.vn/xbot/integration-guide/integrates-with-multiple-channels/api-reference/webhook/zalopushtoxbot).
- Replies: POST {ZALO_OA_API_BASE}/v3.0/oa/message/cs with header access_token and JSON
  {"recipient": {"user_id"}, "message": {"text", "attachment": {"type": "template", "payload":
  {"buttons": [{"title", "type": "oa.query.show", "payload"}]}}}}; success is HTTP 200 with
  "error": 0 (https://developers.esms.vn/en/esms-api/send-sms-api/send-zalo-message-consulting-button,
  button limits: https://app.unpkg.com/@warriorteam/redai-zalo-sdk@1.32.17/files/docs/BUTTON_TYPES_GUIDE.md).
  An oa.query.show button makes the user send its payload as a message: our action.
- Error -216 means the access token is invalid or expired: we refresh once and retry.
- Outside the consultation window (the user has not written to the OA lately), message/cs is
  refused with -230 ("user has not interacted with the OA in the last 7 days"). A notification
  then goes as a transaction message: POST {ZALO_OA_API_BASE}/v3.0/oa/message/transaction with
  {"recipient": {"user_id"}, "message": {"attachment": {"type": "template", "payload":
  {"template_type": "transaction_order", "language": "VI", "elements": [{"type": "header",
  "content"}, {"type": "text", "content"}, {"type": "table", "content": [{"key", "value"}]}],
  "buttons": [{"title", "type": "oa.query.hide", "payload"}]}}}} (Zalo's "tin Giao dịch",
  restated by https://docs.etelecom.vn/api-etelecom-english/api-integration/zalo-cloud/zalo-cloud-api/send-transaction-message).
  When that is refused too (not a follower: -213, or any other refusal), the error is permanent:
  the outbox tries the notice's next channel (ZNS to the dossier's phone, email).
- Refresh: POST {ZALO_OAUTH_BASE}/v4/oa/access_token, form refresh_token, app_id,
  grant_type=refresh_token, header secret_key = app secret; the answer holds a new access_token
  and a new refresh_token: a refresh token works once, so the new one is stored at once
  (https://www.hexasync.vn/zalo-oa-api-huong-dan-cach-lay-access-token-tu-refresh-token/).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from typing import Any

import aiohttp
from aiohttp import web

from ..config import Settings
from ..core import _json
from ..web._limits import read_body
from ._background import Background, mount
from ._render import image_address, zalo_button_groups, zalo_chunks
from ._sessions import (
    Conversations,
    SeenEvents,
    SessionStore,
    chat_ref,
    derived_event_id,
    hide_in_logs,
    plain_id,
)

log = logging.getLogger(__name__)

CHANNEL = "zalo_oa"  # the channel name in subscriptions and the outbox
WEBHOOK_PATH = "/zalo/webhook"
SIGNATURE_HEADER = "X-ZEvent-Signature"
MESSAGE_PATH = "/v3.0/oa/message/cs"
TOKEN_PATH = "/v4/oa/access_token"
TOKEN_EXPIRED = -216
TRANSACTION_PATH = "/v3.0/oa/message/transaction"
#: message/cs refused: the user is outside the consultation window.
OUT_OF_WINDOW = frozenset({-230})
#: The user cannot be reached by this OA at all (not a follower, blocked the OA).
UNREACHABLE = frozenset({-213})
TRANSACTION_TEMPLATE = "transaction_order"
MAX_EVENT_AGE_MS = 15 * 60 * 1000  # events older (or further in the future) are refused
TOKENS_KEY = "zalo-oa:tokens"  # where the current tokens are kept in the sessions table
REFRESH_LOCK = "zalo-oa:refresh"  # the storage's named lock around a refresh (replicas)
#: The leader refreshes the access token this long (seconds) before it expires.
REFRESH_AHEAD = 600.0
REFRESH_CHECK = 60.0
# Events that carry something other than text: the assistant's answer to an empty question
# (a hint to type the question) is sent back.
NON_TEXT_EVENTS = frozenset({
    "user_send_image", "user_send_sticker", "user_send_gif", "user_send_link", "user_send_audio",
    "user_send_video", "user_send_file", "user_send_location", "user_send_business_card",
})
MORE = {"vi": "Xem thêm:", "en": "More:"}

ZALO_OA: web.AppKey[ZaloOAChannel] = web.AppKey("zalo_oa_channel")


class ZaloError(Exception):
    """A Zalo API call failed: `code` is Zalo's "error" number (or the HTTP status)."""

    def __init__(self, code: int, message: str = "", permanent: bool = False) -> None:
        super().__init__(f"Zalo error {code}: {message}")
        self.code = code
        #: Retrying is useless (the outbox tries the next channel).
        self.permanent = permanent or code in UNREACHABLE


def _code(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def signature(app_id: str, raw: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The hex SHA-256 Zalo sends as X-ZEvent-Signature: mac=<this>."""
    return hashlib.sha256(app_id.encode() + raw + timestamp.encode() + oa_secret_key.encode()).hexdigest()


class ZaloOATokens:
    """The OA access token and its single-use refresh token, kept in the sessions table (when
    the app has a database) so a restart or another process uses the newest refresh token.

    Stored tokens are tied to the refresh token of the environment they came from: an operator
    who re-authorises and sets a new ZALO_OA_REFRESH_TOKEN starts a new chain."""

    def __init__(self, settings: Settings, store: SessionStore, locks: Any | None = None) -> None:
        self.settings = settings
        self.store = store
        #: The Storage, whose named lock makes one refresh at a time across replicas (a refresh
        #: token works once: two replicas refreshing with it would break the chain).
        self.locks = locks if locks is not None and hasattr(locks, "try_lock") else None
        env_refresh = settings.zalo_oa_refresh_token
        self.seed = hashlib.sha256(env_refresh.encode()).hexdigest()[:16] if env_refresh else ""
        self.access = settings.zalo_oa_access_token
        self.refresh_token = env_refresh
        self.expires_at = 0.0  # unknown for the environment's access token
        self._lock = asyncio.Lock()

    def _load(self) -> None:
        """Adopt newer tokens saved by this or another process."""
        try:
            saved = self.store.get_session(TOKENS_KEY)
        except Exception:
            log.exception("zalo-oa: could not read the saved tokens")
            return
        if saved and saved.get("seed") == self.seed and saved.get("access_token"):
            self.access = str(saved["access_token"])
            self.refresh_token = str(saved.get("refresh_token") or self.refresh_token)
            self.expires_at = float(saved.get("expires_at") or 0)
            hide_in_logs(self.access, self.refresh_token)

    def _save(self) -> None:
        try:
            self.store.save_session(TOKENS_KEY, {
                "seed": self.seed, "access_token": self.access, "refresh_token": self.refresh_token,
                "expires_at": self.expires_at,
            })
        except Exception:
            log.exception("zalo-oa: could not save the new tokens: the next refresh may fail")

    async def current(self, http: aiohttp.ClientSession) -> str:
        """A usable access token: the saved or configured one, refreshed first when it is
        missing or known to be expired."""
        self._load()
        if not self.access or (self.expires_at and time.time() > self.expires_at - 60):
            return await self.refresh(http, stale=self.access)
        return self.access

    async def refresh(self, http: aiohttp.ClientSession, stale: str | None) -> str:
        """A new access token, unless another task (or replica) already replaced `stale`
        meanwhile: one refresh at a time in this process (a lock) and across replicas (the
        storage's named lock, taken before the saved tokens are read again)."""
        async with self._lock:
            self._load()
            if self.access and self.access != stale:
                return self.access
            handle = await self._lock_replicas()
            try:
                self._load()
                if self.access and self.access != stale:
                    return self.access
                return await self._refresh(http)
            finally:
                if handle is not None and self.locks is not None:
                    await asyncio.to_thread(self.locks.unlock, handle)

    async def _lock_replicas(self, timeout: float = 30.0) -> object | None:
        """The refresh lock across replicas (None without a storage); waits for another
        replica's refresh to end, at most `timeout` seconds (then refreshes anyway)."""
        if self.locks is None:
            return None
        deadline = time.monotonic() + timeout
        while True:
            try:
                handle = await asyncio.to_thread(self.locks.try_lock, REFRESH_LOCK)
            except Exception as exc:
                log.warning("zalo-oa: refresh lock not taken (%s)", type(exc).__name__)
                return None
            if handle is not None or time.monotonic() > deadline:
                return handle
            await asyncio.sleep(0.2)

    def expiring(self, within: float) -> bool:
        """True when the current access token is known to expire within `within` seconds."""
        self._load()
        return bool(self.expires_at) and time.time() > self.expires_at - within

    async def _refresh(self, http: aiohttp.ClientSession) -> str:
        """POST the refresh token for a new pair (call under the refresh locks)."""
        if not self.refresh_token or not self.settings.zalo_app_secret:
            raise ZaloError(TOKEN_EXPIRED, "access token expired and no ZALO_OA_REFRESH_TOKEN/ZALO_APP_SECRET to refresh it")
        url = self.settings.zalo_oauth_base.rstrip("/") + TOKEN_PATH
        form = {"refresh_token": self.refresh_token, "app_id": self.settings.zalo_oa_app_id, "grant_type": "refresh_token"}
        async with http.post(url, data=form, headers={"secret_key": self.settings.zalo_app_secret}) as resp:
            try:
                data = await resp.json(content_type=None)
            except (ValueError, aiohttp.ContentTypeError):
                data = {}
        if not isinstance(data, dict) or not data.get("access_token"):
            code = _code(data.get("error") if isinstance(data, dict) else None, resp.status)
            raise ZaloError(code, "token refresh refused (re-authorise the app and set ZALO_OA_REFRESH_TOKEN)")
        self.access = str(data["access_token"])
        self.refresh_token = str(data.get("refresh_token") or self.refresh_token)
        try:
            self.expires_at = time.time() + float(data.get("expires_in") or 0) if data.get("expires_in") else 0.0
        except (TypeError, ValueError):
            self.expires_at = 0.0
        hide_in_logs(self.access, self.refresh_token)
        self._save()
        log.info("zalo-oa: access token refreshed")
        return self.access


class ZaloOAChannel:
    """The Zalo OA: verifies webhook events, answers them through the assistant, sends replies."""

    def __init__(self, settings: Settings, conversations: Conversations, storage: Any | None = None,
                 leader: Any | None = None) -> None:
        self.settings = settings
        self.conversations = conversations
        self.tokens = ZaloOATokens(settings, conversations.store, storage)
        #: The replica that leads refreshes the token ahead of its expiry (bot/leader.py).
        self.leader = leader
        self._ahead: asyncio.Task[None] | None = None
        self.seen = SeenEvents(conversations.store, "zalo-oa")
        self.background = Background("zalo-oa")
        self.http: aiohttp.ClientSession | None = None
        hide_in_logs(settings.zalo_oa_secret_key, settings.zalo_oa_access_token,
                     settings.zalo_oa_refresh_token, settings.zalo_app_secret)

    async def start(self) -> None:
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))
        if not self.conversations.store.persistent:
            log.warning("zalo-oa: no database attached: a refreshed refresh token is lost at restart")
        log.info("zalo-oa: webhook at %s", WEBHOOK_PATH)
        self._ahead = asyncio.create_task(self._refresh_ahead(), name="zalo-oa-refresh")

    async def _refresh_ahead(self) -> None:
        """While this replica leads: refresh the access token before it expires (on every
        replica an expired token is also refreshed when a send is refused with -216)."""
        while True:
            await asyncio.sleep(REFRESH_CHECK)
            if self.leader is not None and not self.leader.is_leader:
                continue
            try:
                if self.http is not None and self.tokens.expiring(REFRESH_AHEAD):
                    await self.tokens.refresh(self.http, stale=self.tokens.access)
            except Exception as exc:
                log.warning("zalo-oa: token refresh ahead of expiry failed (%s)", type(exc).__name__)

    async def stop(self) -> None:
        if self._ahead is not None:
            self._ahead.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ahead
        await self.background.drain()
        if self.http is not None:
            await self.http.close()

    # -- incoming ---------------------------------------------------------------------------

    def verify(self, raw: bytes, header: str, event: Any) -> bool:
        """True when `header` is the right signature of `raw`."""
        mac = header.strip()
        if mac[:4].lower() == "mac=":
            mac = mac[4:].strip()
        if not mac:
            return False
        timestamp = str(event.get("timestamp", "")) if isinstance(event, dict) else ""
        if not timestamp.isascii():  # Zalo's are digits; a lone surrogate could not even be hashed
            return False
        expected = signature(self.settings.zalo_oa_app_id, raw, timestamp, self.settings.zalo_oa_secret_key)
        return hmac.compare_digest(mac.lower().encode("utf-8", "replace"), expected.encode())

    @staticmethod
    def fresh(event: dict[str, Any], now_ms: float | None = None) -> bool:
        """True when the event's timestamp is within MAX_EVENT_AGE of now."""
        try:
            ts = float(event.get("timestamp", ""))
        except (TypeError, ValueError):
            return False
        if ts < 1e12:  # seconds, not milliseconds
            ts *= 1000
        now = time.time() * 1000 if now_ms is None else now_ms
        return abs(now - ts) <= MAX_EVENT_AGE_MS

    def for_us(self, event: dict[str, Any]) -> bool:
        """False for events of another app or, when ZALO_OA_ID is set, another OA."""
        app_id = event.get("app_id")
        if app_id is not None and str(app_id) != self.settings.zalo_oa_app_id:
            return False
        oa_id = self.settings.zalo_oa_id
        if oa_id:
            recipient = event.get("recipient") if isinstance(event.get("recipient"), dict) else {}
            target = event.get("oa_id") or (recipient or {}).get("id")
            if str(target) != oa_id:
                return False
        return True

    @staticmethod
    def event_id(event: dict[str, Any]) -> str:
        """The id a redelivery or a replay of this event shares: its msg_id, or for events
        without one (follow, or a message whose msg_id is missing) an id derived from the
        event's content and timestamp (both under the signature)."""
        message = event.get("message") if isinstance(event.get("message"), dict) else None
        if message and message.get("msg_id"):
            return str(message["msg_id"])
        if event.get("event_name") in ("follow", "unfollow"):
            follower = event.get("follower") if isinstance(event.get("follower"), dict) else {}
            return f"{event.get('event_name')}:{(follower or {}).get('id')}:{event.get('timestamp')}"
        return derived_event_id(event)

    @staticmethod
    def text_of(event: dict[str, Any]) -> tuple[str, str] | None:
        """(user id, text for the assistant) of an event we answer, else None."""
        name = event.get("event_name")
        sender = event.get("sender") if isinstance(event.get("sender"), dict) else {}
        user_id = plain_id((sender or {}).get("id")) or ""  # validated before any use
        if name == "user_send_text":
            message = event.get("message") if isinstance(event.get("message"), dict) else {}
            text = (message or {}).get("text")
            return (user_id, text) if user_id and isinstance(text, str) else None
        if name in NON_TEXT_EVENTS:
            return (user_id, "") if user_id else None
        if name == "follow":
            follower = event.get("follower") if isinstance(event.get("follower"), dict) else {}
            follower_id = plain_id((follower or {}).get("id")) or ""
            return (follower_id, "menu:greeting") if follower_id else None
        return None

    async def handle(self, user_id: str, text: str) -> None:
        """Answer one user message (in the background of the webhook call)."""
        answer = await self.conversations.answer(f"zalo-oa:{user_id}", text, chat=(CHANNEL, user_id))
        log.info("zalo-oa: intent=%s lang=%s chat=%s", answer.intent, answer.lang, chat_ref("zalo-oa", user_id))
        if answer.silent:
            return
        try:
            await self.send(user_id, answer.reply, answer.lang)
        except ZaloError as exc:
            log.error("zalo-oa: reply not delivered (error %s) chat=%s", exc.code, chat_ref("zalo-oa", user_id))
        except (TimeoutError, aiohttp.ClientError) as exc:
            log.error("zalo-oa: reply not delivered (%s) chat=%s", type(exc).__name__, chat_ref("zalo-oa", user_id))

    async def deliver(self, chat_id: str, reply: Any) -> None:
        """Send a notification (the outbox's sender for "zalo_oa"); raises on failure. Outside
        the consultation window it goes as a transaction message; when that is refused too the
        error is permanent (the outbox tries the notice's next channel)."""
        try:
            await self.send(chat_id, reply, "vi")
            return
        except ZaloError as exc:
            if exc.code not in OUT_OF_WINDOW:
                raise
            log.info("zalo-oa: outside the consultation window: a transaction message instead chat=%s",
                     chat_ref("zalo-oa", chat_id))
        try:
            await self.call(TRANSACTION_PATH, self.transaction_message(chat_id, reply))
        except ZaloError as exc:
            raise ZaloError(exc.code, f"transaction message refused: {exc}", permanent=True) from exc

    @staticmethod
    def transaction_message(user_id: str, reply: Any) -> dict[str, Any]:
        """The transaction-message body of a notification: its first line as the header, its
        "label: value" lines as a table, the others as text, its buttons as hidden queries."""
        lines = [line.strip() for line in str(reply.text).splitlines() if line.strip()] or ["…"]
        header, rest = lines[0], lines[1:]
        table: list[dict[str, str]] = []
        text: list[str] = []
        for line in rest:
            key, sep, value = line.partition(": ")
            if sep and len(key) <= 25 and len(table) < 5:
                table.append({"key": key, "value": value if len(value) <= 100 else value[:99] + "…"})
            else:
                text.append(line)
        elements: list[dict[str, Any]] = [{"type": "header", "content": header[:100], "align": "left"}]
        body = " ".join(text)
        if body:
            elements.append({"type": "text", "align": "left", "content": body if len(body) <= 250 else body[:249] + "…"})
        if table:
            elements.append({"type": "table", "content": table})
        buttons = [{"title": str(b.label)[:35], "image_icon": "", "type": "oa.query.hide", "payload": str(b.action)[:1000]}
                   for b in list(reply.buttons)[:4]]
        payload: dict[str, Any] = {"template_type": TRANSACTION_TEMPLATE, "language": "VI", "elements": elements}
        if buttons:
            payload["buttons"] = buttons
        return {"recipient": {"user_id": user_id}, "message": {"attachment": {"type": "template", "payload": payload}}}

    # -- outgoing ---------------------------------------------------------------------------

    def messages(self, user_id: str, reply: Any, lang: str) -> list[dict[str, Any]]:
        """The message/cs bodies of a Reply: text under 2,000 characters, buttons (five a
        message) under the last part and, for more, under a short "More:" line."""
        chunks = zalo_chunks(reply.text) or [MORE.get(lang, MORE["vi"])]
        groups = zalo_button_groups(reply.buttons)
        bodies: list[dict[str, Any]] = []
        for i, chunk in enumerate(chunks):
            message: dict[str, Any] = {"text": chunk}
            if i == len(chunks) - 1 and groups:
                message["attachment"] = {"type": "template", "payload": {"buttons": groups[0]}}
            bodies.append({"recipient": {"user_id": user_id}, "message": message})
        for group in groups[1:]:
            bodies.append({"recipient": {"user_id": user_id}, "message": {
                "text": MORE.get(lang, MORE["vi"]), "attachment": {"type": "template", "payload": {"buttons": group}}}})
        return bodies

    def image_message(self, user_id: str, reply: Any) -> dict[str, Any] | None:
        """The media message (template "media", one image by URL) of a Reply's picture, or None."""
        address = image_address(reply, self.settings.public_url)
        if address is None:
            return None
        element = {"media_type": "image", "url": address}
        message = {"text": (reply.image.caption or "…")[:2000], "attachment": {
            "type": "template", "payload": {"template_type": "media", "elements": [element]}}}
        return {"recipient": {"user_id": user_id}, "message": message}

    async def send(self, user_id: str, reply: Any, lang: str = "vi") -> None:
        """Send a Reply to a user: its picture first (by its address on this server: only with
        TTHC_PUBLIC_URL), then the text; raises ZaloError (or a network error) when a text part fails."""
        image = self.image_message(user_id, reply)
        if image is not None:
            try:
                await self.call(MESSAGE_PATH, image)
            except (ZaloError, TimeoutError, aiohttp.ClientError) as exc:  # the text still goes out
                log.warning("zalo-oa: picture not sent (%s)", getattr(exc, "code", type(exc).__name__))
        for body in self.messages(user_id, reply, lang):
            await self.call(MESSAGE_PATH, body)

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a JSON body to the OA API; on an expired token (-216) refresh once and retry."""
        assert self.http is not None, "channel not started"
        token = await self.tokens.current(self.http)
        for attempt in (1, 2):
            url = self.settings.zalo_oa_api_base.rstrip("/") + path
            async with self.http.post(url, json=body, headers={"access_token": token}) as resp:
                try:
                    data = await resp.json(content_type=None)
                except (ValueError, aiohttp.ContentTypeError):
                    data = None
            if not isinstance(data, dict):
                raise ZaloError(resp.status, "answer is not JSON")
            code = data.get("error")
            if resp.status == 200 and code == 0:
                return data
            if code == TOKEN_EXPIRED and attempt == 1:
                token = await self.tokens.refresh(self.http, stale=token)
                continue
            raise ZaloError(_code(code, resp.status), str(data.get("message", "")))
        raise ZaloError(TOKEN_EXPIRED, "token refused after a refresh")


async def zalo_oa_webhook(request: web.Request) -> web.Response:
    """POST /zalo/webhook: a signed event from Zalo. 401 for a missing, wrong or stale
    signature; 200 (and no reply) for repeats, other OAs and events we do not answer."""
    channel = request.app[ZALO_OA]
    raw = await read_body(request)
    try:
        # Parsed before the signature check (the signature covers the body's "timestamp"), so
        # bounded: nesting is checked before parsing. A text may hold a lone surrogate; ids are
        # validated where they are read (`plain_id`, `event_key`).
        event: Any = _json.loads_untrusted(raw, lone_surrogates=True)
    except ValueError:
        event = None
    if not channel.verify(raw, request.headers.get(SIGNATURE_HEADER, ""), event):
        log.warning("zalo-oa: webhook call refused (missing or wrong signature)")
        return web.json_response({"error": "invalid signature"}, status=401)
    if not isinstance(event, dict):
        log.warning("zalo-oa: signed body is not a JSON object; ignored")
        return web.json_response({"ok": True})
    if not channel.fresh(event):
        log.warning("zalo-oa: stale event refused")
        return web.json_response({"error": "stale event"}, status=401)
    if not channel.for_us(event):
        log.info("zalo-oa: event for another app or OA ignored")
        return web.json_response({"ok": True})
    target = channel.text_of(event)
    if target is None:
        return web.json_response({"ok": True})
    if not channel.seen.first_time(channel.event_id(event)):
        log.info("zalo-oa: repeated event ignored")
        return web.json_response({"ok": True})
    channel.background.spawn(channel.handle(*target))
    return web.json_response({"ok": True})


def setup_zalo_oa(app: web.Application, settings: Settings, conversations: Conversations) -> ZaloOAChannel:
    """Mount POST /zalo/webhook and run the OA channel for the app's lifetime."""
    from ..leader import leader_of
    from ..web._keys import STORAGE

    channel = ZaloOAChannel(settings, conversations, app.get(STORAGE), leader_of(app))
    return mount(app, ZALO_OA, channel, WEBHOOK_PATH, zalo_oa_webhook)
