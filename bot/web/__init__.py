"""The aiohttp server that every face (web chat, API, Telegram, Zalo) mounts on."""

from ._app import build_engine, create_app, run

__all__ = ["build_engine", "create_app", "run"]
