"""Zalo Bot adapter (the Telegram-like Zalo Bot Platform), mounted on the one aiohttp server.

Formats (https://bot.zaloplatforms.com/docs; restated in
https://github.com/XuanNguyenNB/QuanLyThuChi_Bot_Telegram_Zalom/blob/bd4d9ab72dab7810808d291b2961b5861d4a2946/docs/ZALO_BOT_API.md):
- Methods are POSTed to {ZALO_BOT_API_BASE}/bot<ZALO_BOT_TOKEN>/<method> and answer
  {"ok": true, "result": ...} or {"ok": false, "error_code", "description"}.
- setWebhook {"url", "secret_token"} (8-256 characters): Zalo then POSTs every update to the
  url with the header X-Bot-Api-Secret-Token: <secret_token>.
- An update is {"event_name": "message.text.received" | "message.image.received" |
  "message.sticker.received" | "message.unsupported.received", "message": {"message_id",
  "from": {"id", "display_name", "is_bot"}, "chat": {"id", "chat_type": "PRIVATE" | "GROUP"},
  "date", "text"}}, sometimes wrapped in {"ok": true, "result": <update>} as getUpdates returns it.
- sendMessage {"chat_id", "text"}: text of 1 to 2,000 characters. There are no buttons: the
  assistant's buttons are written as a numbered list and a reply "2" presses the second.
"""

from __future__ import annotations

import asyncio
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
from ._render import ZALO_MAX_TEXT, chosen_action, image_address, numbered_choices, zalo_chunks
from ._sessions import Conversations, SeenEvents, chat_ref, derived_event_id, hide_in_logs

log = logging.getLogger(__name__)

CHANNEL = "zalo_bot"  # the channel name in subscriptions and the outbox
WEBHOOK_PATH = "/zalo-bot/webhook"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
NON_TEXT_EVENTS = frozenset({"message.image.received", "message.sticker.received", "message.unsupported.received"})

ZALO_BOT: web.AppKey[ZaloBotChannel] = web.AppKey("zalo_bot_channel")


def derived_secret(token: str) -> str:
    """The webhook secret used when ZALO_BOT_WEBHOOK_SECRET is empty (derived from the token,
    so every process agrees on it and the route is never left open)."""
    return hashlib.sha256(f"tthc-zalo-bot-webhook:{token}".encode()).hexdigest()


class ZaloBotError(Exception):
    """A Zalo Bot API call failed."""

    def __init__(self, code: int, description: str = "") -> None:
        super().__init__(f"Zalo Bot error {code}: {description}")
        self.code = code


class ZaloBotChannel:
    """The Zalo bot: checks the webhook secret, answers through the assistant, sends replies."""

    def __init__(self, settings: Settings, conversations: Conversations, leader: Any | None = None) -> None:
        self.settings = settings
        self.conversations = conversations
        #: With several replicas the leader registers the webhook (again when the lead passes).
        self.leader = leader
        self.token = settings.zalo_bot_token
        self.secret = settings.zalo_bot_webhook_secret or derived_secret(self.token)
        self.webhook_url = settings.public_url.rstrip("/") + WEBHOOK_PATH if settings.public_url else ""
        self.seen = SeenEvents(conversations.store, "zalo-bot")
        self.background = Background("zalo-bot")
        self.http: aiohttp.ClientSession | None = None
        self.registered = asyncio.Event()
        hide_in_logs(self.token, self.secret)

    async def start(self) -> None:
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))
        if not 8 <= len(self.secret) <= 256:
            log.error("zalo-bot: ZALO_BOT_WEBHOOK_SECRET must have 8 to 256 characters; webhook not registered")
            return
        if self.webhook_url:
            if self.leader is None:
                self.background.spawn(self.register())
            else:  # now if this replica leads, else when the lead passes to it
                self.leader.on_elected(self.register)
        else:
            log.warning("zalo-bot: TTHC_PUBLIC_URL is not set: register the webhook %s yourself", WEBHOOK_PATH)

    async def register(self) -> None:
        """setWebhook(url, secret_token), retried with back-off while Zalo is unreachable."""
        delay = 1.0
        while True:
            try:
                await self.call("setWebhook", {"url": self.webhook_url, "secret_token": self.secret})
            except (TimeoutError, aiohttp.ClientError) as exc:
                log.warning("zalo-bot: setWebhook failed (%s); retrying in %.0f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
                continue
            except ZaloBotError as exc:
                log.error("zalo-bot: setWebhook refused (error %s); check ZALO_BOT_TOKEN", exc.code)
                return
            self.registered.set()
            log.info("zalo-bot: webhook registered")
            return

    async def stop(self) -> None:
        await self.background.drain()
        if self.http is not None:
            await self.http.close()

    async def call(self, method: str, body: dict[str, Any]) -> Any:
        """POST a Bot API method; its "result", or ZaloBotError."""
        assert self.http is not None, "channel not started"
        url = f"{self.settings.zalo_bot_api_base.rstrip('/')}/bot{self.token}/{method}"
        async with self.http.post(url, json=body) as resp:
            try:
                data = await resp.json(content_type=None)
            except (ValueError, aiohttp.ContentTypeError):
                data = None
        if not isinstance(data, dict) or data.get("ok") is not True:
            code = data.get("error_code", resp.status) if isinstance(data, dict) else resp.status
            raise ZaloBotError(int(code) if isinstance(code, int) else resp.status,
                               str(data.get("description", "")) if isinstance(data, dict) else "")
        return data.get("result")

    @staticmethod
    def unwrap(body: Any) -> dict[str, Any] | None:
        """The update inside a webhook body (bare, or wrapped as {"ok", "result"})."""
        if isinstance(body, dict) and isinstance(body.get("result"), dict) and "event_name" not in body:
            body = body["result"]
        return body if isinstance(body, dict) else None

    @staticmethod
    def text_of(update: dict[str, Any]) -> tuple[str, str, str | None] | None:
        """(chat id, text, message id) of an update we answer, else None: private chats only,
        never other bots."""
        message = update.get("message")
        if not isinstance(message, dict):
            return None
        chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
        sender = message.get("from") if isinstance(message.get("from"), dict) else {}
        chat_id = str((chat or {}).get("id") or "")
        if not chat_id or str((chat or {}).get("chat_type", "PRIVATE")).upper() != "PRIVATE" or (sender or {}).get("is_bot"):
            return None
        message_id = str(message["message_id"]) if message.get("message_id") else None
        name = update.get("event_name")
        if name == "message.text.received" and isinstance(message.get("text"), str):
            return chat_id, message["text"], message_id
        if name in NON_TEXT_EVENTS:
            return chat_id, "", message_id
        return None

    @staticmethod
    def derived_id(update: dict[str, Any]) -> str:
        """The id of a message that carries no message_id: a digest of the update's content and
        its "date" (so a redelivery or a replay is answered once). Without a date, the current
        five minutes stand in for it: the same words again later are a new message."""
        message = update.get("message") if isinstance(update.get("message"), dict) else {}
        when = (message or {}).get("date") or f"~{int(time.time() // 300)}"
        return derived_event_id(update.get("event_name"), message, when)

    async def handle(self, chat_id: str, text: str) -> None:
        """Answer one message: a typed number picks from the last numbered list."""
        key = f"zalo-bot:{chat_id}"
        chosen = chosen_action(text, self.conversations.state(key).channel)
        answer = await self.conversations.answer(
            key, chosen or text, channel_state=lambda a: {"choices": [b.action for b in a.reply.buttons]},
            chat=(CHANNEL, chat_id),
        )
        log.info("zalo-bot: intent=%s lang=%s chat=%s", answer.intent, answer.lang, chat_ref("zalo-bot", chat_id))
        if answer.silent:
            return
        try:
            await self.send(chat_id, answer.reply, answer.lang)
        except (TimeoutError, ZaloBotError, aiohttp.ClientError) as exc:
            code = getattr(exc, "code", type(exc).__name__)
            log.error("zalo-bot: reply not delivered (%s) chat=%s", code, chat_ref("zalo-bot", chat_id))

    async def deliver(self, chat_id: str, reply: Any) -> None:
        """Send a notification (the outbox's sender for "zalo_bot"); raises on failure. Its
        buttons are left out: a numbered choice would not be remembered for this chat."""
        await self.send(chat_id, type(reply)(reply.text), "vi")

    async def send(self, chat_id: str, reply: Any, lang: str = "vi") -> None:
        """Send a Reply as text messages under 2,000 characters, its buttons as a numbered
        list, after its picture (sendPhoto by its address on this server, with TTHC_PUBLIC_URL);
        raises ZaloBotError (or a network error) when a text part fails."""
        address = image_address(reply, self.settings.public_url)
        if address is not None:
            try:
                await self.call("sendPhoto", {"chat_id": chat_id, "photo": address,
                                              "caption": (reply.image.caption or "")[:ZALO_MAX_TEXT]})
            except (TimeoutError, ZaloBotError, aiohttp.ClientError) as exc:  # the text still goes out
                log.warning("zalo-bot: picture not sent (%s)", getattr(exc, "code", type(exc).__name__))
        parts = zalo_chunks(reply.text)
        choices = numbered_choices(reply.buttons, lang)
        if choices:
            if parts and len(parts[-1]) + 2 + len(choices) <= ZALO_MAX_TEXT:
                parts[-1] = f"{parts[-1]}\n\n{choices}"
            else:
                parts.extend(zalo_chunks(choices))
        for part in parts:
            await self.call("sendMessage", {"chat_id": chat_id, "text": part})


async def zalo_bot_webhook(request: web.Request) -> web.Response:
    """POST /zalo-bot/webhook: an update from the Zalo Bot Platform. 403 without the right
    X-Bot-Api-Secret-Token; 200 (and no reply) for repeats, groups and what we do not answer."""
    channel = request.app[ZALO_BOT]
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode("utf-8", "replace"), channel.secret.encode()):
        log.warning("zalo-bot: webhook call refused (wrong or missing secret header)")
        return web.json_response({"ok": False, "description": "forbidden"}, status=403)
    try:
        body = _json.loads_untrusted(await read_body(request))  # depth checked before parsing
    except ValueError:
        log.warning("zalo-bot: webhook body is not JSON (or nested too deep); ignored")
        return web.json_response({"ok": True})
    update = channel.unwrap(body)
    target = channel.text_of(update) if update is not None else None
    if target is None:
        return web.json_response({"ok": True})
    chat_id, text, message_id = target
    if not channel.seen.first_time(message_id or channel.derived_id(update or {})):
        log.info("zalo-bot: repeated update ignored")
        return web.json_response({"ok": True})
    channel.background.spawn(channel.handle(chat_id, text))
    return web.json_response({"ok": True})


def setup_zalo_bot(app: web.Application, settings: Settings, conversations: Conversations) -> ZaloBotChannel:
    """Mount POST /zalo-bot/webhook and run the bot for the app's lifetime."""
    from ..leader import leader_of

    return mount(app, ZALO_BOT, ZaloBotChannel(settings, conversations, leader_of(app)), WEBHOOK_PATH,
                 zalo_bot_webhook)
