"""The guide's pages on the web server: roadmap pictures (and, later, printable checklists)."""

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


def add_routes(app: web.Application) -> None:
    """Mount the guide's routes on the app."""
    app.router.add_get("/roadmap/{lang}/{key}.png", roadmap_png)
