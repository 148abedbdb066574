"""The answer engine: text in, a channel-agnostic Reply out."""

from ._engine import Answer, Engine
from ._index import Match, ProcedureIndex
from ._intent import DOSSIER_CODE_RE, INTENTS, IntentRules
from ._reply import Button, Image, Reply, split_text
from ._text import detect_lang, fold, normalize

__all__ = [
    "Answer", "Button", "DOSSIER_CODE_RE", "Engine", "INTENTS", "Image", "Match", "ProcedureIndex",
    "IntentRules", "Reply", "detect_lang", "fold", "normalize", "split_text",
]
