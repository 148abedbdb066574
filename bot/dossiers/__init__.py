"""Dossiers (hồ sơ): import from the one-stop system, lookup with a secret, notifications, figures."""

from ._import import ImportResult, ReadError, Rejected, import_records, parse_datetime, read_file
from ._model import (
    DOSSIER_CODE_RE,
    DossierFacts,
    LookupResult,
    find_dossier_code,
    normalize_code,
)
from ._notify import DeliveryStats, Notifier, Sender
from ._service import DossierService, status_text
from ._status import STATUSES, Status

__all__ = [
    "DOSSIER_CODE_RE", "DeliveryStats", "DossierFacts", "DossierService", "ImportResult",
    "LookupResult", "Notifier", "ReadError", "Rejected", "STATUSES", "Sender", "Status",
    "find_dossier_code", "import_records", "normalize_code", "parse_datetime", "read_file",
    "status_text",
]
