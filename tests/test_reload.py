"""Knowledge reload without a restart: SIGHUP and the staff command /reload swap in the edited
knowledge; a file that fails validation leaves the last good knowledge serving and is logged
with its file and field."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
from pathlib import Path
from typing import Any

import pytest

from bot.channels._sessions import conversations
from bot.config import Settings
from bot.kb import default_knowledge_dir
from bot.server import create_app
from bot.storage import Storage
from bot.web._keys import ASSISTANT
from bot.web._runtime import RUNTIME

NEW_ALIAS = "xe đạp điện thần tốc"
WORK_PERMIT = "1.014199"


def knowledge_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(default_knowledge_dir(), target)
    return target


def add_alias(knowledge: Path) -> None:
    path = knowledge / "procedures" / f"{WORK_PERMIT}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("aliases:\n", f"aliases:\n  - {NEW_ALIAS}\n", 1), encoding="utf-8")


def break_a_file(knowledge: Path) -> Path:
    path = knowledge / "procedures" / "2.001955.yaml"
    text = path.read_text(encoding="utf-8")
    assert "unit: working_days" in text
    path.write_text(text.replace("unit: working_days", "unit: weeks", 1), encoding="utf-8")
    return path


async def codes(client: Any, text: str) -> list[str]:
    resp = await client.post("/api/ask", json={"text": text})
    assert resp.status == 200
    return [m["code"] for m in (await resp.json())["matches"]]


async def reloads(app: Any, result: str, n: int) -> None:
    """Wait (at most 30 s) until `n` reloads with `result` were counted."""
    for _ in range(3000):
        if app[RUNTIME].metrics.reloads.value(result) >= n:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no {result} reload")


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this system")
async def test_sighup_reloads_and_a_broken_file_keeps_the_last_good_knowledge(
    aiohttp_client: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    knowledge = knowledge_copy(tmp_path)
    app = create_app(Settings(knowledge=str(knowledge), db=str(tmp_path / "t.db")))
    client = await aiohttp_client(app)
    assert app[RUNTIME].reload_on_hup, "the SIGHUP handler is installed (else the signal would end the tests)"
    assert WORK_PERMIT not in await codes(client, NEW_ALIAS)
    procedures = (await (await client.get("/healthz")).json())["procedures"]

    add_alias(knowledge)
    os.kill(os.getpid(), signal.SIGHUP)
    await reloads(app, "ok", 1)
    assert (await codes(client, NEW_ALIAS))[0] == WORK_PERMIT

    caplog.set_level(logging.INFO)
    broken = break_a_file(knowledge)
    os.kill(os.getpid(), signal.SIGHUP)
    await reloads(app, "failed", 1)
    # Still serving the last good knowledge: the new alias, every procedure.
    assert (await codes(client, NEW_ALIAS))[0] == WORK_PERMIT
    assert (await (await client.get("/healthz")).json())["procedures"] == procedures
    refused = [r.getMessage() for r in caplog.records if r.name == "bot.reload" and r.levelno == logging.ERROR]
    assert any(broken.name in m and "cases[0].time.unit" in m for m in refused), refused
    metrics = await (await client.get("/metrics")).text()
    assert 'tthc_knowledge_reloads_total{result="ok"} 1' in metrics
    assert 'tthc_knowledge_reloads_total{result="failed"} 1' in metrics


async def test_staff_command_reload(aiohttp_client: Any, tmp_path: Path) -> None:
    knowledge = knowledge_copy(tmp_path)
    settings = Settings(knowledge=str(knowledge), db=str(tmp_path / "t.db"), staff_chats="telegram:-100200, zalo_bot:staff1")
    app = create_app(settings, storage=Storage(tmp_path / "t.db"))
    client = await aiohttp_client(app)
    conv = conversations(app)
    add_alias(knowledge)

    # Not a staff chat: answered as a question, nothing reloaded.
    other = await conv.answer("tg:5", "/reload", chat=("telegram", "5"))
    assert other.intent != "staff"
    assert WORK_PERMIT not in await codes(client, NEW_ALIAS)

    staff = await conv.answer("tg:-100200", "/reload", chat=("telegram", "-100200"))
    assert staff.intent == "staff"
    assert staff.reply.text.startswith("Đã nạp lại kiến thức:")
    assert (await codes(client, NEW_ALIAS))[0] == WORK_PERMIT

    broken = break_a_file(knowledge)
    failed = await conv.answer("zalo-bot:staff1", "/reload en", chat=("zalo_bot", "staff1"))
    assert failed.intent == "staff"
    assert failed.reply.text.startswith("Knowledge not reloaded (")
    assert broken.name in failed.reply.text and "cases[0].time.unit" in failed.reply.text
    assert (await codes(client, NEW_ALIAS))[0] == WORK_PERMIT
    assert app[ASSISTANT].kb.procedure(WORK_PERMIT) is not None


def test_remembered_searches_give_the_same_answers() -> None:
    from bot.conversation import build_assistant

    plain = build_assistant(Settings(), None)
    plain.index.cache_size = 0
    cached = build_assistant(Settings(), None)
    questions = ["gia han gpld mat bao lau", "còn lệ phí?", "how long does a work permit take", "xin phep xay dung",
                 "qwzx vbnm", "IRC cho công ty vốn nước ngoài cần giấy tờ gì", "gia han gpld mat bao lau"]
    for _ in range(2):  # the second time from the cache
        s1: dict[str, Any] = {}
        s2: dict[str, Any] = {}
        for q in questions:
            assert plain.answer(q, s1).to_dict() == cached.answer(q, s2).to_dict()
            assert s1 == s2
    assert cached.index.cache_hits > 0 and plain.index.cache_hits == 0
