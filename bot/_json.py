"""JSON for the hot paths (answers over HTTP, conversation state): orjson, with the standard
library as the fallback for anything orjson refuses (so a reply is never lost to an odd value)."""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(obj: Any) -> bytes:
    """`obj` as compact UTF-8 JSON (non-ASCII characters as they are)."""
    try:
        return orjson.dumps(obj, option=_OPTIONS)
    except TypeError:  # a lone surrogate, an integer beyond 64 bits, an unknown type …
        return json.dumps(obj, ensure_ascii=False, default=str).encode("utf-8", "replace")


def dumps_str(obj: Any) -> str:
    """`obj` as compact JSON text."""
    return dumps(obj).decode("utf-8")


def loads(data: str | bytes) -> Any:
    """Parse JSON text or bytes (ValueError when it is not JSON)."""
    return orjson.loads(data)
