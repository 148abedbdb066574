"""Pictures drawn with Pillow: the investor roadmap and, for staff, simple bar charts.

Fonts: DejaVu Sans (Debian package fonts-dejavu-core, which `.ci/run` installs), which has every
Vietnamese letter. No font is bundled. When DejaVu is not found, Pillow's own default font is
used (its scalable one on Pillow ≥ 10.1): the picture is still made, but some diacritics may be
missing, so `fonts_found()` lets tests and the CLI say so.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from ._roadmap import Plan

FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "/Library/Fonts",
    "C:/Windows/Fonts",
)
REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"

WIDTH = 1080
MARGIN = 48
# The roadmap is drawn for a phone: a chat bubble at a 390 px screen shows it about 300 px wide,
# so at 640 px every text of at least 30 px reads at 14 px or more there (see
# ROADMAP_SMALLEST_TEXT and tests/test_answers_browser.py).
ROADMAP_WIDTH = 640
ROADMAP_MARGIN = 20
ROADMAP_SMALLEST_TEXT = 30
INK = (33, 37, 41)
MUTED = (90, 98, 106)
PAPER = (255, 255, 255)
CARD = (246, 248, 250)
HEADER = (22, 50, 92)
# Online level: green = fully online, amber = partly, grey-red = not online. Each card also says
# it in words, so colour is never the only cue.
LEVEL_COLOURS = {
    "toàn trình": (30, 130, 60),
    "một phần": (204, 122, 0),
    "không": (178, 50, 40),
}
LEVEL_NAMES = {
    "vi": {"toàn trình": "Trực tuyến toàn trình", "một phần": "Trực tuyến một phần", "không": "Chưa trực tuyến"},
    "en": {"toàn trình": "Fully online", "một phần": "Partly online", "không": "Not online"},
}
# A step another agency handles (knowledge/elsewhere.yaml): slate blue, and said in words too.
ELSEWHERE_COLOUR = (70, 100, 140)
ELSEWHERE_NAME = {"vi": "Cơ quan khác giải quyết", "en": "Handled by another agency"}


def _font_path(name: str) -> Path | None:
    for d in FONT_DIRS:
        p = Path(d) / name
        if p.is_file():
            return p
    try:  # matplotlib ships DejaVu too, when it happens to be installed
        import matplotlib  # type: ignore[import-not-found]

        p = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
        if p.is_file():
            return p
    except Exception:
        pass
    return None


def fonts_found() -> bool:
    """True when DejaVu Sans (regular and bold) is available: Vietnamese renders in full."""
    return _font_path(REGULAR) is not None and _font_path(BOLD) is not None


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> Any:
    """DejaVu Sans at `size` pixels, or Pillow's default font when it is missing."""
    path = _font_path(BOLD if bold else REGULAR) or _font_path(REGULAR)
    if path is not None:
        return ImageFont.truetype(str(path), size)
    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow < 10.1: a fixed bitmap font
        return ImageFont.load_default()


def wrap(text: str, f: Any, width: int) -> list[str]:
    """`text` in lines no wider than `width` pixels (a word longer than a line is cut)."""
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for word in para.split():
            candidate = f"{line} {word}" if line else word
            if f.getlength(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while f.getlength(word) > width and len(word) > 1:
                cut = len(word)
                while cut > 1 and f.getlength(word[:cut]) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


def _height(f: Any) -> int:
    ascent, descent = f.getmetrics()
    return int((ascent + descent) * 1.18)


class _Canvas:
    """A tall white page drawn top to bottom, cropped to what was used."""

    def __init__(self, width: int = WIDTH, height: int = 6000) -> None:
        self.image = Image.new("RGB", (width, height), PAPER)
        self.draw = ImageDraw.Draw(self.image)
        self.y = 0

    def text(self, x: int, lines: list[str], f: Any, fill: tuple[int, int, int]) -> None:
        for line in lines:
            self.draw.text((x, self.y), line, font=f, fill=fill)
            self.y += _height(f)

    def png(self, bottom: int) -> bytes:
        out = io.BytesIO()
        _save(self.image.crop((0, 0, self.image.width, bottom)), out)
        return out.getvalue()


def _save(img: Image.Image, out: io.BytesIO) -> None:
    """PNG with a 64-colour palette: flat colours and anti-aliased text survive, the file is a
    fraction of the size (quick to send on a phone connection)."""
    img.quantize(colors=64, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(out, format="PNG", compress_level=6)


def render_roadmap(plan: Plan, board_name: str = "") -> bytes:
    """The roadmap as a PNG 640 px wide, for a phone: a header, the legend, one card per step
    (number in a circle coloured by online level, name, agency, time limit, level, code, note),
    arrows between the steps, and the total in plain words. No text is under
    ROADMAP_SMALLEST_TEXT px."""
    lang = plan.lang
    vi = lang == "vi"
    WIDTH, MARGIN = ROADMAP_WIDTH, ROADMAP_MARGIN  # this page's own measures
    c = _Canvas(width=WIDTH, height=max(8000, 1400 + 760 * len(plan.steps)))  # cropped to what is drawn
    inner = WIDTH - 2 * MARGIN
    small = ROADMAP_SMALLEST_TEXT
    title_f, sub_f = font(small + 8, True), font(small)
    name_f, body_f, note_f, num_f = font(small + 3, True), font(small + 1), font(small), font(small, True)

    # Header band.
    top = c.y
    c.y += 32
    title_lines = wrap(plan.title, title_f, inner)
    sub_lines = wrap(board_name, sub_f, inner) if board_name else []
    band = 32 + len(title_lines) * _height(title_f) + len(sub_lines) * _height(sub_f) + 28
    c.draw.rectangle((0, top, WIDTH, top + band), fill=HEADER)
    c.text(MARGIN, title_lines, title_f, PAPER)
    c.text(MARGIN, sub_lines, sub_f, (214, 226, 245))
    c.y = top + band + 24

    # What the roadmap assumes.
    if plan.assumptions:
        head = ("Lộ trình mẫu cho: " if plan.is_default else "Áp dụng cho: ") if vi else ("Example for: " if plan.is_default else "For: ")
        c.text(MARGIN, wrap(head + "; ".join(plan.assumptions) + ".", sub_f, inner), sub_f, MUTED)
    for note in plan.notes:
        c.text(MARGIN, wrap(note, sub_f, inner), sub_f, (150, 40, 30))
    c.y += 12

    # Legend.
    x = MARGIN
    legend = [(LEVEL_NAMES[lang][level], colour) for level, colour in LEVEL_COLOURS.items()]
    if any(s.external is not None for s in plan.steps):
        legend.append((ELSEWHERE_NAME[lang], ELSEWHERE_COLOUR))
    for label, colour in legend:
        w = 30 + 12 + int(body_f.getlength(label)) + 36
        if x + w > WIDTH - MARGIN:
            x = MARGIN
            c.y += _height(body_f) + 8
        c.draw.rounded_rectangle((x, c.y + 4, x + 30, c.y + 34), radius=8, fill=colour)
        c.draw.text((x + 42, c.y + 2), label, font=body_f, fill=INK)
        x += w
    c.y += _height(body_f) + 28

    # Steps.
    circle = 52
    card_x = MARGIN + circle + 12
    card_w = WIDTH - MARGIN - card_x
    text_w = card_w - 40
    centres: list[int] = []
    for s in plan.steps:
        if s.procedure is None:  # another agency's step
            colour = ELSEWHERE_COLOUR
            name = s.name(lang, 150)
            kind = "Không do Ban Quản lý giải quyết" if vi else "Not a board procedure"
            status = kind + (f" · {'mã' if vi else 'code'} {s.code}" if s.code else "")
        else:
            level = s.procedure.online_level
            colour = LEVEL_COLOURS.get(level, MUTED)
            name = _step_name(s.procedure, vi)
            status = f"{LEVEL_NAMES[lang].get(level, level)} · {'mã' if vi else 'code'} {s.code}"
        name_lines = wrap(name, name_f, text_w)
        facts = [
            s.agency,
            ("Thời hạn: " if vi else "Time limit: ") + s.time_text(lang),
            status,
        ]
        fact_lines = [line for fact in facts for line in wrap(fact, body_f, text_w)]
        note_lines = wrap(s.note, note_f, text_w) if s.note else []
        h = 22 + len(name_lines) * _height(name_f) + 6 + len(fact_lines) * _height(body_f) + (
            6 + len(note_lines) * _height(note_f) if note_lines else 0) + 20
        y0 = c.y
        c.draw.rounded_rectangle((card_x, y0, card_x + card_w, y0 + h), radius=18, fill=CARD, outline=(218, 223, 229), width=2)
        c.draw.rounded_rectangle((card_x, y0, card_x + 12, y0 + h), radius=6, fill=colour)
        cy = y0 + 22 + circle // 2
        c.draw.ellipse((MARGIN, cy - circle // 2, MARGIN + circle, cy + circle // 2), fill=colour)
        number = str(s.number)
        c.draw.text((MARGIN + circle // 2, cy), number, font=num_f, fill=PAPER, anchor="mm")
        centres.append(cy)
        c.y = y0 + 22
        c.text(card_x + 26, name_lines, name_f, INK)
        c.y += 6
        c.text(card_x + 26, fact_lines[:1], body_f, MUTED)
        c.text(card_x + 26, fact_lines[1:], body_f, INK)
        if note_lines:
            c.y += 6
            c.text(card_x + 26, note_lines, note_f, MUTED)
        c.y = y0 + h + 26
    # Arrows between the numbered circles.
    cx = MARGIN + circle // 2
    for a, b in zip(centres, centres[1:], strict=False):
        y1, y2 = a + circle // 2 + 6, b - circle // 2 - 6
        if y2 - y1 > 16:
            c.draw.line((cx, y1, cx, y2 - 10), fill=(160, 168, 176), width=5)
            c.draw.polygon([(cx - 11, y2 - 14), (cx + 11, y2 - 14), (cx, y2)], fill=(160, 168, 176))

    # Total.
    if plan.steps:
        total_f = font(small + 2, True)
        head = "Tổng thời hạn (làm lần lượt): " if vi else "Total (one after another): "
        lines = wrap(head + plan.total_text(), total_f, inner - 48)
        extra = plan.extra_text().lstrip("; ")
        extra_lines = wrap(extra[:1].upper() + extra[1:] + ".", note_f, inner - 48) if extra else []
        h = 24 + len(lines) * _height(total_f) + (8 + len(extra_lines) * _height(note_f) if extra_lines else 0) + 20
        c.draw.rounded_rectangle((MARGIN, c.y, WIDTH - MARGIN, c.y + h), radius=18, fill=(232, 240, 252), outline=HEADER, width=3)
        c.y += 24
        c.text(MARGIN + 24, lines, total_f, HEADER)
        if extra_lines:
            c.y += 8
            c.text(MARGIN + 24, extra_lines, note_f, HEADER)
        c.y += 20 + 18
    footer = (
        "Thời hạn tính từ khi nhận đủ hồ sơ hợp lệ; chưa tính thời gian chuẩn bị, bổ sung hồ sơ và thi công. "
        "Ngày làm việc không tính thứ Bảy, Chủ nhật, ngày lễ. Nguồn: Cổng Dịch vụ công quốc gia."
        if vi else
        "Time limits run from a complete, valid dossier; preparing or completing dossiers and construction "
        "are not counted. Working days exclude weekends and public holidays. Source: National Public Service Portal."
    )
    c.text(MARGIN, wrap(footer, note_f, inner), note_f, MUTED)
    return c.png(c.y + 32)


def _step_name(p: Any, vi: bool) -> str:
    from ..engine._compose import short_name

    return short_name(p, 150) if vi else p.name_en


def render_bars(title: str, labels: list[str], series: list[tuple[str, list[float], tuple[int, int, int]]],
                subtitle: str = "") -> bytes:
    """A grouped bar chart (e.g. dossiers by month): one group per label, one bar per series,
    values written on the bars, a legend. For staff reports."""
    width, height = 1280, 760
    img = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(img)
    title_f, small_f, tick_f = font(34, True), font(22), font(22)
    draw.text((MARGIN, 28), title, font=title_f, fill=INK)
    if subtitle:
        draw.text((MARGIN, 74), subtitle, font=small_f, fill=MUTED)
    # Legend.
    x = MARGIN
    for name, _values, colour in series:
        draw.rounded_rectangle((x, 112, x + 24, 136), radius=5, fill=colour)
        draw.text((x + 32, 110), name, font=small_f, fill=INK)
        x += 32 + int(small_f.getlength(name)) + 36
    left, right, top, bottom = MARGIN + 50, width - MARGIN, 170, height - 90
    peak = max([v for _n, values, _c in series for v in values] + [1])
    step = _nice_step(peak)
    ymax = step * (int(peak // step) + 1)
    for i in range(int(ymax // step) + 1):
        v = i * step
        y = bottom - (bottom - top) * v / ymax
        draw.line((left, y, right, y), fill=(225, 229, 234), width=1)
        label = f"{v:g}"
        draw.text((left - 10, y), label, font=tick_f, fill=MUTED, anchor="rm")
    draw.line((left, bottom, right, bottom), fill=INK, width=2)
    groups = max(len(labels), 1)
    group_w = (right - left) / groups
    bar_w = max(6, min(60, group_w * 0.8 / max(len(series), 1)))
    for g, label in enumerate(labels):
        gx = left + g * group_w + (group_w - bar_w * len(series)) / 2
        for k, (_name, values, colour) in enumerate(series):
            v = values[g] if g < len(values) else 0
            x0 = gx + k * bar_w
            y0 = bottom - (bottom - top) * v / ymax
            if v:
                draw.rectangle((x0 + 2, y0, x0 + bar_w - 2, bottom), fill=colour)
                draw.text((x0 + bar_w / 2, y0 - 4), f"{v:g}", font=tick_f, fill=INK, anchor="md")
        draw.text((left + g * group_w + group_w / 2, bottom + 12), label, font=tick_f, fill=INK, anchor="ma")
    out = io.BytesIO()
    _save(img, out)
    return out.getvalue()


def _nice_step(peak: float) -> float:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if peak / step <= 8:
            return float(step)
    return float(10 ** len(str(int(peak))) / 10)
