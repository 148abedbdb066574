"""Delivering notifications: retries with backoff, giving up, and surviving a kill."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import bot
from bot.core import Reply
from bot.dossiers import Notifier, import_records
from bot.storage import VN_TZ, Storage

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=VN_TZ)
CODE = "H42.25-260213-0001"


def record(status: int) -> dict[str, Any]:
    return {
        "MaHoSo": CODE,
        "TenTTHC": "Cấp giấy phép lao động",
        "SoDienThoai": "0912345678",
        "NgayTiepNhan": "20260213103000",
        "NgayHenTra": "20260306170000",
        "TrangThaiHoSo": status,
        "MaTraCuu": "AB12CD",
    }


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Channel:
    """A channel that fails its first `failures` sends, and records what it delivered."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls = 0
        self.delivered: list[tuple[str, Reply]] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("channel down")
        self.delivered.append((chat_id, reply))


@pytest.fixture
def storage(db_url: str) -> Iterator[Storage]:
    s = Storage(db_url)
    import_records(s, [(1, record(4))], now=T0)
    s.subscribe(CODE, "telegram", "111", "vi", T0)
    yield s
    s.close()


async def test_failing_channel_recovers_with_backoff_and_delivers_once(storage: Storage) -> None:
    import_records(storage, [(1, record(9))], now=T0)
    channel = Channel(failures=2)
    clock = Clock(T0)
    notifier = Notifier(storage, {"telegram": channel.send}, clock=clock, base_delay=timedelta(seconds=30))

    stats = await notifier.deliver_once()
    assert (stats.sent, stats.retried) == (0, 1)
    clock.now = T0 + timedelta(seconds=10)  # not due yet: nothing is tried
    assert (await notifier.deliver_once()).retried == 0 and channel.calls == 1
    clock.now = T0 + timedelta(seconds=30)
    assert (await notifier.deliver_once()).retried == 1
    clock.now = T0 + timedelta(seconds=60)  # the second wait is twice as long
    assert channel.calls == 2 and (await notifier.deliver_once()).sent == 0
    clock.now = T0 + timedelta(seconds=90)
    assert (await notifier.deliver_once()).sent == 1
    clock.now = T0 + timedelta(days=1)
    await notifier.deliver_once()

    assert channel.calls == 3
    ((chat, reply),) = channel.delivered
    assert chat == "111"
    assert f"Hồ sơ {CODE} vừa được cập nhật" in reply.text and "Đã xử lý xong" in reply.text
    assert [b.action for b in reply.buttons] == [f"dossier:unsub:{CODE}"]
    (row,) = storage.outbox()
    assert row["state"] == "sent" and row["attempts"] == 3


async def test_a_channel_that_never_recovers_is_given_up(storage: Storage) -> None:
    import_records(storage, [(1, record(9))], now=T0)
    channel = Channel(failures=100)
    clock = Clock(T0)
    notifier = Notifier(storage, {"telegram": channel.send}, clock=clock, max_attempts=3, base_delay=timedelta(seconds=1))
    for _ in range(6):
        await notifier.deliver_once()
        clock.now += timedelta(hours=1)
    assert channel.calls == 3
    (row,) = storage.outbox()
    assert row["state"] == "dead" and "ConnectionError" in row["last_error"]


async def test_only_the_channel_that_subscribed_delivers(storage: Storage) -> None:
    storage.subscribe(CODE, "zalo", "z1", "en", T0)
    import_records(storage, [(1, record(10))], now=T0)
    telegram = Channel()
    notifier = Notifier(storage, {"telegram": telegram.send}, clock=Clock(T0))
    assert (await notifier.deliver_once()).sent == 1
    assert [c for c, _ in telegram.delivered] == ["111"]
    # The Zalo notification waits, untouched, for a process that can send it.
    (zalo,) = storage.outbox("pending")
    assert zalo["channel"] == "zalo" and zalo["attempts"] == 0
    zalo_channel = Channel()
    notifier.register("zalo", zalo_channel.send)
    assert (await notifier.deliver_once()).sent == 1
    assert "Result" in zalo_channel.delivered[0][1].text or "result" in zalo_channel.delivered[0][1].text


async def test_run_loop_delivers_until_stopped(storage: Storage) -> None:
    import_records(storage, [(1, record(9))], now=T0)
    stop = asyncio.Event()
    got: list[str] = []

    async def send(chat_id: str, reply: Reply) -> None:
        got.append(chat_id)
        stop.set()

    await asyncio.wait_for(Notifier(storage, {"telegram": send}, clock=Clock(T0)).run(interval=0.01, stop=stop), 10)
    assert got == ["111"]


CHILD = r"""
import asyncio, sys
from bot.dossiers import Notifier, import_records
from bot.storage import Storage

db, mode = sys.argv[1], sys.argv[2]
storage = Storage(db)
record = {"MaHoSo": "H42.25-260213-0001", "TenTTHC": "Cấp giấy phép lao động", "SoDienThoai": "0912345678",
          "NgayTiepNhan": "20260213103000", "NgayHenTra": "20260306170000", "TrangThaiHoSo": 9, "MaTraCuu": "AB12CD"}
result = import_records(storage, [(1, record)])
print("queued", result.notifications, flush=True)
if mode == "mid-send":
    async def hang(chat_id, reply):
        print("sending", flush=True)
        await asyncio.Event().wait()
    asyncio.run(Notifier(storage, {"telegram": hang}).deliver_once())
else:
    sys.stdin.read()
"""


@pytest.mark.parametrize("mode", ["queued", "mid-send"])
async def test_kill_between_queueing_and_delivery_loses_nothing_and_sends_once(
    storage: Storage, db_url: str, mode: str
) -> None:
    root = Path(bot.__file__).resolve().parent.parent
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url, mode],
        cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "queued 1"
        if mode == "mid-send":
            assert child.stdout.readline().strip() == "sending"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        for stream in (child.stdin, child.stdout, child.stderr):
            if stream is not None:
                stream.close()
    assert child.returncode == -signal.SIGKILL

    # A new delivery run after the restart (later than the dead process's lease).
    channel = Channel()
    clock = Clock(datetime.now(VN_TZ) + timedelta(minutes=10))
    notifier = Notifier(storage, {"telegram": channel.send}, clock=clock, lease=timedelta(minutes=5))
    assert (await notifier.deliver_once()).sent == 1
    clock.now += timedelta(hours=3)
    assert (await notifier.deliver_once()).sent == 0
    assert len(channel.delivered) == 1
    assert "Đã xử lý xong" in channel.delivered[0][1].text
