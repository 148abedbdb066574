"""The application factory: one aiohttp server that every face mounts on (web chat and JSON API,
dossier and guide routes, the staff console, Telegram and Zalo webhooks), and `tthc-bot serve`."""

from __future__ import annotations

import logging

from aiohttp import web

from . import logs
from .channels import setup_channels
from .config import Settings
from .console import setup_console
from .conversation import Assistant, Conversations, build_assistant
from .guide import _picture
from .leader import install as install_leader
from .storage import Storage
from .web import _reload
from .web._app import add_routes as add_chat_routes
from .web._app import errors_middleware, security_headers
from .web._dossiers import RedactingAccessLogger
from .web._dossiers import add_routes as add_dossier_routes
from .web._guide import add_routes as add_guide_routes
from .web._inbox import add_routes as add_inbox_routes
from .web._keys import ASSISTANT, CONVERSATIONS, SETTINGS, STORAGE
from .web._limits import MAX_BODY
from .web._reload import LiveAssistant
from .web._runtime import RUNTIME, install, server_options

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, engine: Assistant | None = None, storage: Storage | None = None) -> web.Application:
    """The application factory. Builds the assistant from the configured knowledge when not given
    (`engine`), and a Storage on TTHC_DB when not given."""
    settings = settings or Settings.from_env()
    own_storage = storage is None
    if storage is None:
        storage = Storage(settings.db, pool_size=settings.db_pool)
    live = LiveAssistant(engine, lambda: build_assistant(settings, storage, reload=live.reload_text))
    if engine is None:  # the first load: broken knowledge stops the start (KnowledgeError)
        live.current = build_assistant(settings, storage, reload=live.reload_text)
    app = web.Application(client_max_size=MAX_BODY, middlewares=[errors_middleware])
    install(app, settings, storage)
    # One replica runs the once-only jobs (digest, token refresh, webhook registration).
    install_leader(app, storage, float(settings.leader_interval))
    app.on_response_prepare.append(security_headers)
    if own_storage:
        async def close_storage(app: web.Application) -> None:
            app[STORAGE].close()

        app.on_cleanup.append(close_storage)
    app[SETTINGS] = settings
    app[ASSISTANT] = live
    app[STORAGE] = storage
    app[CONVERSATIONS] = Conversations(live, storage, app[RUNTIME])
    add_chat_routes(app)
    add_dossier_routes(app)
    add_guide_routes(app)
    add_inbox_routes(app)
    setup_console(app)
    setup_channels(app, settings)
    return app


def run(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Run the server until interrupted (`tthc-bot serve`)."""
    logs.configure_logging(settings)
    app = create_app(settings)
    _reload.freeze_heap()
    host = host or settings.host
    port = port or settings.port
    print(f"tthc-bot: web chat on http://{host}:{port}/ ({len(app[ASSISTANT].kb.procedures)} procedures)", flush=True)
    warn_missing_fonts()
    # A short access line (address, request line without the query string, status, time);
    # idle connections (and clients that never finish their headers) closed after TTHC_IDLE_TIMEOUT.
    web.run_app(app, host=host, port=port, print=None, access_log_class=RedactingAccessLogger,
                **server_options(settings))


def warn_missing_fonts() -> bool:
    """Log a WARNING when DejaVu Sans (the font of the roadmap, QR captions and charts) is not
    installed: Vietnamese letters would be drawn as boxes. True when the fonts are there."""
    if _picture.fonts_found():
        return True
    log.warning("fonts: DejaVu Sans not found: pictures (roadmap, QR captions, charts) will draw Vietnamese "
                "letters as boxes; install fonts-dejavu-core (Debian/Ubuntu) or dejavu-sans-fonts")
    return False

