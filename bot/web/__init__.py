"""The aiohttp server that every face (web chat, API, Telegram, Zalo) mounts on."""

from ._app import create_app, run

__all__ = ["create_app", "run"]
