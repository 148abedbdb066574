"""The assistant on the configured knowledge, with what the configuration turns on."""

from __future__ import annotations

from collections.abc import Callable

from ..config import Settings
from ..dossiers import DossierService, board_contact
from ..dossiers._digest import parse_staff_chats
from ..dossiers._staff import StaffCommands
from ..guide import Guide
from ..kb import load_knowledge
from ..storage import Storage
from ..workdays import calendar_for_settings
from ._assistant import Assistant


def build_assistant(settings: Settings, storage: Storage | None, reload: Callable[[str], str] | None = None) -> Assistant:
    """The assistant on the configured knowledge (KnowledgeError when it does not validate),
    with dossier lookups, staff commands and the storage-backed flows when a Storage is given.
    `reload` (language in, the reply text out) enables the staff command /reload."""
    kb = load_knowledge(settings.knowledge_dir)
    calendar = calendar_for_settings(settings)
    dossiers = staff = guide = None
    if storage is not None:
        dossiers = DossierService(storage, calendar, board_contact(kb.board))
        staff_chats = parse_staff_chats(settings.handover_chat) or parse_staff_chats(settings.staff_chats)[:1]
        guide = Guide(storage, staff_chats[0] if staff_chats else None, calendar, kb.board)
        staff = StaffCommands(storage, parse_staff_chats(settings.staff_chats), reload=reload)
    return Assistant(
        kb, max_chars=settings.max_question_chars, dossiers=dossiers, calendar=calendar, staff_commands=staff,
        guide=guide, public_url=settings.public_url,
    )
