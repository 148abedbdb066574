"""The schema, step by step: one list of migrations for SQLite and PostgreSQL.

Each step is applied once, in order, in its own transaction, and recorded in `schema_version`.
Add a feature's tables by appending a migration; never edit one that has shipped. A step is
written once, in SQL both databases take, with the portable type words (TEXT, INTEGER, REAL,
INTEGER PRIMARY KEY AUTOINCREMENT) that `Schema.execute` turns into each database's own
(bot/storage/_backends.py); a step that cannot be portable looks at `db.dialect`.

Several processes (replicas) may start at once on one database: each step takes the "schema"
lock (an advisory lock on PostgreSQL, the write lock on SQLite) and checks the version again
inside its transaction, so a step is never applied twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..core._clock import VN_TZ, iso
from ._backends import Backend, Params


class Schema:
    """What a migration step gets: `execute(sql)` in the step's transaction, with the type
    words of the database it runs on; `dialect` is "sqlite" or "postgresql"."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.dialect = backend.dialect

    def execute(self, sql: str, params: Params = ()) -> Any:
        return self.backend.write(self.backend.ddl(sql), params)

    def table_names(self) -> list[str]:
        return self.backend.table_names()


@dataclass(frozen=True)
class Migration:
    """One step of the schema: applied once, in order, in a transaction."""

    version: int
    name: str
    apply: Callable[[Any], None]


def _m1_dossiers(db: Schema) -> None:
    for sql in (
        """CREATE TABLE dossiers (
            code TEXT PRIMARY KEY,            -- MaHoSo, normalised (upper-case)
            procedure_code TEXT,              -- MaTTHC
            procedure_name TEXT,              -- TenTTHC
            applicant TEXT,                   -- ChuHoSo
            phone TEXT,                       -- SoDienThoai
            email TEXT,
            received_at TEXT,                 -- NgayTiepNhan
            due_at TEXT,                      -- NgayHenTra
            returned_at TEXT,                 -- NgayTra
            status INTEGER NOT NULL,          -- TrangThaiHoSo, 1..10
            department TEXT,                  -- PhongBanXuLy
            officer TEXT,                     -- NguoiXuLy
            supplement TEXT,                  -- NoiDungBoSung
            secret TEXT,                      -- MaTraCuu
            channel INTEGER,                  -- KenhThucHien: 1 in person, 2 online, 3 post
            fingerprint TEXT NOT NULL,        -- hash of the imported fields, to tell changes
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX dossiers_status ON dossiers(status)",
        "CREATE INDEX dossiers_received ON dossiers(received_at)",
        """CREATE TABLE status_history (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            code TEXT NOT NULL REFERENCES dossiers(code),
            old_status INTEGER,
            status INTEGER NOT NULL,
            at TEXT NOT NULL,
            source TEXT NOT NULL
        )""",
        "CREATE INDEX status_history_code ON status_history(code)",
        "CREATE INDEX status_history_at ON status_history(at)",
        """CREATE TABLE supplements (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            code TEXT NOT NULL REFERENCES dossiers(code),
            requested_at TEXT NOT NULL,
            content TEXT NOT NULL,
            old_due_at TEXT,
            new_due_at TEXT
        )""",
        "CREATE INDEX supplements_code ON supplements(code)",
        """CREATE TABLE subscriptions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            code TEXT NOT NULL,
            channel TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            lang TEXT NOT NULL DEFAULT 'vi',
            created_at TEXT NOT NULL,
            UNIQUE (code, channel, chat_id)
        )""",
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL UNIQUE,         -- idempotency key: one row per notification
            channel TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            payload TEXT NOT NULL,            -- JSON of the Reply
            state TEXT NOT NULL DEFAULT 'pending',  -- pending | sending | sent | dead
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            claimed_at TEXT,
            sent_at TEXT,
            last_error TEXT,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX outbox_due ON outbox(state, next_attempt_at)",
        """CREATE TABLE lookup_attempts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            code TEXT NOT NULL,
            at TEXT NOT NULL,
            ok INTEGER NOT NULL
        )""",
        "CREATE INDEX lookup_attempts_code_at ON lookup_attempts(code, at)",
    ):
        db.execute(sql)


def _m2_sessions(db: Schema) -> None:
    db.execute(
        """CREATE TABLE sessions (
            key TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )


def _m3_guide(db: Schema) -> None:
    for sql in (
        """CREATE TABLE unanswered (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            channel TEXT NOT NULL,            -- web, telegram, zalo_oa, zalo_bot, cli, api
            text TEXT NOT NULL,               -- the question, personal data masked
            intent TEXT NOT NULL,
            score REAL                        -- the best match's score, when there was one
        )""",
        "CREATE INDEX unanswered_at ON unanswered(at)",
        """CREATE TABLE feedback (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            channel TEXT NOT NULL,
            vote INTEGER NOT NULL,            -- 1 thumbs up, -1 thumbs down
            intent TEXT NOT NULL,
            code TEXT,                        -- the procedure answered, if any
            text TEXT                         -- the question, personal data masked
        )""",
        "CREATE INDEX feedback_at ON feedback(at)",
        """CREATE TABLE complaints (
            ref TEXT PRIMARY KEY,             -- PA-20261123-001: the number the user can quote
            at TEXT NOT NULL,
            channel TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            lang TEXT NOT NULL,
            topic TEXT NOT NULL,
            text TEXT NOT NULL,
            contact TEXT,                     -- optional, given by the user for a reply
            status TEXT NOT NULL DEFAULT 'new'
        )""",
        "CREATE INDEX complaints_at ON complaints(at)",
        """CREATE TABLE handover_messages (
            staff_channel TEXT NOT NULL,
            staff_chat TEXT NOT NULL,
            message_id TEXT NOT NULL,         -- a message forwarded to the staff chat
            channel TEXT NOT NULL,            -- whose message it was
            chat_id TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (staff_channel, staff_chat, message_id)
        )""",
    ):
        db.execute(sql)


def _m4_web_inbox(db: Schema) -> None:
    # Messages for web-chat sessions (staff replies, dossier notifications): the web page has no
    # push, so it fetches them (GET /api/messages); a message is removed once fetched.
    db.execute(
        """CREATE TABLE web_inbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session TEXT NOT NULL,            -- the web chat's session id
            payload TEXT NOT NULL,            -- JSON of the Reply
            created_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX web_inbox_session ON web_inbox(session, id)")


def _m5_attack_fixes(db: Schema) -> None:
    # Lookup attempts name who tried (an address or a chat) so a guesser is locked out, not only
    # the code; outbox claims carry a token so only the claimer renews or settles a row; the
    # index on secrets lets stored texts be checked for a dossier's secret cheaply.
    for sql in (
        "ALTER TABLE lookup_attempts ADD COLUMN client TEXT",
        "CREATE INDEX lookup_attempts_client ON lookup_attempts(client, at)",
        "ALTER TABLE outbox ADD COLUMN claim TEXT",
        "CREATE INDEX dossiers_secret ON dossiers(secret)",
    ):
        db.execute(sql)


def _m6_inbox(db: Schema) -> None:
    # Webhook events already handled (Telegram update_id, Zalo msg_id or an id derived from the
    # event), so a redelivered or replayed event is answered once, in any process; and the
    # handover tickets of a chat, found by the chat (a ticket is never given to another chat).
    for sql in (
        """CREATE TABLE inbox (
            source TEXT NOT NULL,             -- telegram, zalo-oa, zalo-bot
            event_id TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (source, event_id)
        )""",
        "CREATE INDEX inbox_at ON inbox(at)",
        "CREATE INDEX handover_messages_chat ON handover_messages(staff_channel, staff_chat, channel, chat_id)",
    ):
        db.execute(sql)


#: The schema, step by step. Append only.
MIGRATIONS: list[Migration] = [
    Migration(1, "dossiers, history, supplements, subscriptions, outbox, lookup attempts", _m1_dossiers),
    Migration(2, "chat sessions", _m2_sessions),
    Migration(3, "guide: unanswered questions, feedback, complaints, handover", _m3_guide),
    Migration(4, "messages waiting for web-chat sessions", _m4_web_inbox),
    Migration(5, "lookup attempts by client, outbox claim tokens, index on dossier secrets", _m5_attack_fixes),
    Migration(6, "inbox of webhook events handled; handover tickets by chat", _m6_inbox),
]


def _m7_replicas(db: Schema) -> None:
    # Rate limits counted in the database, so replicas behind one load balancer share them: a
    # token bucket per key ("user:<chat>", "ip:<address>"…): tokens left, when it was last
    # counted (seconds since the epoch) and how many messages in a row were refused.
    for sql in (
        """CREATE TABLE rate_limits (
            key TEXT PRIMARY KEY,
            tokens REAL NOT NULL,
            at REAL NOT NULL,
            refused INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX rate_limits_at ON rate_limits(at)",
    ):
        db.execute(sql)


MIGRATIONS.append(Migration(7, "rate limits shared by replicas", _m7_replicas))


def _m8_staff(db: Schema) -> None:
    # The staff console (bot/console): accounts with argon2 password hashes, login attempts (5
    # wrong in 15 minutes lock the account), an audit of every staff action, and named secrets
    # the server generates once (the session cookie key when TTHC_STAFF_SECRET is not set).
    for sql in (
        """CREATE TABLE staff_accounts (
            username TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,      -- argon2id
            role TEXT NOT NULL,               -- admin or officer
            department TEXT,
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE staff_logins (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            username TEXT NOT NULL,
            at TEXT NOT NULL,
            ok INTEGER NOT NULL,
            client TEXT
        )""",
        "CREATE INDEX staff_logins_user ON staff_logins(username, at)",
        """CREATE TABLE staff_audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            username TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT
        )""",
        "CREATE INDEX staff_audit_at ON staff_audit(at)",
        """CREATE TABLE server_secrets (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
    ):
        db.execute(sql)


MIGRATIONS.append(Migration(8, "staff console: accounts, logins, audit, server secrets", _m8_staff))

def _m9_applicant_notices(db: Schema) -> None:
    # Notices that reach the applicant (issue 18): the record's consent (NhanThongBao; NULL: a
    # phone or email given is consent), the unguessable token of the email's unsubscribe link,
    # when the applicant stopped notices; an outbox row's thread (a dossier on one channel and
    # address: its rows go out in order); each delivery attempt's result and Zalo's error code.
    for sql in (
        "ALTER TABLE dossiers ADD COLUMN consent INTEGER",
        "ALTER TABLE dossiers ADD COLUMN notice_token TEXT",
        "ALTER TABLE dossiers ADD COLUMN notices_stopped TEXT",
        "CREATE UNIQUE INDEX dossiers_notice_token ON dossiers(notice_token)",
        "ALTER TABLE outbox ADD COLUMN thread TEXT",
        "CREATE INDEX outbox_thread ON outbox(thread, id)",
        """CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            outbox_id INTEGER,
            code TEXT,
            channel TEXT NOT NULL,
            result TEXT NOT NULL,             -- sent | retry | dead | stopped
            error_code TEXT,                  -- Zalo's error number, the SMTP reply code…
            detail TEXT
        )""",
        "CREATE INDEX deliveries_code ON deliveries(code)",
    ):
        db.execute(sql)


MIGRATIONS.append(Migration(9, "notices to the applicant: consent, unsubscribe token, order, delivery results",
                            _m9_applicant_notices))

SCHEMA_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)


def schema_version(backend: Backend) -> int:
    """The highest migration applied (0 for a new database)."""
    rows = backend.rows("SELECT MAX(version) AS v FROM schema_version")
    return int(rows[0]["v"]) if rows and rows[0]["v"] is not None else 0


def migrate(backend: Backend, migrations: list[Migration]) -> list[Migration]:
    """Apply the migrations not applied yet, each in a transaction under the schema lock;
    return those applied now."""
    versions = [m.version for m in migrations]
    if versions != sorted(set(versions)):
        raise ValueError("migration versions must be unique and increasing")
    with backend.transaction(lock="schema"):
        backend.write(backend.ddl(SCHEMA_TABLE))
    applied: list[Migration] = []
    current = schema_version(backend)
    for m in migrations:
        if m.version <= current:
            continue
        with backend.transaction(lock="schema"):
            current = schema_version(backend)  # another process may have applied it meanwhile
            if m.version <= current:
                continue
            m.apply(Schema(backend))
            backend.write("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                          (m.version, m.name, iso(datetime.now(VN_TZ))))
        current = m.version
        applied.append(m)
    return applied
