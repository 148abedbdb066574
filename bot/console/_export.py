"""The figures of a period as CSV (UTF-8 with a BOM, so Excel reads Vietnamese) and XLSX."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..dossiers._report import Figures, Report

HEADERS = ("Nhóm", "Tên", "Tiếp nhận", "Đã giải quyết", "Trước hạn", "Đúng hạn", "Quá hạn", "Không có hạn",
           "Tạm dừng", "Bổ sung", "Nộp trực tuyến", "Có ghi kênh nộp", "Tỷ lệ trực tuyến")


def _cells(kind: str, name: str, f: Figures) -> list[Any]:
    share = None if f.online_share is None else round(f.online_share, 4)
    return [kind, name, f.received, f.finished, f.finished_early, f.finished_on_time, f.finished_late,
            f.finished_no_due, f.paused, f.supplements, f.online, f.channel_known, share]


def report_rows(report: Report) -> list[list[Any]]:
    """Rows: the total, then each department, then each officer."""
    rows = [_cells("Tổng", f"{report.start:%d/%m/%Y} – {report.end:%d/%m/%Y}", report.total)]
    rows += [_cells("Phòng ban", k, v) for k, v in sorted(report.by_department.items())]
    rows += [_cells("Người xử lý", k, v) for k, v in sorted(report.by_officer.items())]
    return rows


def _safe(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula (=, +, -, @) is quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def report_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for row in report_rows(report):
        writer.writerow(["" if v is None else _safe(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def report_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Số liệu"
    ws.append([f"Số liệu hồ sơ từ {report.start:%d/%m/%Y} đến {report.end:%d/%m/%Y}"])
    ws["A1"].font = Font(bold=True)
    ws.append(list(HEADERS))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in report_rows(report):
        ws.append([_safe(v) for v in row])
    for row in ws.iter_rows(min_row=3, min_col=13, max_col=13):
        for cell in row:
            cell.number_format = "0%"
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 40
    ws.freeze_panes = "C3"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
