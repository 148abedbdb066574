"""QR codes that open the bot: on Telegram (t.me/<bot>?start=<payload>, the payload opening a
procedure), on the board's Zalo OA, and in the web chat (/?p=<code> opens a procedure), for the
board and for each procedure. Each PNG carries a caption: what it opens, where, and the link."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import qrcode
from PIL import Image, ImageDraw
from qrcode.constants import ERROR_CORRECT_M

from ..core._links import procedure_deep_link
from ..engine import _compose as compose
from ..kb import KnowledgeBase
from ._picture import INK, MUTED, PAPER, font, wrap

CHANNEL_NAMES = {
    "vi": {"telegram": "Telegram", "zalo": "Zalo", "web": "Trang web"},
    "en": {"telegram": "Telegram", "zalo": "Zalo", "web": "Web chat"},
}
CHANNEL_COLOURS = {"telegram": (34, 139, 202), "zalo": (0, 104, 255), "web": (22, 50, 92)}


@dataclass(frozen=True)
class QrCode:
    """One code: file name, channel, link, and the caption's title."""

    name: str
    channel: str
    link: str
    title: str
    code: str | None = None


def telegram_link(username: str, payload: str | None = None) -> str:
    user = username.strip().lstrip("@")
    return f"https://t.me/{user}" + (f"?start={payload}" if payload else "")


def zalo_link(settings: Any) -> str:
    if settings.zalo_oa_link:
        return str(settings.zalo_oa_link)
    return f"https://zalo.me/{settings.zalo_oa_id}" if settings.zalo_oa_id else ""


def web_link(public_url: str, code: str | None = None) -> str:
    base = public_url.rstrip("/") + "/"
    return base + (f"?p={code}" if code else "")


def plan_codes(kb: KnowledgeBase, settings: Any, codes: list[str] | None = None, lang: str = "vi") -> list[QrCode]:
    """The codes to make for the configured channels: the board on each, then every procedure
    (or those of `codes`) on Telegram and the web (a Zalo OA link cannot open a procedure)."""
    vi = lang == "vi"
    board = kb.board
    board_title = ((board.name if vi else board.name_en) if board else "") or ("Ban Quản lý" if vi else "The board")
    telegram = settings.telegram_bot_username
    zalo = zalo_link(settings)
    web = settings.public_url
    out: list[QrCode] = []
    if telegram:
        out.append(QrCode("board-telegram.png", "telegram", telegram_link(telegram), board_title))
    if zalo:
        out.append(QrCode("board-zalo.png", "zalo", zalo, board_title))
    if web:
        out.append(QrCode("board-web.png", "web", web_link(web), board_title))
    wanted = [p for p in kb.procedures if not codes or p.code in codes]
    for p in wanted:
        name = compose.short_name(p, 160) if vi else p.name_en
        title = f"{name} ({'mã' if vi else 'code'} {p.code})"
        if telegram:
            out.append(QrCode(f"{p.code}-telegram.png", "telegram", telegram_link(telegram, procedure_deep_link(p.code)), title, p.code))
        if web:
            out.append(QrCode(f"{p.code}-web.png", "web", web_link(web, p.code), title, p.code))
    return out


def render_qr(item: QrCode, lang: str = "vi", board_name: str = "") -> bytes:
    """The QR code of `item.link` above its caption: the title, "Quét để hỏi trên <channel>", the
    link in small print (for those who type it), and the board's name. 800 px wide, PNG."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=14, border=4)
    qr.add_data(item.link)
    qr.make(fit=True)
    code_img = qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    width = 800
    if code_img.width > width - 80:
        code_img = code_img.resize((width - 80, width - 80), Image.Resampling.NEAREST)
    vi = lang == "vi"
    title_f, line_f, small_f = font(34, True), font(30, True), font(22)
    channel = CHANNEL_NAMES[lang][item.channel]
    action = (f"Quét để hỏi trên {channel}" if vi else f"Scan to ask on {channel}")
    title_lines = wrap(item.title, title_f, width - 80)
    link_lines = wrap(item.link, small_f, width - 80)
    board_lines = wrap(board_name, small_f, width - 80) if board_name and board_name not in item.title else []
    h_title = len(title_lines) * 42
    height = 40 + h_title + 20 + code_img.height + 10 + 44 + len(link_lines) * 28 + len(board_lines) * 28 + 40
    img = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(img)
    colour = CHANNEL_COLOURS[item.channel]
    draw.rectangle((0, 0, width, 12), fill=colour)
    y = 40
    for line in title_lines:
        draw.text((width // 2, y), line, font=title_f, fill=INK, anchor="ma")
        y += 42
    y += 20
    img.paste(code_img, ((width - code_img.width) // 2, y))
    y += code_img.height + 10
    draw.text((width // 2, y), action, font=line_f, fill=colour, anchor="ma")
    y += 44
    for line in link_lines:
        draw.text((width // 2, y), line, font=small_f, fill=MUTED, anchor="ma")
        y += 28
    for line in board_lines:
        draw.text((width // 2, y), line, font=small_f, fill=MUTED, anchor="ma")
        y += 28
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def write_codes(kb: KnowledgeBase, settings: Any, out: Path, codes: list[str] | None = None, lang: str = "vi") -> list[QrCode]:
    """Write every planned code as a PNG in `out`, and `index.csv` (file, channel, code, link)."""
    import csv

    items = plan_codes(kb, settings, codes, lang)
    out.mkdir(parents=True, exist_ok=True)
    board = kb.board
    board_name = ((board.name if lang == "vi" else board.name_en) if board else "")
    for item in items:
        (out / item.name).write_bytes(render_qr(item, lang, board_name))
    with (out / "index.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "channel", "procedure", "link"])
        for item in items:
            writer.writerow([item.name, item.channel, item.code or "", item.link])
    return items
