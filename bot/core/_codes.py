"""Codes found in free text: dossier codes as printed on receipts, and the facets a question asks."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

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


#: The facets of a procedure a question can ask about (besides the procedure as a whole).
FACETS = ("documents", "time", "fee", "level", "where", "legal")

#: Every intent an answer can carry: the public `intent` of `tthc-bot ask --json`.
INTENTS = (
    "procedure", "documents", "time", "fee", "level", "where", "legal", "status", "roadmap",
    "contact", "greeting", "faq", "staff", "unknown",
)
