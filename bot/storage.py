"""The bot's one SQLite database: the only module that speaks SQL.

Tables: dossiers, their status history and supplement requests, subscriptions to a dossier's
news, an outbox of notifications waiting for delivery, lookup attempts (for the lock), and chat
sessions. The schema grows through `MIGRATIONS`: a numbered list applied in order, each once,
in its own transaction, recorded in `schema_version`. Add a feature's tables by appending a
migration; never edit one that has shipped.

Timestamps are stored as ISO 8601 text in Vietnam time (`2026-02-13T09:30:00+07:00`), so they
sort and compare as text. The database runs in WAL mode so the server, the importer and the
delivery loop can share it.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from . import _json

VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")


def iso(moment: datetime) -> str:
    """`moment` as stored: ISO 8601 in Vietnam time to the second; naive means Vietnam time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    return moment.astimezone(VN_TZ).isoformat(timespec="seconds")


def from_iso(text: str | None) -> datetime | None:
    """A stored timestamp back as an aware datetime (None stays None)."""
    if not text:
        return None
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class Migration:
    """One step of the schema: applied once, in order, in a transaction."""

    version: int
    name: str
    apply: Callable[[Database], None]


def _m1_dossiers(db: Database) -> None:
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


def _m2_sessions(db: Database) -> None:
    db.execute(
        """CREATE TABLE sessions (
            key TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )


def _m3_guide(db: Database) -> None:
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


def _m4_web_inbox(db: Database) -> None:
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


def _m5_attack_fixes(db: Database) -> None:
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


def _m6_inbox(db: Database) -> None:
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

OPEN_STATES = ("pending", "sending")
#: How long a statement waits for another connection's write lock before "database is locked".
#: Writers keep their transactions short (imports commit every few hundred rows), so a wait is
#: normally milliseconds; the bound keeps a stuck writer elsewhere from freezing this process.
BUSY_TIMEOUT = 5.0


def _iso_us(moment: datetime) -> str:
    """`moment` to the microsecond (outbox leases: a second is too coarse for short leases)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    return moment.astimezone(VN_TZ).isoformat(timespec="microseconds")


class Storage:
    """The database. One instance per process; safe to share between threads."""

    def __init__(self, path: str | Path = ":memory:", migrations: list[Migration] | None = None,
                 busy_timeout: float = BUSY_TIMEOUT) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=busy_timeout, check_same_thread=False)
        self.db = Database(conn)
        self._lock = threading.RLock()
        if self.path != ":memory:":
            self.db.enable_wal()
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        self.migrate(MIGRATIONS if migrations is None else migrations)

    # -- plumbing ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self.db.close()

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Storage]:
        """A write transaction (BEGIN IMMEDIATE, so concurrent writers queue rather than fail);
        nested use becomes a savepoint. Commits on success, rolls back on any exception."""
        with self._lock:
            if self.db.conn.in_transaction:
                with self.db.atomic():
                    yield self
                return
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                self.db.rollback()
                raise
            else:
                self.db.commit()

    def _rows(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        # Our reads are plain SELECTs written in this module: run them on the connection
        # directly (sqlite-utils' query() wraps each in a savepoint: three statements a read).
        with self._lock:
            cursor = self.db.conn.execute(sql, params)
            keys = [d[0] for d in cursor.description]
            return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]

    def _one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> dict[str, Any] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _write(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Cursor:
        """One write statement, committed (or part of the open transaction)."""
        with self._lock:
            conn = self.db.conn
            if conn.in_transaction:
                return conn.execute(sql, params)
            # A single statement is atomic on its own: no BEGIN IMMEDIATE round trip needed.
            try:
                cursor = conn.execute(sql, params)
            except BaseException:
                if conn.in_transaction:
                    conn.rollback()
                raise
            conn.commit()
            return cursor

    def migrate(self, migrations: list[Migration]) -> int:
        """Apply the migrations not applied yet; return the schema version."""
        versions = [m.version for m in migrations]
        if versions != sorted(set(versions)):
            raise ValueError("migration versions must be unique and increasing")
        with self.transaction():
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
        current = self.schema_version
        for m in migrations:
            if m.version <= current:
                continue
            with self.transaction():
                m.apply(self.db)
                self.db.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                    (m.version, m.name, iso(datetime.now(VN_TZ))),
                )
            current = m.version
        return current

    @property
    def schema_version(self) -> int:
        """The highest migration applied (0 for a new database)."""
        row = self._one("SELECT MAX(version) AS v FROM schema_version")
        return int(row["v"]) if row and row["v"] is not None else 0

    # -- dossiers ---------------------------------------------------------------------------

    DOSSIER_FIELDS = (
        "code", "procedure_code", "procedure_name", "applicant", "phone", "email", "received_at",
        "due_at", "returned_at", "status", "department", "officer", "supplement", "secret",
        "channel", "fingerprint",
    )

    def get_dossier(self, code: str) -> dict[str, Any] | None:
        """The dossier row with this (normalised) code, or None."""
        return self._one("SELECT * FROM dossiers WHERE code = ?", (code,))

    def save_dossier(self, record: dict[str, Any], now: datetime) -> None:
        """Insert or update a dossier from a dict with DOSSIER_FIELDS."""
        values = {f: record.get(f) for f in self.DOSSIER_FIELDS}
        values["now"] = iso(now)
        cols = ", ".join(self.DOSSIER_FIELDS)
        params = ", ".join(f":{f}" for f in self.DOSSIER_FIELDS)
        updates = ", ".join(f"{f} = excluded.{f}" for f in self.DOSSIER_FIELDS if f != "code")
        self._write(
            f"INSERT INTO dossiers ({cols}, created_at, updated_at) VALUES ({params}, :now, :now) "
            f"ON CONFLICT(code) DO UPDATE SET {updates}, updated_at = excluded.updated_at",
            values,
        )

    def dossiers(self, statuses: tuple[int, ...] | None = None) -> list[dict[str, Any]]:
        """All dossiers (optionally only those with one of `statuses`), by code."""
        if statuses:
            marks = ", ".join("?" for _ in statuses)
            return self._rows(f"SELECT * FROM dossiers WHERE status IN ({marks}) ORDER BY code", tuple(statuses))
        return self._rows("SELECT * FROM dossiers ORDER BY code")

    def count_dossiers(self) -> int:
        """How many dossiers are stored."""
        row = self._one("SELECT COUNT(*) AS n FROM dossiers")
        return int(row["n"]) if row else 0

    def add_status(self, code: str, old_status: int | None, status: int, at: datetime, source: str) -> int:
        """Record a status change; return its id."""
        cur = self._write(
            "INSERT INTO status_history (code, old_status, status, at, source) VALUES (?, ?, ?, ?, ?)",
            (code, old_status, status, iso(at), source),
        )
        return int(cur.lastrowid or 0)

    def status_history(self, code: str) -> list[dict[str, Any]]:
        """A dossier's status changes, oldest first."""
        return self._rows("SELECT * FROM status_history WHERE code = ? ORDER BY id", (code,))

    def status_changes(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Every status change with start <= at < end, oldest first."""
        return self._rows(
            "SELECT * FROM status_history WHERE at >= ? AND at < ? ORDER BY id", (iso(start), iso(end))
        )

    def add_supplement(
        self, code: str, requested_at: datetime, content: str, old_due: str | None, new_due: str | None
    ) -> int:
        """Record a request for more papers, with the due date before and after it."""
        cur = self._write(
            "INSERT INTO supplements (code, requested_at, content, old_due_at, new_due_at) VALUES (?, ?, ?, ?, ?)",
            (code, iso(requested_at), content, old_due, new_due),
        )
        return int(cur.lastrowid or 0)

    def set_supplement_due(self, supplement_id: int, new_due: str | None) -> None:
        """Record the due date a supplement request moved the dossier to."""
        self._write("UPDATE supplements SET new_due_at = ? WHERE id = ?", (new_due, supplement_id))

    def supplements_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Supplement requests made with start <= requested_at < end."""
        return self._rows(
            "SELECT * FROM supplements WHERE requested_at >= ? AND requested_at < ? ORDER BY id",
            (iso(start), iso(end)),
        )

    def supplements(self, code: str | None = None) -> list[dict[str, Any]]:
        """Supplement requests (of one dossier, or all), oldest first."""
        if code is None:
            return self._rows("SELECT * FROM supplements ORDER BY id")
        return self._rows("SELECT * FROM supplements WHERE code = ? ORDER BY id", (code,))

    # -- subscriptions ----------------------------------------------------------------------

    def subscribe(self, code: str, channel: str, chat_id: str, lang: str, now: datetime) -> bool:
        """Subscribe a chat to a dossier's news; False when it already was (language updated)."""
        with self.transaction():
            cur = self.db.execute(
                "INSERT OR IGNORE INTO subscriptions (code, channel, chat_id, lang, created_at) VALUES (?, ?, ?, ?, ?)",
                (code, channel, str(chat_id), lang, iso(now)),
            )
            if cur.rowcount:
                return True
            self.db.execute(
                "UPDATE subscriptions SET lang = ? WHERE code = ? AND channel = ? AND chat_id = ?",
                (lang, code, channel, str(chat_id)),
            )
            return False

    def unsubscribe(self, code: str, channel: str, chat_id: str) -> bool:
        """Stop a chat's news about a dossier; False when it was not subscribed."""
        cur = self._write(
            "DELETE FROM subscriptions WHERE code = ? AND channel = ? AND chat_id = ?", (code, channel, str(chat_id))
        )
        return bool(cur.rowcount)

    def subscribers(self, code: str) -> list[dict[str, Any]]:
        """The chats subscribed to a dossier."""
        return self._rows("SELECT * FROM subscriptions WHERE code = ? ORDER BY id", (code,))

    # -- outbox -----------------------------------------------------------------------------

    def enqueue(self, key: str, channel: str, chat_id: str, payload: dict[str, Any], now: datetime) -> bool:
        """Queue a notification under an idempotency key; False when that key is queued already."""
        cur = self._write(
            "INSERT OR IGNORE INTO outbox (key, channel, chat_id, payload, next_attempt_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (key, channel, str(chat_id), json.dumps(payload, ensure_ascii=False), iso(now), iso(now)),
        )
        return bool(cur.rowcount)

    def claim(
        self, now: datetime, lease: timedelta, channels: tuple[str, ...] | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Atomically take notifications due for delivery: pending ones whose time has come, and
        ones left 'sending' longer than `lease` (their sender died). Each claimed row is marked
        'sending' and its attempts counted before this returns, so no other process takes it;
        it carries a fresh `claim` token for `renew` and the marks. Take only what is sent at
        once (the notifier takes one row at a time): a row waiting behind others would outlive
        its lease and be taken again elsewhere."""
        params: list[Any] = [iso(now), _iso_us(now - lease)]
        only = ""
        if channels is not None:
            if not channels:
                return []
            only = f" AND channel IN ({', '.join('?' for _ in channels)})"
            params.extend(channels)
        with self.transaction():
            rows = list(
                self.db.query(
                    "SELECT * FROM outbox WHERE ((state = 'pending' AND next_attempt_at <= ?) "
                    f"OR (state = 'sending' AND claimed_at <= ?)){only} ORDER BY id LIMIT {int(limit)}",
                    tuple(params),
                )
            )
            for row in rows:
                token = secrets.token_hex(8)
                self.db.execute(
                    "UPDATE outbox SET state = 'sending', claimed_at = ?, claim = ?, attempts = attempts + 1 WHERE id = ?",
                    (_iso_us(now), token, row["id"]),
                )
                row["claim"] = token
                row["claimed_at"] = _iso_us(now)
                row["state"] = "sending"
                row["attempts"] += 1
                row["payload"] = json.loads(row["payload"])
        return rows

    @staticmethod
    def _claimed(claim: str | None) -> tuple[str, tuple[Any, ...]]:
        # With a claim token, a mark applies only while the row is still this claim's.
        return (" AND state = 'sending' AND claim = ?", (claim,)) if claim is not None else ("", ())

    def renew(self, outbox_id: int, claim: str, now: datetime) -> bool:
        """Extend the lease of a row being sent (from `now`); False when the claim was lost."""
        cur = self._write(
            "UPDATE outbox SET claimed_at = ? WHERE id = ? AND state = 'sending' AND claim = ?",
            (_iso_us(now), outbox_id, claim),
        )
        return bool(cur.rowcount)

    def mark_sent(self, outbox_id: int, now: datetime, claim: str | None = None) -> bool:
        """A notification was delivered (False when `claim` no longer holds the row)."""
        only, extra = self._claimed(claim)
        cur = self._write(
            f"UPDATE outbox SET state = 'sent', sent_at = ?, last_error = NULL WHERE id = ?{only}",
            (iso(now), outbox_id, *extra),
        )
        return bool(cur.rowcount)

    def mark_failed(self, outbox_id: int, error: str, retry_at: datetime | None, claim: str | None = None) -> bool:
        """A delivery failed: retry at `retry_at`, or give up ('dead') when it is None."""
        only, extra = self._claimed(claim)
        if retry_at is None:
            cur = self._write(f"UPDATE outbox SET state = 'dead', last_error = ? WHERE id = ?{only}",
                              (error[:500], outbox_id, *extra))
        else:
            cur = self._write(
                f"UPDATE outbox SET state = 'pending', next_attempt_at = ?, last_error = ? WHERE id = ?{only}",
                (iso(retry_at), error[:500], outbox_id, *extra),
            )
        return bool(cur.rowcount)

    def release(self, outbox_id: int, attempts_back: bool = True, claim: str | None = None) -> None:
        """Put a claimed notification back untried (e.g. no sender for its channel here)."""
        minus = " , attempts = MAX(attempts - 1, 0)" if attempts_back else ""
        only, extra = self._claimed(claim)
        self._write(f"UPDATE outbox SET state = 'pending'{minus} WHERE id = ?{only}", (outbox_id, *extra))

    def outbox(self, state: str | None = None) -> list[dict[str, Any]]:
        """Outbox rows (optionally in one state), oldest first, payloads decoded."""
        if state:
            rows = self._rows("SELECT * FROM outbox WHERE state = ? ORDER BY id", (state,))
        else:
            rows = self._rows("SELECT * FROM outbox ORDER BY id")
        for row in rows:
            row["payload"] = json.loads(row["payload"])
        return rows

    def outbox_counts(self) -> dict[str, int]:
        """How many notifications are in each state."""
        return {r["state"]: int(r["n"]) for r in self._rows("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")}

    # -- lookup attempts --------------------------------------------------------------------

    def record_lookup(self, code: str, at: datetime, ok: bool, client: str | None = None,
                      refused: bool = False) -> None:
        """Remember one lookup of a code, whether its secret was right, and who tried (an
        address or a chat, when known). `refused`: tried while the code was locked, and not let
        through (ok -1: a miss of the client's, not one more of the code's)."""
        self._write("INSERT INTO lookup_attempts (code, at, ok, client) VALUES (?, ?, ?, ?)",
                    (code, iso(at), -1 if refused else int(ok), client))

    def lookup_failures(self, code: str, since: datetime) -> list[datetime]:
        """Times of wrong secrets for a code since `since` and after its last right one, oldest
        first. "After" is the order of the attempts (their ids), not their times: a second
        holds many attempts."""
        rows = self._rows(
            "SELECT at FROM lookup_attempts WHERE code = ? AND ok = 0 AND at >= ? AND id > "
            "COALESCE((SELECT MAX(id) FROM lookup_attempts WHERE code = ? AND ok = 1), 0) ORDER BY id",
            (code, iso(since), code),
        )
        return [datetime.fromisoformat(r["at"]) for r in rows]

    def client_failures(self, client: str, since: datetime) -> list[datetime]:
        """Times of wrong secrets (for any code) given by one client since `since`, oldest first;
        its right ones do not wipe them."""
        rows = self._rows(
            "SELECT at FROM lookup_attempts WHERE client = ? AND ok <= 0 AND at >= ? ORDER BY id",
            (client, iso(since)),
        )
        return [datetime.fromisoformat(r["at"]) for r in rows]

    def known_secrets(self, tokens: set[str]) -> set[str]:
        """Those of `tokens` that are some dossier's lookup secret (MaTraCuu) as stored."""
        if not tokens:
            return set()
        some = sorted(tokens)[:200]
        marks = ", ".join("?" for _ in some)
        return {r["secret"] for r in self._rows(f"SELECT secret FROM dossiers WHERE secret IN ({marks})", tuple(some))}

    def prune_lookups(self, before: datetime) -> int:
        """Forget lookup attempts older than `before`; return how many."""
        return int(self._write("DELETE FROM lookup_attempts WHERE at < ?", (iso(before),)).rowcount)

    # -- guide: unanswered questions, feedback, complaints, handover ---------------------------

    def record_unanswered(self, at: datetime, channel: str, text: str, intent: str, score: float | None) -> None:
        """Remember a question the bot answered with low confidence (text already masked)."""
        self._write(
            "INSERT INTO unanswered (at, channel, text, intent, score) VALUES (?, ?, ?, ?, ?)",
            (iso(at), channel, text, intent, score),
        )

    def unanswered(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Questions recorded with start <= at < end, oldest first."""
        return self._rows("SELECT * FROM unanswered WHERE at >= ? AND at < ? ORDER BY id", (iso(start), iso(end)))

    def add_feedback(self, at: datetime, channel: str, vote: int, intent: str, code: str | None, text: str | None) -> None:
        """Store a 👍 (1) or 👎 (-1) on an answer."""
        self._write(
            "INSERT INTO feedback (at, channel, vote, intent, code, text) VALUES (?, ?, ?, ?, ?, ?)",
            (iso(at), channel, vote, intent, code, text),
        )

    def feedback(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Votes with start <= at < end, oldest first."""
        return self._rows("SELECT * FROM feedback WHERE at >= ? AND at < ? ORDER BY id", (iso(start), iso(end)))

    #: The letters of a complaint reference's random part: no 0/O, 1/I to misread on the phone.
    REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    REF_LENGTH = 6

    def add_complaint(self, prefix: str, at: datetime, channel: str, chat_id: str, lang: str, topic: str,
                      text: str, contact: str | None) -> str:
        """Store a complaint under `prefix` + 6 random letters and digits (30 bits from
        `secrets`: neither sequential nor guessable from another reference); return the reference."""
        for _ in range(32):
            ref = prefix + "".join(secrets.choice(self.REF_ALPHABET) for _ in range(self.REF_LENGTH))
            cur = self._write(
                "INSERT OR IGNORE INTO complaints (ref, at, channel, chat_id, lang, topic, text, contact) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (ref, iso(at), channel, str(chat_id), lang, topic, text, contact),
            )
            if cur.rowcount:
                return ref
        raise sqlite3.IntegrityError("no free complaint reference")  # pragma: no cover - 2^30 a day

    def complaint(self, ref: str) -> dict[str, Any] | None:
        """One complaint by its reference."""
        return self._one("SELECT * FROM complaints WHERE ref = ?", (ref.upper(),))

    def complaints(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Complaints with start <= at < end, oldest first."""
        return self._rows("SELECT * FROM complaints WHERE at >= ? AND at < ? ORDER BY at, ref", (iso(start), iso(end)))

    def link_handover(self, staff_channel: str, staff_chat: str, message_id: str, channel: str, chat_id: str,
                      at: datetime) -> bool:
        """Bind ticket `message_id` in a staff chat to a user's chat (staff replies go there).
        A ticket is never taken from another chat: False, and nothing changed, when it belongs
        to one already; True when it is new or already this chat's."""
        key = (staff_channel, str(staff_chat), str(message_id))
        with self.transaction():
            cur = self.db.execute(
                "INSERT OR IGNORE INTO handover_messages (staff_channel, staff_chat, message_id, channel, chat_id, at) "
                "VALUES (?, ?, ?, ?, ?, ?)", (*key, channel, str(chat_id), iso(at)),
            )
            if cur.rowcount:
                return True
            row = self.db.execute(
                "SELECT channel, chat_id FROM handover_messages WHERE staff_channel = ? AND staff_chat = ? AND message_id = ?",
                key,
            ).fetchone()
            if row is None or (row[0], row[1]) != (channel, str(chat_id)):
                return False
            self.db.execute(
                "UPDATE handover_messages SET at = ? WHERE staff_channel = ? AND staff_chat = ? AND message_id = ?",
                (iso(at), *key),
            )
            return True

    def handover_ticket(self, staff_channel: str, staff_chat: str, channel: str, chat_id: str) -> str | None:
        """The ticket bound most recently to a user's chat in a staff chat, or None."""
        row = self._one(
            "SELECT message_id FROM handover_messages WHERE staff_channel = ? AND staff_chat = ? AND channel = ? "
            "AND chat_id = ? ORDER BY at DESC LIMIT 1",
            (staff_channel, str(staff_chat), channel, str(chat_id)),
        )
        return str(row["message_id"]) if row else None

    def handover_target(self, staff_channel: str, staff_chat: str, message_id: str) -> tuple[str, str] | None:
        """(channel, chat id) of the user whose forwarded message this is, or None."""
        row = self._one(
            "SELECT channel, chat_id FROM handover_messages WHERE staff_channel = ? AND staff_chat = ? AND message_id = ?",
            (staff_channel, str(staff_chat), str(message_id)),
        )
        return (row["channel"], row["chat_id"]) if row else None

    # -- inbox: webhook events already handled ----------------------------------------------

    def first_delivery(self, source: str, event_id: str, now: datetime | None = None) -> bool:
        """Record that event `event_id` of `source` (telegram, zalo-oa, zalo-bot) arrived: True
        the first time, False for a redelivery or a replay (one INSERT OR IGNORE, so two
        processes receiving the same event cannot both see it first)."""
        cur = self._write(
            "INSERT OR IGNORE INTO inbox (source, event_id, at) VALUES (?, ?, ?)",
            (source, event_id, iso(now or datetime.now(VN_TZ))),
        )
        return bool(cur.rowcount)

    def prune_inbox(self, before: datetime) -> int:
        """Forget events handled before `before`; return how many."""
        return int(self._write("DELETE FROM inbox WHERE at < ?", (iso(before),)).rowcount)

    # -- health -------------------------------------------------------------------------------

    def health(self, full: bool = False) -> str | None:
        """None when the database answers (and, when `full`, passes SQLite's quick_check); else
        what is wrong. Runs on a read-only connection of its own (for a file database), so it
        never waits for this process's writers and sees the file, not this connection's cache."""
        probes = ["SELECT MAX(version) FROM schema_version"] + [
            f"SELECT * FROM {table} ORDER BY rowid DESC LIMIT 1" for table in ("dossiers", "sessions", "outbox")
        ]
        try:
            if self.path == ":memory:":
                with self._lock:
                    return self._health(self.db.conn, probes, full)
            # This process's own connection answers too (unless a long write holds it: busy is
            # not broken).
            if self._lock.acquire(timeout=1.0):
                try:
                    self.db.conn.execute("SELECT 1").fetchall()
                finally:
                    self._lock.release()
            conn = sqlite3.connect(Path(self.path).resolve().as_uri() + "?mode=ro", uri=True, timeout=BUSY_TIMEOUT)
            try:
                return self._health(conn, probes, full)
            finally:
                conn.close()
        except sqlite3.Error as exc:
            return f"{type(exc).__name__}: {str(exc)[:200]}"

    @staticmethod
    def _health(conn: sqlite3.Connection, probes: list[str], full: bool) -> str | None:
        for sql in probes:
            conn.execute(sql).fetchall()
        if full:
            found = [str(r[0]) for r in conn.execute("PRAGMA quick_check(5)").fetchall()]
            if found != ["ok"]:
                return "quick_check: " + "; ".join(found)[:300]
        return None

    # -- chat sessions ----------------------------------------------------------------------

    def get_session(self, key: str) -> dict[str, Any] | None:
        """The saved conversation state of a chat, or None."""
        row = self._one("SELECT state FROM sessions WHERE key = ?", (key,))
        return _json.loads(row["state"]) if row else None

    def save_session(self, key: str, state: dict[str, Any], now: datetime | None = None) -> None:
        """Save (replace) the conversation state of a chat."""
        self._write(
            "INSERT INTO sessions (key, state, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            (key, _json.dumps_str(state), iso(now or datetime.now(VN_TZ))),
        )

    # -- messages for web-chat sessions ------------------------------------------------------

    def put_web_message(self, session: str, payload: dict[str, Any], now: datetime | None = None) -> None:
        """Keep a message (a Reply's payload) for a web-chat session until the page fetches it."""
        self._write(
            "INSERT INTO web_inbox (session, payload, created_at) VALUES (?, ?, ?)",
            (session, _json.dumps_str(payload), iso(now or datetime.now(VN_TZ))),
        )

    def take_web_messages(self, session: str, limit: int = 20) -> list[dict[str, Any]]:
        """The messages waiting for a web-chat session, oldest first, removed as they are taken."""
        # Pages ask every few seconds and mostly find nothing: look before taking the write lock.
        if not self._rows("SELECT 1 FROM web_inbox WHERE session = ? LIMIT 1", (session,)):
            return []
        with self.transaction():
            rows = self._rows("SELECT id, payload FROM web_inbox WHERE session = ? ORDER BY id LIMIT ?", (session, limit))
            if rows:
                self.db.execute(f"DELETE FROM web_inbox WHERE id IN ({','.join('?' * len(rows))})",
                                [r["id"] for r in rows])
        return [_json.loads(r["payload"]) for r in rows]

    def prune_web_messages(self, before: datetime) -> int:
        """Forget messages no page fetched since `before`; return how many."""
        return int(self._write("DELETE FROM web_inbox WHERE created_at < ?", (iso(before),)).rowcount)

    def delete_session(self, key: str) -> None:
        """Forget a chat's conversation state."""
        self._write("DELETE FROM sessions WHERE key = ?", (key,))

    def prune_sessions(self, before: datetime, keep: tuple[str, ...] = ()) -> int:
        """Forget sessions not updated since `before`, except keys starting with one of `keep`;
        return how many."""
        sql = "DELETE FROM sessions WHERE updated_at < ?" + " AND key NOT LIKE ? ESCAPE '\\'" * len(keep)
        likes = tuple(k.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for k in keep)
        return int(self._write(sql, (iso(before), *likes)).rowcount)

    # -- backup -----------------------------------------------------------------------------

    def backup(self, target: str | Path) -> int:
        """A consistent copy of the whole database in `target` (SQLite's online backup, one
        step, so it is a snapshot even while the server writes), written beside it first and
        then renamed into place; return its size in bytes."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        dest = sqlite3.connect(str(partial))
        try:
            with self._lock:
                self.db.conn.backup(dest)
            dest.execute("PRAGMA journal_mode = DELETE")
            ok = dest.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dest.close()
        if ok != "ok":
            partial.unlink(missing_ok=True)
            raise sqlite3.DatabaseError(f"the copy failed its integrity check: {ok}")
        partial.replace(target)
        return target.stat().st_size

    def prune_questions(self, before: datetime) -> int:
        """Forget recorded questions (unanswered ones, 👍/👎 votes: they keep masked texts) from
        before `before`; return how many."""
        removed = 0
        with self.transaction():
            for table in ("unanswered", "feedback"):
                if self._one("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)):
                    removed += int(self.db.execute(f"DELETE FROM {table} WHERE at < ?", (iso(before),)).rowcount)
        return removed
