"""The guide's pages on the web server: roadmap pictures and printable document checklists."""

from __future__ import annotations

from aiohttp import web

from ..web._keys import ENGINE

CACHE = "public, max-age=3600"


async def roadmap_png(request: web.Request) -> web.Response:
    """GET /roadmap/{lang}/{key}.png: the roadmap picture ("default", or the answers' digits)."""
    lang = request.match_info["lang"]
    guide = request.app[ENGINE].roadmap
    digits = guide.parse_key(request.match_info["key"])
    if lang not in ("vi", "en") or digits is None:
        raise web.HTTPNotFound(text="no such roadmap")
    return web.Response(body=guide.png(digits, lang), content_type="image/png", headers={"Cache-Control": CACHE})


async def checklist(request: web.Request) -> web.Response:
    """GET /checklist/{code}[/{case}][?lang=en]: the printable document checklist of a procedure."""
    from ._precheck import PrecheckGuide

    lang = "en" if request.query.get("lang") == "en" else "vi"
    case_text = request.match_info.get("case")
    case = int(case_text) if case_text and case_text.isdigit() and len(case_text) <= 2 else None
    if case_text and case is None:
        raise web.HTTPNotFound(text="no such case")
    engine = request.app[ENGINE]
    guide = getattr(engine, "precheck", None) or PrecheckGuide(engine.kb)
    page = guide.page(request.match_info["code"], case, lang)
    if page is None:
        raise web.HTTPNotFound(text="no such procedure")
    return web.Response(text=page, content_type="text/html", charset="utf-8", headers={"Cache-Control": "no-cache"})


async def checklist_css(request: web.Request) -> web.Response:
    from ._precheck import CSS

    return web.Response(text=CSS, content_type="text/css", charset="utf-8", headers={"Cache-Control": CACHE})


def add_routes(app: web.Application) -> None:
    """Mount the guide's routes on the app."""
    app.router.add_get("/roadmap/{lang}/{key}.png", roadmap_png)
    app.router.add_get("/checklist.css", checklist_css)
    app.router.add_get("/checklist/{code}", checklist)
    app.router.add_get("/checklist/{code}/{case}", checklist)
