"""The document pre-check: a procedure's papers as a checklist the user ticks, then what is
missing, which forms to download, and the common reasons a dossier is returned; and the same
checklist as a printable page (GET /checklist/<code>[/<case>]).

Like the roadmap, the ticks travel in the buttons' actions, not in the session:
"c:<code>" starts, "c:<code>:<case>" shows the list of that case (from 1), "c:<code>:<case>:<hex>"
the list with the papers of the bit mask <hex> ticked, and "...:<hex>:ok" the result.
"""

from __future__ import annotations

import html
import re

from ..core import Button, ConversationState, Pending, Reply
from ..core._text import fold
from ..engine import _compose as compose
from ..kb import Document, KnowledgeBase, Procedure

ACTION = "c:"
_ACTION_RE = re.compile(r"^c:(\d\.\d{6})(?::(\d{1,2})(?::([0-9a-f]{1,8})(:ok)?)?)?$")
_DONE = {"xong", "ok", "kiem tra", "check", "done", "da xong", "het", "roi"}
MAX_DOCUMENTS = 32


def _doc_label(n: int, d: Document, ticked: bool, lang: str = "vi", limit: int = 34) -> str:
    name = compose.doc_name(d, lang)
    name = name if len(name) <= limit else name[: limit - 1].rsplit(" ", 1)[0] + "…"
    return f"{'☑' if ticked else '☐'} {n}. {name}"


def _qty(d: Document, lang: str) -> str:
    return compose.quantity(d, lang)


def _name(d: Document, lang: str) -> str:
    """A paper's name in the list (the first words of a very long one)."""
    name = compose.doc_name(d, lang)
    return compose.doc_summary(name) if len(name) > compose.DOC_SUMMARY else name


class PrecheckGuide:
    """The pre-check flow of the engine and the printable page."""

    def __init__(self, kb: KnowledgeBase, public_url: str = "") -> None:
        self.kb = kb
        self.by_code = {p.code: p for p in kb.procedures}
        self.public_url = public_url.rstrip("/")

    def page_path(self, p: Procedure, case: int | None = None, lang: str = "vi") -> str:
        """The stable path of the printable checklist."""
        path = f"/checklist/{p.code}" + (f"/{case}" if case and len(p.cases) > 1 else "")
        return path + ("?lang=en" if lang == "en" else "")

    def page_link(self, p: Procedure, case: int | None, lang: str) -> str:
        path = self.page_path(p, case, lang)
        if self.public_url:
            return self.public_url + path
        return path

    def reasons(self, p: Procedure, lang: str) -> list[str]:
        return [r.text if lang == "vi" else r.text_en for r in self.kb.return_reasons if r.applies(p)]

    # -- the chat flow ----------------------------------------------------------------------------

    def action(self, q: str, state: ConversationState, lang: str) -> Reply | None:
        """A pressed pre-check button; None when malformed (an old or foreign button)."""
        m = _ACTION_RE.match(q)
        if m is None:
            return None
        p = self.by_code.get(m.group(1))
        if p is None:
            return None
        if m.group(2) is None:
            if len(p.cases) == 1:
                return self._list(p, 1, 0, state, lang)
            return self._choose_case(p, lang)
        case = int(m.group(2))
        if not 1 <= case <= len(p.cases):
            return None
        mask = int(m.group(3), 16) if m.group(3) else 0
        if mask >> len(p.cases[case - 1].documents):
            return None
        if m.group(4):
            state.pending = None
            return self._result(p, case, mask, lang)
        return self._list(p, case, mask, state, lang)

    def typed(self, q: str, state: ConversationState, lang: str) -> Reply | None:
        """Typed numbers ("1 3 4") tick papers of the pending list; "xong" shows the result."""
        pending = state.pending
        p = self.by_code.get(pending.code) if pending is not None and pending.kind == "check" else None
        if pending is None or p is None:
            return None
        case, mask = pending.case or 1, pending.mask
        if not 1 <= case <= len(p.cases):
            return None
        f = fold(q).strip(" .!")
        if f in _DONE:
            state.pending = None
            return self._result(p, case, mask, lang)
        numbers = re.findall(r"\d+", f)
        count = len(p.cases[case - 1].documents)
        if not numbers or re.sub(r"[\d\s,;.va&-]+", "", f) or any(not 1 <= int(n) <= count for n in numbers):
            return None
        for n in numbers:
            mask |= 1 << (int(n) - 1)
        return self._list(p, case, mask, state, lang)

    def _choose_case(self, p: Procedure, lang: str) -> Reply:
        vi = lang == "vi"
        head = (f"Kiểm tra hồ sơ — {compose.short_name(p, 120)} (mã {p.code}). Hồ sơ của bạn thuộc trường hợp nào?"
                if vi else f"Document check — {p.name_en} (code {p.code}). Which case is yours?")
        lines = [head] + [f"{i}. {compose.case_label(c, lang, 120)}" for i, c in enumerate(p.cases, 1)]
        buttons = tuple(Button(f"{i}. {compose.case_label(c, lang, 40)}", f"{ACTION}{p.code}:{i}") for i, c in enumerate(p.cases, 1))
        return Reply("\n".join(lines), buttons)

    def _list(self, p: Procedure, case: int, mask: int, state: ConversationState, lang: str) -> Reply:
        vi = lang == "vi"
        c = p.cases[case - 1]
        docs = c.documents[:MAX_DOCUMENTS]
        state.pending = Pending("check", code=p.code, case=case, mask=mask)
        lines = [(f"Kiểm tra hồ sơ — {compose.short_name(p, 160)} (mã {p.code})" if vi
                  else f"Document check — {p.name_en} (code {p.code})")]
        if len(p.cases) > 1:
            lines.append(("Trường hợp: " if vi else "Case: ") + compose.case_label(c, lang, 200))
        lines.append(
            "Bấm vào giấy tờ bạn đã có (bấm lại để bỏ), hoặc gõ số thứ tự, ví dụ «1 3 4»; xong thì bấm «Kiểm tra»."
            if vi else "Press each paper you have (again to undo), or type their numbers, e.g. “1 3 4”; then press “Check”."
        )
        for n, d in enumerate(docs, 1):
            ticked = bool(mask >> (n - 1) & 1)
            qty = _qty(d, lang)
            lines.append(f"{'☑' if ticked else '☐'} {n}. {_name(d, lang)}" + (f" — {qty}" if qty else ""))
        have = bin(mask).count("1")
        lines.append(f"Đã có {have}/{len(docs)}." if vi else f"You have {have} of {len(docs)}.")
        lines.append(("Bản in danh sách: " if vi else "Printable checklist: ") + self.page_link(p, case, lang))
        buttons = [Button(_doc_label(n, d, bool(mask >> (n - 1) & 1), lang), f"{ACTION}{p.code}:{case}:{mask ^ (1 << (n - 1)):x}")
                   for n, d in enumerate(docs, 1)]
        buttons.append(Button("✔ Kiểm tra" if vi else "✔ Check", f"{ACTION}{p.code}:{case}:{mask:x}:ok"))
        return Reply("\n".join(lines), tuple(buttons))

    def _result(self, p: Procedure, case: int, mask: int, lang: str) -> Reply:
        vi = lang == "vi"
        docs = p.cases[case - 1].documents[:MAX_DOCUMENTS]
        missing = [(n, d) for n, d in enumerate(docs, 1) if not mask >> (n - 1) & 1]
        lines = [(f"Kết quả kiểm tra hồ sơ — {compose.short_name(p, 160)} (mã {p.code})" if vi
                  else f"Document check result — {p.name_en} (code {p.code})")]
        if not missing:
            lines.append(f"Bạn đã có đủ {len(docs)} giấy tờ của hồ sơ." if vi else f"You have all {len(docs)} papers of the dossier.")
        else:
            lines.append(f"Còn thiếu {len(missing)}/{len(docs)} giấy tờ:" if vi else f"Missing {len(missing)} of {len(docs)} papers:")
            for n, d in missing:
                qty = _qty(d, lang)
                lines.append(f"• {n}. {_name(d, lang)}" + (f" — {qty}" if qty else ""))
        forms = [(n, d) for n, d in (missing or list(enumerate(docs, 1))) if d.form]
        if forms:
            lines.append("")
            lines.append("Mẫu đơn, tờ khai cần tải:" if vi else "Forms to download:")
            for n, d in forms:
                assert d.form is not None
                where = d.form.url or ("trên Cổng Dịch vụ công quốc gia, trang của thủ tục: " + p.source_url if vi
                                       else "on the National Public Service Portal, the procedure's page: " + p.source_url)
                lines.append(f"• {d.form.code} (giấy tờ {n}): {where}" if vi else f"• {d.form.code} (paper {n}): {where}")
        reasons = self.reasons(p, lang)
        if reasons:
            lines.append("")
            lines.append("Lý do hồ sơ hay bị trả lại, nên xem trước khi nộp:" if vi
                         else "Common reasons a dossier is returned, worth checking before filing:")
            lines.extend(f"• {r}" for r in reasons)
        lines.append("")
        lines.append(("Bản in danh sách: " if vi else "Printable checklist: ") + self.page_link(p, case, lang))
        lines.append(compose.source_line(p, lang))
        labels = compose.FACET_LABELS[lang]
        buttons = (
            Button("↺ " + ("Sửa lại" if vi else "Change"), f"{ACTION}{p.code}:{case}:{mask:x}"),
            Button(labels["where"], f"f:where:{p.code}"),
            Button(labels["time"], f"f:time:{p.code}"),
            Button(labels["fee"], f"f:fee:{p.code}"),
        )
        return Reply("\n".join(lines), buttons)

    # -- the printable page -----------------------------------------------------------------------

    def page(self, code: str, case: int | None, lang: str) -> str | None:
        """The printable checklist as a complete HTML page; None for an unknown code or case."""
        p = self.by_code.get(code)
        if p is None or (case is not None and not 1 <= case <= len(p.cases)):
            return None
        vi = lang == "vi"
        e = html.escape
        cases = [(case, p.cases[case - 1])] if case else list(enumerate(p.cases, 1))
        board = self.kb.board
        title = f"{'Danh sách kiểm tra hồ sơ' if vi else 'Dossier checklist'} — {p.name if vi else p.name_en}"
        out = [
            "<!doctype html>", f'<html lang="{lang}">', "<head>", '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{e(title)}</title>", '<link rel="stylesheet" href="/checklist.css">', "</head>", "<body>", "<main>",
            f"<h1>{e('Danh sách kiểm tra hồ sơ' if vi else 'Dossier checklist')}</h1>",
            f'<p class="proc"><strong>{e(p.name if vi else p.name_en)}</strong> ({e("mã" if vi else "code")} {e(p.code)})'
            + ("" if vi else f'<br><span lang="vi">{e(p.name)}</span>') + "</p>",
        ]
        if board:
            where = board.one_stop_address if vi else board.one_stop_address_en or board.one_stop_address
            out.append(f'<p class="board">{e(board.name if vi else board.name_en)} · {e(board.hotline)} · {e(where)}</p>')
        paper, copies, form_word = ("Giấy tờ", "Số bản", "Mẫu") if vi else ("Paper", "Copies", "Form")
        for i, c in cases:
            if len(p.cases) > 1:
                out.append(f"<h2>{e(('Trường hợp ' if vi else 'Case ') + str(i))}: {e(compose.case_label(c, lang, 200))}</h2>")
            # A table on a wide page; on a phone each row becomes a card (checklist.css).
            out.append('<table><thead><tr><th class="box">✓</th><th class="n">#</th>'
                       f"<th>{e(paper)}</th><th>{e(copies)}</th><th>{e(form_word)}</th></tr></thead><tbody>")
            for n, d in enumerate(c.documents, 1):
                form = ""
                if d.form:
                    code = compose.form_code(d.form.code, lang)
                    form = (f'<a href="{e(d.form.url)}">{e(code)}</a>' if d.form.url else e(code))
                public_note = compose.doc_note(d, lang)  # never the curators' `note`
                note = f'<div class="note">{e(public_note)}</div>' if public_note else ""
                qty = _qty(d, lang)
                out.append(f'<tr><td class="box">☐</td><td class="n">{n}</td><td class="name">{e(compose.doc_name(d, lang))}{note}</td>'
                           f'<td class="qty" data-label="{e(copies)}">{e(qty)}</td>'
                           f'<td class="form" data-label="{e(form_word)}">{form}</td></tr>')
            out.append("</tbody></table>")
            out.append(f"<p>{e('Thời hạn giải quyết' if vi else 'Time limit')}: {e(compose.time_value(c, lang))}</p>")
        reasons = self.reasons(p, lang)
        if reasons:
            out.append(f"<h2>{e('Lý do hồ sơ hay bị trả lại' if vi else 'Common reasons a dossier is returned')}</h2><ul>")
            out.extend(f"<li>{e(r)}</li>" for r in reasons)
            out.append("</ul>")
        checked = p.verified.strftime("%d/%m/%Y")
        out.append(f'<p class="source">{e("Nguồn" if vi else "Source")}: <a href="{e(p.source_url)}">{e(p.source_url)}</a> '
                   f"({e('kiểm tra ngày' if vi else 'checked')} {checked})</p>")
        out.extend(["</main>", "</body>", "</html>"])
        return "\n".join(out)


CSS = """\
body { font: 16px/1.45 "DejaVu Sans", system-ui, sans-serif; color: #212529; margin: 0; background: #fff; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: .5rem 0; color: #16325c; }
h2 { font-size: 1.15rem; margin: 1.25rem 0 .5rem; color: #16325c; }
.board, .source, .note { color: #5a626a; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #c8cdd2; padding: .4rem .5rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #eef2f7; }
td.box, th.box { width: 2rem; text-align: center; font-size: 1.3rem; }
td.n, th.n { width: 2rem; }
a { color: #1f5fbf; overflow-wrap: anywhere; }
/* A phone: each paper a card (box, number and name on top; copies and form below, labelled). */
@media (max-width: 600px) {
  main { padding: .75rem; }
  h1 { font-size: 1.3rem; }
  table, tbody, tr, td { display: block; width: auto; }
  thead { display: none; }
  tr { border: 1px solid #c8cdd2; border-radius: 6px; margin: 0 0 .6rem; padding: .4rem .5rem .4rem 2.6rem; position: relative; }
  td { border: 0; padding: .1rem 0; }
  td.box { position: absolute; left: .5rem; top: .3rem; width: 1.6rem; }
  td.n { display: inline; font-weight: bold; }
  td.n::after { content: ". "; }
  td.name { display: inline; }
  td.qty:empty, td.form:empty { display: none; }
  td.qty::before, td.form::before { content: attr(data-label) ": "; color: #5a626a; }
}
@media print { main { max-width: none; padding: 0; } a { color: inherit; } }
"""
