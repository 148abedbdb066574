"""JSON for the hot paths (answers over HTTP, conversation state): orjson, with the standard
library as the fallback for anything orjson refuses (so a reply is never lost to an odd value)."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
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


#: Deepest nesting accepted in a body from outside (a Telegram update is about 6 deep).
MAX_DEPTH = 64
#: Largest body parsed (the server refuses bigger ones with 413 before any handler runs).
MAX_BYTES = 1024 * 1024
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def too_deep(data: bytes, max_depth: int = MAX_DEPTH) -> bool:
    """True when the arrays and objects of JSON text `data` nest deeper than `max_depth`
    (brackets inside strings do not count). Linear and without recursion, so it is safe on
    anything a client sends (1 MB of "[" takes about 50 ms)."""
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return False
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    if not brackets:
        return False
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == 0x5B) | (codes == 0x7B), 1, -1).astype(np.int32)
    return int(np.cumsum(steps).max()) > max_depth


def loads_untrusted(data: bytes | str, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES,
                    lone_surrogates: bool = False) -> Any:
    """Parse a body a client sent: ValueError (and never RecursionError or MemoryError) when it
    is larger than `max_bytes`, nested deeper than `max_depth` (checked before parsing), not
    UTF-8 or not JSON. A lone surrogate ("\\ud83d": an emoji cut in half) is refused too, unless
    `lone_surrogates`: then such a body is parsed by the standard library (safe: the nesting is
    bounded already) and the caller validates its ids (a text may hold one, an id never)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if len(raw) > max_bytes:
        raise ValueError(f"JSON body over {max_bytes} bytes")
    if too_deep(raw, max_depth):
        raise ValueError(f"JSON nested deeper than {max_depth}")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if not (lone_surrogates and "surrogate" in str(exc)):
            raise
    return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
