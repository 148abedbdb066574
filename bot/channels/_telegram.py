"""Telegram adapter (python-telegram-bot 22), mounted on the one aiohttp server.

Two ways to receive updates, chosen by the settings:
- webhook (TTHC_PUBLIC_URL set): an `Application` built with `.updater(None)`; Telegram POSTs
  updates to our own route POST /telegram/webhook, which checks the
  X-Telegram-Bot-Api-Secret-Token header and puts the update on `application.update_queue`.
  This follows python-telegram-bot's example "customwebhookbot"
  (https://docs.python-telegram-bot.org/en/stable/examples.customwebhookbot.html); the
  header is the `secret_token` given to setWebhook
  (https://core.telegram.org/bots/api#setwebhook).
- long polling (no public URL, e.g. on a laptop): the Application's own Updater.

Every handler forwards text to the assistant and renders its Reply: HTML-escaped text split under
4,096 characters, buttons as an inline keyboard. Outgoing calls go through `AIORateLimiter`
(https://docs.python-telegram-bot.org/en/stable/telegram.ext.aioratelimiter.html), which waits
and retries on RetryAfter (flood control). The bot token is kept out of every log record.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from datetime import timedelta
from typing import Any

from aiohttp import web
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from ..config import Settings
from ..core import _json
from ..core._links import start_action
from ..web._limits import read_body
from ._background import mount
from ._render import (
    COMMAND_ACTIONS,
    COMMAND_DESCRIPTIONS,
    TELEGRAM_MAX_CAPTION,
    keyboard_rows,
    lang_toggle,
    long_actions,
    telegram_chunks,
)
from ._sessions import Conversations, SeenEvents, chat_ref, hide_in_logs

log = logging.getLogger(__name__)

CHANNEL = "telegram"  # the channel name in subscriptions and the outbox
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# setWebhook's secret_token: 1-256 characters, only A-Z, a-z, 0-9, _ and -.
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
ALLOWED_UPDATES = ["message", "callback_query"]
STALE_ACTION = "menu:stale"  # the assistant answers unknown menu actions "this button is no longer valid"
BOOT_RETRY_MAX = 60.0

TELEGRAM: web.AppKey[TelegramChannel] = web.AppKey("telegram_channel")

_PRIVATE = filters.ChatType.PRIVATE
_NEW_MESSAGE = filters.UpdateType.MESSAGE  # not edited messages, not channel posts

APOLOGY = {
    "vi": "Xin lỗi, đã có lỗi khi xử lý tin nhắn của bạn. Bạn vui lòng thử lại sau ít phút.",
    "en": "Sorry, something went wrong while handling your message. Please try again in a few minutes.",
}
GROUP_NOTE = {
    "vi": "Tôi chỉ trả lời trong tin nhắn riêng. Bạn hãy nhắn riêng cho tôi nhé.",
    "en": "I only answer in private chats. Please message me directly.",
}


def derived_secret(token: str) -> str:
    """The webhook secret used when TELEGRAM_WEBHOOK_SECRET is empty: derived from the token,
    so every process of the bot agrees on it and the route is never left open."""
    return hashlib.sha256(f"tthc-telegram-webhook:{token}".encode()).hexdigest()


class TelegramChannel:
    """The Telegram bot: a python-telegram-bot Application fed by webhook or long polling."""

    def __init__(self, settings: Settings, conversations: Conversations, leader: Any | None = None) -> None:
        self.settings = settings
        self.conversations = conversations
        #: With several replicas, only the leader registers the webhook and the command menu
        #: (again whenever the lead passes to this replica: bot/leader.py).
        self.leader = leader
        self.token = settings.telegram_token
        self.webhook_mode = bool(settings.public_url)
        self.secret = settings.telegram_webhook_secret or derived_secret(self.token)
        self.webhook_url = settings.public_url.rstrip("/") + WEBHOOK_PATH if self.webhook_mode else ""
        self.ready = asyncio.Event()
        self.seen = SeenEvents(getattr(conversations, "store", None), "telegram")
        self.failed: str | None = None
        self._boot_task: asyncio.Task[None] | None = None
        hide_in_logs(self.token, self.secret)
        self.application: Application[Any, Any, Any, Any, Any, Any] = self._build()

    # -- setup ------------------------------------------------------------------------------

    def _build(self) -> Application[Any, Any, Any, Any, Any, Any]:
        builder = (
            Application.builder()
            .token(self.token)
            .base_url(self.settings.telegram_api_base)
            .rate_limiter(AIORateLimiter(max_retries=3))
        )
        if self.webhook_mode:
            builder = builder.updater(None)
        application = builder.build()
        command = _NEW_MESSAGE & _PRIVATE
        application.add_handler(CommandHandler("start", self.on_start, filters=command))
        for name in COMMAND_ACTIONS:
            application.add_handler(CommandHandler(name, self.on_command, filters=command))
        application.add_handler(CommandHandler("lang", self.on_lang, filters=command))
        application.add_handler(MessageHandler(_NEW_MESSAGE & _PRIVATE & filters.TEXT, self.on_text))
        application.add_handler(MessageHandler(_NEW_MESSAGE & _PRIVATE & ~filters.TEXT, self.on_other))
        application.add_handler(MessageHandler(_NEW_MESSAGE & ~_PRIVATE & filters.COMMAND, self.on_group_command))
        application.add_handler(MessageHandler(
            _NEW_MESSAGE & ~_PRIVATE & filters.TEXT & filters.REPLY & ~filters.COMMAND, self.on_group_reply))
        application.add_handler(CallbackQueryHandler(self.on_callback))
        application.add_error_handler(self.on_error)
        return application

    async def start(self) -> None:
        """Start in the background: the web server does not wait for (or die with) Telegram."""
        if not SECRET_RE.match(self.secret):
            self.failed = "TELEGRAM_WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (1 to 256 characters)"
            log.error("telegram: not started: %s", self.failed)
            return
        self._boot_task = asyncio.create_task(self._boot(), name="telegram-boot")
        if self.leader is not None:
            self.leader.on_elected(self._on_elected)

    def _leads(self) -> bool:
        return self.leader is None or bool(self.leader.is_leader)

    async def _on_elected(self) -> None:
        """The lead passed to this replica: register the webhook (the old leader may have died
        before it did). At start the boot does it."""
        if not self.ready.is_set():
            return
        if self.webhook_mode:
            await self._set_webhook()
        await self._set_commands()

    async def _set_webhook(self) -> None:
        await self.application.bot.set_webhook(
            url=self.webhook_url, secret_token=self.secret, allowed_updates=ALLOWED_UPDATES
        )
        log.info("telegram: webhook registered")

    async def _boot(self) -> None:
        delay = 1.0
        while True:
            try:
                await self._start_once()
            except InvalidToken:
                self.failed = "the bot token was refused"
                log.error("telegram: not started: the bot token was refused (check TELEGRAM_BOT_TOKEN)")
                return
            except BadRequest as exc:  # e.g. setWebhook: "An HTTPS URL must be provided"
                self.failed = f"Telegram refused the setup: {exc.message}"
                log.error("telegram: not started: %s (check TTHC_PUBLIC_URL)", self.failed)
                await self._stop_quietly()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("telegram: could not start (%s); retrying in %.0f s", type(exc).__name__, delay)
                log.debug("telegram: start failure", exc_info=exc)
                await self._stop_quietly()
                await asyncio.sleep(delay)
                delay = min(delay * 2, BOOT_RETRY_MAX)
                continue
            self.ready.set()
            mode = "webhook" if self.webhook_mode else "long polling"
            log.info("telegram: running (%s) as @%s", mode, self.application.bot.username)
            return

    async def _start_once(self) -> None:
        application = self.application
        await application.initialize()
        if self.webhook_mode:
            if self._leads():
                await self._set_webhook()
            await application.start()
        else:
            assert application.updater is not None
            await application.updater.start_polling(
                timeout=timedelta(seconds=20),
                allowed_updates=ALLOWED_UPDATES,
                error_callback=self._polling_error,
            )
            await application.start()
        if self._leads():
            await self._set_commands()

    async def _set_commands(self) -> None:
        """The command menu in both languages (best effort: not every Bot API server has it)."""
        try:
            bot = self.application.bot
            await bot.set_my_commands([BotCommand(c, vi) for c, (vi, _en) in COMMAND_DESCRIPTIONS.items()])
            await bot.set_my_commands(
                [BotCommand(c, en) for c, (_vi, en) in COMMAND_DESCRIPTIONS.items()], language_code="en"
            )
        except TelegramError as exc:
            log.info("telegram: command menu not set (%s)", type(exc).__name__)

    @staticmethod
    def _polling_error(exc: TelegramError) -> None:
        log.warning("telegram: polling error (%s); retrying", type(exc).__name__)

    async def stop(self) -> None:
        """Stop receiving, finish handling, close the connections. The webhook stays registered
        (another process may be serving it)."""
        if self._boot_task is not None and not self._boot_task.done():
            self._boot_task.cancel()
            try:
                await self._boot_task
            except asyncio.CancelledError:
                pass
        await self._stop_quietly()

    async def _stop_quietly(self) -> None:
        application = self.application
        try:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()
        except Exception as exc:
            log.warning("telegram: error while stopping (%s)", type(exc).__name__)

    # -- handlers ---------------------------------------------------------------------------

    @staticmethod
    def _key(chat_id: int) -> str:
        return f"tg:{chat_id}"

    async def _reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
        """Send `text` to the assistant for this chat and render its answer."""
        chat = update.effective_chat
        if chat is None:
            return
        key = self._key(chat.id)
        answer = await self.conversations.answer(
            key, text, channel_state=lambda a: {"actions": long_actions(a.reply.buttons)},
            chat=(CHANNEL, str(chat.id)),
        )
        log.info("telegram: intent=%s lang=%s chat=%s", answer.intent, answer.lang, chat_ref("tg", chat.id))
        if not answer.silent:
            await self.send(context.bot, chat.id, answer.reply)

    async def deliver(self, chat_id: str, reply: Any) -> None:
        """Send a notification (the outbox's sender for "telegram"); raises on failure."""
        if not self.ready.is_set():
            raise RuntimeError("the Telegram bot is not running yet")
        await self.send(self.application.bot, int(chat_id), reply)

    async def send(self, bot: Any, chat_id: int, reply: Any) -> None:
        """Render a Reply: an optional photo, then the text in parts, the keyboard under the last."""
        markup = None
        if reply.buttons:
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in keyboard_rows(reply.buttons)]
            )
        if reply.image is not None:
            caption = telegram_chunks(reply.image.caption, TELEGRAM_MAX_CAPTION)
            try:
                await bot.send_photo(
                    chat_id, photo=reply.image.png, caption=caption[0] if caption else None, parse_mode=ParseMode.HTML,
                )
            except TelegramError as exc:  # the picture is extra: the text still goes out
                log.warning("telegram: photo not sent (%s)", type(exc).__name__)
        chunks = telegram_chunks(reply.text)
        for i, chunk in enumerate(chunks):
            await bot.send_message(
                chat_id,
                chunk,
                parse_mode=ParseMode.HTML,
                reply_markup=markup if i == len(chunks) - 1 else None,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/start, possibly with a deep-link payload (t.me/<bot>?start=p_1_009664) from a QR code."""
        payload = context.args[0] if context.args else None
        await self._reply(update, context, start_action(payload))

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/help, /tracuu, /lotrinh, /lienhe; "/tracuu <dossier code>" looks the code up at once."""
        message = update.effective_message
        if message is None or not message.text:
            return
        name = message.text.split()[0].lstrip("/").split("@")[0].lower()
        if name == "tracuu" and context.args:
            await self._reply(update, context, " ".join(context.args))
            return
        await self._reply(update, context, COMMAND_ACTIONS.get(name, "menu:greeting"))

    async def on_lang(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/lang: switch between Vietnamese and English."""
        chat = update.effective_chat
        if chat is None:
            return
        await self._reply(update, context, lang_toggle(self.conversations.state(self._key(chat.id))))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any other text (including unknown commands) is a question for the assistant."""
        message = update.effective_message
        if message is not None and message.text:
            await self._reply(update, context, message.text)

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, voice…: the assistant's answer to an empty question (a hint to type)."""
        await self._reply(update, context, "")

    async def on_group_reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In the staff group, a reply to a message the bot forwarded there (a handed-over user's
        message): the assistant relays it to that user. Other group messages are ignored."""
        from ..guide import staff_reply_command

        message = update.effective_message
        chat = update.effective_chat
        replied = message.reply_to_message if message is not None else None
        if message is None or chat is None or replied is None or not message.text:
            return
        if replied.from_user is None or replied.from_user.id != context.bot.id:
            return
        command = staff_reply_command(replied.text or replied.caption or "", message.text)
        if command is None:
            return
        answer = await self.conversations.answer(self._key(chat.id), command, chat=(CHANNEL, str(chat.id)))
        if answer.intent == "staff" and not answer.silent:
            await self.send(context.bot, chat.id, answer.reply)

    async def on_group_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command in a group: a short note pointing to the private chat (plain text is ignored)."""
        message = update.effective_message
        if message is None or not message.text:
            return
        addressed = message.text.split()[0].partition("@")[2]
        if addressed and addressed.lower() != (context.bot.username or "").lower():
            return  # a command for another bot in the group
        chat = update.effective_chat
        if chat is not None:
            # A staff group (TTHC_STAFF_CHATS) may ask for figures; the assistant decides.
            answer = await self.conversations.answer(self._key(chat.id), message.text, chat=(CHANNEL, str(chat.id)))
            if answer.silent:
                return
            if answer.intent == "staff":
                await self.send(context.bot, chat.id, answer.reply)
                return
        lang = "en" if (message.from_user and (message.from_user.language_code or "").startswith("en")) else "vi"
        await message.reply_text(GROUP_NOTE[lang])

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A pressed inline button: its callback data is the assistant action (or a digest of it)."""
        query = update.callback_query
        if query is None:
            return
        try:
            await query.answer()
        except TelegramError as exc:  # an old query can no longer be answered: go on anyway
            log.info("telegram: callback not acknowledged (%s)", type(exc).__name__)
        if query.message is None or update.effective_chat is None:
            return
        data = query.data or ""
        if data.startswith("h:"):
            channel = self.conversations.state(self._key(update.effective_chat.id)).channel
            data = (channel.get("actions") or {}).get(data, STALE_ACTION)
        await self._reply(update, context, data or STALE_ACTION)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one error handler: log (without tokens or texts) and apologise in private chats."""
        error = context.error
        if isinstance(error, RetryAfter):
            log.warning("telegram: flood control, retry after %s", error.retry_after)
            return
        if isinstance(error, Forbidden):  # the user blocked the bot
            log.info("telegram: a chat refused our message (%s)", type(error).__name__)
            return
        log.error("telegram: error while handling an update: %s", type(error).__name__, exc_info=error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        chat = update.effective_chat
        if chat.type != ChatType.PRIVATE:
            return
        lang = self.conversations.state(self._key(chat.id)).lang
        try:
            await context.bot.send_message(chat.id, APOLOGY.get(lang, APOLOGY["vi"]))
        except TelegramError as exc:
            log.warning("telegram: could not apologise (%s)", type(exc).__name__)


async def telegram_webhook(request: web.Request) -> web.Response:
    """POST /telegram/webhook: an update from Telegram. 403 without the right secret header;
    anything unreadable is acknowledged (200) and dropped, so Telegram does not resend it."""
    channel = request.app[TELEGRAM]
    if not channel.webhook_mode:
        raise web.HTTPNotFound(text="the Telegram bot uses long polling")
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode("utf-8", "replace"), channel.secret.encode()):
        log.warning("telegram: webhook call refused (wrong or missing secret header)")
        return web.Response(status=403, text="forbidden")
    if not channel.ready.is_set():
        return web.Response(status=503, text="starting", headers={"Retry-After": "5"})
    try:
        data = _json.loads_untrusted(await read_body(request))  # depth checked before parsing
    except ValueError:
        log.warning("telegram: webhook body is not JSON (or nested too deep); ignored")
        return web.Response(text="ok")
    if not isinstance(data, dict):
        return web.Response(text="ok")
    update_id = data.get("update_id")
    if type(update_id) is not int:
        log.warning("telegram: update without an update_id ignored")
        return web.Response(text="ok")
    # Telegram redelivers an update until it gets 200: each update_id is answered once, in
    # any process (the storage's inbox).
    if not channel.seen.first_time(update_id):
        log.info("telegram: repeated update ignored")
        return web.Response(text="ok")
    try:
        update = Update.de_json(data, channel.application.bot)
    except Exception as exc:
        log.warning("telegram: unreadable update ignored (%s)", type(exc).__name__)
        return web.Response(text="ok")
    await channel.application.update_queue.put(update)
    return web.Response(text="ok")


def setup_telegram(app: web.Application, settings: Settings, conversations: Conversations) -> TelegramChannel:
    """Mount POST /telegram/webhook and run the bot for the app's lifetime."""
    from ..leader import leader_of

    channel = TelegramChannel(settings, conversations, leader_of(app))
    return mount(app, TELEGRAM, channel, WEBHOOK_PATH, telegram_webhook)
