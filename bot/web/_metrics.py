"""Counters and histograms in the Prometheus text format (GET /metrics), without a dependency.

Labels are bounded: routes are the route templates ("/api/dossiers/{code}", "unmatched" for
any other path), channels and intents come from fixed lists, so a flood of odd paths cannot
grow the series without end.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterable

INF = 'le="+Inf"'
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: tuple[str, ...], values: tuple[str, ...], extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class Counter:
    """A monotonically increasing count per label set."""

    kind = "counter"

    def __init__(self, name: str, help: str, labels: tuple[str, ...] = ()) -> None:
        self.name, self.help, self.labelnames = name, help, labels
        self._values: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def inc(self, *labels: str, by: float = 1.0) -> None:
        with self._lock:
            self._values[labels] = self._values.get(labels, 0.0) + by

    def value(self, *labels: str) -> float:
        return self._values.get(labels, 0.0)

    def samples(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{_labels(self.labelnames, k)} {_num(v)}" for k, v in items]


class Gauge(Counter):
    """A value that goes up and down (set at scrape time)."""

    kind = "gauge"

    def set(self, *labels: str, value: float) -> None:
        with self._lock:
            self._values[labels] = float(value)


class Histogram:
    """Observations in cumulative buckets, with their sum and count, per label set."""

    kind = "histogram"

    def __init__(self, name: str, help: str, labels: tuple[str, ...] = (), buckets: Iterable[float] = LATENCY_BUCKETS) -> None:
        self.name, self.help, self.labelnames = name, help, labels
        self.buckets = tuple(sorted(buckets))
        self._data: dict[tuple[str, ...], list[float]] = {}  # counts per bucket + [+Inf, sum]
        self._lock = threading.Lock()

    def observe(self, *labels: str, value: float) -> None:
        with self._lock:
            data = self._data.get(labels)
            if data is None:
                data = self._data[labels] = [0.0] * (len(self.buckets) + 2)
            data[bisect_left(self.buckets, value)] += 1
            data[-1] += value

    def count(self, *labels: str) -> int:
        data = self._data.get(labels)
        return int(sum(data[:-1])) if data else 0

    def samples(self) -> list[str]:
        with self._lock:
            items = sorted((k, list(v)) for k, v in self._data.items())
        out = []
        for key, data in items:
            running = 0.0
            for bound, n in zip(self.buckets, data, strict=False):
                running += n
                le = 'le="' + _num(bound) + '"'
                out.append(f"{self.name}_bucket{_labels(self.labelnames, key, le)} {_num(running)}")
            running += data[len(self.buckets)]
            out.append(f"{self.name}_bucket{_labels(self.labelnames, key, INF)} {_num(running)}")
            out.append(f"{self.name}_sum{_labels(self.labelnames, key)} {repr(data[-1])}")
            out.append(f"{self.name}_count{_labels(self.labelnames, key)} {_num(running)}")
        return out


class Metrics:
    """The bot's metrics. One per app; rendered by GET /metrics."""

    def __init__(self) -> None:
        self.requests = Counter("tthc_http_requests_total", "HTTP requests, by route template, method and status", ("route", "method", "status"))
        self.request_seconds = Histogram("tthc_http_request_duration_seconds", "Time to answer an HTTP request, by route template", ("route",))
        self.answers = Counter("tthc_answers_total", "Messages answered, by channel and intent", ("channel", "intent"))
        self.unanswered = Counter("tthc_unanswered_total", "Questions the bot found no answer for (intent unknown), by channel", ("channel",))
        self.answer_seconds = Histogram("tthc_answer_duration_seconds", "Time to answer one message (load state, engine, save state), by channel", ("channel",))
        self.limited = Counter("tthc_limited_total", "Messages or requests refused by a limit: user (per chat), ip (per address), busy (queue full)", ("limit",))
        self.deliveries = Counter("tthc_outbox_deliveries_total", "Notification delivery attempts, by channel and result (sent, retry, dead)", ("channel", "result"))
        self.reloads = Counter("tthc_knowledge_reloads_total", "Knowledge reloads, by result (ok, failed)", ("result",))
        self.outbox = Gauge("tthc_outbox_messages", "Notifications in the outbox, by state (pending, sending, sent, dead)", ("state",))
        self.procedures = Gauge("tthc_knowledge_procedures", "Procedures in the knowledge being served")
        self.queue = Gauge("tthc_answer_queue", "Messages waiting for or being answered by the engine")

    def all(self) -> list[Counter | Histogram]:
        return [self.requests, self.request_seconds, self.answers, self.unanswered, self.answer_seconds,
                self.limited, self.deliveries, self.reloads, self.outbox, self.procedures, self.queue]

    def delivery(self, channel: str, result: str) -> None:
        """The outbox notifier's report of one delivery attempt."""
        self.deliveries.inc(channel, result)

    def render(self) -> str:
        """Everything in the Prometheus text exposition format (version 0.0.4)."""
        lines: list[str] = []
        for metric in self.all():
            lines.append(f"# HELP {metric.name} {metric.help}")
            lines.append(f"# TYPE {metric.name} {metric.kind}")
            lines.extend(metric.samples())
        return "\n".join(lines) + "\n"
