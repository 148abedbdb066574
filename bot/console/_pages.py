"""The console's routes: login, Today, a dossier's history, Figures (+ CSV / XLSX), Questions to
teach, the audit. Reads and writes go through the Storage (on a worker thread: argon2, reports
and the knowledge reload are CPU or I/O heavy)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session, new_session

from ..web._keys import ASSISTANT, SETTINGS, STORAGE
from ._auth import check_login, csrf_ok, new_csrf

log = logging.getLogger("bot.console")
STATIC = Path(__file__).parent / "static"
#: No script at all; styles and pictures from the console itself; forms post only here.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
LOGIN = "/staff/login"
PUBLIC = {LOGIN}
MAX_SPAN = 400  # days a report may cover
CALENDAR: web.AppKey[Any] = web.AppKey("console_calendar")
#: The logged-in account (a row of staff_accounts) and the session, on each request.
STAFF: web.RequestKey[Any] = web.RequestKey("staff", object)
SESSION: web.RequestKey[Any] = web.RequestKey("staff_session", object)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def now() -> datetime:
    from ..core import now_vn

    return now_vn()


def _storage(request: web.Request) -> Any:
    return request.config_dict[STORAGE]


def _client(request: web.Request) -> str:
    from ..web._runtime import RUNTIME

    runtime = request.config_dict.get(RUNTIME)
    return runtime.client_ip(request) if runtime is not None else (request.remote or "")


def _calendar(request: web.Request) -> Any:
    return request.app[CALENDAR]


async def audit(request: web.Request, action: str, detail: str = "") -> None:
    account = request.get(STAFF) or {}
    await asyncio.to_thread(_storage(request).add_audit, now(), account.get("username", "-"), action, detail)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The login wall and the CSRF check; the console's own security headers."""
    if request.path.startswith("/staff/static/"):
        return await handler(request)
    session = await get_session(request)
    user = session.get("user")
    account = None
    if user:
        account = await asyncio.to_thread(_storage(request).staff_account, user)
        if account is None or account["disabled"]:
            session.invalidate()
            account = None
    if account is None and request.path not in PUBLIC:
        if request.method in ("GET", "HEAD"):
            target = request.path_qs if request.path != "/staff/logout" else "/staff/"
            raise web.HTTPFound(f"{LOGIN}?next={quote(target, safe='/')}")
        raise web.HTTPUnauthorized(text="log in first: /staff/login")
    if request.method not in ("GET", "HEAD"):
        form = await request.post()
        if not csrf_ok(session.get("csrf"), str(form.get("csrf") or "")):
            raise web.HTTPForbidden(text="the form is out of date: reload the page and try again")
    if "csrf" not in session:
        session["csrf"] = new_csrf()
    request[STAFF] = account
    request[SESSION] = session
    response = await handler(request)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def render(request: web.Request, template: str, context: dict[str, Any]) -> web.Response:
    session = request[SESSION]
    ctx = {"staff": request.get(STAFF), "csrf": session.get("csrf"), "flash": session.pop("flash", None),
           "path": request.path, **context}
    return aiohttp_jinja2.render_template(template, request, ctx)


def _next(target: str | None) -> str:
    """Only a console path: never an address elsewhere."""
    if target and target.startswith("/staff/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/staff/today"


async def login_page(request: web.Request) -> web.StreamResponse:
    if request.get(STAFF):
        raise web.HTTPFound(_next(request.query.get("next")))
    return render(request, "login.html", {"next": _next(request.query.get("next")), "error": ""})


async def login_post(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = str(form.get("username") or "")
    password = str(form.get("password") or "")
    target = _next(str(form.get("next") or ""))
    result = await asyncio.to_thread(check_login, _storage(request), username, password, now(), _client(request))
    if result.account is None:
        log.info("console: login refused for %r from %s", username[:64], _client(request))
        resp = render(request, "login.html", {"next": target, "error": result.error, "username": username[:64]})
        resp.set_status(401)
        return resp
    session = await new_session(request)  # a fresh session: no fixation
    session["user"] = result.account["username"]
    session["csrf"] = new_csrf()
    request[STAFF] = result.account
    await audit(request, "login", _client(request))
    raise web.HTTPFound(target)


async def logout(request: web.Request) -> web.StreamResponse:
    await audit(request, "logout")
    request[SESSION].invalidate()
    raise web.HTTPFound(LOGIN)


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/staff/today")


# -- Today --------------------------------------------------------------------------------------


async def today(request: web.Request) -> web.StreamResponse:
    from ..dossiers._digest import build_digest

    settings = request.config_dict[SETTINGS]
    day = now().date()
    digest = await asyncio.to_thread(build_digest, _storage(request), _calendar(request), day, settings.digest_days)
    mine = (request[STAFF] or {}).get("department")
    departments = sorted(digest.departments, key=lambda g: 0 if mine and g.department == mine else 1)
    return render(request, "today.html", {"digest": digest, "departments": departments, "mine": mine})


async def dossier(request: web.Request) -> web.StreamResponse:
    from ..dossiers._status import STATUSES

    code = request.match_info["code"].strip().upper()[:64]
    storage = _storage(request)

    def load() -> tuple[Any, list[dict[str, Any]], list[dict[str, Any]]]:
        return storage.get_dossier(code), storage.status_history(code), storage.supplements(code)

    row, history, supplements = await asyncio.to_thread(load)
    if row is None:
        raise web.HTTPNotFound(text="no such dossier")
    await audit(request, "view_dossier", code)
    names = {c: s.official for c, s in STATUSES.items()}
    return render(request, "dossier.html", {"d": row, "history": history, "supplements": supplements,
                                            "names": names})


# -- Figures ------------------------------------------------------------------------------------


def period(query: Any) -> tuple[date, date, str]:
    """(start, end, error) from ?from=YYYY-MM-DD&to=YYYY-MM-DD; this month by default."""
    today_ = now().date()
    start, end, error = today_.replace(day=1), today_, ""
    try:
        if query.get("from"):
            start = date.fromisoformat(query["from"])
        if query.get("to"):
            end = date.fromisoformat(query["to"])
    except ValueError:
        return today_.replace(day=1), today_, "Ngày không hợp lệ: dùng dạng YYYY-MM-DD."
    if start > end:
        start, end = end, start
    if (end - start).days > MAX_SPAN:
        start, error = end - timedelta(days=MAX_SPAN), f"Một báo cáo gồm tối đa {MAX_SPAN} ngày."
    return start, end, error


async def figures(request: web.Request) -> web.StreamResponse:
    from ..dossiers._report import build_report

    start, end, error = period(request.query)
    report = await asyncio.to_thread(build_report, _storage(request), start, end)
    return render(request, "figures.html", {"r": report, "error": error, "qs": f"from={start}&to={end}",
                                            "charts": CHART_NAMES})


async def figures_export(request: web.Request) -> web.StreamResponse:
    from ..dossiers._report import build_report
    from ._export import report_csv, report_xlsx

    kind = request.match_info["kind"]
    start, end, _error = period(request.query)
    report = await asyncio.to_thread(build_report, _storage(request), start, end)
    await audit(request, f"export_{kind}", f"{start}..{end}")
    name = f"so-lieu-{start}-{end}.{kind}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if kind == "csv":
        return web.Response(body=report_csv(report), content_type="text/csv", charset="utf-8", headers=headers)
    body = await asyncio.to_thread(report_xlsx, report)
    return web.Response(body=body, headers=headers,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


#: The charts beside the figures: {name: alt text}, as bot/guide/_charts.py names them.
CHART_NAMES = {"ho-so-theo-thang": "Hồ sơ theo tháng: tiếp nhận và giải quyết",
               "tam-dung-bo-sung-theo-thang": "Hồ sơ tạm dừng và yêu cầu bổ sung theo tháng"}
CHART_TTL = 300.0  # seconds a period's charts are served from the cache
CHART_CACHE_SIZE = 16  # periods kept
CHART_MONTHS = 6  # a chart shows at least this many months, up to the period's end
#: (start, end) → (monotonic time drawn, {file name: PNG}), on the console app.
CHARTS: web.AppKey[dict[tuple[date, date], tuple[float, dict[str, bytes]]]] = web.AppKey("console_charts", dict)


def _month_count(start: date, end: date) -> int:
    return max(CHART_MONTHS, (end.year - start.year) * 12 + end.month - start.month + 1)


async def figures_chart(request: web.Request) -> web.StreamResponse:
    """A PNG chart by month: the period's months (at least CHART_MONTHS) up to `to`, the last one
    counted up to `to`; drawn once per period and kept CHART_TTL seconds."""
    import time

    from ..guide._charts import chart_pngs

    name = request.match_info["name"]
    if name not in CHART_NAMES:
        raise web.HTTPNotFound(text="no such chart")
    start, end, _error = period(request.query)
    cache = request.app[CHARTS]
    hit = cache.get((start, end))
    if hit is None or time.monotonic() - hit[0] > CHART_TTL:
        pngs = await asyncio.to_thread(chart_pngs, _storage(request), _month_count(start, end), end)
        while len(cache) >= CHART_CACHE_SIZE:
            cache.pop(min(cache, key=lambda k: cache[k][0]))
        hit = cache[(start, end)] = (time.monotonic(), pngs)
    body = hit[1].get(f"{name}.png")
    if body is None:
        raise web.HTTPNotFound(text="no such chart")
    return web.Response(body=body, content_type="image/png")


# -- Questions to teach -------------------------------------------------------------------------


def taught(storage: Any) -> set[str]:
    """Question texts staff already taught (from the audit)."""
    return {str(r["detail"]).split("\t", 1)[1] for r in storage.audit(5000, "teach") if "\t" in str(r["detail"])}


async def questions(request: web.Request) -> web.StreamResponse:
    from ..guide._questions import build_questions_report

    today_ = now().date()
    start, end, error = period({"from": request.query.get("from") or str(today_ - timedelta(days=30)),
                                "to": request.query.get("to") or str(today_)})
    assistant = request.config_dict[ASSISTANT].current
    index = assistant.index

    def guess(text: str) -> list[tuple[str, str, float]]:
        return [(m.procedure.code, m.procedure.name, m.score) for m in index.search(text, 3)]
    storage = _storage(request)

    def load() -> tuple[Any, set[str]]:
        report = build_questions_report(storage, start, end, guess)
        for g in report.thumbs_down:  # the 👎 groups too: what the bot would answer now
            if g.text:
                g.guesses = guess(g.text)[:3]
        return report, taught(storage)

    report, done = await asyncio.to_thread(load)
    groups = [g for g in report.unanswered if g.text not in done]
    # The 👎 answers: the question as asked (a vote without one cannot be taught), the procedure
    # that was answered, and the bot's best guesses now; the first guess other than the answered
    # procedure is proposed.
    kb = assistant.kb
    down = []
    for g in report.thumbs_down:
        if not g.text or g.text in done:
            continue
        answered = []
        for code, n in g.codes.most_common(3):
            proc = kb.procedure(code)
            answered.append((code, proc.name if proc is not None else "", n))
        proposed = next((c for c, _n, _s in g.guesses if c not in g.codes), g.guesses[0][0] if g.guesses else "")
        down.append({"g": g, "answered": answered, "proposed": proposed})
    return render(request, "questions.html", {"r": report, "groups": groups, "error": error, "down": down,
                                              "taught": len(report.unanswered) - len(groups)})


async def teach(request: web.Request) -> web.StreamResponse:
    from ..kb._learn import learn_example

    form = await request.post()
    text = str(form.get("text") or "").strip()
    code = (str(form.get("other_code") or "").strip() or str(form.get("code") or "").strip())[:32]
    settings = request.config_dict[SETTINGS]
    live = request.config_dict[ASSISTANT]
    session = request[SESSION]
    if not text or not code:
        session["flash"] = "Chọn một thủ tục cho câu hỏi."
        raise web.HTTPFound("/staff/questions")
    learned = await asyncio.to_thread(learn_example, settings.knowledge_dir, text, code)
    message = learned.message
    if learned.ok:
        await audit(request, "teach", f"{code}\t{text}")
        message = f"Đã thêm «{text[:80]}» làm ví dụ của thủ tục {code}."
        result = await asyncio.to_thread(live.reload)
        message += " " + result.text()
    else:
        await audit(request, "teach_refused", f"{code}\t{text}\t{message}")
    session["flash"] = message
    raise web.HTTPFound("/staff/questions")


# -- Complaints ---------------------------------------------------------------------------------

#: The workflow: status → (label, statuses it can come from).
COMPLAINT_STATUSES = {
    "new": "Đã tiếp nhận",
    "processing": "Đang xử lý",
    "answered": "Đã trả lời",
    "closed": "Đã đóng",
}
MOVES = {"processing": ("new",), "answered": ("new", "processing"), "closed": ("answered",)}


def _send_to_user(storage: Any, channel: str, chat_id: str, text: str, key: str) -> bool:
    """Queue `text` for a user's chat through the outbox (their own channel)."""
    import uuid

    from ..core import Reply
    from ..dossiers._notify import reply_to_payload
    from ..guide._talk import PUSH_CHANNELS

    if channel not in PUSH_CHANNELS or not chat_id:
        return False
    storage.enqueue(f"{key}:{uuid.uuid4().hex}", channel, str(chat_id), reply_to_payload(Reply(text)), now())
    return True


async def complaints(request: web.Request) -> web.StreamResponse:
    rows = await asyncio.to_thread(_storage(request).staff_complaints, now() - timedelta(days=90))
    return render(request, "complaints.html", {"rows": rows, "labels": COMPLAINT_STATUSES})


async def complaint_move(request: web.Request) -> web.StreamResponse:
    ref = request.match_info["ref"].upper()[:32]
    form = await request.post()
    status = str(form.get("status") or "")
    answer = " ".join(str(form.get("answer") or "").split())[:2000]
    storage = _storage(request)
    session = request[SESSION]
    row = await asyncio.to_thread(storage.complaint, ref)
    if row is None or status not in MOVES:
        raise web.HTTPNotFound(text="no such complaint or status")
    if status == "answered" and not answer:
        session["flash"] = "Hãy viết câu trả lời cho người phản ánh."
        raise web.HTTPFound("/staff/complaints")
    if not await asyncio.to_thread(storage.set_complaint_status, ref, status, MOVES[status]):
        session["flash"] = f"Phản ánh {ref} đang ở trạng thái «{COMPLAINT_STATUSES.get(row['status'], row['status'])}»."
        raise web.HTTPFound("/staff/complaints")
    message = f"Phản ánh {ref}: {COMPLAINT_STATUSES[status]}."
    if status == "answered":
        vi = row.get("lang") != "en"
        head = (f"👤 Ban Quản lý trả lời phản ánh số {ref}:" if vi else f"👤 The board's answer to complaint {ref}:")
        sent = await asyncio.to_thread(_send_to_user, storage, row["channel"], row["chat_id"], f"{head} {answer}",
                                       f"complaint-answer:{ref}")
        message += " Đã gửi câu trả lời tới người phản ánh." if sent else (
            " Kênh này không nhận được tin nhắn: hãy liên hệ người phản ánh" + (f" ({row['contact']})." if row.get("contact") else "."))
        await audit(request, "complaint_answered", f"{ref}\t{answer}")
    else:
        await audit(request, f"complaint_{status}", ref)
    session["flash"] = message
    raise web.HTTPFound("/staff/complaints")


# -- Conversations handed over ------------------------------------------------------------------


def _conversations(storage: Any) -> list[dict[str, Any]]:
    """The handed-over conversations of the last 30 days: one a chat (its newest ticket),
    waiting (no staff answer yet), active or closed."""
    import re

    from ..guide._talk import _session_key

    ticket_re = re.compile(r"^U[0-9a-f]{6,10}$")
    answered = {str(r["detail"]).split("\t", 1)[0] for r in storage.audit(5000, "conversation_reply")}
    seen: set[tuple[str, str]] = set()
    out = []
    for row in storage.handover_chats(now() - timedelta(days=30)):
        chat = (row["channel"], str(row["chat_id"]))
        if not ticket_re.match(str(row["message_id"])) or chat in seen:
            continue
        seen.add(chat)
        state = storage.get_session(_session_key(*chat)) or {}
        info = state.get("handover") or {}
        open_ = info.get("ticket") == row["message_id"]
        status = "closed" if not open_ else ("active" if row["message_id"] in answered else "waiting")
        out.append({"ticket": row["message_id"], "channel": chat[0], "at": row["at"], "status": status,
                    "since": info.get("since", ""), "lang": state.get("lang") or "vi", "chat_id": chat[1]})
    order = {"waiting": 0, "active": 1, "closed": 2}
    return sorted(out, key=lambda c: (order[c["status"]], c["at"]))


def _talk(request: web.Request) -> Any:
    """The running bot's handover flow (its office hours), or one on the board's profile."""
    from ..guide._talk import Talk

    assistant = request.config_dict[ASSISTANT].current
    if assistant.guide is not None:
        return assistant.guide.talk
    return Talk(_storage(request), None, _calendar(request), assistant.kb.board)


def _when(at: datetime) -> str:
    from ..guide._talk import WEEKDAYS

    return f"{at:%H:%M} {WEEKDAYS['vi'][at.weekday()]} {at:%d/%m/%Y}"


def office_hours(talk: Any, moment: datetime) -> dict[str, Any]:
    """The board's office hours as the queue shows them: the hours, open now or not, and when
    staff are next at work."""
    board = getattr(talk, "board", None)
    hours = getattr(board, "working_hours", "") or "; ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in talk.hours)
    open_ = bool(talk.open_now(moment))
    return {"hours": hours, "open": open_, "next": "" if open_ else _when(talk.next_open(moment))}


async def conversations(request: web.Request) -> web.StreamResponse:
    rows = await asyncio.to_thread(_conversations, _storage(request))
    talk = _talk(request)
    for r in rows:
        r.pop("chat_id")  # staff answer through the ticket; the chat id stays out of the page
        # A conversation handed over outside office hours: the user was told when staff answer.
        r["promised"] = ""
        try:
            since = datetime.fromisoformat(str(r["since"] or r["at"]))
        except ValueError:
            continue
        if since.tzinfo is None:
            since = since.replace(tzinfo=now().tzinfo)
        if r["status"] == "waiting" and not talk.open_now(since):
            r["promised"] = _when(talk.next_open(since))
    return render(request, "conversations.html", {"rows": rows, "office": office_hours(talk, now())})


async def conversation_reply(request: web.Request) -> web.StreamResponse:
    ticket = request.match_info["ticket"][:16]
    form = await request.post()
    text = str(form.get("text") or "").strip()[:2000]
    storage = _storage(request)
    session = request[SESSION]
    found = next((c for c in await asyncio.to_thread(_conversations, storage) if c["ticket"] == ticket), None)
    if found is None:
        raise web.HTTPNotFound(text="no such conversation")
    if found["status"] == "closed":
        session["flash"] = f"#{ticket} đã kết thúc trò chuyện."
    elif not text:
        session["flash"] = "Hãy viết câu trả lời."
    else:
        head = "👤 Cán bộ Ban Quản lý:" if found["lang"] != "en" else "👤 Board staff:"
        await asyncio.to_thread(_send_to_user, storage, found["channel"], found["chat_id"], f"{head} {text}",
                                f"handover-reply:{ticket}")
        await audit(request, "conversation_reply", f"{ticket}\t{text}")
        session["flash"] = f"✓ Đã gửi trả lời tới #{ticket}."
    raise web.HTTPFound("/staff/conversations")


# -- Knowledge health ---------------------------------------------------------------------------


async def knowledge(request: web.Request) -> web.StreamResponse:
    """What the running bot knows, the files that fail validation now, the last reloads."""
    from ..kb import check_knowledge

    settings = request.config_dict[SETTINGS]
    kb = request.config_dict[ASSISTANT].kb
    procedures = list(kb.procedures)
    examples = sum(len(getattr(p, "examples", ()) or ()) for p in procedures)
    storage = _storage(request)

    def load() -> tuple[list[Any], list[dict[str, Any]]]:
        _kb, problems = check_knowledge(settings.knowledge_dir)
        reloads = [r for r in storage.audit(200) if r["action"] in ("reload", "teach")][:10]
        return problems, reloads

    problems, reloads = await asyncio.to_thread(load)
    return render(request, "knowledge.html", {"procedures": len(procedures), "examples": examples,
                                              "problems": problems, "reloads": reloads,
                                              "directory": str(settings.knowledge_dir)})


async def knowledge_reload(request: web.Request) -> web.StreamResponse:
    if (request[STAFF] or {}).get("role") != "admin":
        raise web.HTTPForbidden(text="admins only")
    reload = request.config_dict[ASSISTANT].reload
    result = await asyncio.to_thread(reload)
    await audit(request, "reload", "ok" if result.ok else f"{len(result.problems)} problem(s)")
    request[SESSION]["flash"] = result.text()
    raise web.HTTPFound("/staff/knowledge")


# -- Audit --------------------------------------------------------------------------------------


async def audit_page(request: web.Request) -> web.StreamResponse:
    if (request[STAFF] or {}).get("role") != "admin":
        raise web.HTTPForbidden(text="admins only")
    rows = await asyncio.to_thread(_storage(request).audit, 200)
    return render(request, "audit.html", {"rows": rows})


def add_routes(app: web.Application) -> None:
    app[CHARTS] = {}
    app.router.add_get("/", home)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login_post)
    app.router.add_post("/logout", logout)
    app.router.add_get("/today", today)
    app.router.add_get("/dossier/{code}", dossier)
    app.router.add_get("/figures", figures)
    app.router.add_get(r"/figures.{kind:(csv|xlsx)}", figures_export)
    app.router.add_get(r"/figures/{name:[a-z-]+}.png", figures_chart)
    app.router.add_get("/questions", questions)
    app.router.add_post("/questions/teach", teach)
    app.router.add_get("/complaints", complaints)
    app.router.add_post("/complaints/{ref}", complaint_move)
    app.router.add_get("/conversations", conversations)
    app.router.add_post("/conversations/{ticket}", conversation_reply)
    app.router.add_get("/knowledge", knowledge)
    app.router.add_post("/knowledge/reload", knowledge_reload)
    app.router.add_get("/audit", audit_page)
    app.router.add_static("/static/", STATIC, show_index=False)
