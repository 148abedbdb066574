"""Dossier codes and the facts a lookup shows."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Lang = Literal["vi", "en"]

#: A dossier code (số hồ sơ / mã hồ sơ) as printed on the receipt, found in free text:
#: an agency code such as `H42.25`, `H40.21` or `000.00.27.H42`, then `-yyMMdd-nnnn`.
#: Procedure codes such as `1.009664` never match.
DOSSIER_CODE_RE = re.compile(
    r"(?<![\w.-])((?:\d{3}\.\d{2}\.\d{2}\.)?[A-Z]\d{2}(?:\.\d{1,3}){0,3}-\d{6}-\d{4,6})(?![\w-])",
    re.IGNORECASE,
)

#: What a stored code may contain (the portal's codes, and other systems' codes, in upper case).
CODE_CHARS_RE = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{2,63}$")


def normalize_code(code: str) -> str:
    """A dossier code as stored: NFKC (full-width digits become ASCII), no spaces, upper-case."""
    text = unicodedata.normalize("NFKC", code or "")
    return re.sub(r"\s+", "", text).upper()


def find_dossier_code(text: str) -> str | None:
    """The first dossier code in free text, normalised, or None."""
    m = DOSSIER_CODE_RE.search(unicodedata.normalize("NFKC", text or ""))
    return normalize_code(m.group(1)) if m else None


def normalize_secret(secret: str) -> str:
    """A lookup secret as compared: NFKC, no spaces or dashes, upper-case."""
    text = unicodedata.normalize("NFKC", secret or "")
    return re.sub(r"[\s-]+", "", text).upper()


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
