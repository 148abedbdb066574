"""Staff teach the bot: `tthc-bot kb learn "QUESTION" CODE` adds an example the matcher learns."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from bot.conversation import Assistant
from bot.kb import default_knowledge_dir, load_knowledge


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    shutil.copytree(default_knowledge_dir(), root)
    return root


def test_a_taught_question_is_answered_after_reload(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    question = "bên em định mở xưởng sản xuất giày dép trong khu công nghiệp, phải xin giấy gì trước"
    before = Assistant(load_knowledge(root)).answer(question, {})
    assert [m.procedure.code for m in before.matches][:1] != ["1.009664"] or before.unsure
    run = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "learn", question, "1.009664", str(root)],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "1.009664.yaml" in run.stdout
    data = yaml.safe_load((root / "procedures" / "1.009664.yaml").read_text(encoding="utf-8"))
    assert question in data["examples"]
    after = Assistant(load_knowledge(root)).answer(question, {})
    assert [m.procedure.code for m in after.matches][:1] == ["1.009664"]


def test_learn_refuses_an_unknown_code_and_leaves_files_alone(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    before = {p.name: p.read_bytes() for p in (root / "procedures").iterdir()}
    run = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "learn", "câu hỏi nào đó", "9.999999", str(root)],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 1 and "9.999999" in run.stderr
    assert {p.name: p.read_bytes() for p in (root / "procedures").iterdir()} == before


def test_learn_adds_an_examples_list_where_there_is_none(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "procedures" / "1.009664.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.pop("examples", None)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "learn", 'hỏi "IRC" mới: cần gì?', "1.009664", str(root)],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["examples"] == ['hỏi "IRC" mới: cần gì?']
