"""Rendering a channel-agnostic `Reply` for each channel, and mapping channel input to the assistant's text.

No domain logic here: the assistant decides what to say; these functions only escape, split and
lay out its text and buttons within each platform's limits.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Sequence
from typing import Any

from ..core import Button, ConversationState, split_text

# Telegram: a message holds at most 4,096 characters (after entity parsing) and callback data
# at most 64 bytes (https://core.telegram.org/bots/api#sendmessage, #inlinekeyboardbutton).
TELEGRAM_MAX_TEXT = 4096
TELEGRAM_MAX_CAPTION = 1024
TELEGRAM_MAX_CALLBACK_BYTES = 64
# Zalo OA: a consultation text holds at most 2,000 characters; a button title at most 100,
# an oa.query.show payload at most 1,000 characters; we send at most 5 buttons a message.
ZALO_MAX_TEXT = 2000
ZALO_MAX_BUTTON_TITLE = 100
ZALO_MAX_BUTTON_PAYLOAD = 1000
ZALO_MAX_BUTTONS = 5
# oa.query.show: pressing the button sends its payload (our action) as the user's visible
# message; "oa.query.hide" would send it without showing it in the chat.
ZALO_BUTTON_TYPE = "oa.query.show"


# Commands and the assistant action each one sends.
COMMAND_ACTIONS: dict[str, str] = {
    "help": "menu:greeting",
    "tracuu": "menu:status",
    "lotrinh": "menu:roadmap",
    "lienhe": "menu:contact",
    "canbo": "ho:start",
    "phananh": "pa:start",
}
COMMAND_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "start": ("Bắt đầu", "Start"),
    "help": ("Hướng dẫn", "Help"),
    "tracuu": ("Tra cứu hồ sơ", "Look up a dossier"),
    "lotrinh": ("Lộ trình thủ tục của dự án", "Investor roadmap"),
    "lienhe": ("Liên hệ Ban Quản lý", "Contact the board"),
    "canbo": ("Gặp cán bộ", "Talk to staff"),
    "phananh": ("Phản ánh, kiến nghị", "Send a complaint"),
    "lang": ("Đổi ngôn ngữ Việt/Anh", "Switch Vietnamese/English"),
}


def lang_toggle(state: ConversationState) -> str:
    """The action of /lang: the other language than the chat's current one."""
    return "lang:vi" if state.lang == "en" else "lang:en"


# -- Telegram -------------------------------------------------------------------------------


def telegram_chunks(text: str, limit: int = TELEGRAM_MAX_TEXT) -> list[str]:
    """`text` HTML-escaped and split, in order, into messages that stay under `limit`
    characters once escaped (escaping lengthens text: & becomes &amp;)."""
    return [c for c in _escaped_parts(text, limit, max(1, limit - 200)) if c.strip()]


def _escaped_parts(text: str, limit: int, budget: int) -> list[str]:
    out: list[str] = []
    for part in split_text(text, budget):
        escaped = html.escape(part, quote=False)
        if len(escaped) <= limit:
            out.append(escaped)
        else:  # dense in & < >: split this part finer
            out.extend(_escaped_parts(part, limit, max(1, len(part) // 2)))
    return out


def callback_data(action: str) -> str:
    """Callback data for a button: the action itself when it fits in 64 bytes (UTF-8; a
    Vietnamese letter takes 2-3 bytes), else "h:" + a digest that `long_actions` resolves."""
    if len(action.encode("utf-8")) <= TELEGRAM_MAX_CALLBACK_BYTES:
        return action
    return "h:" + hashlib.sha256(action.encode("utf-8")).hexdigest()[:32]


def long_actions(buttons: Sequence[Button]) -> dict[str, str]:
    """{digest data: action} for the buttons whose action does not fit in callback data."""
    return {callback_data(b.action): b.action for b in buttons if callback_data(b.action) != b.action}


def keyboard_rows(buttons: Sequence[Button]) -> list[list[tuple[str, str]]]:
    """Buttons laid out in rows of (label, callback data): two a row when labels are short."""
    rows: list[list[tuple[str, str]]] = []
    row: list[tuple[str, str]] = []
    for b in buttons:
        item = (b.label[:64], callback_data(b.action))
        if len(b.label) > 22:
            if row:
                rows.append(row)
                row = []
            rows.append([item])
            continue
        row.append(item)
        if len(row) == 2:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    return rows


# -- Zalo -----------------------------------------------------------------------------------


def zalo_chunks(text: str, limit: int = ZALO_MAX_TEXT) -> list[str]:
    """Plain text split under Zalo's limit (Zalo shows text as is: no escaping)."""
    return [c for c in split_text(text, limit) if c.strip()]


def zalo_button_groups(buttons: Sequence[Button]) -> list[list[dict[str, str]]]:
    """Zalo OA buttons in groups of at most five: each {"title", "type": "oa.query.show",
    "payload": action}; pressing one makes the user send `action` as a message."""
    items = [
        {"title": b.label[:ZALO_MAX_BUTTON_TITLE], "type": ZALO_BUTTON_TYPE, "payload": b.action[:ZALO_MAX_BUTTON_PAYLOAD]}
        for b in buttons
    ]
    return [items[i:i + ZALO_MAX_BUTTONS] for i in range(0, len(items), ZALO_MAX_BUTTONS)]


def image_address(reply: Any, public_url: str) -> str | None:
    """The full https address of a reply's picture on this server (Zalo fetches pictures by
    address), or None without a picture with a web path or without TTHC_PUBLIC_URL."""
    image = getattr(reply, "image", None)
    if image is None or not image.url or not public_url:
        return None
    return public_url.rstrip("/") + image.url


def numbered_choices(buttons: Sequence[Button], lang: str) -> str:
    """Buttons written as a numbered list, for channels without buttons (Zalo Bot)."""
    if not buttons:
        return ""
    head = "Trả lời bằng số để chọn:" if lang == "vi" else "Reply with a number to choose:"
    return "\n".join([head] + [f"{i}. {b.label}" for i, b in enumerate(buttons, 1)])


def chosen_action(text: str, channel_state: dict[str, Any] | None) -> str | None:
    """The action of a numbered choice the user typed ("2"), if the last reply offered one."""
    choices = (channel_state or {}).get("choices") or []
    t = text.strip().rstrip(".")
    if 1 <= len(t) <= 3 and t.isascii() and t.isdigit() and 1 <= int(t) <= len(choices):  # "²" is no choice
        action = choices[int(t) - 1]
        return action if isinstance(action, str) else None
    return None
