"""What the server needs around the engine: limits, the answer gate, metrics, knowledge reload
on SIGHUP, periodic pruning of old conversation state, and an orderly stop.

`install(app, settings)` wires it all into an app (called by `create_app`):

- every request: bodies over 1 MB get 413 (before any handler reads them); POST /api/ask and
  GET /api/dossiers/{code} are limited per client IP address (429 with Retry-After); every
  request is counted by route template, method and status, and timed;
- GET /metrics: the Prometheus text format (Bearer TTHC_METRICS_TOKEN when set);
- SIGHUP: reload the knowledge (`LiveAssistant.reload`), keeping the old one when the new fails;
- every hour: delete conversation state older than TTHC_KEEP_DAYS and old lookup attempts;
- at shutdown: the worker thread of the engine finishes what it holds and stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from functools import lru_cache
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from ..config import Settings
from ..core import Answer, Reply, now_vn
from ..storage import Storage
from ._keys import ASSISTANT, NOTIFIER, STORAGE
from ._limits import MAX_BODY, AnswerGate, Busy, RateLimiter, Verdict, rate_limiter
from ._metrics import Metrics
from ._reload import ReloadResult

log = logging.getLogger("bot.web")

#: (method, route template) limited per client address.
IP_LIMITED = frozenset({("POST", "/api/ask"), ("GET", "/api/dossiers/{code}")})
#: The roadmap pictures: limited per address on their own bucket (TTHC_PICTURES_PER_MINUTE).
PICTURE_ROUTE = ("GET", "/roadmap/{lang}/{key}.png")
#: Pictures drawn at the same time (one worker thread) and waiting at most, all clients together.
PICTURE_WORKERS = 1
PICTURE_QUEUE = 8
#: How often /healthz runs SQLite's quick_check (the cheap probe runs on every call).
HEALTH_FULL_EVERY = 60.0
HEALTH_TIMEOUT = 5.0
#: Seconds the rest of an unread request body is drained after the response (then: closed).
LINGER = 2.0
#: Event ids (Telegram update_id, Zalo msg_id…) are remembered this long against replays.
KEEP_INBOX = timedelta(days=3)
METHODS = frozenset({"GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"})
PRUNE_EVERY = 3600.0
KEEP_LOOKUPS = timedelta(days=1)
#: Rate-limit buckets untouched this long (seconds) are full again: forgotten.
KEEP_BUCKETS = 3600.0
#: Session keys never pruned: the Zalo OA token chain (a lost refresh token breaks it).
KEEP_SESSION_PREFIXES = ("zalo-oa:tokens",)

SLOW_DOWN = {
    "vi": "Bạn gửi tin nhắn hơi nhanh. Vui lòng đợi khoảng một phút rồi hỏi tiếp nhé.",
    "en": "You are sending messages a little fast. Please wait a minute, then ask again.",
}
BUSY = {
    "vi": "Hệ thống đang bận. Vui lòng thử lại sau ít giây.",
    "en": "The bot is busy. Please try again in a few seconds.",
}


class Runtime:
    """Limits, the answer gate and the metrics of one server process."""

    def __init__(self, settings: Settings, storage: Any | None = None) -> None:
        self.settings = settings
        # Counted in the database when replicas share it (PostgreSQL), else in this process.
        self.user_limit = rate_limiter(settings.user_messages_per_minute, storage, "user")
        self.ip_limit = rate_limiter(settings.api_requests_per_minute, storage, "ip")
        self.picture_limit = rate_limiter(settings.pictures_per_minute, storage, "pictures")
        # Roadmap pictures are CPU work (about 130 ms each): drawn on their own worker thread,
        # a few at a time, never on the event loop.
        self.pictures = AnswerGate(max_waiting=PICTURE_QUEUE, per_key=2, workers=PICTURE_WORKERS)
        self.gate = AnswerGate(max_waiting=settings.answer_queue, per_key=settings.api_concurrency_per_ip)
        self.metrics = Metrics()
        self.trusted = frozenset(a.strip() for a in settings.trusted_proxies.split(",") if a.strip())
        #: True while SIGHUP reloads the knowledge (the handler is installed on the main thread only).
        self.reload_on_hup = False
        #: (monotonic time, problem or None) of the last full database check (/healthz).
        self.health_checked: tuple[float, str | None] | None = None

    def limiter_for(self, method: str, route: str) -> RateLimiter | None:
        """The per-address limit of a route, if it has one."""
        if (method, route) in IP_LIMITED:
            return self.ip_limit
        if (method, route) == PICTURE_ROUTE:
            return self.picture_limit
        return None

    # -- clients ----------------------------------------------------------------------------

    def client_ip(self, request: web.BaseRequest) -> str:
        """The client's address: the peer, or, when the peer is a trusted proxy, the last
        address in X-Forwarded-For that is not one of the trusted proxies (worked out once per
        request)."""
        known = request.get(_CLIENT_IP)
        if known is None:
            known = request[_CLIENT_IP] = self._client_ip(request)
        return str(known)

    def _client_ip(self, request: web.BaseRequest) -> str:
        peer = request.remote or "unknown"
        if peer not in self.trusted:
            return peer
        return _forwarded_client(request.headers.get("X-Forwarded-For", "")[:1000], self.trusted) or peer

    # -- answers ----------------------------------------------------------------------------

    def limited_answer(self, text: str, lang: str | None, quiet: bool = False) -> Answer:
        """The answer to a message over the chat's limit: "slow down", or nothing at all."""
        lang = lang if lang in ("vi", "en") else "vi"
        return Answer(text if isinstance(text, str) else "", lang, "limited", [], Reply("" if quiet else SLOW_DOWN[lang]))

    async def limit_user(self, key: str, text: str, lang: Callable[[], str | None], repeat: bool = False) -> Answer | None:
        """None while chat `key` is within TTHC_USER_MESSAGES_PER_MINUTE; over it, "slow down"
        (in the chat's language, `lang()`) once, then a silent answer; or, with `repeat` (a web
        page shows every answer), "slow down" each time. Counted in the metrics."""
        verdict = await self.user_limit.check(key)
        if verdict is Verdict.OK:
            return None
        self.metrics.limited.inc("user")
        if verdict is Verdict.DROP and not repeat:
            return self.limited_answer(text, None, quiet=True)
        return self.limited_answer(text, lang())

    def record(self, channel: str, answer: Any, seconds: float) -> None:
        """Count one answer (by channel and intent) and its time."""
        m = self.metrics
        m.answers.inc(channel, str(answer.intent))
        if answer.intent == "unknown" and answer.q:
            m.unanswered.inc(channel)
        m.answer_seconds.observe(channel, value=seconds)

    async def answer(self, key: str, channel: str, fn: Callable[..., Any], *args: Any,
                     per_key: int | None = None, bounded: bool = True, inline: bool = False) -> Any:
        """`fn(*args)` (which returns an engine Answer) through the gate (or, when `inline`,
        here: for answers known to be cheap), counted and timed."""
        started = time.perf_counter()
        if inline:
            answer = fn(*args)
            self.record(channel, answer, time.perf_counter() - started)
            return answer
        try:
            answer = await self.gate.run(key, fn, *args, per_key=per_key, bounded=bounded)
        except Busy:
            self.metrics.limited.inc("busy")
            raise
        self.record(channel, answer, time.perf_counter() - started)
        return answer


@lru_cache(maxsize=1024)
def _forwarded_client(forwarded: str, trusted: frozenset[str]) -> str | None:
    """The last address in an X-Forwarded-For value that is not a trusted proxy (None when
    there is none or it is not an address). Cached: a client sends the same header each time."""
    for candidate in reversed([a.strip() for a in forwarded.split(",") if a.strip()]):
        if candidate in trusted:
            continue
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            return None
    return None


RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime", Runtime)
# Where a request keeps its client address once worked out (RequestKey from aiohttp 3.12 on).
_CLIENT_IP: Any = web.RequestKey("tthc_client_ip", str) if hasattr(web, "RequestKey") else "tthc.client_ip"


def runtime_of(app: web.Application) -> Runtime | None:
    """The app's Runtime (None for an app made without `create_app`)."""
    return app.get(RUNTIME)


def _json(status: int, data: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers)


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def guard(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """413 for large bodies, the per-address limit, and the request metrics."""
    runtime = request.app[RUNTIME]
    started = time.perf_counter()
    route = _route(request)
    method = request.method if request.method in METHODS else "other"
    status = 500
    try:
        length = request.content_length
        if length is not None and length > MAX_BODY:
            status = 413
            return _json(413, {"error": "request body too large (at most 1 MB)"})
        limiter = runtime.limiter_for(method, route)
        if limiter is not None and limiter.enabled:
            ip = runtime.client_ip(request)
            if await limiter.check(ip) is not Verdict.OK:
                runtime.metrics.limited.inc("ip")
                status = 429
                retry = str(limiter.retry_after(ip))
                lang = "en" if request.query.get("lang") == "en" else "vi"
                return _json(429, {"error": "too many requests", "message": SLOW_DOWN[lang]}, {"Retry-After": retry})
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        if status == 413:
            return _json(413, {"error": "request body too large (at most 1 MB)"})
        raise
    except (web.RequestPayloadError, HttpProcessingError):
        # The body could not be read as sent (bad chunking, an undecodable Content-Encoding…).
        status = 400
        return _json(400, {"error": "malformed request body"})
    finally:
        runtime.metrics.requests.inc(route, method, str(status))
        runtime.metrics.request_seconds.observe(route, value=time.perf_counter() - started)


async def metrics_handler(request: web.Request) -> web.Response:
    """GET /metrics: the Prometheus text format."""
    runtime = request.app[RUNTIME]
    token = runtime.settings.metrics_token
    if token:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode("utf-8", "replace"), token.encode()):
            return _json(401, {"error": "unauthorized"}, {"WWW-Authenticate": 'Bearer realm="tthc-bot metrics"'})
    m = runtime.metrics
    storage = request.app.get(STORAGE)
    if storage is not None:
        try:
            counts = await asyncio.to_thread(storage.outbox_counts)
        except Exception as exc:
            log.warning("metrics: outbox not counted (%s)", type(exc).__name__)
        else:
            for state in ("pending", "sending", "sent", "dead"):
                m.outbox.set(state, value=counts.get(state, 0))
    live = request.app.get(ASSISTANT)
    if live is not None:
        m.procedures.set(value=len(live.kb.procedures))
    m.queue.set(value=runtime.gate.waiting)
    return web.Response(text=m.render(), content_type="text/plain", charset="utf-8",
                        headers={"Cache-Control": "no-store"})


# -- background: reload on SIGHUP, pruning, orderly stop ----------------------------------------


async def reload_knowledge(app: web.Application) -> ReloadResult:
    """Reload the knowledge off the event loop; the ReloadResult."""
    return await asyncio.to_thread(app[ASSISTANT].reload)


def prune(storage: Storage, settings: Settings) -> tuple[int, int, int]:
    """Delete conversation state older than TTHC_KEEP_DAYS, lookup attempts older than a day and
    recorded questions older than TTHC_KEEP_QUESTIONS_DAYS: (sessions and web messages never
    fetched, lookups, questions)."""
    now = now_vn()
    sessions = storage.prune_sessions(now - timedelta(days=max(settings.keep_days, 1)), keep=KEEP_SESSION_PREFIXES)
    lookups = storage.prune_lookups(now - KEEP_LOOKUPS)
    questions = storage.prune_questions(now - timedelta(days=max(settings.keep_questions_days, 1)))
    sessions += storage.prune_web_messages(now - timedelta(days=max(settings.keep_days, 1)))
    storage.prune_inbox(now - KEEP_INBOX)
    storage.prune_rate_limits(time.time() - KEEP_BUCKETS)
    # Notice delivery results are kept as long as questions.
    storage.prune_deliveries(now - timedelta(days=max(settings.keep_questions_days, 1)))
    return sessions, lookups, questions


async def _maintenance(app: web.Application, stop: asyncio.Event) -> None:
    storage = app.get(STORAGE)
    if storage is None:
        return
    settings = app[RUNTIME].settings
    while not stop.is_set():
        try:
            sessions, lookups, questions = await asyncio.to_thread(prune, storage, settings)
            if sessions or lookups or questions:
                log.info("pruned %d old conversation(s), %d lookup attempt(s), %d recorded question(s)",
                         sessions, lookups, questions)
        except Exception as exc:
            log.warning("pruning failed (%s)", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=PRUNE_EVERY)


async def _lifetime(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    live = app.get(ASSISTANT)
    if live is not None:
        live.observer = lambda r: runtime.metrics.reloads.inc("ok" if r.ok else "failed")
    notifier = app.get(NOTIFIER)
    if notifier is not None:
        notifier.observer = runtime.metrics.delivery
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[Any]] = set()

    def on_hup() -> None:
        log.info("SIGHUP: reloading the knowledge")
        task = loop.create_task(reload_knowledge(app))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError, AttributeError):
        loop.add_signal_handler(signal.SIGHUP, on_hup)
        runtime.reload_on_hup = True
    stop = asyncio.Event()
    maintenance = loop.create_task(_maintenance(app, stop), name="tthc-maintenance")
    try:
        yield
    finally:
        if runtime.reload_on_hup:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signal.SIGHUP)
            runtime.reload_on_hup = False
        stop.set()
        await asyncio.gather(maintenance, *tasks, return_exceptions=True)
        await asyncio.to_thread(runtime.gate.close)
        await asyncio.to_thread(runtime.pictures.close)


def install(app: web.Application, settings: Settings, storage: Any | None = None) -> Runtime:
    """Put a Runtime in `app`, with its middleware, GET /metrics and its background work.
    Call it before the channels and the dossier routes are set up, so it stops after them.
    With a `storage` shared by replicas (PostgreSQL), the rate limits are counted in it."""
    from ..logs import install_privacy

    install_privacy()
    runtime = Runtime(settings, storage)
    app[RUNTIME] = runtime
    app.middlewares.append(guard)
    app.router.add_get("/metrics", metrics_handler)
    app.cleanup_ctx.append(_lifetime)
    return runtime


# -- health and connections --------------------------------------------------------------------


async def database_problem(app: web.Application) -> str | None:
    """What is wrong with the app's database (None when it answers): a cheap probe on every
    call, SQLite's quick_check at most every HEALTH_FULL_EVERY seconds; both off the event
    loop and within HEALTH_TIMEOUT seconds."""
    storage = app.get(STORAGE)
    if storage is None:
        return None
    runtime = runtime_of(app)
    now = time.monotonic()
    last = runtime.health_checked if runtime is not None else None
    full = last is None or now - last[0] >= HEALTH_FULL_EVERY
    if not full and last is not None and last[1] is not None:
        return last[1]
    try:
        problem = await asyncio.wait_for(asyncio.to_thread(storage.health, full), HEALTH_TIMEOUT)
    except TimeoutError:
        problem = "the database did not answer in time"
    except Exception as exc:  # the probe itself failed: report it, never a 500
        problem = f"{type(exc).__name__}: {str(exc)[:200]}"
    if full and runtime is not None:
        runtime.health_checked = (now, problem)
    return problem  # type: ignore[no-any-return]


def server_options(settings: Settings) -> dict[str, Any]:
    """Options of aiohttp's connection handler for `tthc-bot serve`: a connection that sends no
    request (or never finishes its headers) is closed after TTHC_IDLE_TIMEOUT seconds, like an
    idle keep-alive one (bodies have their own limit: TTHC_BODY_TIMEOUT, `read_body`); after a
    response to a request whose body was not read whole (413, 408), what is left of it is read
    and dropped for LINGER seconds at most (aiohttp's default, 10 s, would hold a slow client)."""
    return {"keepalive_timeout": float(max(1, settings.idle_timeout)), "lingering_time": LINGER}
