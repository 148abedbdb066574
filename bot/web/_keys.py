"""Typed application state shared by the server's routes (aiohttp `web.AppKey`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from ..config import Settings

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
# The Storage (bot/storage.py) and the answer engine, typed loosely here to avoid import cycles.
STORAGE: web.AppKey[Any] = web.AppKey("storage")
ENGINE: web.AppKey[Any] = web.AppKey("engine")
