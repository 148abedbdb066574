"""The guide's pages on the web server: roadmap pictures and printable document checklists.

A roadmap picture takes about 130 ms of CPU to draw: it is drawn on the Runtime's picture
worker thread (one at a time, a few waiting at most, two per client address; more get 503),
never on the event loop, and kept in the roadmap's cache (every distinct picture of the bundled
roadmap fits). The route is limited per address (TTHC_PICTURES_PER_MINUTE, in the Runtime's
middleware). Path parameters are ASCII: "²" or "١" are not digits here.
"""

from __future__ import annotations

import asyncio
import re

from aiohttp import web

from ._keys import ASSISTANT
from ._limits import Busy

CACHE = "public, max-age=3600"
_CASE_RE = re.compile(r"[0-9]{1,2}")


async def roadmap_png(request: web.Request) -> web.Response:
    """GET /roadmap/{lang}/{key}.png: the roadmap picture ("default", or the answers' digits)."""
    from ._runtime import runtime_of

    lang = request.match_info["lang"]
    guide = request.app[ASSISTANT].current.roadmap
    digits = guide.parse_key(request.match_info["key"])
    if lang not in ("vi", "en") or digits is None:
        raise web.HTTPNotFound(text="no such roadmap")
    png = guide.cached_png(digits, lang)
    if png is None:
        runtime = runtime_of(request.app)
        if runtime is None:  # an app made without create_app: a plain worker thread
            png = await asyncio.to_thread(guide.png, digits, lang)
        else:
            try:
                png = await runtime.pictures.run(f"ip:{runtime.client_ip(request)}", guide.png, digits, lang)
            except Busy:
                runtime.metrics.limited.inc("busy")
                raise web.HTTPServiceUnavailable(text="busy drawing pictures: try again", headers={"Retry-After": "2"}) from None
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": CACHE})


async def checklist(request: web.Request) -> web.Response:
    """GET /checklist/{code}[/{case}][?lang=en]: the printable document checklist of a procedure."""
    lang = "en" if request.query.get("lang") == "en" else "vi"
    case_text = request.match_info.get("case")
    case = int(case_text) if case_text is not None and _CASE_RE.fullmatch(case_text) else None
    if case_text is not None and case is None:
        raise web.HTTPNotFound(text="no such case")
    guide = request.app[ASSISTANT].current.precheck
    page = guide.page(request.match_info["code"], case, lang)
    if page is None:
        raise web.HTTPNotFound(text="no such procedure")
    return web.Response(text=page, content_type="text/html", charset="utf-8", headers={"Cache-Control": "no-cache"})


async def checklist_css(request: web.Request) -> web.Response:
    from ..guide._precheck import CSS

    return web.Response(text=CSS, content_type="text/css", charset="utf-8", headers={"Cache-Control": CACHE})


def add_routes(app: web.Application) -> None:
    """Mount the guide's routes on the app."""
    app.router.add_get("/roadmap/{lang}/{key}.png", roadmap_png)
    app.router.add_get("/checklist.css", checklist_css)
    app.router.add_get("/checklist/{code}", checklist)
    app.router.add_get("/checklist/{code}/{case}", checklist)
