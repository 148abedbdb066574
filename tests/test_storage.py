"""The storage: migrations, WAL, sessions, the outbox's claim and idempotency keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage import MIGRATIONS, VN_TZ, Migration, Storage, iso

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=VN_TZ)


def test_new_database_is_migrated_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "bot.db"
    s = Storage(path)
    assert s.schema_version == MIGRATIONS[-1].version
    assert s.db.journal_mode == "wal"
    assert {"dossiers", "status_history", "supplements", "subscriptions", "outbox", "lookup_attempts", "sessions"} <= set(
        s.db.table_names()
    )
    s.close()
    # Opening again applies nothing twice.
    again = Storage(path)
    assert again.schema_version == MIGRATIONS[-1].version
    assert again._rows("SELECT COUNT(*) AS n FROM schema_version")[0]["n"] == len(MIGRATIONS)
    again.close()


def test_a_later_migration_is_applied_once_and_a_failing_one_rolls_back(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    Storage(path).close()

    n = MIGRATIONS[-1].version

    def add_later(db: object) -> None:
        db.execute("CREATE TABLE later (id INTEGER PRIMARY KEY, text TEXT)")  # type: ignore[attr-defined]

    def broken(db: object) -> None:
        db.execute("CREATE TABLE half (id INTEGER)")  # type: ignore[attr-defined]
        raise RuntimeError("boom")

    s = Storage(path, migrations=[*MIGRATIONS, Migration(n + 1, "later", add_later)])
    assert s.schema_version == n + 1 and "later" in s.db.table_names()
    s.close()
    with pytest.raises(RuntimeError):
        Storage(path, migrations=[*MIGRATIONS, Migration(n + 1, "later", add_later), Migration(n + 2, "broken", broken)])
    s = Storage(path)
    assert s.schema_version == n + 1
    assert "half" not in s.db.table_names()
    s.close()


def test_sessions_round_trip_json_state(storage: Storage) -> None:
    assert storage.get_session("telegram:1") is None
    storage.save_session("telegram:1", {"lang": "vi", "pending": {"code": "H42.25-241105-0003"}, "ghi chú": "Tết"}, T0)
    storage.save_session("telegram:1", {"lang": "en"}, T0 + timedelta(minutes=1))
    assert storage.get_session("telegram:1") == {"lang": "en"}
    row = storage._rows("SELECT updated_at FROM sessions WHERE key = 'telegram:1'")[0]
    assert row["updated_at"] == "2026-03-02T09:01:00+07:00"
    assert storage.prune_sessions(T0 + timedelta(days=1)) == 1
    assert storage.get_session("telegram:1") is None


def test_session_state_keeps_vietnamese_text_and_survives_odd_values(storage: Storage) -> None:
    state = {"lang": "vi", "last": "Giấy chứng nhận đăng ký đầu tư", "history": [1, 2.5, None, True]}
    storage.save_session("web:a", state, T0)
    assert storage.get_session("web:a") == state
    stored = storage._rows("SELECT state FROM sessions WHERE key = 'web:a'")[0]["state"]
    assert "Giấy chứng nhận" in stored  # readable in the database, not \u-escaped
    # Values the fast encoder refuses (a lone surrogate from a broken client, an integer key)
    # are still saved rather than losing the conversation.
    storage.save_session("web:b", {"q": "abc\ud800", 7: "x"}, T0)
    assert storage.get_session("web:b") == {"q": "abc?", "7": "x"}


def test_timestamps_are_stored_in_vietnam_time() -> None:

    assert iso(datetime(2026, 3, 2, 2, 0, tzinfo=UTC)) == "2026-03-02T09:00:00+07:00"
    assert iso(datetime(2026, 3, 2, 9, 0)) == "2026-03-02T09:00:00+07:00"


def test_outbox_idempotency_key_and_claim(storage: Storage) -> None:
    assert storage.enqueue("k1", "telegram", "42", {"text": "xin chào"}, T0)
    assert not storage.enqueue("k1", "telegram", "42", {"text": "again"}, T0)
    assert storage.enqueue("k2", "zalo", "7", {"text": "zalo"}, T0 + timedelta(minutes=5))

    lease = timedelta(minutes=5)
    # Only channels asked for, only rows that are due.
    rows = storage.claim(T0, lease, ("telegram", "zalo"))
    assert [r["key"] for r in rows] == ["k1"]
    assert rows[0]["payload"] == {"text": "xin chào"} and rows[0]["attempts"] == 1
    # Claimed rows are not handed out again while the lease runs…
    assert storage.claim(T0 + timedelta(minutes=1), lease, ("telegram",)) == []
    # …but are once it has expired (the sender died).
    again = storage.claim(T0 + timedelta(minutes=6), lease, ("telegram",))
    assert [r["key"] for r in again] == ["k1"] and again[0]["attempts"] == 2
    storage.mark_sent(again[0]["id"], T0 + timedelta(minutes=6))
    assert storage.claim(T0 + timedelta(hours=2), lease, ("telegram",)) == []
    assert storage.outbox_counts() == {"sent": 1, "pending": 1}


def test_two_connections_share_the_database(tmp_path: Path) -> None:
    a = Storage(tmp_path / "bot.db")
    b = Storage(tmp_path / "bot.db")
    a.enqueue("k", "telegram", "1", {"text": "x"}, T0)
    assert len(b.claim(T0, timedelta(minutes=5), ("telegram",))) == 1
    assert a.claim(T0, timedelta(minutes=5), ("telegram",)) == []
    a.close()
    b.close()


def test_transaction_rolls_back_everything_on_error(storage: Storage) -> None:
    with pytest.raises(ValueError), storage.transaction():
        storage.enqueue("a", "telegram", "1", {"text": "x"}, T0)
        storage.save_session("s", {"x": 1}, T0)
        raise ValueError("stop")
    assert storage.outbox() == []
    assert storage.get_session("s") is None


def test_lookup_attempts_after_the_last_success_and_pruning(storage: Storage) -> None:
    code = "H42.25-260213-0001"
    storage.record_lookup(code, T0, ok=False)
    storage.record_lookup(code, T0 + timedelta(minutes=1), ok=True)
    storage.record_lookup(code, T0 + timedelta(minutes=2), ok=False)
    storage.record_lookup("OTHER-1", T0 + timedelta(minutes=2), ok=False)
    assert storage.lookup_failures(code, T0 - timedelta(hours=1)) == [T0 + timedelta(minutes=2)]
    assert storage.prune_lookups(T0 + timedelta(minutes=2)) == 2
    assert storage.lookup_failures(code, T0 - timedelta(hours=1)) == [T0 + timedelta(minutes=2)]
