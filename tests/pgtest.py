"""A real PostgreSQL for the tests: TTHC_TEST_PG names a database the tests may use
(postgresql://user:pass@127.0.0.1:port/db; .ci/run starts one and sets it). Each test gets a
schema of its own (`fresh_schema`), dropped afterwards. Without TTHC_TEST_PG the PostgreSQL
variants skip, except in CI (CI set), where they fail: CI always runs them."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest

PG_URL = os.environ.get("TTHC_TEST_PG", "")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def require_pg() -> str:
    """The test database's URL; skips the test without one (fails it in CI)."""
    if not PG_URL:
        if in_ci():
            pytest.fail("TTHC_TEST_PG is not set: CI runs every test on PostgreSQL too (.ci/run starts it)")
        pytest.skip("TTHC_TEST_PG not set: no PostgreSQL to test on")
    return PG_URL


def with_schema(url: str, schema: str) -> str:
    """`url` with its connections' search_path set to `schema` (tables are created there)."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A URL whose tables live in a new, empty schema; the schema is dropped afterwards."""
    import psycopg

    url = require_pg()
    schema = "t_" + secrets.token_hex(6)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_schema(url, schema)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
