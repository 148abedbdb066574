"""knowledge/vocabulary.yaml: the bot's language as data (synonyms, texting spellings, variant
words, stop words, facet and intent phrases, out-of-scope topics, English words).

Everything is stored folded (lower case, no diacritics), the form the engine compares. Phrases may
use "…" (a gap of up to four words; "……" up to twelve) and "{class}" (any phrase of a word class); `Vocabulary.phrases`
compiles them. Staff edit the file; `tthc-bot kb check` validates it like the other files.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..core._text import fold, has_vietnamese_marks, marked_words

if TYPE_CHECKING:
    from ._loader import _Checker

#: The facets (bot.core.FACETS) in the order they are tried: when a question holds phrases of
#: several, the first facet here wins.
FACET_ORDER = ("level", "time", "fee", "legal", "where", "documents")
INTENT_NAMES = ("status", "roadmap", "contact", "greeting", "thanks", "affirm")
GAP = "…"
LONG_GAP = "……"
_CLASS_RE = re.compile(r"\{([a-z_]+)\}")


def fold_text(text: str) -> str:
    """Lower case, Vietnamese marks removed (đ → d), anything but letters and digits a single space."""
    text = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return " ".join(re.sub(r"[^0-9a-z…{}_]+", " ", text).split())


@dataclass(frozen=True)
class OutOfScope:
    """A topic the board does not handle, recognised by phrases, with what to say instead."""

    topic: str
    when: tuple[str, ...]
    unless: tuple[str, ...]
    reply: str
    reply_en: str


@dataclass(frozen=True)
class Vocabulary:
    """The language the engine recognises; all phrases folded."""

    classes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    texting: dict[str, str] = field(default_factory=dict)
    synonyms: tuple[tuple[str, str], ...] = ()
    #: How each Vietnamese synonym is written with its marks (folded → marked forms): "đóng cửa"
    #: folds like "động của", and only the marks tell them apart.
    synonym_marks: dict[str, frozenset[str]] = field(default_factory=dict)
    #: The official wording of synonyms as written with its marks (folded → marked), so that a
    #: rewritten phrase keeps them: "GPLĐ của" becomes "giấy phép lao động của", not "… đóng cửa".
    means_marks: dict[str, str] = field(default_factory=dict)
    variants: tuple[str, ...] = ()
    not_variants: tuple[str, ...] = ()
    stopwords: frozenset[str] = frozenset()
    courtesy: frozenset[str] = frozenset()
    #: How each stop or courtesy word is written with its marks (folded → marked forms): a word
    #: written with other marks is another word ("xưởng" is not "xuống", "bán" not "bạn").
    stop_marks: dict[str, frozenset[str]] = field(default_factory=dict)
    facets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    strip: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    negations: tuple[str, ...] = ()
    alternatives: frozenset[str] = frozenset()
    background: tuple[str, ...] = ()
    background_ends: tuple[str, ...] = ()
    question_breaks: tuple[str, ...] = ()
    intents: dict[str, tuple[str, ...]] = field(default_factory=dict)
    out_of_scope: tuple[OutOfScope, ...] = ()
    english_words: frozenset[str] = frozenset()
    english_ambiguous: frozenset[str] = frozenset()
    file: str = field(default="", compare=False)

    def pattern(self, phrases: tuple[str, ...]) -> re.Pattern[str] | None:
        """One regular expression over folded text for a list of phrases ("…" and "{class}" expanded)."""
        return compile_phrases(phrases, self.classes)

    @cached_property
    def facet_patterns(self) -> dict[str, re.Pattern[str] | None]:
        return {name: self.pattern(self.facets.get(name, ())) for name in FACET_ORDER}

    @cached_property
    def intent_patterns(self) -> dict[str, re.Pattern[str] | None]:
        return {name: self.pattern(self.intents.get(name, ())) for name in INTENT_NAMES}

    @cached_property
    def plain_strip(self) -> tuple[str, ...]:
        """The phrases left out before matching procedure names: facet phrases without gaps or
        classes, `strip` and `context`; longest first."""
        found = {p for phrases in self.facets.values() for p in phrases if GAP not in p and "{" not in p}
        found |= set(self.strip) | set(self.context)
        return tuple(sorted(found, key=lambda p: (-len(p), p)))


def compile_phrases(phrases: tuple[str, ...], classes: dict[str, tuple[str, ...]]) -> re.Pattern[str] | None:
    """A regex matching any of `phrases` on word boundaries of folded text."""
    if not phrases:
        return None
    parts = []
    for phrase in phrases:
        words = []
        for token in phrase.split():
            if token in (GAP, LONG_GAP):
                words.append(r"(?:\S+ ){0,4}" if token == GAP else r"(?:\S+ ){0,12}")
                continue
            m = _CLASS_RE.fullmatch(token)
            if m:
                alts = sorted(classes.get(m.group(1), ()), key=len, reverse=True)
                words.append("(?:" + "|".join(re.escape(a) for a in alts) + ") ")
            else:
                words.append(re.escape(token) + " ")
        parts.append("".join(words))
    # Each phrase ends with a space; the text is matched padded with spaces on both sides.
    return re.compile(r"(?<= )(?:" + "|".join(parts) + ")")


def matches(pattern: re.Pattern[str] | None, folded: str) -> bool:
    """True when `pattern` (from compile_phrases) occurs in a folded text."""
    return bool(pattern and pattern.search(f" {folded} "))


VOCABULARY_FIELDS = {
    "classes", "texting", "synonyms", "variants", "not_variants", "stopwords", "courtesy", "facets",
    "strip", "context", "negations", "alternatives", "background", "background_ends", "question_breaks", "intents", "out_of_scope", "english_words", "english_ambiguous",
}


def read_vocabulary(data: Any, c: _Checker) -> Vocabulary | None:
    """Validate vocabulary.yaml; problems name the section and the entry."""
    d = c.mapping(data, (), VOCABULARY_FIELDS)
    if not d:
        return None
    n = len(c.problems)

    def phrases(value: Any, path: tuple[Any, ...]) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            c.problem(path, "must be a list of phrases")
            return ()
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, (str, int)) or not fold_text(str(item)):
                c.problem(path + (i,), "must be a non-empty phrase")
                continue
            out.append(fold_text(str(item)))
        return tuple(out)

    def words(value: Any, path: tuple[Any, ...]) -> frozenset[str]:
        if value is None:
            return frozenset()
        if not isinstance(value, str):
            c.problem(path, "must be words separated by spaces")
            return frozenset()
        return frozenset(fold_text(value).split())

    classes: dict[str, tuple[str, ...]] = {}
    raw_classes = d.get("classes") or {}
    if not isinstance(raw_classes, dict):
        c.problem(("classes",), "must map a class name to its phrases")
        raw_classes = {}
    for name, value in raw_classes.items():
        if not isinstance(name, str) or not re.fullmatch(r"[a-z_]+", name):
            c.problem(("classes", name), "a class name is lower-case letters and _ only")
            continue
        classes[name] = phrases(value, ("classes", name))

    texting: dict[str, str] = {}
    raw_texting = d.get("texting") or {}
    if not isinstance(raw_texting, dict):
        c.problem(("texting",), "must map a spelling to the word meant")
        raw_texting = {}
    for key, value in raw_texting.items():
        k, v = fold_text(str(key)), fold_text(str(value)) if value is not None else ""
        if len(k.split()) != 1 or not v:
            c.problem(("texting", key), "must be one word mapped to the word or phrase meant")
            continue
        texting[k] = v

    synonyms: list[tuple[str, str]] = []
    synonym_marks: dict[str, set[str]] = {}
    means_marks: dict[str, str] = {}
    raw_syn = d.get("synonyms") or []
    if not isinstance(raw_syn, list):
        c.problem(("synonyms",), "must be a list of {means, say}")
        raw_syn = []
    for i, item in enumerate(raw_syn):
        s = c.mapping(item, ("synonyms", i), {"means", "say"})
        means = fold_text(str(s.get("means") or ""))
        if not means:
            c.problem(("synonyms", i, "means"), "is required: the official wording")
            continue
        raw_means = str(s.get("means") or "")
        if has_vietnamese_marks(raw_means):
            means_marks.setdefault(means, " ".join(marked_words(raw_means)))
        says = phrases(s.get("say"), ("synonyms", i, "say"))
        if not says:
            c.problem(("synonyms", i, "say"), "is required: the ways people say it")
        synonyms.extend((say, means) for say in says)
        raw_says = s.get("say")
        for raw in raw_says if isinstance(raw_says, list) else [raw_says]:
            if isinstance(raw, str) and has_vietnamese_marks(raw):
                marked = " ".join(marked_words(raw))
                synonym_marks.setdefault(" ".join(fold(raw).split()), set()).add(marked)

    facets: dict[str, tuple[str, ...]] = {}
    raw_facets = d.get("facets") or {}
    if not isinstance(raw_facets, dict):
        c.problem(("facets",), "must map a facet to its phrases")
        raw_facets = {}
    for name, value in raw_facets.items():
        if name not in FACET_ORDER:
            c.problem(("facets", name), f"is not a facet; facets are: {', '.join(FACET_ORDER)}")
            continue
        facets[name] = phrases(value, ("facets", name))

    intents: dict[str, tuple[str, ...]] = {}
    raw_intents = d.get("intents") or {}
    if not isinstance(raw_intents, dict):
        c.problem(("intents",), "must map an intent to its phrases")
        raw_intents = {}
    for name, value in raw_intents.items():
        if name not in INTENT_NAMES:
            c.problem(("intents", name), f"is not an intent; intents are: {', '.join(INTENT_NAMES)}")
            continue
        intents[name] = phrases(value, ("intents", name))

    topics: list[OutOfScope] = []
    raw_oos = d.get("out_of_scope") or []
    if not isinstance(raw_oos, list):
        c.problem(("out_of_scope",), "must be a list of topics")
        raw_oos = []
    for i, item in enumerate(raw_oos):
        path = ("out_of_scope", i)
        t = c.mapping(item, path, {"topic", "when", "unless", "reply", "reply_en"})
        topic = c.text(t, "topic", path)
        reply = c.text(t, "reply", path)
        reply_en = c.text(t, "reply_en", path)
        when = phrases(t.get("when"), path + ("when",))
        if not when:
            c.problem(path + ("when",), "is required: the phrases that recognise the topic")
        if topic and reply and reply_en and when:
            topics.append(OutOfScope(topic, when, phrases(t.get("unless"), path + ("unless",)), reply, reply_en))

    stop = d.get("stopwords") or {}
    if not isinstance(stop, dict):
        c.problem(("stopwords",), "must have vi: and en: word lists")
        stop = {}
    stopwords = words(stop.get("vi"), ("stopwords", "vi")) | words(stop.get("en"), ("stopwords", "en"))
    stop_marks: dict[str, set[str]] = {}
    for raw in (stop.get("vi"), stop.get("en"), d.get("courtesy")):
        if isinstance(raw, str):
            for marked in marked_words(raw):
                stop_marks.setdefault(fold_text(marked), set()).add(marked)

    # Every {class} used must exist.
    used: list[tuple[tuple[Any, ...], str]] = [(("facets", k), p) for k, v in facets.items() for p in v]
    used += [(("intents", k), p) for k, v in intents.items() for p in v]
    used += [(("out_of_scope", t.topic), p) for t in topics for p in t.when + t.unless]
    for path, p in used:
        for name in _CLASS_RE.findall(p):
            if name not in classes:
                c.problem(path, f"uses {{{name}}}, which is not a class under classes:")

    if len(c.problems) > n:
        return None
    return Vocabulary(
        classes=classes, texting=texting, synonyms=tuple(synonyms),
        variants=phrases(d.get("variants"), ("variants",)),
        not_variants=phrases(d.get("not_variants"), ("not_variants",)),
        synonym_marks={k: frozenset(v) for k, v in synonym_marks.items()}, means_marks=means_marks,
        stopwords=stopwords, courtesy=words(d.get("courtesy"), ("courtesy",)),
        stop_marks={k: frozenset(v) for k, v in stop_marks.items()},
        facets=facets, strip=phrases(d.get("strip"), ("strip",)), context=phrases(d.get("context"), ("context",)),
        negations=phrases(d.get("negations"), ("negations",)),
        alternatives=words(d.get("alternatives"), ("alternatives",)),
        background=phrases(d.get("background"), ("background",)),
        background_ends=phrases(d.get("background_ends"), ("background_ends",)),
        question_breaks=phrases(d.get("question_breaks"), ("question_breaks",)),
        intents=intents, out_of_scope=tuple(topics),
        english_words=words(d.get("english_words"), ("english_words",)),
        english_ambiguous=words(d.get("english_ambiguous"), ("english_ambiguous",)), file=c.file,
    )
