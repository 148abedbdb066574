"""HTTP routes: push from the one-stop system, and the JSON lookup.

POST /api/dossiers            a JSON list of records (the sync fields); `Authorization: Bearer
                              $TTHC_SYNC_TOKEN`. 404 when no token is configured, 401 without
                              the right token, 400 for a body that is not a list, 200 when every
                              record was imported, 422 when some were rejected (the others are
                              imported all the same); the body gives the counts and the rejected rows.
GET /api/dossiers/{code}?secret=…&lang=vi|en[&phone=…]
                              the lookup as JSON: 200 with the facts, 404 for an unknown code and
                              for a wrong secret alike, 429 while the code or the client's address
                              is locked (`phone`, the last 4 digits of the registered phone, with
                              the secret: the owner's way through a locked code).
GET /unsubscribe/{token}      the link in a status email: stops that dossier's notices (an HTML
                              page; 404 for a token no dossier has).

The secret travels in the query string; `add_routes` puts a filter on aiohttp's access log
that replaces it with "[redacted]" (or run aiohttp with `access_log_class=RedactingAccessLogger`).
"""

from __future__ import annotations

import asyncio
import hmac
import html
import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import lru_cache
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from ..core import Lang, normalize_code
from ..core._json import loads_untrusted
from ..dossiers._applicant import UNSUBSCRIBE_PATH, ApplicantChannels, EmailSender, stop_by_token
from ..dossiers._digest import DigestScheduler
from ..dossiers._import import import_records
from ..dossiers._notify import Notifier
from ..dossiers._service import LOCK_FOR, DossierService, board_contact
from ..kb import Board, check_knowledge
from ..workdays import calendar_for_settings
from ._keys import APPLICANT, ASSISTANT, NOTIFIER, SETTINGS, STORAGE
from ._limits import read_body

log = logging.getLogger("bot.dossiers")
MAX_RECORDS = 5000
#: The outbox delivery loop of a server with a storage; channels register their senders on it.


@lru_cache(maxsize=4)
def _board_from_dir(knowledge_dir: str) -> Board | None:
    kb, _ = check_knowledge(knowledge_dir)
    return kb.board


def _service(request: web.Request) -> DossierService | None:
    """The served assistant's dossier service; on an app with routes but no assistant (a tool's,
    a test's), one on its storage and the configured knowledge's board."""
    live = request.app.get(ASSISTANT)
    if live is not None:
        return live.current.dossiers
    storage = request.app.get(STORAGE)
    if storage is None:
        return None
    settings = request.app[SETTINGS]
    board = _board_from_dir(str(settings.knowledge_dir))
    return DossierService(storage, calendar_for_settings(settings), board_contact(board))


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        data, status=status, headers={"Cache-Control": "no-store", **(headers or {})},
        dumps=lambda o: json.dumps(o, ensure_ascii=False),
    )


async def push_dossiers(request: web.Request) -> web.Response:
    """POST /api/dossiers: upsert records pushed by the one-stop system."""
    settings = request.app[SETTINGS]
    token = settings.sync_token
    if not token:
        raise web.HTTPNotFound()
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
        log.warning("push refused: missing or wrong token")
        return _json({"error": "unauthorized"}, 401, {"WWW-Authenticate": 'Bearer realm="tthc-bot"'})
    storage = request.app.get(STORAGE)
    if storage is None:
        return _json({"error": "no database configured"}, 503)
    try:
        # Read within TTHC_BODY_TIMEOUT; nesting checked before parsing (no RecursionError).
        body = loads_untrusted(await read_body(request))
    except web.HTTPRequestEntityTooLarge:
        return _json({"error": "request body too large: send smaller batches"}, 413)
    except ValueError:
        return _json({"error": "body must be a JSON list of dossier records"}, 400)
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        body = body["data"]
    if not isinstance(body, list):
        return _json({"error": "body must be a JSON list of dossier records"}, 400)
    if len(body) > MAX_RECORDS:
        return _json({"error": f"at most {MAX_RECORDS} records per request"}, 413)
    rows = list(enumerate(body, start=1))
    applicant = request.app.get(APPLICANT)
    result = await asyncio.to_thread(import_records, storage, rows, None, "push", applicant=applicant)
    if result.notifications and NOTIFIER in request.app:
        request.app[NOTIFIER].wake()
    return _json(result.to_dict(), 200 if result.ok else 422)


def _client_address(request: web.Request) -> str:
    """The client's address as the server's limits see it (behind a trusted proxy: the client's)."""
    from ._runtime import RUNTIME

    runtime = request.app.get(RUNTIME)
    return runtime.client_ip(request) if runtime is not None else (request.remote or "unknown")


async def get_dossier(request: web.Request) -> web.Response:
    """GET /api/dossiers/{code}?secret=…: the lookup as JSON."""
    service = _service(request)
    if service is None:
        return _json({"error": "dossier lookups are not configured"}, 503)
    lang: Lang = "en" if request.query.get("lang") == "en" else "vi"
    code = normalize_code(request.match_info["code"])
    secret = request.query.get("secret", "")
    if not secret.strip():
        return _json({"error": "secret is required", "message": service.ask_secret_text(code, lang)}, 400)
    # The owner's way through a locked code: the secret and the phone's last 4 digits together.
    secret += request.query.get("phone", "")
    result = service.lookup(code, secret, address=_client_address(request))
    if result.locked:
        return _json(
            {"error": "locked", "message": service.locked_text(lang, result.scope or "code"),
             "contact": service.board_contact},
            429,
            {"Retry-After": str(int(LOCK_FOR.total_seconds()))},
        )
    if not result.ok or result.facts is None:
        return _json({"error": "not found", "message": service.not_found_text(lang)}, 404)
    data = result.facts.to_dict()
    data["text"] = service.status_text(result.facts, lang)
    return _json(data)


def add_routes(app: web.Application) -> None:
    """Mount POST /api/dossiers and GET /api/dossiers/{code}, and keep lookup secrets out of
    aiohttp's access log. With a storage in the app, also run the outbox delivery loop
    (`app[NOTIFIER]`: channels register their senders on it) and the staff digest scheduler
    while the server runs."""
    app.router.add_post("/api/dossiers", push_dossiers)
    app.router.add_get("/api/dossiers/{code}", get_dossier)
    app.router.add_get(UNSUBSCRIBE_PATH + "{token}", unsubscribe)
    access = logging.getLogger("aiohttp.access")
    if not any(isinstance(f, RedactSecrets) for f in access.filters):
        access.addFilter(RedactSecrets())
    storage = app.get(STORAGE)
    if storage is not None:
        lease = max(int(getattr(app[SETTINGS], "outbox_lease", 300)), 2)
        # A send must end (or time out) well within the lease, or another loop would take it again.
        app[NOTIFIER] = Notifier(storage, lease=timedelta(seconds=lease), send_timeout=min(60.0, lease / 2))
        try:
            app[APPLICANT] = applicant = ApplicantChannels.from_settings(app[SETTINGS])
        except ValueError as exc:
            log.error("notices to the applicant's phone and email are off: %s", exc)
            app[APPLICANT] = applicant = ApplicantChannels()
        if applicant.email:
            app[NOTIFIER].register_payload("email", EmailSender(app[SETTINGS], storage))
        loops = app[_LOOPS] = _Loops()
        app.cleanup_ctx.append(_background)
        app.on_shutdown.append(loops.close)



_PAGE = (
    "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title></head>"
    "<body style=\"font-family:sans-serif;max-width:40em;margin:2em auto\"><h1>{title}</h1><p>{vi}</p><p lang=\"en\">{en}</p></body></html>"
)


async def unsubscribe(request: web.Request) -> web.Response:
    """GET /unsubscribe/{token}: the link in a status email; stops that dossier's notices."""
    storage = request.app[STORAGE]
    code = await asyncio.to_thread(stop_by_token, storage, request.match_info["token"])
    if code is None:
        page = _PAGE.format(title="Liên kết không hợp lệ / Invalid link",
                            vi="Liên kết này không đúng hoặc đã hết hiệu lực.", en="This link is wrong or no longer valid.")
        return web.Response(text=page, status=404, content_type="text/html", headers={"Cache-Control": "no-store"})
    safe = html.escape(code)
    page = _PAGE.format(title="Đã dừng thông báo / Notifications stopped",
                        vi=f"Bạn sẽ không nhận thêm thông báo về hồ sơ {safe}.",
                        en=f"You will get no more notifications about dossier {safe}.")
    return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})


_SECRET_RE = re.compile(r"((?:^|[?&])secret=)[^&\s\"]*", re.IGNORECASE)


class RedactSecrets(logging.Filter):
    """Replaces `secret=…` in log lines (aiohttp's access log prints query strings)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "secret=" in message.lower():
            record.msg = _SECRET_RE.sub(r"\1[redacted]", message)
            record.args = ()
        return True


class _Loops:
    """The notifier and digest tasks of one server, stopped once: at shutdown, before the
    channels close their connections, so a delivery in flight can finish."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.notifier: Notifier | None = None

    async def close(self, app: web.Application | None = None) -> None:
        if self.stop.is_set() and not self.tasks:
            return
        if self.tasks:
            log.info("outbox: stopping (the delivery in flight finishes; the rest stays queued)")
        self.stop.set()
        if self.notifier is not None:
            self.notifier.wake()
        tasks, self.tasks = self.tasks, []
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=10)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


_LOOPS: web.AppKey[_Loops] = web.AppKey("dossiers_loops", _Loops)


async def _background(app: web.Application) -> AsyncIterator[None]:
    """Run the notifier and the digest scheduler for the server's lifetime."""
    settings = app[SETTINGS]
    notifier = app[NOTIFIER]
    loops = app[_LOOPS]
    loops.notifier = notifier
    stop = loops.stop
    tasks = loops.tasks
    tasks.append(asyncio.create_task(notifier.run(interval=5.0, stop=stop), name="dossiers-outbox"))
    try:
        scheduler = DigestScheduler.from_settings(notifier.storage, settings)
    except ValueError as exc:
        log.error("staff digest is off: %s", exc)
    else:
        if scheduler.chats:
            from ..leader import leads

            tasks.append(asyncio.create_task(scheduler.run(interval=60.0, stop=stop, leading=lambda: leads(app)),
                                             name="dossiers-digest"))
    try:
        yield
    finally:
        await loops.close()


class RedactingAccessLogger(AbstractAccessLogger):
    """An access log without query strings (they may carry a lookup secret) nor the token of an
    unsubscribe link."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        path = request.path
        if path.startswith(UNSUBSCRIBE_PATH):
            path = UNSUBSCRIBE_PATH + "[redacted]"
        self.logger.info(
            '%s "%s %s" %s %.3fs', request.remote, request.method, path, response.status, time
        )
