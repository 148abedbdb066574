"""The storage: migrations, WAL, sessions, the outbox's claim and idempotency keys."""

from __future__ import annotations

import time
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


def test_every_backend_is_migrated_once(db_url: str) -> None:
    s = Storage(db_url)
    assert s.schema_version == MIGRATIONS[-1].version and len(s.applied) == len(MIGRATIONS)
    assert {"dossiers", "outbox", "sessions", "inbox", "web_inbox", "rate_limits", "complaints"} <= set(s.table_names())
    s.close()
    again = Storage(db_url)
    assert again.applied == []
    assert again.schema_version == MIGRATIONS[-1].version
    assert again._rows("SELECT COUNT(*) AS n FROM schema_version")[0]["n"] == len(MIGRATIONS)
    again.close()


def test_a_later_migration_is_applied_once_and_a_failing_one_rolls_back(db_url: str) -> None:
    path = db_url
    Storage(path).close()

    n = MIGRATIONS[-1].version

    def add_later(db: object) -> None:
        db.execute("CREATE TABLE later (id INTEGER PRIMARY KEY, text TEXT)")  # type: ignore[attr-defined]

    def broken(db: object) -> None:
        db.execute("CREATE TABLE half (id INTEGER)")  # type: ignore[attr-defined]
        raise RuntimeError("boom")

    s = Storage(path, migrations=[*MIGRATIONS, Migration(n + 1, "later", add_later)])
    assert s.schema_version == n + 1 and "later" in s.table_names()
    s.close()
    with pytest.raises(RuntimeError):
        Storage(path, migrations=[*MIGRATIONS, Migration(n + 1, "later", add_later), Migration(n + 2, "broken", broken)])
    s = Storage(path)
    assert s.schema_version == n + 1
    assert "half" not in s.table_names()
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


def test_two_connections_share_the_database(db_url: str) -> None:
    a = Storage(db_url)
    b = Storage(db_url)
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


def test_timestamps_compare_as_text_at_mixed_precision(storage: Storage) -> None:
    # Leases are written to the microsecond, due times to the second: both compare as text in
    # either database (PostgreSQL's text columns use the "C" collation, byte by byte).
    storage.enqueue("k", "telegram", "1", {"text": "x"}, T0)
    lease = timedelta(seconds=1)
    assert [r["key"] for r in storage.claim(T0, lease, ("telegram",))] == ["k"]
    assert storage.claim(T0 + timedelta(microseconds=999_999), lease, ("telegram",)) == []
    assert [r["key"] for r in storage.claim(T0 + timedelta(seconds=1), lease, ("telegram",))] == ["k"]


def test_concurrent_claims_never_take_one_row_twice(db_url: str) -> None:
    import threading

    first = Storage(db_url)
    for i in range(60):
        first.enqueue(f"k{i}", "telegram", "1", {"text": str(i)}, T0)
    stores = [first, Storage(db_url), Storage(db_url)]
    taken: list[str] = []
    lock = threading.Lock()

    def work(store: Storage) -> None:
        while rows := store.claim(T0, timedelta(minutes=5), ("telegram",), limit=1):
            with lock:
                taken.extend(r["key"] for r in rows)
            store.mark_sent(rows[0]["id"], T0, claim=rows[0]["claim"])

    threads = [threading.Thread(target=work, args=(s,)) for s in stores for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(taken) == sorted(f"k{i}" for i in range(60)), "each row claimed exactly once"
    assert first.outbox_counts() == {"sent": 60}
    for s in stores:
        s.close()


def test_claims_renew_and_settle_only_with_their_token(storage: Storage) -> None:
    storage.enqueue("k", "telegram", "1", {"text": "x"}, T0)
    lease = timedelta(seconds=10)
    row = storage.claim(T0, lease, ("telegram",))[0]
    assert storage.renew(row["id"], row["claim"], T0 + timedelta(seconds=8))
    assert storage.claim(T0 + timedelta(seconds=12), lease, ("telegram",)) == []  # renewed: still ours
    again = storage.claim(T0 + timedelta(seconds=19), lease, ("telegram",))[0]  # lease over: taken again
    assert again["claim"] != row["claim"] and again["attempts"] == 2
    assert not storage.renew(row["id"], row["claim"], T0 + timedelta(seconds=19))
    assert not storage.mark_sent(row["id"], T0, claim=row["claim"])
    storage.release(again["id"], claim=again["claim"])
    assert storage.outbox("pending")[0]["attempts"] == 1


def test_an_event_is_delivered_first_once_across_processes(db_url: str) -> None:
    a, b = Storage(db_url), Storage(db_url)
    assert a.first_delivery("telegram", "1001")
    assert not b.first_delivery("telegram", "1001")
    assert b.first_delivery("zalo-bot", "1001")
    assert a.prune_inbox(datetime.now(VN_TZ) + timedelta(seconds=1)) == 2
    a.close()
    b.close()


def test_web_messages_are_taken_once(db_url: str) -> None:
    import threading

    a, b = Storage(db_url), Storage(db_url)
    for i in range(40):
        a.put_web_message("s1", {"text": str(i)}, T0)
    got: list[str] = []
    lock = threading.Lock()

    def take(store: Storage) -> None:
        while batch := store.take_web_messages("s1", limit=3):
            with lock:
                got.extend(m["text"] for m in batch)

    threads = [threading.Thread(target=take, args=(s,)) for s in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(got, key=int) == [str(i) for i in range(40)]
    a.close()
    b.close()


def test_rate_limit_buckets_are_counted_in_the_database(db_url: str) -> None:
    a, b = Storage(db_url), Storage(db_url)
    now = 1_000_000.0
    # 3 a minute (one token every 20 s), counted together by two processes.
    verdicts = [(a if i % 2 else b).rate_hit("user:1", 3, 3 / 60, now + i * 0.1)[1] for i in range(6)]
    assert verdicts == [0, 0, 0, 1, 2, 3]  # three go through, then refused (the first one: a warning)
    tokens, refused = a.rate_hit("user:1", 3, 3 / 60, now + 20.5)  # a token back after 20 s
    assert refused == 0 and tokens == pytest.approx(0.025, abs=0.01)
    assert b.rate_hit("user:2", 3, 3 / 60, now)[1] == 0  # another key has its own bucket
    assert a.prune_rate_limits(now + 10) == 1
    a.close()
    b.close()


def test_one_leader_at_a_time_handed_over_when_it_goes(db_url: str) -> None:
    a, b = Storage(db_url), Storage(db_url)
    assert a.try_lead("jobs")
    if not a.shared:  # SQLite: one process, the leader at once
        assert b.try_lead("jobs")
        a.close()
        b.close()
        return
    assert not b.try_lead("jobs") and a.try_lead("jobs")
    assert b.try_lead("other")  # names are independent
    a.close()  # the leader's connection goes (as when its process dies)
    # PostgreSQL frees the lock once it has seen the session end: at one of b's next tries.
    deadline = time.monotonic() + 10
    while not b.try_lead("jobs"):
        assert time.monotonic() < deadline, "the lead was never handed over"
        time.sleep(0.05)
    b.resign("jobs")
    c = Storage(db_url)
    assert c.try_lead("jobs")
    c.close()
    b.close()


def test_named_locks_are_exclusive_across_processes(db_url: str) -> None:
    a, b = Storage(db_url), Storage(db_url)
    held = a.try_lock("zalo-oa:refresh")
    assert held is not None
    if a.shared:
        assert b.try_lock("zalo-oa:refresh") is None
    a.unlock(held)
    again = b.try_lock("zalo-oa:refresh")
    assert again is not None
    b.unlock(again)
    a.close()
    b.close()


def test_a_locked_transaction_serialises_writers(db_url: str) -> None:
    import threading

    a, b = Storage(db_url), Storage(db_url)
    a.save_session("n", {"n": 0}, T0)

    def bump(store: Storage) -> None:
        for _ in range(15):
            with store.transaction(lock="counter"):
                n = (store.get_session("n") or {})["n"]
                store.save_session("n", {"n": n + 1}, T0)

    threads = [threading.Thread(target=bump, args=(s,)) for s in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert a.get_session("n") == {"n": 60}
    a.close()
    b.close()
