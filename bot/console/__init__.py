"""The staff console: server-rendered pages under /staff/ for the board's staff.

Mounted by `setup_console(app)` (bot/server.py) as an aiohttp sub-application with its own
middlewares: the encrypted session cookie (aiohttp-session), the login wall (every page but
/staff/login answers 302 to the login, or 401 for anything but GET, without a session), the CSRF
check on every POST, and a strict Content-Security-Policy (no script at all, styles from
/staff/static/ only). Pages: Today (the digest of near-due and overdue dossiers, each dossier's
history), Figures (the report for a period, CSV and XLSX, PNG charts by month cached per period),
Questions to teach (unanswered and 👎 questions with the bot's best guesses; one button adds an
example through `kb learn`'s path and reloads the running engine). Every staff action is written to the audit table.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import setup as setup_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from ..web._keys import SETTINGS, STORAGE
from ._auth import SESSION_AGE, cookie_key
from ._pages import CALENDAR, CSP, STATIC, add_routes, auth_middleware, now

__all__ = ["CONSOLE", "CSP", "STATIC", "setup_console"]

HERE = Path(__file__).parent
PREFIX = "/staff/"
#: The console's sub-application, on the main application (tests walk its routes).
CONSOLE: web.AppKey[web.Application] = web.AppKey("console", web.Application)


def setup_console(app: web.Application) -> web.Application | None:
    """Mount the console under /staff/ (nothing without a storage); return the sub-app."""
    storage = app.get(STORAGE)
    if storage is None:
        return None
    settings = app[SETTINGS]
    key = cookie_key(storage, settings.staff_secret, now())
    console = web.Application()
    secure = settings.public_url.startswith("https://")
    setup_session(console, EncryptedCookieStorage(
        key, cookie_name="tthc_staff", path=PREFIX.rstrip("/"), httponly=True, secure=secure, samesite="Strict",
        max_age=SESSION_AGE,
    ))
    console.middlewares.append(auth_middleware)
    aiohttp_jinja2.setup(console, loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True)
    add_routes(console)
    from ..workdays import calendar_for_settings

    console[CALENDAR] = calendar_for_settings(settings)
    app.add_subapp(PREFIX, console)
    app[CONSOLE] = console
    return console
