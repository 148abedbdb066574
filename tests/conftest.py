"""Fixtures shared by the test files: an empty database of the test's own, the bundled calendar.

A file that needs a database with data in it defines its own `storage` fixture (it wins)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.storage import Storage
from bot.workdays import WorkCalendar, default_calendar_file


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    s = Storage(tmp_path / "bot.db")
    yield s
    s.close()


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar.load(default_calendar_file())
