"""Dossiers (hồ sơ): import from the one-stop system, lookup with a secret, notifications, figures."""

from ..core import DOSSIER_CODE_RE, find_dossier_code, normalize_code
from ._digest import Digest, DigestScheduler, build_digest, digest_text, parse_staff_chats, queue_digest
from ._import import ImportResult, ReadError, Rejected, import_records, parse_datetime, read_file
from ._model import DossierFacts, LookupResult
from ._notify import DeliveryStats, Notifier, Sender
from ._report import Figures, Report, build_report, report_text
from ._service import DossierService, board_contact, status_text
from ._status import STATUSES, Status

__all__ = [
    "DOSSIER_CODE_RE", "DeliveryStats", "Digest", "DigestScheduler", "DossierFacts", "DossierService",
    "Figures", "ImportResult", "LookupResult", "Notifier", "ReadError", "Rejected", "Report", "STATUSES",
    "Sender", "Status", "board_contact", "build_digest", "build_report", "digest_text", "find_dossier_code",
    "import_records", "normalize_code", "parse_datetime", "parse_staff_chats", "queue_digest", "read_file",
    "report_text", "status_text",
]
