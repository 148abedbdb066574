"""Deliver queued notifications (the outbox) through the channel that subscribed.

Every notification is first written to the outbox under an idempotency key, in the same
transaction as the change that caused it, so a status change imported twice or a digest queued
twice gives one row. `Notifier` claims one due row at a time (marking it 'sending' in a
transaction, so two delivery loops never take the same row), calls the channel's sender while
renewing the row's lease every third of it, and marks the row 'sent'. Claiming one at a time
matters with several processes on one database: rows claimed in a batch would wait behind slow
sends, outlive their lease and be taken (and sent) again by the other process.
A sender raises on failure: the row is retried later with exponential backoff, and given up
('dead') after `max_attempts`. A row left 'sending' by a process that was killed is taken again
once its lease has expired, so nothing queued is lost; the only way a message can go out twice
is a crash in the instant after the channel accepted it and before 'sent' was written.
With replicas on PostgreSQL every replica runs this loop: a claim picks rows with FOR UPDATE
SKIP LOCKED (bot/storage/_outbox.py), so two replicas never take, or wait on, the same row, and
the database calls run on a worker thread (the event loop never waits for the network).

Status-change notices (payloads with a "notice": the dossier, its status change) also carry a
"fallback": the channels to try next, in order. A sender that raises an error marked
`permanent` (a ZNS template error, an address that does not exist, a Zalo user who cannot be
reached) gives the row up at once; a row given up, so or after `max_attempts`, queues the same
notice on the next channel of its fallback (under that channel's own key: at most once per
channel). Rows of one thread (a dossier on one channel and address) are sent in order. Every
attempt of a notice is recorded in `deliveries` with the error code, and a notice to the
applicant's phone or email is dropped when the applicant stopped them meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..core import Button, Lang, Reply, now_vn, to_vn
from ..storage import Storage
from ._status import STATUSES

log = logging.getLogger("bot.dossiers")

#: A channel's sender: deliver `reply` to `chat_id`, raise on failure.
Sender = Callable[[str, Reply], Awaitable[None]]
#: A sender of whole payloads (email, ZNS render the notice themselves): (address, payload).
PayloadSender = Callable[[str, dict[str, Any]], Awaitable[None]]
#: Channels that reach the applicant at the phone or email on the record (not a chat).
DIRECT_CHANNELS = ("zns", "email")


class PermanentError(Exception):
    """A delivery that will never succeed on this channel: give up now, try the next one."""

    permanent = True

    def __init__(self, message: str, code: str | int | None = None) -> None:
        super().__init__(message)
        self.code = code
Clock = Callable[[], datetime]


def reply_to_payload(reply: Reply) -> dict[str, Any]:
    """The outbox form of a reply (text and buttons; images are not queued)."""
    return {"text": reply.text, "buttons": [b.to_dict() for b in reply.buttons]}


def payload_to_reply(payload: dict[str, Any]) -> Reply:
    """A reply back from its outbox form."""
    buttons = tuple(Button(str(b["label"]), str(b["action"])) for b in payload.get("buttons", []))
    return Reply(str(payload.get("text", "")), buttons)


def _date(text: str | None) -> str:
    if not text:
        return "—"
    return to_vn(datetime.fromisoformat(text)).strftime("%d/%m/%Y")


def status_change_text(record: dict[str, Any], lang: Lang) -> str:
    """The message a subscriber gets when a dossier's status changes."""
    st = STATUSES[record["status"]]
    code = record["code"]
    vi = lang == "vi"
    lines = [
        f"Hồ sơ {code} vừa được cập nhật." if vi else f"Dossier {code} has been updated.",
        (f"Trạng thái: {st.vi}" if vi else f"Status: {st.en}"),
    ]
    if record["status"] == 5 and record.get("supplement"):
        lines.append(("Cần bổ sung: " if vi else "Papers asked for: ") + str(record["supplement"]))
    if record["status"] in (1, 2, 4) and record.get("due_at"):
        lines.append(f"Ngày hẹn trả: {_date(record['due_at'])}" if vi else f"Due date: {_date(record['due_at'])}")
    lines.append(("Bước tiếp theo: " + st.next_vi) if vi else ("Next step: " + st.next_en))
    return "\n".join(lines)


def status_change_payload(record: dict[str, Any], lang: str) -> dict[str, Any]:
    """The outbox payload of a status-change notification in the subscriber's language."""
    lang_: Lang = "en" if lang == "en" else "vi"
    code = record["code"]
    label = "Ngừng nhận thông báo" if lang_ == "vi" else "Stop notifications"
    reply = Reply(status_change_text(record, lang_), (Button(label, f"dossier:unsub:{code}"[:64]),))
    return reply_to_payload(reply)


@dataclass
class DeliveryStats:
    """What one delivery round did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    skipped: int = 0


class Notifier:
    """Delivers the outbox through registered channel senders, with retries and backoff."""

    def __init__(
        self,
        storage: Storage,
        senders: dict[str, Sender] | None = None,
        *,
        clock: Clock = now_vn,
        max_attempts: int = 8,
        base_delay: timedelta = timedelta(seconds=30),
        max_delay: timedelta = timedelta(hours=2),
        lease: timedelta = timedelta(minutes=5),
        send_timeout: float = 60.0,
    ) -> None:
        self.storage = storage
        self.senders: dict[str, Any] = dict(senders or {})
        self.payload_senders: set[str] = set()
        self.clock = clock
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.lease = lease
        self.send_timeout = send_timeout
        self._wake = asyncio.Event()
        self._stopping = False
        #: Called with (channel, "sent" | "retry" | "dead") after each attempt (metrics).
        self.observer: Callable[[str, str], None] | None = None

    def register(self, channel: str, sender: Sender) -> None:
        """Deliver notifications of `channel` (e.g. "telegram") with `sender`."""
        self.senders[channel] = sender
        self.payload_senders.discard(channel)

    def register_payload(self, channel: str, sender: PayloadSender) -> None:
        """Deliver notifications of `channel` (e.g. "email") with a sender given the payload."""
        self.senders[channel] = sender
        self.payload_senders.add(channel)

    def backoff(self, attempts: int) -> timedelta:
        """How long to wait after the n-th failed attempt: base × 2^(n−1), at most max_delay."""
        delay = self.base_delay * (2 ** max(attempts - 1, 0))
        return min(delay, self.max_delay)

    async def _db(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A storage call: on a worker thread for a database across the network (PostgreSQL),
        here for SQLite (a local file, microseconds)."""
        if self.storage.shared:
            return await asyncio.to_thread(fn, *args, **kwargs)
        return fn(*args, **kwargs)

    async def deliver_once(self) -> DeliveryStats:
        """Deliver the notifications due now (for channels with a sender here), claiming each
        one just before sending it. Once `run` is told to stop, the delivery in flight finishes
        and nothing more is claimed (the rest stays pending, for this process after a restart or
        another one)."""
        stats = DeliveryStats()
        while True:
            if self._stopping:
                return stats
            rows = await self._db(self.storage.claim, self.clock(), self.lease, tuple(self.senders), limit=1)
            if not rows:
                return stats
            await self._deliver(rows[0], stats)

    async def _keep_lease(self, row: dict[str, Any]) -> None:
        """Renew the row's lease every third of it while its send runs (cancelled after)."""
        every = max(self.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(every)
            try:
                if not await self._db(self.storage.renew, row["id"], row["claim"], self.clock()):
                    log.warning("outbox %s (%s): lease lost while sending", row["id"], row["channel"])
                    return
            except Exception as exc:  # a busy database: try again at the next renewal
                log.warning("outbox %s: lease not renewed (%s)", row["id"], type(exc).__name__)

    def _observe(self, channel: str, result: str) -> None:
        if self.observer is not None:
            try:
                self.observer(channel, result)
            except Exception:  # pragma: no cover - metrics never stop a delivery
                log.exception("outbox observer failed")

    async def _deliver(self, row: dict[str, Any], stats: DeliveryStats) -> None:
        sender = self.senders.get(row["channel"])
        if sender is None:  # pragma: no cover - claim() only takes channels with a sender
            self.storage.release(row["id"])
            stats.skipped += 1
            return
        payload = row["payload"]
        notice = payload.get("notice") if isinstance(payload.get("notice"), dict) else None
        claim = row.get("claim")
        if notice is not None and row["channel"] in DIRECT_CHANNELS and await self._db(self.storage.notices_stopped, notice["code"]):
            await self._db(self.storage.mark_failed, row["id"], "stopped by the applicant", None, claim=claim)
            await self._record(row, notice, "stopped", None)
            stats.skipped += 1
            return
        if notice is not None and row["channel"] not in DIRECT_CHANNELS and not await self._db(
                self._subscribed, notice["code"], row["channel"], str(row["chat_id"])):
            await self._db(self.storage.mark_failed, row["id"], "the chat unsubscribed", None, claim=claim)
            await self._record(row, notice, "stopped", None)
            stats.skipped += 1
            return
        message: Any = payload if row["channel"] in self.payload_senders else payload_to_reply(payload)
        keeper = asyncio.ensure_future(self._keep_lease(row)) if claim else None
        try:
            await asyncio.wait_for(sender(str(row["chat_id"]), message), timeout=self.send_timeout)
        except asyncio.CancelledError:
            self.storage.release(row["id"], claim=claim)  # at once: the task is being cancelled
            raise
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
            permanent = bool(getattr(exc, "permanent", False))
            if permanent or row["attempts"] >= self.max_attempts:
                await self._db(self.storage.mark_failed, row["id"], error, None, claim=claim)
                stats.dead += 1
                self._observe(row["channel"], "dead")
                log.warning("outbox %s (%s): gave up after %d attempts%s: %s", row["id"], row["channel"], row["attempts"],
                            " (permanent)" if permanent else "", type(exc).__name__)
                if notice is not None:
                    await self._record(row, notice, "dead", exc)
                    await self._db(self._fall_back, row, notice)
            else:
                if notice is not None:
                    await self._record(row, notice, "retry", exc)
                retry_at = self.clock() + self.backoff(row["attempts"])
                await self._db(self.storage.mark_failed, row["id"], error, retry_at, claim=claim)
                stats.retried += 1
                self._observe(row["channel"], "retry")
                log.info("outbox %s (%s): attempt %d failed (%s), retry at %s", row["id"], row["channel"], row["attempts"], type(exc).__name__, retry_at.isoformat(timespec="seconds"))
            return
        finally:
            if keeper is not None:
                keeper.cancel()
        if not await self._db(self.storage.mark_sent, row["id"], self.clock(), claim=claim):
            log.warning("outbox %s (%s): sent, but its claim had been lost", row["id"], row["channel"])
        stats.sent += 1
        self._observe(row["channel"], "sent")
        if notice is not None:
            await self._record(row, notice, "sent", None)

    def _subscribed(self, code: str, channel: str, chat_id: str) -> bool:
        return any(s["channel"] == channel and str(s["chat_id"]) == chat_id for s in self.storage.subscribers(code))

    async def _record(self, row: dict[str, Any], notice: dict[str, Any], result: str, exc: BaseException | None) -> None:
        code = getattr(exc, "code", None) if exc is not None else None
        detail = f"{type(exc).__name__}: {exc}" if exc is not None else None
        try:
            await self._db(self.storage.record_delivery, self.clock(), row["channel"], result, notice.get("code"),
                           row["id"], None if code is None else str(code), detail)
        except Exception:  # pragma: no cover - a record never stops a delivery
            log.exception("outbox %s: delivery result not recorded", row["id"])

    def _fall_back(self, row: dict[str, Any], notice: dict[str, Any]) -> None:
        """Queue a notice given up on its channel on the next channel of its fallback (once)."""
        fallback = [tuple(x) for x in row["payload"].get("fallback") or [] if isinstance(x, list | tuple) and len(x) == 2]
        code = str(notice.get("code"))
        for i, (channel, address) in enumerate(fallback):
            if channel in DIRECT_CHANNELS and self.storage.notices_stopped(code):
                return
            payload = dict(row["payload"], fallback=[list(x) for x in fallback[i + 1:]])
            key = f"{notice.get('key')}:{channel}:{address}"
            queued = self.storage.enqueue(key, str(channel), str(address), payload, self.clock(),
                                          thread=f"{code}:{channel}:{address}")
            log.info("outbox %s (%s): falls back to %s%s", row["id"], row["channel"], channel,
                     "" if queued else " (queued there already)")
            return

    def wake(self) -> None:
        """Deliver now rather than at the next interval (e.g. right after an import)."""
        self._wake.set()

    async def run(self, interval: float = 5.0, stop: asyncio.Event | None = None) -> None:
        """Deliver every `interval` seconds, or when woken, until `stop` is set (or cancelled)."""
        stop = stop or asyncio.Event()
        self._stopping = False

        async def watch() -> None:
            await stop.wait()
            self._stopping = True

        watcher = asyncio.ensure_future(watch())
        try:
            await self._run(interval, stop)
        finally:
            watcher.cancel()

    async def _run(self, interval: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.deliver_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox delivery round failed")
            stopped = asyncio.ensure_future(stop.wait())
            woken = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({stopped, woken}, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopped.cancel()
                woken.cancel()
