"""Settings from environment variables: each has a default and a help line (shown by `tthc-bot config`).

Secrets (tokens, webhook secrets) come only from the environment and are never printed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def _setting(env: str, default: Any, help: str, secret: bool = False, secret_url: bool = False) -> Any:
    return field(default=default, metadata={"env": env, "help": help, "secret": secret, "secret_url": secret_url})


class SettingError(ValueError):
    """A setting (or a file it names) is wrong: the message says which and how (the server does not start)."""


@dataclass(frozen=True)
class Settings:
    """All configuration of the bot. Build with `Settings.from_env()`."""

    knowledge: str = _setting("TTHC_KNOWLEDGE", "", "Knowledge directory (default: the bundled knowledge/)")
    db: str = _setting("TTHC_DB", "tthc-bot.db", "Database for dossiers, sessions and the outbox: an SQLite file, or postgresql://user:pass@host:port/db shared by replicas (docs/replicas.md)", secret_url=True)
    db_pool: int = _setting("TTHC_DB_POOL", 10, "Connections to PostgreSQL one process keeps open at most (TTHC_DB a postgresql:// URL)")
    leader_interval: int = _setting("TTHC_LEADER_INTERVAL", 5, "Seconds between a replica's checks of who leads the once-only jobs (digest, token refresh, webhooks): a dead leader is replaced within this time")
    host: str = _setting("TTHC_HOST", "127.0.0.1", "Address `tthc-bot serve` listens on")
    port: int = _setting("TTHC_PORT", 8080, "Port `tthc-bot serve` listens on")
    public_url: str = _setting("TTHC_PUBLIC_URL", "", "Public https address of this server (for webhooks and QR codes)")
    log_level: str = _setting("TTHC_LOG_LEVEL", "INFO", "Logging level: DEBUG, INFO, WARNING or ERROR")
    max_question_chars: int = _setting("TTHC_MAX_QUESTION_CHARS", 500, "Questions are cut to this length before matching")
    sync_token: str = _setting("TTHC_SYNC_TOKEN", "", "Bearer token for POST /api/dossiers (push from the one-stop system); off when empty", secret=True)
    telegram_token: str = _setting("TELEGRAM_BOT_TOKEN", "", "Telegram bot token from @BotFather; Telegram is off when empty", secret=True)
    telegram_webhook_secret: str = _setting("TELEGRAM_WEBHOOK_SECRET", "", "Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token", secret=True)
    telegram_api_base: str = _setting("TELEGRAM_API_BASE", "https://api.telegram.org/bot", "Telegram Bot API base URL (tests point it elsewhere)")
    # Dossiers: working days, staff digest.
    calendar: str = _setting("TTHC_CALENDAR", "", "YAML file of extra days off and make-up working days (default: calendar.yaml in the knowledge directory)")
    staff_chats: str = _setting("TTHC_STAFF_CHATS", "", "Staff chats for the daily digest, comma-separated channel:chat_id (e.g. telegram:-1001234567890)")
    digest_time: str = _setting("TTHC_DIGEST_TIME", "08:00", "Time (Vietnam, HH:MM) the staff digest is sent on working days")
    digest_days: int = _setting("TTHC_DIGEST_DAYS", 3, "The digest lists dossiers due within this many working days, and overdue ones")
    # Channels: Telegram, Zalo Official Account (OA API v3) and Zalo Bot (docs/channels.md).
    zalo_oa_app_id: str = _setting("ZALO_OA_APP_ID", "", "Zalo app ID linked to the OA (Zalo for Developers); Zalo OA is off when empty")
    zalo_oa_secret_key: str = _setting("ZALO_OA_SECRET_KEY", "", "OA secret key of the app (Webhook page): checks X-ZEvent-Signature", secret=True)
    zalo_oa_access_token: str = _setting("ZALO_OA_ACCESS_TOKEN", "", "OA access token (optional: one is made from the refresh token)", secret=True)
    zalo_oa_refresh_token: str = _setting("ZALO_OA_REFRESH_TOKEN", "", "OA refresh token; single-use: each new one is stored in the database", secret=True)
    zalo_app_secret: str = _setting("ZALO_APP_SECRET", "", "App secret key (Zalo for Developers), sent when refreshing the OA access token", secret=True)
    zalo_oa_id: str = _setting("ZALO_OA_ID", "", "OA ID; when set, events for another OA are ignored")
    zalo_oa_api_base: str = _setting("ZALO_OA_API_BASE", "https://openapi.zalo.me", "Zalo OA API base URL (tests point it elsewhere)")
    zalo_oauth_base: str = _setting("ZALO_OAUTH_BASE", "https://oauth.zaloapp.com", "Zalo OAuth base URL for token refresh (tests point it elsewhere)")
    zalo_bot_token: str = _setting("ZALO_BOT_TOKEN", "", "Zalo Bot token from Zalo Bot Creator; Zalo Bot is off when empty", secret=True)
    zalo_bot_webhook_secret: str = _setting("ZALO_BOT_WEBHOOK_SECRET", "", "Secret (8-256 characters) Zalo Bot sends in X-Bot-Api-Secret-Token", secret=True)
    zalo_bot_api_base: str = _setting("ZALO_BOT_API_BASE", "https://bot-api.zaloplatforms.com", "Zalo Bot API base URL (tests point it elsewhere)")
    # Limits, privacy and operations (docs/operators.md: "Security and privacy", "Running it").
    user_messages_per_minute: int = _setting("TTHC_USER_MESSAGES_PER_MINUTE", 20, "Messages one chat (any channel, or a web session) may send per minute; more get a polite 'slow down' (0: no limit)")
    api_requests_per_minute: int = _setting("TTHC_API_REQUESTS_PER_MINUTE", 60, "Requests one IP address may make per minute to POST /api/ask and GET /api/dossiers/{code}; more get 429 (0: no limit)")
    api_concurrency_per_ip: int = _setting("TTHC_API_CONCURRENCY_PER_IP", 8, "Questions from one IP address being answered at the same time; more get 429")
    answer_queue: int = _setting("TTHC_ANSWER_QUEUE", 256, "Messages waiting for the answer engine at most; beyond that the API answers 503 (busy)")
    pictures_per_minute: int = _setting("TTHC_PICTURES_PER_MINUTE", 60, "Requests one IP address may make per minute to GET /roadmap/{lang}/{key}.png (pictures are drawn on a worker thread); more get 429 (0: no limit)")
    idle_timeout: int = _setting("TTHC_IDLE_TIMEOUT", 15, "Seconds `tthc-bot serve` keeps a connection that sends no request (idle keep-alive, or a client that never completes its headers)")
    body_timeout: int = _setting("TTHC_BODY_TIMEOUT", 20, "Seconds a client may take to send a request body; slower ones get 408 and the connection is closed")
    trusted_proxies: str = _setting("TTHC_TRUSTED_PROXIES", "", "Reverse proxies (comma-separated addresses, e.g. 127.0.0.1) whose X-Forwarded-For names the client")
    keep_days: int = _setting("TTHC_KEEP_DAYS", 30, "Conversation state (no message texts are stored) is deleted after this many days without a message")
    metrics_token: str = _setting("TTHC_METRICS_TOKEN", "", "Bearer token for GET /metrics; open when empty", secret=True)
    log_format: str = _setting("TTHC_LOG_FORMAT", "text", "Log format of `tthc-bot serve`: text, or json (one object per line)")
    outbox_lease: int = _setting("TTHC_OUTBOX_LEASE", 300, "Seconds after which a notification left 'sending' by a killed process is taken again")
    keep_questions_days: int = _setting("TTHC_KEEP_QUESTIONS_DAYS", 180, "Recorded questions (unanswered ones and 👍/👎, texts masked) are deleted after this many days")
    # Guide: QR codes, complaints and the handover to staff (bot/guide).
    telegram_bot_username: str = _setting("TELEGRAM_BOT_USERNAME", "", "The bot's Telegram username (without @), for t.me links and QR codes")
    zalo_oa_link: str = _setting("ZALO_OA_LINK", "", "Link that opens the board's Zalo OA (default: https://zalo.me/<ZALO_OA_ID>), for QR codes")
    handover_chat: str = _setting("TTHC_HANDOVER_CHAT", "", "Staff chat (channel:chat_id, e.g. telegram:-1001234567890) for handovers and complaints; default: the first of TTHC_STAFF_CHATS")
    # Staff console (/staff/, bot/console).
    staff_secret: str = _setting("TTHC_STAFF_SECRET", "", "Key of the staff console's encrypted session cookies (any long random text, the same on every replica); default: one generated and kept in the database", secret=True)
    # Notices that reach the applicant (docs/staff.md: "Notices to the applicant"): email and ZNS.
    smtp_url: str = _setting("TTHC_SMTP_URL", "", "Mail server for status emails to the applicant: smtp://user:password@host:port (STARTTLS when offered) or smtps://… (TLS); email is off when empty", secret=True)
    mail_from: str = _setting("TTHC_MAIL_FROM", "", "Sender of status emails, e.g. \"Ban Quản lý KCN <motcua@example.gov.vn>\" (needed with TTHC_SMTP_URL)")
    zns_templates: str = _setting("TTHC_ZNS_TEMPLATES", "", "YAML or JSON file of the board's approved ZNS templates: template id and parameters per status (docs/staff.md); ZNS is off when empty (needs the Zalo OA settings)")
    zns_api_base: str = _setting("ZALO_ZNS_API_BASE", "https://business.openapi.zalo.me", "Zalo ZNS API base URL (tests point it elsewhere)")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read every setting from `env` (default: os.environ), falling back to its default."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is None or raw == "":
                continue
            if isinstance(f.default, int):
                try:
                    values[f.name] = int(raw)
                except ValueError as exc:
                    raise ValueError(f"{f.metadata['env']} must be a whole number, got {raw!r}") from exc
            else:
                values[f.name] = raw.strip()
        return cls(**values)

    @property
    def knowledge_dir(self) -> Path:
        return Path(self.knowledge) if self.knowledge else default_knowledge_dir()

    def describe(self) -> list[tuple[str, str, str]]:
        """(variable, current value or '(set)' for secrets, help) for every setting."""
        rows = []
        for f in fields(self):
            value = getattr(self, f.name)
            text = ("(set)" if value else "(not set)") if f.metadata["secret"] else str(value)
            if f.metadata.get("secret_url"):
                text = shown(text)
            rows.append((f.metadata["env"], text, f.metadata["help"]))
        return rows


def is_postgres(db: str | Path | None) -> bool:
    """True when `db` (TTHC_DB) names a PostgreSQL database rather than an SQLite file."""
    return isinstance(db, str) and db.startswith(("postgresql://", "postgres://"))


def shown(db: str | Path) -> str:
    """`db` fit for a log line or a message: a PostgreSQL URL without its password."""
    text = str(db)
    if not is_postgres(text):
        return text
    parts = urlsplit(text)
    if parts.password is None:
        return text
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def default_knowledge_dir() -> Path:
    """The bundled knowledge: inside the installed package, or beside it in a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "knowledge", here.parent / "knowledge"):
        if (candidate / "procedures").is_dir():
            return candidate
    return here.parent / "knowledge"
