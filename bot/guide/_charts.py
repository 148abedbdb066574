"""Staff charts: the dossier figures of `tthc-bot report`, month by month, as PNG bar charts."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ._picture import render_bars

BLUE, GREEN, RED, AMBER, GREY = (31, 95, 191), (30, 130, 60), (178, 50, 40), (204, 122, 0), (120, 128, 136)


def months(last: date, n: int) -> list[tuple[date, date]]:
    """The `n` calendar months up to the one holding `last`, as (first day, last day)."""
    out: list[tuple[date, date]] = []
    first = last.replace(day=1)
    for _ in range(n):
        nxt = (first + timedelta(days=32)).replace(day=1)
        out.append((first, nxt - timedelta(days=1)))
        first = (first - timedelta(days=1)).replace(day=1)
    return list(reversed(out))


def monthly(storage: Any, n: int, today: date | None = None) -> list[tuple[str, Any]]:
    """(label "11/2026", Figures) for each of the last `n` months, this one so far included."""
    from ..core import now_vn
    from ..dossiers._report import build_report

    today = today or now_vn().date()
    rows = []
    for start, end in months(today, n):
        rows.append((f"{start:%m/%Y}", build_report(storage, start, min(end, today)).total))
    return rows


def chart_pngs(storage: Any, n: int, today: date | None = None) -> dict[str, bytes]:
    """{file name: PNG}: dossiers received and finished (early or on time, late) by month; and
    paused dossiers and supplement requests by month."""
    rows = monthly(storage, n, today)
    labels = [label for label, _f in rows]
    span = f"{labels[0]} – {labels[-1]}" if labels else ""
    finished = render_bars(
        "Hồ sơ theo tháng: tiếp nhận và giải quyết", labels,
        [
            ("Tiếp nhận", [f.received for _l, f in rows], BLUE),
            ("Giải quyết sớm / đúng hạn", [f.finished_early + f.finished_on_time for _l, f in rows], GREEN),
            ("Giải quyết trễ hạn", [f.finished_late for _l, f in rows], RED),
        ],
        subtitle=f"{span} · tháng này tính đến hôm nay · nguồn: hệ thống một cửa",
    )
    paused = render_bars(
        "Hồ sơ tạm dừng và yêu cầu bổ sung theo tháng", labels,
        [
            ("Tạm dừng (trạng thái 5, 6, 8)", [f.paused for _l, f in rows], AMBER),
            ("Yêu cầu bổ sung", [f.supplements for _l, f in rows], GREY),
        ],
        subtitle=span,
    )
    return {"ho-so-theo-thang.png": finished, "tam-dung-bo-sung-theo-thang.png": paused}


def write_charts(storage: Any, out: Path, n: int) -> list[Path]:
    """Write the charts into `out`; return the files."""
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for name, png in chart_pngs(storage, n).items():
        path = out / name
        path.write_bytes(png)
        files.append(path)
    return files
