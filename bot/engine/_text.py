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

# Common English words; a question made of these (and no Vietnamese marks) is English.
EN_WORDS = frozenset(
    """a an the is are am be been was were do does did done how what when where which who whom why
    i me my we our you your he she it its they their this that these those there here of to for in on
    at by with from into about as and or but not no yes can could should would will shall may might
    must need needs get got give take make apply applying application file filing submit send
    long much many cost costs fee fees price pay paid free online document documents paper papers
    procedure procedures process processing time days day working permit license licence certificate
    registration register investment investor project company business foreign worker workers hello
    hi hey thanks thank please help status dossier roadmap contact phone hotline email address office
    building construction environmental environment impact assessment policy approval amend amendment
    extend extension renew renewal reissue terminate termination suspend suspension transfer capital
    contribution share shares purchase requirement requirements required steps step information info
    good morning afternoon evening bye ok okay new change adjust adjustment issue issuance want like
    know tell show list all some any other same just only also than then if so very more most less""".split()
)

_EN_ONLY = EN_WORDS - {"a", "an", "i", "to", "do", "on", "in", "no", "so", "be", "he", "me", "we", "hi", "ok"}


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


def tokens(text: str) -> list[str]:
    """The folded words of `text`."""
    return fold(text).split()


def has_vietnamese_marks(text: str) -> bool:
    """True when the text carries Vietnamese letters or tone marks."""
    return bool(_VI_MARKS_RE.search(text))


def is_vi_syllable(token: str) -> bool:
    """True when a folded token could be a Vietnamese syllable written without diacritics."""
    return bool(_VI_SYLLABLE_RE.match(token))


def detect_lang(text: str, default: str = "vi") -> str:
    """'vi' or 'en'. Vietnamese marks decide at once; otherwise count words that can only be
    English against words that read as Vietnamese syllables. Undecided text keeps `default`."""
    if has_vietnamese_marks(text):
        return "vi"
    words = [w for w in tokens(text) if not w.isdigit()]
    if not words:
        return default
    en = sum(1 for w in words if w in EN_WORDS)
    en_only = sum(1 for w in words if w in _EN_ONLY or (not is_vi_syllable(w) and len(w) > 3))
    vi = sum(1 for w in words if is_vi_syllable(w) and w not in _EN_ONLY)
    if en and (en_only > vi or en >= len(words) * 0.6):
        return "en"
    if vi > en_only:
        return "vi"
    return default
