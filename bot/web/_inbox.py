"""Messages the bot sends a web-chat user unasked (a staff member's reply during a handover, a
dossier's status change): the web page has no push, so the outbox delivers them into the
storage's web inbox, and the page fetches them with `GET /api/messages?session=…` (every few
seconds while it is open). A message is removed once fetched; one never fetched is forgotten
after TTHC_KEEP_DAYS.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..core import Reply
from ._keys import STORAGE
from ._limits import SESSION_RE


def web_sender(storage: Any) -> Any:
    """The outbox sender of the "web" channel: the message waits in the web inbox."""
    from ..dossiers._notify import reply_to_payload

    async def send(chat_id: str, reply: Reply) -> None:
        storage.put_web_message(str(chat_id), reply_to_payload(reply))

    return send


#: Seconds until the page should ask again: soon while it talks to staff, rarely otherwise.
POLL_TALKING = 3
POLL_IDLE = 30


async def get_messages(request: web.Request) -> web.Response:
    """GET /api/messages?session=… → {"messages": [{"text", "buttons"}, …], "next": seconds}
    (oldest first; "next" says when to ask again)."""
    session = request.query.get("session", "")
    if not SESSION_RE.match(session):
        return web.json_response({"error": "\"session\" must be 1 to 128 letters, digits, '.', '_' or '-'"}, status=400)
    storage = request.app[STORAGE]
    messages = storage.take_web_messages(session)
    talking = "handover" in (storage.get_session(f"web:{session}") or {})
    return web.json_response({"messages": messages, "next": POLL_TALKING if talking else POLL_IDLE},
                             headers={"Cache-Control": "no-store"})


def add_routes(app: web.Application) -> None:
    """Mount GET /api/messages, and let the outbox deliver to web-chat sessions."""
    app.router.add_get("/api/messages", get_messages)
    try:
        from ._keys import NOTIFIER
    except ImportError:  # pragma: no cover - the dossiers package is part of the bot
        return
    notifier = app.get(NOTIFIER)
    if notifier is not None:
        notifier.register("web", web_sender(app[STORAGE]))
