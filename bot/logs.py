"""Logging: nothing personal or secret in any log record, and structured (JSON) lines on request.

`install_privacy()` puts a log-record factory in place (once per process) that rewrites every
record's message (and traceback) before any handler sees it:

- registered secrets (`hide`: bot tokens, webhook secrets, Zalo tokens) wherever they occur;
- `secret=…`, `token=…`, `access_token=…` and similar in URLs and forms, `Bearer …`, the
  webhook secret headers, and JSON fields such as "secret", "MaTraCuu", "SoDienThoai";
- Telegram-style bot tokens (`123456789:AA…`);
- Vietnamese phone numbers (0… or +84…, with or without spaces, dots or dashes);
- identity numbers (9-digit CMND, 12-digit CCCD).

Each is replaced by "[redacted]". DEBUG records of the chat libraries (python-telegram-bot logs
whole updates and API calls) keep their text but lose their arguments. The bot logs intents, dossier codes, timings and one-way chat
references, never message texts; this filter is the net under that rule.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import traceback
from datetime import UTC, datetime
from typing import Any

REDACTED = "[redacted]"

_KEYS = r"secret|secret_token|token|access_token|refresh_token|code_verifier|password|passwd|api_key|apikey|secret_key|mac|signature"
_JSON_KEYS = _KEYS + r"|matracuu|sodienthoai|phone|email|chuhoso|applicant|cccd|cmnd|id_number"
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # key=value in URLs, forms and headers written as text
    (re.compile(rf"(?i)\b((?:{_KEYS})=)[^&\s\"'<>]+"), rf"\1{REDACTED}"),
    # "key": "value" in JSON
    (re.compile(rf"(?i)(\"(?:{_JSON_KEYS})\"\s*:\s*\")[^\"]*"), rf"\1{REDACTED}"),
    # Authorization: Bearer …, and the webhook secret headers
    (re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+"), rf"\1{REDACTED}"),
    (re.compile(r"(?i)\b((?:x-telegram-bot-api-secret-token|x-bot-api-secret-token|x-zevent-signature|access_token|secret_key)['\"]?\s*[:=]\s*['\"]?)[^\s\"',;}]+"),
     rf"\1{REDACTED}"),
    # bot tokens: <bot id>:<secret>
    (re.compile(r"\d{5,12}:[A-Za-z0-9_-]{20,}"), REDACTED),
    # phone numbers: 0 or +84 / 84 then 8 to 10 more digits, maybe grouped by spaces, dots, dashes
    (re.compile(r"(?<![\w.+])(?:\+84|84|0)(?:[ .-]?\d){8,10}(?![\w])"), REDACTED),
    # identity numbers: exactly 9 (CMND) or 12 (CCCD) digits
    (re.compile(r"(?<![\w.:-])(?:\d{12}|\d{9})(?![\w:-])"), REDACTED),
]

# A line none of PATTERNS can match has no run of 8+ digits (spaces, dots and dashes allowed
# inside), no bot token and none of these words: such lines (most of them) skip the patterns.
_DIGITS = re.compile(r"\d(?:[ .-]?\d){7}|\d{5}:[\w-]{20}")
_WORDS = ("secret", "token", "verifier", "passw", "key", "mac", "signature", "bearer", "matracuu",
          "sodienthoai", "phone", "email", "chuhoso", "applicant", "cccd", "cmnd", "id_number")

_SECRETS: set[str] = set()
_ORDERED: list[str] = []  # _SECRETS, longest first
_LOCK = threading.Lock()
_INSTALLED = False


def hide(*secrets: str) -> None:
    """Never let any of `secrets` (six characters or more) appear in a log record."""
    global _ORDERED
    with _LOCK:
        _SECRETS.update(s for s in secrets if s and len(s) >= 6)
        _ORDERED = sorted(_SECRETS, key=len, reverse=True)
    install_privacy()


def redact(text: str) -> str:
    """`text` without registered secrets, personal numbers or credentials."""
    for secret in _ORDERED:
        if secret in text:
            text = text.replace(secret, REDACTED)
    if not _DIGITS.search(text):
        lower = text.lower()
        if not any(word in lower for word in _WORDS):
            return text
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


#: Libraries whose DEBUG records carry whole updates or API calls (message texts): their
#: arguments are withheld.
CHATTY = ("telegram", "httpx", "httpcore", "aiohttp.client")


def _scrub(record: logging.LogRecord) -> None:
    if record.levelno < logging.INFO and record.args and record.name.startswith(CHATTY):
        record.msg, record.args = f"{record.msg} [arguments withheld]", None
        return
    try:
        message = record.getMessage()
    except Exception:
        message = str(record.msg)
    clean = redact(message)
    if clean != message or record.args:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        clean = redact(text)
        if clean != text:
            record.exc_text = clean
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install_privacy() -> None:
    """Put the redacting record factory in place (once per process)."""
    global _INSTALLED
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs request URLs (with the bot token)
    demote_client_errors()
    with _LOCK:
        if _INSTALLED:
            return
        _INSTALLED = True
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            try:
                _scrub(record)
            except Exception:  # pragma: no cover - never let logging itself fail
                record.msg, record.args = "(log message withheld)", None
            return record

        logging.setLogRecordFactory(factory)


class DemoteClientErrors(logging.Filter):
    """aiohttp logs a client's malformed request (bad framing, an undecodable body) as an
    ERROR with a traceback, although it answered 400: that is the client's fault, and a flood
    of them must not fill the error log. Such records become one INFO line."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and record.levelno >= logging.ERROR and _client_error(exc):
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            record.msg, record.args = f"bad request from a client ({type(exc).__name__}: {first[:120]})", None
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def _client_error(exc: BaseException) -> bool:
    from aiohttp.http_exceptions import HttpProcessingError
    from aiohttp.web_protocol import RequestPayloadError

    return isinstance(exc, (HttpProcessingError, RequestPayloadError))


def demote_client_errors() -> None:
    """Put `DemoteClientErrors` on aiohttp's server logger (once)."""
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, DemoteClientErrors) for f in server.filters):
        server.addFilter(DemoteClientErrors())


_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC), level, logger, msg, any `extra` fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            data["exc"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(settings: Any, stream: Any = None) -> logging.Handler:
    """Root logging for `tthc-bot serve`: TTHC_LOG_LEVEL, TTHC_LOG_FORMAT (text or json), privacy."""
    install_privacy()
    # Not shown by either format: no need to look them up for every record.
    logging.logProcesses = logging.logMultiprocessing = False
    handler = logging.StreamHandler(stream or sys.stderr)
    fmt = str(getattr(settings, "log_format", "text")).lower()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(str(getattr(settings, "log_level", "INFO")).upper())
    return handler
