"""The answer engine: procedure and FAQ questions in, an `Answer` with a channel-agnostic Reply out."""

from ..core import (
    DOSSIER_CODE_RE,
    INTENTS,
    Answer,
    Button,
    Image,
    Reply,
    detect_lang,
    fold,
    normalize,
    split_text,
)
from ._engine import Engine
from ._index import Match, ProcedureIndex
from ._intent import IntentRules

__all__ = [
    "Answer", "Button", "DOSSIER_CODE_RE", "Engine", "INTENTS", "Image", "Match", "ProcedureIndex",
    "IntentRules", "Reply", "detect_lang", "fold", "normalize", "split_text",
]
