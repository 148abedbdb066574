"""Dossier codes and the facts a lookup shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal


@dataclass(frozen=True)
class DossierFacts:
    """What a successful lookup shows about one dossier (nothing about the applicant)."""

    code: str
    procedure_code: str | None
    procedure_name: str | None
    received: datetime | None
    due: datetime | None
    returned: datetime | None
    status: int
    status_name: str
    status_vi: str
    status_en: str
    overdue: bool
    working_days_left: int | None
    working_days_late: int | None
    timeliness: Literal["early", "on_time", "late"] | None
    paused: bool
    department: str | None
    supplement: str | None
    next_step_vi: str
    next_step_en: str

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape (GET /api/dossiers/{code})."""
        return {
            "code": self.code,
            "procedure": {"code": self.procedure_code, "name": self.procedure_name},
            "received": self.received.isoformat() if self.received else None,
            "due": self.due.isoformat() if self.due else None,
            "returned": self.returned.isoformat() if self.returned else None,
            "status": {
                "code": self.status,
                "name": self.status_name,
                "vi": self.status_vi,
                "en": self.status_en,
            },
            "overdue": self.overdue,
            "working_days_left": self.working_days_left,
            "working_days_late": self.working_days_late,
            "timeliness": self.timeliness,
            "paused": self.paused,
            "department": self.department,
            "supplement": self.supplement,
            "next_step": {"vi": self.next_step_vi, "en": self.next_step_en},
        }


@dataclass(frozen=True)
class LookupResult:
    """The outcome of a lookup: `ok` with facts, or not (unknown code and wrong secret look the
    same), and `locked` when too many wrong secrets were given lately: for this code (`scope`
    "code") or by this address or chat ("client")."""

    ok: bool
    locked: bool
    facts: DossierFacts | None = None
    code: str = ""
    scope: str = ""
