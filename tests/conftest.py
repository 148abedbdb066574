"""Fixtures shared by the test files: an empty database of the test's own (on SQLite and, with
a PostgreSQL to test on, on PostgreSQL: `db_url`, `storage`), the bundled calendar.

A file that needs a database with data in it defines its own `storage` fixture (it wins)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pgtest import fresh_schema

from bot.storage import Storage
from bot.workdays import WorkCalendar, default_calendar_file

BACKENDS = ("sqlite", "postgres")


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """TTHC_DB of an empty database: an SQLite file, or a fresh schema on the test PostgreSQL."""
    if request.param == "sqlite":
        yield str(tmp_path / "bot.db")
        return
    with fresh_schema() as url:
        yield url


@pytest.fixture
def storage(db_url: str) -> Iterator[Storage]:
    s = Storage(db_url)
    yield s
    s.close()


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar.load(default_calendar_file())
