"""The channel-agnostic reply model: what every face (terminal, web, Telegram, Zalo) renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    """A button under a reply. `action` is opaque text the engine understands when pressed
    (e.g. "facet:documents:1.009664"); it stays short (≤ 64 bytes) for Telegram's callback data."""

    label: str
    action: str

    def to_dict(self) -> dict[str, str]:
        return {"label": self.label, "action": self.action}


@dataclass(frozen=True)
class Image:
    """An image sent with a reply: PNG bytes plus a caption / alt text, and, when the web server
    can serve the same picture, its path there (e.g. "/roadmap/vi/default.png") for the web chat
    and channels that send images by address (Zalo)."""

    png: bytes = field(repr=False)
    caption: str = ""
    url: str | None = None


@dataclass(frozen=True)
class Reply:
    """A reply: plain text (no markup; adapters escape it), buttons, and an optional image."""

    text: str
    buttons: tuple[Button, ...] = ()
    image: Image | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text, "buttons": [b.to_dict() for b in self.buttons]}
        if self.image is not None:
            out["image"] = {"caption": self.image.caption}
            if self.image.url:
                out["image"]["url"] = self.image.url
        return out

    def chunks(self, limit: int) -> list[str]:
        """The text split into pieces of at most `limit` characters, at paragraph or line
        boundaries, never in the middle of an item (a line is only cut when it alone is too long)."""
        return split_text(self.text, limit)


def split_text(text: str, limit: int) -> list[str]:
    """Split `text` into parts of at most `limit` characters, preferring blank lines, then
    line ends, then spaces; never cut a line that fits."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for block in text.split("\n"):
        candidate = f"{current}\n{block}" if current else block
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current.rstrip())
            current = ""
        while len(block) > limit:
            cut = block.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            parts.append(block[:cut].rstrip())
            block = block[cut:].lstrip()
        current = block
    if current.strip():
        parts.append(current.rstrip())
    return [p for p in parts if p.strip()]
