"""The investor roadmap: which procedures a project meets, in order, from the answers to a few
questions (knowledge/roadmap.yaml), as text, as a picture, and as a short guided conversation.

Answers travel in button actions, not in the conversation state: "r:" + one digit per answered
question (the index of the chosen option), e.g. "r:01" = first question answered with its first
option, second with its second. So a pressed button always means the same thing, on any channel,
with or without a saved session, and stays far under Telegram's 64 bytes.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

from ..core import Button, ConversationState, Image, Pending, Reply
from ..core._text import fold
from ..engine import _compose as compose
from ..kb import (
    Case,
    ExternalProcedure,
    KnowledgeBase,
    Procedure,
    Roadmap,
    RoadmapQuestion,
    RoadmapStep,
    TimeLimit,
)

# Without a roadmap.yaml: the usual road of a project in an industrial park, by national code.
FALLBACK_CODES = (
    "1.009748", "1.009664", "1.013239", "1.013234", "1.010733", "1.010727", "1.013236", "1.014199",
)
# Calendar days to working days, roughly (5 working days a week).
WORKING_PER_DAY = 5 / 7
WORKING_PER_MONTH = 22
ACTION = "r:"
DEFAULT_ACTION = "r:*"
_ACTION_RE = re.compile(r"^r:([0-9]{0,30}|\*)\Z")
_KEY_RE = re.compile(r"[0-9]{1,30}")  # ASCII digits only: "²" or "١" are not answers
#: Roadmap pictures kept (about 160 KB each); the least recently used is dropped first. Keys are
#: canonical (the answers with every default filled in), so this holds every distinct picture
#: of the bundled roadmap in both languages (96 answer sets and the default: 97 a language).
PICTURE_CACHE = 200
_YES = {"co", "c", "yes", "y", "dung", "phai", "vang", "u", "ok", "co a", "true"}
_NO = {"khong", "k", "ko", "no", "n", "sai", "chua", "false", "khong a"}

LEVEL_LABEL = {
    "vi": {"toàn trình": "trực tuyến toàn trình", "một phần": "trực tuyến một phần", "không": "chưa trực tuyến"},
    "en": {"toàn trình": "fully online", "một phần": "partly online", "không": "not online"},
}


@dataclass(frozen=True)
class PlanStep:
    """One step of a computed roadmap: a board procedure (`procedure` and the `case` whose time
    counts) or a step another agency handles (`external`, knowledge/elsewhere.yaml; then
    `procedure` and `case` are None)."""

    number: int
    procedure: Procedure | None
    case: Case | None
    agency: str
    note: str | None
    external: ExternalProcedure | None = None

    @property
    def code(self) -> str:
        """The national code: the board procedure's, or the other agency's when it has one ("")."""
        if self.procedure is not None:
            return self.procedure.code
        return self.external.code or "" if self.external is not None else ""

    @property
    def ref(self) -> str:
        """What the step names: a procedure code, or "elsewhere:" + the entry's id."""
        if self.external is not None:
            return "elsewhere:" + self.external.id
        return self.code

    @property
    def limit(self) -> TimeLimit | None:
        """The time limit that counts (None: another agency's step with no fixed time known)."""
        if self.case is not None:
            return self.case.time
        return self.external.time if self.external is not None else None

    def name(self, lang: str, limit: int = 160) -> str:
        if self.external is not None:
            return self.external.name if lang == "vi" else self.external.name_en
        assert self.procedure is not None
        return compose.short_name(self.procedure, limit) if lang == "vi" else self.procedure.name_en

    def time_text(self, lang: str) -> str:
        if self.external is not None:
            return compose.elsewhere_time(self.external, lang)
        assert self.case is not None
        return compose.time_value(self.case, lang)

    def working_days(self) -> float | None:
        """The time limit in working days (calendar days and months converted roughly)."""
        t = self.limit
        if t is None or t.value is None or t.unit is None:
            return None
        if t.unit == "working_days":
            return t.value
        if t.unit == "days":
            return t.value * WORKING_PER_DAY
        return t.value * WORKING_PER_MONTH


@dataclass(frozen=True)
class Plan:
    """A roadmap for one set of answers: the steps, what was assumed, and the totals."""

    title: str
    lang: str
    steps: tuple[PlanStep, ...]
    assumptions: tuple[str, ...]
    notes: tuple[str, ...]
    key: str
    is_default: bool

    @property
    def working_days(self) -> int:
        """The sum of the steps' limits stated in working days."""
        return round(sum(t.value or 0 for t in self._limits() if t.unit == "working_days"))

    def _limits(self) -> list[TimeLimit]:
        return [t for t in (s.limit for s in self.steps) if t is not None]

    @property
    def calendar_days(self) -> int:
        """The sum of the steps' limits stated in calendar days (months as 30 days)."""
        total = 0.0
        for t in self._limits():
            if t.value is not None and t.unit == "days":
                total += t.value
            elif t.value is not None and t.unit == "months":
                total += t.value * 30
        return round(total)

    @property
    def total_working_days(self) -> int:
        """Everything in working days, calendar days converted (5 working days a week)."""
        return round(sum(s.working_days() or 0 for s in self.steps))

    @property
    def open_ended(self) -> int:
        """Board steps whose record fixes no time limit (not in the totals)."""
        return sum(1 for s in self.steps if s.external is None and s.working_days() is None)

    @property
    def elsewhere_open(self) -> int:
        """Steps of other agencies with no fixed time known: their own rules apply (not in the totals)."""
        return sum(1 for s in self.steps if s.external is not None and s.working_days() is None)

    @property
    def elsewhere_timed(self) -> int:
        """Steps of other agencies whose legal time limit is in the totals."""
        return sum(1 for s in self.steps if s.external is not None and s.working_days() is not None)

    def extra_text(self) -> str:
        """What the totals leave out, or take from other agencies ("" when nothing)."""
        vi = self.lang == "vi"
        parts = []
        if self.open_ended:
            parts.append(f"{self.open_ended} bước chưa có thời hạn cố định" if vi
                         else f"{self.open_ended} step(s) with no fixed time limit")
        if self.elsewhere_open:
            parts.append(f"{self.elsewhere_open} bước của cơ quan khác theo thời hạn của cơ quan đó, không tính vào tổng" if vi
                         else f"{self.elsewhere_open} step(s) of other agencies follow those agencies' own time limits, not counted")
        if self.elsewhere_timed:
            parts.append(f"gồm {self.elsewhere_timed} bước của cơ quan khác có thời hạn luật định" if vi
                         else f"including {self.elsewhere_timed} step(s) of other agencies with a legal time limit")
        return "".join("; " + p for p in parts)

    def total_text(self) -> str:
        """The total in plain words: working days (calendar days and months converted), and
        what that is in weeks or months ("khoảng 143 ngày làm việc, tức gần 7 tháng")."""
        vi = self.lang == "vi"
        converted = bool(self.calendar_days)
        total = self.total_working_days if converted else self.working_days
        about = ("khoảng " if vi else "about ") if converted else ""
        days = f"{about}{total} ngày làm việc" if vi else f"{about}{total} working days"
        return f"{days}, {_in_words(total, vi)}" if total >= 10 else days


def _in_words(working_days: int, vi: bool) -> str:
    """Working days as weeks (under six weeks) or months, roughly: "tức khoảng 3 tuần"."""
    if working_days < 30:
        weeks = max(1, round(working_days / 5))
        return f"tức khoảng {weeks} tuần" if vi else f"roughly {weeks} week{'s' if weeks > 1 else ''}"
    months = max(1, round(working_days / WORKING_PER_MONTH))
    return f"tức khoảng {months} tháng" if vi else f"roughly {months} month{'s' if months > 1 else ''}"


def _roadmap_of(kb: KnowledgeBase) -> Roadmap:
    if kb.roadmap is not None:
        return kb.roadmap
    codes = {p.code for p in kb.procedures}
    return Roadmap(
        "Lộ trình thủ tục thường gặp của dự án trong khu công nghiệp, khu kinh tế",
        "The usual road of a project in an industrial park or economic zone",
        (), tuple(RoadmapStep(c) for c in FALLBACK_CODES if c in codes),
    )


def _case_of(p: Procedure, step: RoadmapStep) -> Case:
    if step.case is not None and 1 <= step.case <= len(p.cases):
        return p.cases[step.case - 1]

    def longest(c: Case) -> float:
        t = c.time
        if t.value is None:
            return -1.0
        return t.value * (1 if t.unit == "working_days" else WORKING_PER_DAY if t.unit == "days" else WORKING_PER_MONTH)

    return max(p.cases, key=longest)


def _short_agency(p: Procedure, lang: str = "vi") -> str:
    agency = re.split(r"[;(]", compose.agency(p, lang))[0].strip()
    return agency if len(agency) <= 70 else agency[:69].rsplit(" ", 1)[0] + "…"


def encode(roadmap: Roadmap, answers: dict[str, str]) -> str:
    """The digits of `answers` (option indices, in question order) as far as they go."""
    out = ""
    for q in roadmap.questions:
        value = answers.get(q.id)
        if value is None:
            break
        out += str([o.value for o in q.options].index(value))
    return out


def decode(roadmap: Roadmap, digits: str) -> dict[str, str] | None:
    """Answers from digits; None when a digit names no option or there are too many."""
    if len(digits) > len(roadmap.questions):
        return None
    answers: dict[str, str] = {}
    for q, d in zip(roadmap.questions, digits, strict=False):
        i = int(d)
        if i >= len(q.options):
            return None
        answers[q.id] = q.options[i].value
    return answers


def plan_roadmap(kb: KnowledgeBase, answers: dict[str, str] | None, lang: str) -> Plan:
    """The roadmap for `answers` (None: every question's default)."""
    roadmap = _roadmap_of(kb)
    by_code = {p.code: p for p in kb.procedures}
    given = dict(roadmap.defaults)
    if answers:
        given.update(answers)
    vi = lang == "vi"
    steps: list[PlanStep] = []
    for st in roadmap.steps:
        if st.elsewhere:
            ext = kb.external(st.elsewhere)
            if ext is None or not st.applies(given):
                continue
            agency = (st.agency if vi else st.agency_en or st.agency) or (ext.agency if vi else ext.agency_en)
            note = st.note if vi else st.note_en
            steps.append(PlanStep(len(steps) + 1, None, None, agency, note, external=ext))
            continue
        p = by_code.get(st.code)
        if p is None or not st.applies(given):
            continue
        agency = (st.agency if vi else st.agency_en) or _short_agency(p, lang)
        note = st.note if vi else st.note_en
        steps.append(PlanStep(len(steps) + 1, p, _case_of(p, st), agency, note))
    assumptions: list[str] = []
    notes: list[str] = []
    for q in roadmap.questions:
        option = q.option(given[q.id])
        if option is None:
            continue
        label = option.label if vi else option.label_en
        short = (q.short if vi else q.short_en) or (q.ask if vi else q.ask_en)
        assumptions.append(f"{short}: {label.lower() if label in ('Có', 'Không', 'Yes', 'No') else label}")
        note = option.note if vi else option.note_en
        if note:
            notes.append(note)
    return Plan(
        roadmap.title if vi else roadmap.title_en, lang, tuple(steps), tuple(assumptions), tuple(notes),
        encode(roadmap, given), is_default=not answers,
    )


def roadmap_text(plan: Plan) -> str:
    """The roadmap as a numbered list: name, agency, time limit, online level, code; the total.
    A step of another agency says so, with that agency's time limit or that its own rules apply."""
    vi = plan.lang == "vi"
    lines = [plan.title + (" (lộ trình mẫu)" if vi and plan.is_default else " (example)" if plan.is_default else "")]
    if plan.assumptions:
        lines.append(("Áp dụng cho: " if vi else "For: ") + "; ".join(plan.assumptions) + ".")
    lines.extend(plan.notes)
    for s in plan.steps:
        if s.procedure is None:
            code = f" [{s.code}]" if s.code else ""
            lines.append(f"{s.number}. {s.name(plan.lang)}{code} ({'không do Ban Quản lý giải quyết' if vi else 'not a board procedure'})")
            lines.append(f"   {s.agency} · {s.time_text(plan.lang)}")
            if s.note:
                lines.append(f"   {s.note}")
            continue
        name = s.name(plan.lang)
        level = LEVEL_LABEL[plan.lang].get(s.procedure.online_level, s.procedure.online_level)
        lines.append(f"{s.number}. {name} [{s.code}]")
        lines.append(f"   {s.agency} · {s.time_text(plan.lang)} · {level}")
        if s.note:
            lines.append(f"   {s.note}")
    if not plan.steps:
        lines.append("Không có thủ tục nào của Ban Quản lý áp dụng." if vi else "No board procedure applies.")
        return "\n".join(lines)
    extra = plan.extra_text()
    lines.append(
        f"Tổng thời hạn giải quyết nếu làm lần lượt: {plan.total_text()}{extra} (chưa tính thời gian chuẩn bị, "
        "bổ sung hồ sơ và thi công; ngày làm việc không tính thứ Bảy, Chủ nhật, ngày lễ)."
        if vi else
        f"Total processing time if done one after another: {plan.total_text()}{extra} (not counting preparing "
        "or completing dossiers and construction; working days exclude weekends and public holidays)."
    )
    lines.append("Bấm một bước để xem hồ sơ, lệ phí và cách nộp." if vi else "Press a step to see its documents, fees and how to file.")
    return "\n".join(lines)


class RoadmapGuide:
    """The roadmap flow of the engine: the plain roadmap, the guided questions, the picture."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.roadmap = _roadmap_of(kb)
        self._pngs: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    # -- replies ------------------------------------------------------------------------------

    def plan(self, digits: str | None, lang: str) -> Plan | None:
        answers = decode(self.roadmap, digits) if digits else {}
        if answers is None:
            return None
        return plan_roadmap(self.kb, answers or None, lang)

    def image_url(self, plan: Plan) -> str:
        """The stable web path of the roadmap picture (GET on the bot's web server)."""
        return f"/roadmap/{plan.lang}/{'default' if plan.is_default else plan.key}.png"

    def result(self, plan: Plan) -> Reply:
        """The roadmap: numbered list, picture, a button per step, and the guided questions."""
        vi = plan.lang == "vi"
        buttons = [Button(f"{s.number}. {compose.display_name(s.procedure, plan.lang, 36)}", f"p:{s.code}:procedure")
                   for s in plan.steps if s.procedure is not None]
        if self.roadmap.questions:
            buttons.append(Button("Lộ trình theo dự án của bạn" if vi else "Roadmap for your project", ACTION))
        png = self.png(plan.key if not plan.is_default else "", plan.lang)
        caption = (f"{plan.title}: {len(plan.steps)} bước, {plan.total_text()}" if vi
                   else f"{plan.title}: {len(plan.steps)} steps, {plan.total_text()}")
        return Reply(roadmap_text(plan), tuple(buttons), Image(png, caption, self.image_url(plan)))

    def default(self, lang: str, named: Procedure | None = None) -> Reply:
        """The plain roadmap (every question's default). `named`: the procedure the question
        names ("is the IRC the first licence we need?"): said first, where it stands in the
        roadmap, with its button first."""
        plan = plan_roadmap(self.kb, None, lang)
        reply = self.result(plan)
        if named is None:
            return reply
        vi = lang == "vi"
        name = compose.display_name(named, lang, 120)
        step = next((s for s in plan.steps if s.procedure is not None and s.code == named.code), None)
        if step is not None:
            head = (f"«{name}» là bước {step.number} của lộ trình dưới đây." if vi
                    else f"“{name}” is step {step.number} of the roadmap below.")
        else:
            head = (f"«{name}» không nằm trong lộ trình mẫu dưới đây; bấm nút đầu tiên để xem thủ tục này." if vi
                    else f"“{name}” is not a step of the usual roadmap below; press the first button to see it.")
        buttons = reply.buttons if step is not None else (compose.procedure_button(named, lang), *reply.buttons)
        return Reply(f"{head}\n{reply.text}", buttons, reply.image)

    def ask(self, digits: str, lang: str) -> Reply:
        """The next question after `digits`, with one button per answer."""
        vi = lang == "vi"
        q: RoadmapQuestion = self.roadmap.questions[len(digits)]
        n, total = len(digits) + 1, len(self.roadmap.questions)
        head = (f"Lộ trình thủ tục — câu {n}/{total}: {q.ask}" if vi else f"Investor roadmap — question {n}/{total}: {q.ask_en}")
        buttons = [Button(o.label if vi else o.label_en, f"{ACTION}{digits}{i}") for i, o in enumerate(q.options)]
        buttons.append(Button("Xem lộ trình mẫu" if vi else "Show the usual roadmap", DEFAULT_ACTION))
        hint = ("Bấm một câu trả lời (hoặc gõ «có», «không», số thứ tự)." if vi
                else "Press an answer (or type “yes”, “no”, or its number).")
        return Reply(f"{head}\n{hint}", tuple(buttons))

    def _cache_key(self, digits: str, lang: str) -> tuple[str, str]:
        """Answers that draw the same picture share one key: "" for the defaults, else the
        answers with the defaults filled in ("0" and "0" + the default digits are one picture)."""
        answers = decode(self.roadmap, digits) if digits else None
        if not answers:
            return ("", lang)
        given = dict(self.roadmap.defaults)
        given.update(answers)
        return (encode(self.roadmap, given), lang)

    def cached_png(self, digits: str, lang: str) -> bytes | None:
        """The picture for these answers when it is drawn already (no drawing here: cheap
        enough for the event loop), else None."""
        key = self._cache_key(digits, lang)
        with self._lock:
            png = self._pngs.get(key)
            if png is not None:
                self._pngs.move_to_end(key)
            return png

    def png(self, digits: str, lang: str) -> bytes:
        """The roadmap picture for these answers ("" = the defaults), cached: same answers, same
        bytes. Drawing takes about 130 ms of CPU: call it on a worker thread, never on the loop."""
        png = self.cached_png(digits, lang)
        if png is None:
            from ._picture import render_roadmap

            key = self._cache_key(digits, lang)
            answers = decode(self.roadmap, digits) if digits else None
            plan = plan_roadmap(self.kb, answers or None, lang)
            board = self.kb.board
            png = render_roadmap(plan, (board.name if lang == "vi" else board.name_en) if board else "")
            with self._lock:  # the engine and the picture route draw on their own threads
                self._pngs[key] = png
                self._pngs.move_to_end(key)
                while len(self._pngs) > PICTURE_CACHE:
                    self._pngs.popitem(last=False)
        return png

    def parse_key(self, key: str) -> str | None:
        """The digits of a picture's path key ("default" or ASCII digits naming options of the
        questions); None when not valid."""
        if key == "default":
            return ""
        return key if _KEY_RE.fullmatch(key) and decode(self.roadmap, key) is not None else None

    # -- the engine's entry points --------------------------------------------------------------

    def action(self, q: str, state: ConversationState, lang: str) -> Reply | None:
        """A pressed roadmap button ("r:", "r:01", "r:*"); None for a malformed one."""
        m = _ACTION_RE.match(q)
        if m is None:
            return None
        digits = m.group(1)
        if digits == "*":
            state.pending = None
            return self.default(lang)
        if decode(self.roadmap, digits) is None:
            return None
        if len(digits) < len(self.roadmap.questions):
            state.pending = Pending("roadmap", at=digits)
            return self.ask(digits, lang)
        state.pending = None
        plan = self.plan(digits, lang)
        return self.result(plan) if plan is not None else None

    def start(self, state: ConversationState, lang: str) -> Reply:
        """The roadmap menu: the guided questions when the knowledge has some, else the roadmap."""
        if not self.roadmap.questions:
            return self.default(lang)
        return self.action(ACTION, state, lang) or self.default(lang)

    def typed(self, q: str, state: ConversationState, lang: str) -> Reply | None:
        """A typed answer to the pending question ("có", "không", "2"); None when `q` is not one."""
        pending = state.pending
        if pending is None or pending.kind != "roadmap":
            return None
        digits = pending.at
        if not _KEY_RE.fullmatch(digits) and digits != "":
            return None
        if len(digits) >= len(self.roadmap.questions):
            return None
        question = self.roadmap.questions[len(digits)]
        values = [o.value for o in question.options]
        f = fold(q).strip(" .!")
        choice: int | None = None
        if _KEY_RE.fullmatch(f) and 1 <= int(f) <= len(values):
            choice = int(f) - 1
        elif f in _YES and "yes" in values:
            choice = values.index("yes")
        elif f in _NO and "no" in values:
            choice = values.index("no")
        else:
            labels = [fold(o.label) for o in question.options] + [fold(o.label_en) for o in question.options]
            if f in labels:
                choice = labels.index(f) % len(values)
        if choice is None:
            return None
        return self.action(f"{ACTION}{digits}{choice}", state, lang)
