"""The ground floor: types and helpers every other package builds on, importing none of them.

The reply model (`Reply`, `Button`, `Image`) and the `Answer` every flow returns, the typed
`ConversationState`, text folding, the dossier-code pattern and facets, Vietnam time, JSON.
"""

from ._answer import Answer, Found
from ._clock import VN_TZ, from_iso, iso, iso_us, now_vn, to_vn
from ._codes import (
    CODE_CHARS_RE,
    DOSSIER_CODE_RE,
    FACETS,
    INTENTS,
    Lang,
    find_dossier_code,
    normalize_code,
    normalize_secret,
)
from ._reply import Button, Image, Reply, split_text
from ._state import PENDING_KINDS, Asked, ConversationState, Handover, Pending, PendingKind
from ._text import detect_lang, fold, normalize, strip_marks, tokens

__all__ = [
    "CODE_CHARS_RE", "DOSSIER_CODE_RE", "FACETS", "INTENTS", "PENDING_KINDS", "VN_TZ", "Answer", "Asked", "Button",
    "ConversationState", "Found", "Handover", "Image", "Lang", "Pending", "PendingKind", "Reply",
    "detect_lang", "find_dossier_code", "fold", "from_iso", "iso", "iso_us", "normalize", "normalize_code",
    "normalize_secret", "now_vn", "split_text", "strip_marks", "tokens", "to_vn",
]
