"""The aiohttp application: web chat page, JSON API, health check. Channels mount here too."""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from ..core import _json
from ._keys import ASSISTANT, CONVERSATIONS
from ._limits import MAX_BODY, SESSION_RE, Busy, read_body
from ._runtime import BUSY, RUNTIME, database_problem

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def json_error(status: int, message: str) -> web.Response:
    """A short JSON error body: {"error": message}."""
    return web.json_response({"error": message}, status=status)


async def index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def healthz(request: web.Request) -> web.Response:
    """200 {"status": "ok"} when the knowledge is loaded and the database answers (a cheap
    query each time, SQLite's quick_check every minute); 503 when the database is unreadable
    or corrupt, so a supervisor or load balancer stops sending users to this process."""
    live = request.app[ASSISTANT]
    problem = await database_problem(request.app)
    if problem is not None:
        log.warning("healthz: database check failed (%s)", problem)
        return web.json_response({"status": "unhealthy", "database": "failed"}, status=503,
                                 headers={"Cache-Control": "no-store"})
    return web.json_response({"status": "ok", "procedures": len(live.kb.procedures)},
                             headers={"Cache-Control": "no-store"})


def _answer_json(answer: Any) -> web.Response:
    return web.Response(body=_json.dumps(answer.to_dict()), content_type="application/json", charset="utf-8")


async def api_ask(request: web.Request) -> web.Response:
    """POST /api/ask {"text", "session"?, "lang"?} → the JSON of `tthc-bot ask --json`."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return json_error(413, "request body too large")
    try:
        raw = await read_body(request)
    except web.HTTPRequestEntityTooLarge:
        return json_error(413, "request body too large")
    try:
        # Nesting checked before parsing. A text may hold a lone surrogate (a browser cut an
        # emoji in half); the session id may not (SESSION_RE below).
        body = _json.loads_untrusted(raw, lone_surrogates=True)
    except ValueError:  # not UTF-8, not JSON, or nested too deep
        return json_error(400, "body must be JSON: {\"text\": \"...\"}")
    if not isinstance(body, dict):
        return json_error(400, "body must be a JSON object: {\"text\": \"...\"}")
    text = body.get("text")
    if not isinstance(text, str):
        return json_error(400, "\"text\" must be a string")
    session = body.get("session")
    if session is not None and (not isinstance(session, str) or not SESSION_RE.match(session)):
        return json_error(400, "\"session\" must be 1 to 128 letters, digits, '.', '_' or '-'")
    lang = body.get("lang")
    if lang is not None and lang not in ("vi", "en"):
        return json_error(400, "\"lang\" must be \"vi\" or \"en\"")
    runtime = request.app[RUNTIME]
    started = time.perf_counter()
    client = runtime.client_ip(request)
    try:
        # Without a session, a one-off question: no state kept. A web session id is the
        # client's choice: dossier lookups count their attempts against its address.
        answer = await request.app[CONVERSATIONS].answer(
            f"web:{session}" if session else None, text, lang, chat=("web", session or ""),
            client=f"ip:{client}", address=client)
    except Busy as exc:
        message = BUSY["en" if lang == "en" else "vi"]
        if exc.scope == "client":
            return web.json_response({"error": "too many requests at once", "message": message}, status=429, headers={"Retry-After": "1"})
        return web.json_response({"error": "busy", "message": message}, status=503, headers={"Retry-After": "1"})
    elapsed = (time.perf_counter() - started) * 1000
    # Intents and latency are counted in /metrics; the per-request line is for debugging only
    # (the access log already has one line a request).
    log.debug("ask intent=%s lang=%s matches=%d ms=%.1f", answer.intent, answer.lang, len(answer.matches), elapsed,
             extra={"intent": answer.intent, "lang": answer.lang, "ms": round(elapsed, 2)})
    return _answer_json(answer)


@web.middleware
async def errors_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Never a 5xx page with a trace: log it, answer a short JSON error."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        ref = secrets.token_hex(4)
        log.exception("unhandled error ref=%s path=%s", ref, request.path)
        return json_error(500, f"internal error (ref {ref})")


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: https:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The page loads nothing from elsewhere and runs no inline script: say so to browsers."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def add_routes(app: web.Application) -> None:
    """The web chat page, its static files, the health check and the JSON API."""
    app.router.add_get("/", index)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/api/ask", api_ask)
    app.router.add_static("/static/", STATIC, show_index=False)
