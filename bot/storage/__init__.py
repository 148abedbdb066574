"""The bot's database: the only package that speaks SQL.

`TTHC_DB` chooses it: a file path (the default, `tthc-bot.db`) is an SQLite database, a
`postgresql://user:pass@host:port/db` URL a PostgreSQL one that several replicas of the bot
share. Both run the same repositories, one module each:

- `_dossiers`: dossiers, their status history and supplement requests, subscriptions to a
  dossier's news, lookup attempts (for the lock);
- `_outbox`: notifications waiting for delivery, claimed row by row with a lease;
- `_chats`: conversation state, messages for web-chat sessions, the inbox of webhook events
  already handled, rate limits;
- `_guide`: unanswered questions, votes, complaints, handover to staff;
- `_ops`: health, backups, leadership and named locks across replicas;
- `_staff`: staff console accounts, login attempts, the audit of staff actions, server secrets.

The schema grows through `MIGRATIONS` (bot/storage/_migrations.py), one list for both databases,
applied on start and by `tthc-bot db migrate`. Timestamps are ISO 8601 text in Vietnam time
(`2026-02-13T09:30:00+07:00`), so they sort and compare as text. SQLite runs in WAL mode so
the server, the importer and the delivery loop can share it.
"""

from __future__ import annotations

from ..config import is_postgres, shown
from ..core._clock import VN_TZ, from_iso, iso, iso_us
from ._backends import BUSY_TIMEOUT, POOL_SIZE
from ._chats import ChatRepository
from ._dossiers import DossierRepository
from ._guide import GuideRepository
from ._migrations import MIGRATIONS, Migration, Schema
from ._ops import OpsRepository
from ._outbox import OPEN_STATES, OutboxRepository
from ._staff import StaffRepository

__all__ = [
    "BUSY_TIMEOUT", "MIGRATIONS", "OPEN_STATES", "POOL_SIZE", "VN_TZ", "Migration", "Schema", "Storage",
    "from_iso", "is_postgres", "iso", "iso_us", "shown",
]


class Storage(DossierRepository, OutboxRepository, ChatRepository, GuideRepository, OpsRepository,
              StaffRepository):
    """The database (SQLite or PostgreSQL). One instance per process; safe to share between
    threads."""
