"""Links that open the bot on a procedure: deep-link payloads (t.me/<bot>?start=<payload>, QR
codes) and the action each one sends."""

from __future__ import annotations

import re

# Deep-link payloads (t.me/<bot>?start=<payload>) allow only A-Z a-z 0-9 _ - and 64 characters
# (https://core.telegram.org/bots/features#deep-linking). A procedure is written p_<code with
# "_" for ".">[_<facet>], e.g. p_1_009664 or p_1_009664_documents.
DEEP_LINK_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PROCEDURE_LINK_RE = re.compile(r"^p_(\d+)_(\d+)(?:_([a-z]+))?$")


def start_action(payload: str | None) -> str:
    """The engine action for `/start <payload>`: a procedure for p_… links, else the greeting."""
    if payload and DEEP_LINK_RE.match(payload):
        m = _PROCEDURE_LINK_RE.match(payload)
        if m:
            return f"p:{m.group(1)}.{m.group(2)}:{m.group(3) or 'procedure'}"
    return "menu:greeting"


def procedure_deep_link(code: str, facet: str | None = None) -> str:
    """The /start payload that opens procedure `code` (the inverse of `start_action`)."""
    payload = "p_" + code.replace(".", "_") + (f"_{facet}" if facet else "")
    if not DEEP_LINK_RE.match(payload):
        raise ValueError(f"not a deep-linkable procedure code: {code!r}")
    return payload
