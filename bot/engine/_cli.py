"""`tthc-bot ask`, `chat`, `serve`."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Register the engine's faces (filled in with the engine)."""
