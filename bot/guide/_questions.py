"""Questions the bot could not answer well, and answers users marked 👎: recorded without personal
data, then grouped by similarity for staff (`tthc-bot report questions`), so they can add an alias
to a procedure or an entry to knowledge/faq.yaml."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from ..core import DOSSIER_CODE_RE
from ..core._text import fold

log = logging.getLogger(__name__)

# Below this score a procedure answer counts as low confidence (the engine answers from 0.5).
LOW = 0.6
MAX_TEXT = 300
SIMILAR = 75  # rapidfuzz token_set_ratio, 0-100: questions at least this close are one group
# Question words that say nothing of the subject (folded): left out when comparing questions.
_FILLER = set(
    "thu tuc xin phep lam sao the nao nhu nao o dau can gi nhung bao lau bao nhieu co khong duoc "
    "toi minh em cho hoi a oi vay nhe how to what where when do i can the a an for of is".split()
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\w)(?:\+?84|0)(?:[\s.-]?\d){8,10}(?!\w)")
_NUMBER = re.compile(r"\d(?:[\s.-]?\d){6,}")  # IDs, tax codes, account numbers: 7 digits or more
_URL_SECRET = re.compile(r"([?&](?:secret|token|code)=)[^&\s]+", re.IGNORECASE)
# Words that name a secret: what follows them ("mã tra cứu của tôi là DEMO39", "my lookup code is
# 7KQ2PX", "mật khẩu: abc123", "OTP 482913") is one. A dossier code is often followed by its secret.
_SECRET_WORDS = re.compile(
    r"(?i)(?<!\w)(?:m[ãa]\s+tra\s+c[ứu]u|m[ãa]\s+(?:b[íi]\s+m[ậa]t|x[áa]c\s+(?:th[ựu]c|nh[ậa]n)|otp|pin|b[ảa]o\s+m[ậa]t)"
    r"|m[ậa]t\s+kh[ẩa]u|lookup\s+(?:code|secret|key|number)|secret(?:\s+code)?|pass(?:word|code)|otp|pin(?:\s+code)?"
    r"|(?:verification|access|security|tracking)\s+code)(?!\w)"
)
_TOKEN = re.compile(r"[^\s:=,;.!?()\[\]\"'«»“”]+")
# A secret as typed: ASCII letters and digits (dashes inside), 3 to 32 characters, with a digit or
# in capitals ("DEMO39", "7KQ2PX", "AB12-CD", "ABCDEF"); a Vietnamese or English word is neither.
_SECRET_SHAPE = re.compile(r"^(?=[A-Za-z0-9-]*\d|[A-Z0-9-]{4,}$)[A-Za-z0-9][A-Za-z0-9-]{2,31}$")
SECRET_MASK = "[mã tra cứu]"


def _mask_following(text: str, marker: re.Pattern[str], tokens: int) -> str:
    """Secret-shaped words among the `tokens` words after each match of `marker`, masked (a
    dossier code among them is a word, and kept)."""
    out, last = [], 0
    for m in marker.finditer(text):
        if m.start() < last:
            continue
        out.append(text[last:m.end()])
        pos = scan = m.end()
        for _ in range(tokens):
            t = _TOKEN.search(text, scan)
            if t is None:
                break
            code = DOSSIER_CODE_RE.match(text, t.start())
            if code is not None:
                scan = code.end()
                continue
            scan = t.end()
            if _SECRET_SHAPE.match(t.group(0)):
                out.append(text[pos:t.start()] + SECRET_MASK)
                pos = t.end()
        last = pos
    out.append(text[last:])
    return "".join(out)


def mask_secrets(text: str, storage: Any | None = None) -> str:
    """`text` with lookup secrets (and passwords, OTPs) replaced by "[mã tra cứu]": a secret-like
    word after the words that name one or after a dossier code, and, given the `storage`, any
    word that is some dossier's lookup code (MaTraCuu). Other words stay."""
    text = _mask_following(_mask_following(text, _SECRET_WORDS, 6), DOSSIER_CODE_RE, 3)
    if storage is not None:
        candidates = {t.group(0) for t in _TOKEN.finditer(text) if 5 <= len(t.group(0)) <= 32
                      and _SECRET_SHAPE.match(t.group(0)) and any(ch.isdigit() for ch in t.group(0))}
        try:
            known = storage.known_secrets(candidates | {c.upper() for c in candidates}) if candidates else set()
        except Exception as exc:  # an old or locked database: the phrase rule above still applied
            log.debug("questions: secrets not checked (%s)", type(exc).__name__)
            known = set()
        if known:
            text = _TOKEN.sub(lambda t: SECRET_MASK if t.group(0) in known or t.group(0).upper() in known
                              else t.group(0), text)
    return text


def mask(text: str, storage: Any | None = None) -> str:
    """`text` with what could identify a person replaced: e-mails, phone numbers, long numbers
    (ID cards, tax codes, accounts), dossier codes and lookup secrets (in links, after the words
    that name them or a dossier code, and, given the `storage`, any dossier's); cut to 300."""
    text = _URL_SECRET.sub(r"\1…", text)
    text = _EMAIL.sub("[email]", text)
    text = DOSSIER_CODE_RE.sub("[mã hồ sơ]", mask_secrets(text, storage))
    text = _PHONE.sub("[số điện thoại]", text)
    text = _NUMBER.sub("[số]", text)
    text = " ".join(text.split())
    return text[:MAX_TEXT]


def unsure(answer: Any) -> bool:
    """True for an answer given with low confidence: "unknown", a question back (which
    procedure?), or a procedure matched only weakly."""
    if answer.intent == "unknown" or getattr(answer, "unsure", False):
        return True
    return bool(answer.matches) and answer.matches[0].score < LOW


class QuestionLog:
    """Records low-confidence questions in the Storage; never raises (a failure is logged at
    debug level only: `tthc-bot ask` prints nothing but its answers)."""

    def __init__(self, storage: Any) -> None:
        self.storage = storage

    def record(self, answer: Any, chat: tuple[str, str] | None, now: datetime | None = None) -> bool:
        if not unsure(answer):
            return False
        try:
            from ..storage import VN_TZ

            score = answer.matches[0].score if answer.matches else None
            channel = chat[0] if chat else "cli"
            text = mask(answer.q, self.storage)
            self.storage.record_unanswered(now or datetime.now(VN_TZ), channel, text, answer.intent, score)
            return True
        except Exception as exc:  # a read-only or locked database must not break an answer
            log.debug("questions: not recorded (%s)", type(exc).__name__)
            return False


@dataclass
class Group:
    """Similar questions: the most frequent wording, how many, from where, and other wordings."""

    text: str
    count: int = 0
    channels: Counter[str] = field(default_factory=Counter)
    last: str = ""
    variants: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    # The bot's best guesses for the question: (code, name, score), best first.
    guesses: list[tuple[str, str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text, "count": self.count, "channels": dict(self.channels), "last": self.last,
            "variants": [t for t, _n in self.variants.most_common() if t != self.text][:5],
            "codes": dict(self.codes),
            "guesses": [{"code": c, "name": n, "score": s} for c, n, s in self.guesses],
        }


def group(rows: list[dict[str, Any]]) -> list[Group]:
    """Rows (with text, channel, at and maybe code) grouped by similar wording, biggest first."""
    from rapidfuzz import fuzz

    groups: list[tuple[str, Group]] = []
    for row in rows:
        text = row.get("text") or ""
        key = " ".join(w for w in fold(text).split() if w not in _FILLER) or fold(text)
        target = None
        for gkey, g in groups:
            if key == gkey or (key and gkey and fuzz.token_set_ratio(key, gkey) >= SIMILAR):
                target = g
                break
        if target is None:
            target = Group(text)
            groups.append((key, target))
        target.count += 1
        target.channels[str(row.get("channel", ""))] += 1
        target.variants[text] += 1
        target.last = max(target.last, str(row.get("at", ""))[:10])
        if row.get("code"):
            target.codes[str(row["code"])] += 1
    for _k, g in groups:
        g.text = g.variants.most_common(1)[0][0]
    return sorted((g for _k, g in groups), key=lambda g: (-g.count, g.text))


@dataclass
class QuestionsReport:
    start: date
    end: date
    unanswered: list[Group]
    thumbs_down: list[Group]
    thumbs_up: int
    total_unanswered: int
    total_down: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(), "to": self.end.isoformat(),
            "unanswered": {"total": self.total_unanswered, "groups": [g.to_dict() for g in self.unanswered]},
            "thumbs_down": {"total": self.total_down, "groups": [g.to_dict() for g in self.thumbs_down]},
            "thumbs_up": self.thumbs_up,
        }


def build_questions_report(
    storage: Any, start: date, end: date, guess: Callable[[str], list[tuple[str, str, float]]] | None = None,
) -> QuestionsReport:
    """The unanswered and 👎 questions of a period, grouped; `guess` gives the bot's best guesses
    (code, name, score) for each group's question, so staff can teach it with `kb learn`."""
    from ..storage import VN_TZ

    lo = datetime.combine(start, time(0), VN_TZ)
    hi = datetime.combine(end + timedelta(days=1), time(0), VN_TZ)
    rows = storage.unanswered(lo, hi)
    votes = storage.feedback(lo, hi)
    for row in (*rows, *votes):  # rows kept before secrets were masked are masked when shown
        if row.get("text"):
            row["text"] = mask_secrets(row["text"], storage)
    down = [v for v in votes if v["vote"] < 0]
    unanswered = group(rows)
    if guess is not None:
        for g in unanswered:
            g.guesses = guess(g.text)[:3]
    return QuestionsReport(
        start, end, unanswered, group(down), sum(1 for v in votes if v["vote"] > 0), len(rows), len(down),
    )


def questions_text(report: QuestionsReport) -> str:
    """The report as staff read it."""
    span = f"{report.start:%d/%m/%Y} – {report.end:%d/%m/%Y}"
    lines = [f"Câu hỏi bot chưa trả lời tốt, {span}: {report.total_unanswered} câu, {len(report.unanswered)} nhóm"]
    for g in report.unanswered:
        where = ", ".join(f"{c} {n}" for c, n in g.channels.most_common())
        lines.append(f"  {g.count:>3}× {g.text}   ({where}; gần nhất {g.last})")
        others = [t for t, _n in g.variants.most_common() if t != g.text][:3]
        for t in others:
            lines.append(f"        cũng hỏi: {t}")
        for code, name, score in g.guesses:
            lines.append(f"        có thể là: {code} {name[:70]} ({score:.2f})")
        if g.guesses:
            quoted = g.text.replace('"', "'")
            lines.append(f'        dạy bot: tthc-bot kb learn "{quoted}" {g.guesses[0][0]}')
    lines.append("")
    lines.append(f"Câu trả lời bị đánh giá 👎: {report.total_down} (👍: {report.thumbs_up})")
    for g in report.thumbs_down:
        codes = ", ".join(f"{c}" for c, _n in g.codes.most_common()) or "—"
        lines.append(f"  {g.count:>3}× {g.text or '(không rõ câu hỏi)'}   → {codes}")
    lines.append("")
    lines.append(
        "Gợi ý: câu hỏi về một thủ tục có sẵn → `tthc-bot kb learn \"CÂU HỎI\" MÃ_THỦ_TỤC` (thêm vào `examples` của "
        "thủ tục đó); câu hỏi chung → thêm một mục vào knowledge/faq.yaml; rồi chạy `tthc-bot kb check` và nạp lại bot."
    )
    return "\n".join(lines)
