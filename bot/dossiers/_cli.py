"""`tthc-bot dossiers …`, `due`, `report`, `demo-data`."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Register the dossier commands (filled in by the dossiers feature)."""
