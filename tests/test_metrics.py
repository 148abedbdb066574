"""GET /metrics in the Prometheus text format: requests, answers by intent, unanswered, latency,
outbox depth, failed deliveries; and structured (JSON) log lines."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.core import now_vn
from bot.logs import JsonFormatter, configure_logging
from bot.server import create_app
from bot.storage import Storage
from bot.web._dossiers import NOTIFIER

SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? -?[0-9.e+-]+(Inf)?$')


def parse(text: str) -> dict[str, float]:
    """Every sample line → value; fails on a line that is not valid exposition format."""
    out: dict[str, float] = {}
    types: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge", "histogram"), line
            types[name] = kind
            continue
        if line.startswith("# HELP ") or not line:
            continue
        assert SAMPLE.match(line), f"not a sample line: {line!r}"
        name, _, value = line.rpartition(" ")
        out[name] = float(value)
    assert types, "no metric announced"
    return out


async def test_metrics_count_requests_answers_latency_outbox_and_deliveries(aiohttp_client: Any, tmp_path: Path) -> None:
    storage = Storage(tmp_path / "t.db")
    app = create_app(Settings(db=str(tmp_path / "t.db")), storage=storage)
    client = await aiohttp_client(app)
    for text in ("gia han gpld mat bao lau", "how long does a work permit take", "qwzx vbnm plokij"):
        assert (await client.post("/api/ask", json={"text": text})).status == 200
    assert (await client.post("/api/ask", data=b"{")).status == 400
    assert (await client.get("/no/such/page")).status == 404

    # One notification that fails (retry) and one that cannot be sent at all (dead).
    now = now_vn()
    storage.enqueue("k1", "fake", "1", {"text": "x"}, now)
    storage.enqueue("k2", "fake", "2", {"text": "y"}, now)
    notifier = app[NOTIFIER]

    async def refuse(chat_id: str, reply: Any) -> None:
        raise RuntimeError("refused")

    notifier.register("fake", refuse)
    notifier.max_attempts = 1
    storage.enqueue("k3", "fake", "3", {"text": "z"}, now + timedelta(days=1))  # not due: stays pending
    await notifier.deliver_once()

    resp = await client.get("/metrics")
    assert resp.status == 200 and resp.content_type == "text/plain"
    m = parse(await resp.text())
    assert m['tthc_http_requests_total{route="/api/ask",method="POST",status="200"}'] == 3
    assert m['tthc_http_requests_total{route="/api/ask",method="POST",status="400"}'] == 1
    assert m['tthc_http_requests_total{route="unmatched",method="GET",status="404"}'] == 1
    assert m['tthc_answers_total{channel="web",intent="time"}'] == 2
    assert m['tthc_unanswered_total{channel="web"}'] == 1
    assert m['tthc_answer_duration_seconds_count{channel="web"}'] == 3
    assert m['tthc_answer_duration_seconds_bucket{channel="web",le="+Inf"}'] == 3
    assert m['tthc_http_request_duration_seconds_count{route="/api/ask"}'] == 4
    assert m['tthc_outbox_deliveries_total{channel="fake",result="dead"}'] == 2
    assert m['tthc_outbox_messages{state="dead"}'] == 2
    assert m['tthc_outbox_messages{state="pending"}'] == 1
    assert m["tthc_knowledge_procedures"] > 0
    assert m["tthc_answer_queue"] == 0


async def test_metrics_token(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(Settings(db=str(tmp_path / "t.db"), metrics_token="m3trics-Token")))
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer m3trics-Token"})).status == 200


def test_json_logs_are_one_object_per_line_with_extra_fields() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    old_handlers, old_level = list(root.handlers), root.level
    try:
        handler = configure_logging(Settings(log_format="json", log_level="INFO"), stream=stream)
        assert isinstance(handler.formatter, JsonFormatter)
        log = logging.getLogger("bot.test")
        log.info("ask intent=%s ms=%.1f", "time", 1.25, extra={"intent": "time", "ms": 1.25})
        log.debug("not shown")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed for 0912 345 678")
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in old_handlers:
            root.addHandler(h)
        root.setLevel(old_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2
    first, second = lines
    assert first["msg"] == "ask intent=time ms=1.2" and first["intent"] == "time" and first["ms"] == 1.25
    assert first["level"] == "INFO" and first["logger"] == "bot.test" and first["ts"].endswith("Z")
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exc"]
    assert "0912" not in second["msg"] and "[redacted]" in second["msg"]
