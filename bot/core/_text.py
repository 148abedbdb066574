"""Text handling for Vietnamese and English questions: normalising, folding, language."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Control characters except tab and newline; zero-width and bidi marks that break matching.
_CONTROL_RE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\ud800-\udfff]"
)
_NON_WORD_RE = re.compile(r"[^0-9a-z]+")
_VI_MARKS_RE = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE
)

# A syllable of Vietnamese written without diacritics: onset, vowel nucleus, coda.
_VI_SYLLABLE_RE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?"
    r"(uye|uya|oai|oay|oeo|uoi|uou|ieu|yeu|uay|uey|ai|ao|au|ay|eo|eu|ia|ie|iu|oa|oe|oi|oo|ua|ue|ui|uo|uu|uy|ye|[aeiouy])"
    r"(ng|nh|ch|[cmnpt])?$"
)

def normalize(text: str, limit: int = 500) -> str:
    """NFC, control characters removed, white space squeezed, cut to `limit` characters at a
    word boundary (long input is cut before matching, never rejected)."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL_RE.sub(" ", text)
    text = " ".join(text.split())
    if len(text) > limit:
        cut = text.rfind(" ", 0, limit)
        text = text[: cut if cut > limit // 2 else limit]
    return text


def strip_marks(text: str) -> str:
    """Remove Vietnamese diacritics (đ → d), keeping case."""
    if text.isascii():
        return text
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    if decomposed.isascii():
        return decomposed
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn"))


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower-case, diacritics removed, anything but letters and digits made a single space.
    (Cached: one answer folds the same question four or five times, and the knowledge's own
    phrases recur.)"""
    return " ".join(_NON_WORD_RE.sub(" ", strip_marks(text.lower())).split())


@lru_cache(maxsize=8192)
def _char_folded(ch: str) -> str:
    # One character at a time is the slow path of strip_marks: each distinct one is done once.
    return strip_marks(ch)


def marked_words(text: str) -> list[str]:
    """The words of `text` as `fold` splits them, lower-case but with their Vietnamese marks
    ("Động của" → ["động", "của"], where `fold` gives ["dong", "cua"]): one for each folded word."""
    out: list[str] = []
    current: list[str] = []
    for ch in unicodedata.normalize("NFC", text.lower()):
        folded = _char_folded(ch)
        if len(folded) == 1 and ("0" <= folded <= "9" or "a" <= folded <= "z"):
            current.append(ch)
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return out


def tokens(text: str) -> list[str]:
    """The folded words of `text`."""
    return fold(text).split()


def has_vietnamese_marks(text: str) -> bool:
    """True when the text carries Vietnamese letters or tone marks."""
    return bool(_VI_MARKS_RE.search(text))


def is_vi_syllable(token: str) -> bool:
    """True when a folded token could be a Vietnamese syllable written without diacritics."""
    return bool(_VI_SYLLABLE_RE.match(token))


def detect_lang(
    text: str, default: str = "vi", english_words: frozenset[str] | None = None,
    ambiguous: frozenset[str] | None = None,
) -> str:
    """'vi' or 'en'. Vietnamese marks decide at once; otherwise count words that can only be
    English against words that read as Vietnamese syllables. Undecided text keeps `default`.
    `english_words` and `ambiguous` (English words that also read as Vietnamese: "to", "do") are
    the knowledge's vocabulary (knowledge/vocabulary.yaml); without them only the letters decide."""
    if has_vietnamese_marks(text):
        return "vi"
    words = [w for w in tokens(text) if not w.isdigit()]
    if not words:
        return default
    english_words = english_words or frozenset()
    ambiguous = ambiguous or frozenset()
    en_only_words = english_words - ambiguous
    en = sum(1 for w in words if w in english_words)
    en_only = sum(1 for w in words if w in en_only_words or (not is_vi_syllable(w) and len(w) > 3))
    vi = sum(1 for w in words if is_vi_syllable(w) and w not in en_only_words)
    if en and (en_only > vi or en >= len(words) * 0.6):
        return "en"
    if vi > en_only:
        return "vi"
    return default

