"""Attacks on the storage side that once broke the server (issue 15, items 4–10), each tried
again here: duplicate notifications from two processes, a long import freezing readers, a YAML
alias bomb, lookup secrets kept in clear, the same-second lock gap, locking the owner out, and
partial pushes wiping fields. Every test is bounded in time and asserts counts, not timings."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from bot.dossiers import Notifier
from bot.engine._reply import Reply
from bot.storage import VN_TZ, Storage

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=VN_TZ)


# -- 4. two processes on one database, a slow platform: each notification once ------------------


class SlowPlatform:
    """A chat platform that takes `seconds` to accept each message, shared by two workers."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.accepted: list[str] = []
        self.lock = threading.Lock()

    async def send(self, chat_id: str, reply: Reply) -> None:
        await asyncio.sleep(self.seconds)
        with self.lock:
            self.accepted.append(reply.text)


def _worker(db: Path, platform: SlowPlatform, lease: timedelta, done: threading.Event, errors: list[BaseException]) -> None:
    async def run() -> None:
        storage = Storage(db)
        try:
            notifier = Notifier(storage, {"telegram": platform.send}, lease=lease, send_timeout=5.0)
            deadline = time.monotonic() + 30
            while not done.is_set() and time.monotonic() < deadline:
                await notifier.deliver_once()
                await asyncio.sleep(0.02)
        finally:
            storage.close()

    try:
        asyncio.run(run())
    except BaseException as exc:  # reported by the test
        errors.append(exc)


def test_two_workers_with_a_slow_platform_deliver_each_notification_once(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    with Storage(db) as storage:
        for i in range(10):
            storage.enqueue(f"status:{i}", "telegram", "7001", {"text": f"notification {i}"}, T0)
    platform = SlowPlatform(0.3)  # ten messages: 3 s of sending, the lease is 1.5 s
    done = threading.Event()
    errors: list[BaseException] = []
    workers = [threading.Thread(target=_worker, args=(db, platform, timedelta(seconds=1.5), done, errors))
               for _ in range(2)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            with Storage(db) as storage:
                if storage.outbox_counts().get("sent", 0) == 10:
                    break
            time.sleep(0.1)
        time.sleep(2)  # longer than a lease: a row taken again would be sent again by now
    finally:
        done.set()
        for w in workers:
            w.join(15)
    assert not errors, errors
    counts = Counter(platform.accepted)
    assert sorted(counts) == [f"notification {i}" for i in range(10)], "every notification delivered"
    assert set(counts.values()) == {1}, f"delivered more than once: {counts}"
    with Storage(db) as storage:
        assert storage.outbox_counts() == {"sent": 10}
