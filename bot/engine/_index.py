"""Finding the procedure a question is about.

Every procedure is described by phrases: its official name (without the "Thủ tục" prefix and
parenthesised lists), its aliases, its English name and the names of its cases. A question is
folded, its abbreviations and everyday or English wording rewritten to official Vietnamese
wording, typos corrected against the vocabulary, and the words that only name a facet removed.
Each phrase that shares a word with the question is scored by how much of the phrase the question
covers, times the square root of how much of the question the phrase covers (words weighted by how
rare they are; words no procedure uses count little), marked down for variant words (re-issue,
adjust, extend…) present on one side only.

Everything costly is built once at load; a question touches only the phrases that share one of
its words (an inverted index), so the cost grows with the matches, not with the catalogue.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from rapidfuzz import fuzz, process

from ..core._text import detect_lang, fold, has_vietnamese_marks, is_vi_syllable, marked_words
from ..kb import GlossaryEntry, KnowledgeBase, Procedure, Vocabulary
from ._learned import LearnedIndex, LearnedMatch, indexed_texts

_T = TypeVar("_T")
_PARENS_RE = re.compile(r"\([^()]*\)")
_CODE_SUFFIX_RE = re.compile(r"\(\s*\d\.\d{6}\s*\)\s*$")
_PREFIX_RE = re.compile(r"^(thu tuc|procedure for|procedure of)\s+")

# How much each kind of phrase counts: a case name is a weaker hint than the procedure's names.
PHRASE_FACTORS = {"name": 1.0, "alias": 1.0, "en": 1.0, "case": 0.85, "full": 0.95}
# How much of their rarity the words of variant phrases keep in coverage.
VARIANT_WEIGHT = 0.3
# A phrase's word pairs found in the question, in order, confirm the match: a phrase none of whose
# pairs appear scores BIGRAM_BASE of its word coverage ("giấy phép lái xe" is not "giấy phép đầu tư").
BIGRAM_BASE = 0.5
# Phrases whose score cannot reach this are not scored further (the engine lists nothing below
# 0.4: CONFIDENT 0.5 × LISTED 0.8).
PRUNE = 0.25
# A word in more phrases than this (or a twentieth of them) only adds to candidates.
COMMON_POSTINGS = 300
# Weight of a question's word that no procedure uses.
UNKNOWN_WEIGHT = 0.35
# Weight of a phrase's stop words in its total (long names with many of them are barely penalised).
STOP_WEIGHT = 0.2
# Words after a negation ("không phải xin …") that do not count towards a procedure's name.
NEGATION_SCOPE = 4
# A stop word is kept where it spells, with its neighbour, a term of at most this many procedures
# or glossary entries (held out, bench/calibrate.py, 3,057 questions: none kept, right 0.788 and
# wrong_direct 44; 2, 0.794 and 41. Before the other agencies' rule in bot/engine/_engine.py: 1,
# 0.787 and 36; 2, 0.790 and 35; 3, 0.791 and 40; 5, 0.792, 40 and 2 more procedures offered for
# questions about none).
TERM_PAIR_DF = 2
# A stop or courtesy word that the knowledge's texts with marks write as another word at least this
# share of the time (and that often), where a text without marks says it, is read as that word:
# "nha xuong" is "nhà xưởng" (92% of "xuong" written with marks), not "nhà xuống".
UNMARKED_CONTENT_SHARE = 0.6
UNMARKED_CONTENT_MIN = 20
# How much the question's other words lower a phrase's score: its coverage of the question to this
# power (0.5: the square root; lower forgives the context of long messages more).
QUESTION_COVERAGE = 0.5
# A variant word (vocabulary `variants`) the question asks for but the phrase lacks multiplies the score by
# the first (the question asks for another variant); one the phrase has but the question does not
# say, by the second (the question may mean the plain procedure).
MISSING_MODIFIER = 0.5
EXTRA_MODIFIER = 0.62
#: Questions whose procedure search is remembered, per knowledge version.
SEARCH_CACHE = 4096


@dataclass(frozen=True)
class Match:
    """A procedure found for a question, with its score in [0, 1]."""

    procedure: Procedure
    score: float
    # How much of the best phrase the question contains (1.0: the question names it in full).
    coverage: float = 1.0
    # The case (index in procedure.cases) the question describes, when its texts matched best.
    case: int | None = None


@dataclass(frozen=True)
class _Phrase:
    proc: int
    tokens: frozenset[str]
    bigrams: frozenset[tuple[str, str]]
    total: float
    modifiers: frozenset[str]
    factor: float


def _bigrams(words: list[str]) -> frozenset[tuple[str, str]]:
    return frozenset(zip(words, words[1:], strict=False))


class VariantWords:
    """The variant phrases (vocabulary `variants`) a folded text says. A phrase of `not_variants`
    ("đối với", "thay đổi", "Hàn Quốc" after "chuyên gia") is not read as one, and a variant inside
    a longer one found ("đổi" in "cấp đổi") counts once."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.variants = vocabulary.variants
        self.not_variants = tuple(f" {p} " for p in vocabulary.not_variants)

    def __call__(self, folded: str) -> frozenset[str]:
        padded = f" {folded} "
        for phrase in self.not_variants:
            padded = padded.replace(phrase, " | ")
        found = {m for m in self.variants if f" {m} " in padded}
        return frozenset(m for m in found if not any(m != o and f" {m} " in f" {o} " for o in found))


class _Rewriter:
    """Rewrites folded text: glossary abbreviations and vocabulary synonyms to official wording."""

    def __init__(self, glossary: Iterable[GlossaryEntry], vocabulary: Vocabulary) -> None:
        table: dict[tuple[str, ...], list[str]] = {}
        for key, value in vocabulary.synonyms:
            table.setdefault(tuple(key.split()), value.split())
        # Vietnamese synonyms as written: a question that spells the words with other marks says
        # something else ("giấy phép lao động của …" is not "đóng cửa").
        self.marked = {tuple(k.split()): frozenset(tuple(f.split()) for f in forms)
                       for k, forms in vocabulary.synonym_marks.items()}
        # Each official wording as written with its marks (None: not known): the words a rewrite
        # puts in the text keep them, so a synonym is not read across the seam ("GPLĐ của" →
        # "giấy phép lao động của", which folds like "… đóng cửa").
        written: dict[tuple[str, ...], list[str]] = {}
        for means, official in vocabulary.means_marks.items():
            if len(official.split()) == len(means.split()):
                written[tuple(means.split())] = official.split()
        for entry in glossary:
            expansion = fold(entry.expansion).split()
            as_written = marked_words(entry.expansion)
            if len(as_written) == len(expansion):
                written.setdefault(tuple(expansion), as_written)
            for source in (entry.term, entry.english):
                if source:
                    words = tuple(fold(source).split())
                    if _has_a_word(words) and list(words) != expansion:
                        table.setdefault(words, expansion)
        self.written = written
        # Texting spellings ("ko", "dc") last: a longer term that starts with one ("gcn đkđt") wins.
        for word, meant in vocabulary.texting.items():
            table.setdefault((word,), meant.split())
        # English plurals and verb forms ("construction permits", "extended", "renewing") rewrite
        # like the word they come from.
        for words, expansion in list(table.items()):
            last = words[-1]
            if last.isascii() and not is_vi_syllable(last) and len(last) > 2 and not last.endswith("s"):
                for form in _english_forms(last):
                    table.setdefault(words[:-1] + (form,), expansion)
        self.table = table
        # The second pass leaves out entries whose result contains their own words again.
        self.second = {k: v for k, v in table.items() if " ".join(k) not in " ".join(v)}
        # The longest entry starting with each word: most words start none.
        self.longest: dict[str, int] = {}
        for k in table:
            self.longest[k[0]] = max(self.longest.get(k[0], 0), len(k))

    def add(self, words: tuple[str, ...], expansion: list[str]) -> None:
        """One more entry (derived abbreviations), for both passes."""
        self.table.setdefault(words, expansion)
        self.second.setdefault(words, expansion)
        self.longest[words[0]] = max(self.longest.get(words[0], 0), len(words))

    def rewrite(self, words: list[str], marks: list[str | None] | None = None) -> list[str]:
        """Two passes, so that an expanded abbreviation can complete a phrase ("GCN đầu tư" →
        "giấy chứng nhận đầu tư" → "giấy chứng nhận đăng ký đầu tư"). `marks`: each word as the
        question wrote it, with its Vietnamese marks (None: unknown), so that a synonym is not
        read into words that only fold like it."""
        return self.rewrite_marked(words, marks)[0]

    def rewrite_marked(
        self, words: list[str], marks: list[str | None] | None = None,
    ) -> tuple[list[str], list[str | None] | None]:
        """Like `rewrite`, with each word's marks beside it (the official wording's where a
        synonym was rewritten, None where not known)."""
        once, once_marks = self._pass(words, self.table, marks)
        return self._pass(once, self.second, once_marks) if once != words else (once, once_marks)

    def _pass(
        self, words: list[str], table: dict[tuple[str, ...], list[str]], marks: list[str | None] | None,
    ) -> tuple[list[str], list[str | None] | None]:
        out: list[str] = []
        out_marks: list[str | None] = []
        i = 0
        longest = self.longest
        while i < len(words):
            for n in range(min(longest.get(words[i], 0), len(words) - i), 0, -1):
                key = tuple(words[i : i + n])
                repl = table.get(key)
                if repl is None or marks is not None and not self._spelled_so(key, marks[i : i + n]):
                    continue
                # An expansion that repeats the words just before it ("chấp thuận" + "chủ trương"
                # → "chấp thuận chủ trương đầu tư") adds only what is new.
                k = next((k for k in range(min(len(repl) - 1, len(out)), 0, -1) if out[-k:] == repl[:k]), 0)
                out.extend(repl[k:])
                marked = self.written.get(tuple(repl))
                out_marks.extend(marked[k:] if marked is not None else [None] * (len(repl) - k))
                i += n
                break
            else:
                out.append(words[i])
                out_marks.append(marks[i] if marks is not None else None)
                i += 1
        return out, (out_marks if marks is not None else None)

    def _spelled_so(self, key: tuple[str, ...], said: list[str | None]) -> bool:
        """False when the question wrote these words with marks, and not as the synonym is written."""
        forms = self.marked.get(key)
        if not forms or any(w is None for w in said):
            return True
        written = tuple(w for w in said if w is not None)
        return written in forms or all(w.isascii() for w in written)


def _english_forms(word: str) -> tuple[str, ...]:
    """Plural / third person, past and -ing forms of an English word (regular spelling only)."""
    if word.endswith("e"):
        return (word + "s", word + "d", word[:-1] + "ing")
    if word.endswith("y") and len(word) > 3 and word[-2] not in "aeiou":
        return (word[:-1] + "ies", word[:-1] + "ied", word + "ing")
    return (word + "s", word + "ed", word + "ing")


def _has_a_word(words: Iterable[str]) -> bool:
    """False for nothing, or for single letters only: a term like that once folded ("M&A" → "m a")
    is said by chance in every English "I'm a …", so it is neither rewritten nor matched."""
    return any(len(w) > 1 for w in words)


def procedure_phrases(p: Procedure) -> list[tuple[str, str]]:
    """(kind, text) of every phrase that names a procedure."""
    name = _CODE_SUFFIX_RE.sub("", p.name)
    core = _PARENS_RE.sub(" ", name)
    out = [("name", core)]
    if core != name:
        out.append(("full", name))
    out.extend(("alias", a) for a in p.aliases)
    out.append(("en", _PARENS_RE.sub(" ", p.name_en)))
    out.extend(("case", c.name) for c in p.cases if len(p.cases) > 1)
    return out


class ProcedureIndex:
    """A ranking of procedures for a question, built once per knowledge base."""

    def __init__(self, kb: KnowledgeBase, cache: int = SEARCH_CACHE) -> None:
        """`cache`: how many questions' searches are remembered (an LRU; 0: none)."""
        self.procedures = list(kb.procedures)
        # The search is a pure function of the index and the text, the costly part of an answer,
        # and popular questions repeat; the event loop peeks (`cached`), the worker thread fills.
        self._cache: OrderedDict[tuple[str, int], tuple[Match, ...]] = OrderedDict()
        self.cache_size = cache
        self._cache_lock = threading.Lock()
        self.cache_hits = self.cache_misses = 0
        self._spelled_cached = functools.lru_cache(maxsize=cache or 1)(self._spell_text)
        self._last: dict[str, tuple[str, Any]] = {}
        vocabulary = kb.vocabulary or Vocabulary()
        self.vocabulary = vocabulary
        self.stopwords = vocabulary.stopwords
        self.english_words = vocabulary.english_words
        self.texting = vocabulary.texting
        self.variant_words = VariantWords(vocabulary)
        self.variant_tokens = frozenset(w for m in vocabulary.variants for w in m.split()) | {"cap"}
        # The phrases left out before matching, by first word, longest first.
        self._stripped: dict[str, list[tuple[str, ...]]] = {}
        for phrase in vocabulary.plain_strip:
            left_out = tuple(phrase.split())
            if left_out:
                self._stripped.setdefault(left_out[0], []).append(left_out)
        for phrases in self._stripped.values():
            phrases.sort(key=len, reverse=True)
        self._alternatives = frozenset(vocabulary.alternatives)
        self._negations = tuple(f" {n} " for n in vocabulary.negations)
        self._negation_words = sorted((tuple(n.split()) for n in vocabulary.negations), key=len, reverse=True)
        self.rewriter = _Rewriter(kb.glossary, vocabulary)
        self.courtesy = vocabulary.courtesy
        self.stop_marks = vocabulary.stop_marks
        self.by_code = {p.code: i for i, p in enumerate(self.procedures)}
        self.known = self._known_words(kb)
        # Words that are not Vietnamese syllables, by first letter: what a typo is corrected to.
        self._known_by_initial: dict[str, list[str]] = defaultdict(list)
        for w in sorted(self.known):
            if len(w) >= 3 and not is_vi_syllable(w):
                self._known_by_initial[w[0]].append(w)
        self._add_initials()
        self._term_pairs = self._catalogue_pairs(kb)
        self._unmarked_content = self._mostly_content(kb)
        self.learned = LearnedIndex(kb, self.analyse)
        # Each procedure's variant words, from its official name (the learned score is marked down
        # like the phrase score when the question asks for another variant).
        self.proc_mods = [self.variant_words(_PREFIX_RE.sub("", fold(procedure_phrases(p)[0][1]))) for p in self.procedures]
        raw: list[tuple[int, list[str], str, float, frozenset[str]]] = []
        df: dict[str, int] = defaultdict(int)
        for i, p in enumerate(self.procedures):
            seen: set[str] = set()
            for kind, text in procedure_phrases(p):
                folded = _PREFIX_RE.sub("", fold(text))
                variants = {folded, " ".join(self.rewriter.rewrite(folded.split()))}
                # "GPXD bị mất" is about re-issue even in its unrewritten form.
                mods = frozenset().union(*(self.variant_words(v) for v in variants))
                for variant in variants:
                    words = variant.split()
                    if words:
                        raw.append((i, words, variant, PHRASE_FACTORS[kind], mods))
                        seen.update(words)
            for w in seen:
                df[w] += 1
        n = max(len(self.procedures), 1)
        self.df = dict(df)
        self.idf = {w: math.log(1 + n / d) for w, d in df.items()}
        # A word no procedure uses is mostly context ("cho giám đốc người Nhật"): it weighs little.
        # A known word left unmatched weighs fully: it points at another procedure.
        self.unknown_weight = UNKNOWN_WEIGHT
        self.known_words = sorted(self.idf)
        self._by_initial: dict[str, list[str]] = defaultdict(list)
        for w in self.known_words:
            self._by_initial[w[0]].append(w)
        self.phrases: list[_Phrase] = []
        self.postings: dict[str, list[int]] = defaultdict(list)
        unique: set[tuple[int, str]] = set()
        for i, words, variant, factor, mods in raw:
            if (i, variant) in unique or not _has_a_word(words):
                continue
            unique.add((i, variant))
            tokens = frozenset(words)
            total = sum(self._weight(w) * (STOP_WEIGHT if w in self.stopwords else 1.0) for w in tokens)
            pid = len(self.phrases)
            self.phrases.append(_Phrase(i, tokens, _bigrams(words), total, mods, factor))
            for w in tokens:
                if w not in self.stopwords:
                    self.postings[w].append(pid)
        self._proc_words: list[frozenset[str]] = [frozenset() for _ in self.procedures]
        for ph in self.phrases:
            self._proc_words[ph.proc] |= ph.tokens
        # The same as arrays, for the vectorised part of a search: a question's words add their
        # weight to every phrase they occur in (a few hundred of them), and most of those share one
        # common word only; numpy does both the adding and the first cut.
        self._post_arrays = {w: np.fromiter(pids, dtype=np.intp, count=len(pids)) for w, pids in self.postings.items()}
        self._totals = np.array([ph.total for ph in self.phrases], dtype=np.float64)
        self._factors = np.array([ph.factor for ph in self.phrases], dtype=np.float64)
        # The matched weight below which a phrase cannot reach PRUNE (coverage × factor is the
        # most it can score).
        with np.errstate(divide="ignore"):
            self._floor = np.where(self._totals > 0, PRUNE * self._totals / self._factors, np.inf)
        # Word pairs and variant words per phrase, for the factors after the cut.
        pairs: dict[tuple[str, str], list[int]] = defaultdict(list)
        with_modifier: dict[str, list[int]] = defaultdict(list)
        for pid, ph in enumerate(self.phrases):
            for pair in ph.bigrams:
                pairs[pair].append(pid)
            for m in ph.modifiers:
                with_modifier[m].append(pid)
        self._pair_arrays = {b: np.array(pids, dtype=np.intp) for b, pids in pairs.items()}
        self._n_pairs = np.array([len(ph.bigrams) for ph in self.phrases], dtype=np.float64)
        self._modifier_masks = {m: np.isin(np.arange(len(self.phrases)), pids) for m, pids in with_modifier.items()}
        self._n_modifiers = np.array([len(ph.modifiers) for ph in self.phrases], dtype=np.int64)
        self._proc_of = np.array([ph.proc for ph in self.phrases], dtype=np.intp)

    def _weight(self, word: str) -> float:
        weight = self.idf.get(word, self.unknown_weight)
        # Variant words (cấp, lại, gia hạn, điều chỉnh…) are judged by the variant rule; in the
        # coverage they weigh little, so that the subject (which permit, which certificate)
        # decides: "gia hạn giấy phép kinh doanh" is not "gia hạn giấy phép lao động".
        return weight * VARIANT_WEIGHT if word in self.variant_tokens else weight

    def _correct(self, words: list[str]) -> list[str]:
        """Replace words unknown to the catalogue by the closest known one, when close enough:
        same first letter, at least as long (a dropped or swapped letter, not another word). A word
        that is itself a Vietnamese syllable ("gia", "han") is never "corrected" into another."""
        out = []
        for w in words:
            if (
                w in self.idf
                or w in self.stopwords
                or w in self.english_words
                or len(w) < 3
                or w.isdigit()
                or is_vi_syllable(w)
                or not self.known_words
            ):
                out.append(w)
                continue
            candidates = self._by_initial.get(w[0], [])
            found = process.extract(w, candidates, scorer=fuzz.ratio, score_cutoff=80, limit=5)
            # Among equally close words, the more common one is the likelier intended word.
            ranked = sorted(
                (c for c in found if len(c[0]) >= len(w)), key=lambda c: (-c[1], -self.df[c[0]], c[0])
            )
            out.append(ranked[0][0] if ranked else w)
        return out

    def variants(self, question: str) -> list[str]:
        """The folded forms of a question that are matched: as typed, and rewritten to official
        Vietnamese wording; both with typos corrected."""
        words, marks = self._unnegated(*self._spelled(question), question)
        rewritten = self._correct(self.rewriter.rewrite(words, marks))
        plain = self._correct(self.words(" ".join(words)))
        out = [" ".join(rewritten)]
        if plain != rewritten:
            out.append(" ".join(plain))
        return out

    @staticmethod
    def _clause_starts(text: str) -> frozenset[int]:
        """The places (word numbers of `fold(text)`) where a new clause starts after a comma or a
        full stop: a negation's reach ends there ("không thuộc diện miễn giấy phép. Xin GPLĐ …")."""
        parts = _CLAUSE_END_RE.split(text)
        counts = [len(fold(part).split()) for part in parts]
        if len(parts) < 2 or sum(counts) != len(fold(text).split()):
            return frozenset()
        starts: set[int] = set()
        at = 0
        for n in counts[:-1]:
            at += n
            starts.add(at)
        return frozenset(starts)

    def owned_words(self, tokens: list[str]) -> tuple[list[str], list[int]]:
        """The folded words of `tokens` (texting spellings replaced) and, beside each, the number
        of the token it comes from: where a phrase found in the words starts in the text."""
        out: list[str] = []
        owner: list[int] = []
        for i, token in enumerate(tokens):
            for w in self.words(token):
                out.append(w)
                owner.append(i)
        return out, owner

    def _unnegated(
        self, words: list[str], marks: list[str | None] | None, text: str,
    ) -> tuple[list[str], list[str | None] | None]:
        """The words (of `text`, as spelled) without a negation and the NEGATION_SCOPE words after
        it, counted before synonyms are rewritten ("chứ không phải đóng văn phòng hay điều chỉnh":
        the rewritten "chấm dứt hoạt động văn phòng" would use up the reach); texting spellings
        are read ("ko phải")."""
        if not self._negations:
            return words, marks
        said = f" {' '.join(self.texting.get(w, w) for w in words)} "
        if not any(n in said for n in self._negations):
            return words, marks
        expanded, owner = self.owned_words(words)
        starts = self._clause_starts(text)
        dropped: set[int] = set()
        j = 0
        while j < len(expanded):
            for n in self._negation_words:
                if tuple(expanded[j : j + len(n)]) == n:
                    last = owner[j + len(n) - 1] + NEGATION_SCOPE
                    # "không phải đóng văn phòng hay điều chỉnh": the negation reaches over "hay".
                    k = owner[j + len(n) - 1] + 1
                    while k <= min(last + 1, len(words) - 1):
                        if words[k] in self._alternatives:
                            last = max(last, k + NEGATION_SCOPE)
                        k += 1
                    ends = [b - 1 for b in starts if b > owner[j + len(n) - 1]]
                    if ends:
                        last = min(last, min(ends))
                    dropped.update(range(owner[j], min(last + 1, len(words))))
                    # A negation within the reach of another starts its own reach ("không xin
                    # đất nên không thuộc diện xin chủ trương").
                    j += len(n)
                    break
            else:
                j += 1
        kept = [i for i in range(len(words)) if i not in dropped]
        return [words[i] for i in kept], (None if marks is None else [marks[i] for i in kept])

    def words(self, question: str) -> list[str]:
        """The folded words of a question, texting spellings replaced ("ko" → "khong")."""
        out: list[str] = []
        for w in fold(question).split():
            out.extend(self.texting.get(w, w).split())
        return out

    def strip_facets(self, folded: str) -> str:
        """A folded text without the phrases that only say what is asked (documents, time…)."""
        # Read left to right in the text as written: leaving one phrase out must not join the
        # words around it into another ("nộp hồ sơ ở đâu" is not "nộp ở" + "đâu").
        return " ".join(self._strip_words(folded.split(), None)[0])

    def _strip_words(
        self, words: list[str], marks: list[str | None] | None,
    ) -> tuple[list[str], list[str | None] | None]:
        """`strip_facets` on words, with their marks beside them."""
        out: list[str] = []
        out_marks: list[str | None] = []
        i = 0
        while i < len(words):
            for phrase in self._stripped.get(words[i], ()):
                if tuple(words[i : i + len(phrase)]) == phrase:
                    i += len(phrase)
                    break
            else:
                out.append(words[i])
                out_marks.append(marks[i] if marks is not None else None)
                i += 1
        return out, (out_marks if marks is not None else None)

    def _accumulate(self, words: list[str]) -> np.ndarray:
        """Matched weight per phrase (an array over all phrases). Rare words open candidates;
        words used by a large share of the catalogue only add to candidates already open (they
        cannot make a phrase win on their own), which keeps a catalogue of thousands precise."""
        acc = np.zeros(len(self.phrases), dtype=np.float64)
        common_cut = max(COMMON_POSTINGS, len(self.phrases) // 20)
        rare = [w for w in words if len(self.postings.get(w, ())) <= common_cut]
        common = [w for w in words if w not in rare]
        arrays = self._post_arrays
        for w in rare:
            if w in arrays:
                acc[arrays[w]] += self._weight(w)  # a word's postings are distinct: no lost adds
        if common:
            if not acc.any():
                for w in common:
                    acc[arrays[w]] += self._weight(w)
            else:
                open_ = acc > 0
                for w in common:
                    pids = arrays[w]
                    acc[pids] += self._weight(w) * open_[pids]
        return acc

    def phrase_search(self, question: str, limit: int = 5) -> list[Match]:
        """Procedures whose names the question says, best first, scores in [0, 1]."""
        best: dict[int, tuple[float, float]] = {}
        for variant in self.variants(question):
            # (Each form's own variants: the union of all forms was tried, and measured no better
            # while it hid the permit from "do I need a work permit".)
            q_mods = self.variant_words(variant)
            content_words = self.strip_facets(variant).split()
            content = {w for w in content_words if w not in self.stopwords}
            if not content:
                continue
            q_total = sum(self._weight(w) for w in content)
            q_bigrams = _bigrams(variant.split())
            acc = self._accumulate([w for w in content if w in self.idf])
            # Only phrases whose matched weight can reach PRUNE at all.
            candidates = np.flatnonzero(acc >= self._floor)
            if not len(candidates):
                continue
            matched_all = acc[candidates]
            # The phrase must be (nearly) all in the question; the question's other words lower
            # the score more gently, since questions carry context that names no procedure.
            p_covs = np.minimum(matched_all / self._totals[candidates], 1.0)
            scores = p_covs * (matched_all / q_total) ** QUESTION_COVERAGE * self._factors[candidates]
            # Every further factor is at most 1: a phrase this weak can never be listed.
            keep = scores >= PRUNE
            candidates, scores, p_covs = candidates[keep], scores[keep], p_covs[keep]
            # The phrase's word pairs found in the question confirm it.
            found_pairs = np.zeros(len(self.phrases), dtype=np.float64)
            for pair in q_bigrams:
                pids = self._pair_arrays.get(pair)
                if pids is not None:
                    found_pairs[pids] += 1
            n_pairs = self._n_pairs[candidates]
            with np.errstate(divide="ignore", invalid="ignore"):
                confirmed = BIGRAM_BASE + (1 - BIGRAM_BASE) * found_pairs[candidates] / n_pairs
            scores = scores * np.where(n_pairs > 0, confirmed, 1.0)
            # Variant words on one side only.
            shared = np.zeros(len(candidates), dtype=np.int64)
            for m in q_mods:
                mask = self._modifier_masks.get(m)
                if mask is not None:
                    shared += mask[candidates]
            scores = scores * MISSING_MODIFIER ** (len(q_mods) - shared)
            scores = scores * EXTRA_MODIFIER ** (self._n_modifiers[candidates] - shared)
            procs = self._proc_of[candidates].tolist()
            for proc, score, p_cov in zip(procs, scores.tolist(), p_covs.tolist(), strict=True):
                if score > best.get(proc, (0.0, 0.0))[0]:
                    best[proc] = (score, p_cov)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], self.procedures[kv[0]].code))
        return [Match(self.procedures[i], round(s, 4), round(c, 4)) for i, (s, c) in ranked[:limit]]

    def _known_words(self, kb: KnowledgeBase) -> frozenset[str]:
        """Every word the knowledge uses: names, aliases, examples, cases, glossary, vocabulary."""
        texts: list[str] = []
        for p in self.procedures:
            texts += [p.name, p.name_en, *p.aliases, *p.examples]
            for c in p.cases:
                texts += [c.name, *c.examples]
        for g in kb.glossary:
            texts += [g.term, g.expansion, g.english or ""]
        words = {w for t in texts for w in fold(t).split()}
        words |= {w for k, v in self.vocabulary.synonyms for w in (*k.split(), *v.split())}
        words |= set(self.english_words) | set(self.texting) | set(self.stopwords)
        return frozenset(words)

    def _catalogue_pairs(self, kb: KnowledgeBase) -> frozenset[tuple[str, str]]:
        """Two words side by side in the Vietnamese names of at most TERM_PAIR_DF procedures or
        glossary entries: where a stop or courtesy word spells such a term with its neighbour
        ("lý lịch", "căn cước", "địa chỉ", "cấp mới" fold like "quản lý", "cần", "đi", "mọi"),
        it is kept."""
        # Vietnamese wording only: English names would keep "of the", "to a".
        groups = [[text for kind, text in procedure_phrases(p) if kind != "en"] for p in self.procedures]
        groups += [[g.term, g.expansion] for g in kb.glossary]
        df: dict[tuple[str, str], int] = defaultdict(int)
        for texts in groups:
            pairs: set[tuple[str, str]] = set()
            for text in texts:
                words = fold(text).split()
                pairs.update(zip(words, words[1:], strict=False))
            for pair in pairs:
                df[pair] += 1
        # A pair that many procedures share ("lam viec", "nuoc ngoai") tells none of them apart.
        return frozenset(pair for pair, n in df.items() if n <= TERM_PAIR_DF)

    def _mostly_content(self, kb: KnowledgeBase) -> frozenset[str]:
        """Stop and courtesy words that the knowledge's Vietnamese texts with marks mostly write as
        another word (UNMARKED_CONTENT_SHARE, at least UNMARKED_CONTENT_MIN times): "xuong" is
        "xưởng" more often than "xuống", "dang" "đăng" more often than "đang"."""
        # Each distinct text once (a catalogue repeats its names and examples across procedures).
        texts = {text for *_, text in indexed_texts(kb)}
        folded: dict[str, str] = {}
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # [as the stop word, as another]
        for text in texts:
            if not has_vietnamese_marks(text):
                continue
            for written in marked_words(text):
                w = folded.get(written)
                if w is None:
                    w = folded[written] = fold(written)
                if w not in self.stopwords and w not in self.courtesy:
                    continue
                if written in self.stop_marks.get(w, ()):
                    counts[w][0] += 1
                elif written != w:
                    counts[w][1] += 1
        return frozenset(w for w, (stop, other) in counts.items()
                         if other >= UNMARKED_CONTENT_MIN and other >= UNMARKED_CONTENT_SHARE * (stop + other))

    def _add_initials(self) -> None:
        """Abbreviations by initials taken from the catalogue itself ("nckt" → "nghiên cứu khả
        thi"): every run of 3 to 5 words of an official name whose initials are no word of their own."""
        found: dict[str, set[str]] = defaultdict(set)
        for p in self.procedures:
            words = [w for w in _PREFIX_RE.sub("", fold(_PARENS_RE.sub(" ", p.name))).split() if not w.isdigit()]
            for n in range(3, 6):
                for i in range(len(words) - n + 1):
                    run = words[i : i + n]
                    if run[0] in self.stopwords:
                        continue
                    found["".join(w[0] for w in run)].add(" ".join(run))
        for initials, runs in found.items():
            if len(runs) == 1 and initials not in self.known and (initials,) not in self.rewriter.table:
                self.rewriter.add((initials,), next(iter(runs)).split())

    def spell(self, words: list[str]) -> list[str]:
        """Words no text of the knowledge uses, replaced by the closest one that is (English typos:
        "worrk" → "work", "extenson" → "extension"). Vietnamese syllables, short words and numbers
        are left alone."""
        out = []
        for w in words:
            if w in self.known or len(w) < 4 or w.isdigit() or is_vi_syllable(w):
                out.append(w)
                continue
            candidates = self._known_by_initial.get(w[0], [])
            found = process.extractOne(w, candidates, scorer=fuzz.ratio, score_cutoff=84)
            out.append(found[0] if found else w)
        return out

    def analyse(self, text: str) -> list[str]:
        """The content words of a text for the learned matcher: folded, typos and texting spellings
        corrected, synonyms rewritten to official wording, facet phrases, stop words and courtesy
        left out."""
        content, marks = self._strip_words(*self.rewriter.rewrite_marked(*self._unnegated(*self._spelled(text), text)))
        english = detect_lang(text, english_words=self.english_words, ambiguous=self.vocabulary.english_ambiguous) == "en"
        # In English "in the", "to a" are stop words whatever Vietnamese term they fold like.
        marked = has_vietnamese_marks(text)
        unmarked = not english and not marked
        return [w for i, w in enumerate(content) if self._content(content, i, not english, marks if marked else None, unmarked)]

    def _content(
        self, words: list[str], i: int, terms: bool = True, marks: list[str | None] | None = None,
        unmarked: bool = False,
    ) -> bool:
        """Whether `words[i]` is a content word: not a stop word or a courtesy word (as written:
        "xưởng" with its marks is not "xuống"; `marks`, each word as written, None where not
        known; in a Vietnamese text written without marks (`unmarked`), one the knowledge mostly
        writes as another word is that word), unless with a neighbour that is no courtesy word it
        spells a term of the catalogue (`terms`: not in an English text); "cong ty" and "ban quan
        ly" stay courtesy."""
        w = words[i]
        if w not in self.stopwords and w not in self.courtesy:
            return True
        written = marks[i] if marks is not None else None
        if written is not None and written not in self.stop_marks.get(w, ()):
            return True
        if unmarked and w in self._unmarked_content:
            return True
        if w in self.courtesy or not terms:
            return False
        before = [(words[i - 1], w)] if i else []
        after = [(w, words[i + 1])] if i + 1 < len(words) else []
        return any(pair in self._term_pairs and other not in self.courtesy
                   for pair, other in [*((p, p[0]) for p in before), *((p, p[1]) for p in after)])

    def asked_variants(self, question: str) -> frozenset[str]:
        """The variant words a question asks for, read in its rewritten form ("renewed", "bị mất"
        → gia hạn, cấp lại)."""
        return self.variant_words(" ".join(self.rewriter.rewrite(*self._spelled(question))))

    def _spelled(self, text: str) -> tuple[list[str], list[str | None] | None]:
        """The folded words of `text`, typos corrected, and beside each the word as written with
        its marks (None where corrected); no marks when the two do not line up."""
        words, marks = self._spelled_cached(text)
        return list(words), (None if marks is None else list(marks))

    def _spell_text(self, text: str) -> tuple[tuple[str, ...], tuple[str | None, ...] | None]:
        # One search spells its question three times (its forms, the learned words, the variants).
        folded = fold(text).split()
        marked = marked_words(text)
        words = self.spell(folded)
        if len(marked) != len(folded):
            return tuple(words), None
        return tuple(words), tuple(m if w == f else None for w, f, m in zip(words, folded, marked, strict=True))

    def search(self, question: str, limit: int = 5) -> list[Match]:
        """Procedures for a question, best first, with scores in [0, 1] (not thresholded),
        remembered for the next time it is asked (a fresh list each time; Matches are frozen)."""
        key = (question, limit)
        with self._cache_lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                self.cache_hits += 1
                return list(found)
        result = tuple(self._search(question, limit))
        with self._cache_lock:
            self.cache_misses += 1
            if self.cache_size:
                self._cache[key] = result
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return list(result)

    def cached(self, question: str) -> bool:
        """True when the search for `question` is remembered (answering it is cheap)."""
        return (question, 5) in self._cache

    def _search(self, question: str, limit: int = 5) -> list[Match]:
        """Procedures for a question, best first, with scores in [0, 1] (not thresholded): a
        national code in the question names its procedure; otherwise the phrase ranking and the
        learned one (examples) are blended. (A logistic ranker over these rankings' scores,
        margins and variant counts, fit on held-out examples, ranked no better: measured, dropped.)"""
        coded = self._by_code(question)
        if coded is not None:
            return [coded]
        phrase = {self.by_code[m.procedure.code]: m for m in self.phrase_search(question, limit=10)}
        learned = {m.proc: m for m in self.learned_ranking(question) if m.proc < self.learned.n_procedures}
        asked = self.asked_variants(question)
        ranked = self.classified(question)
        classified = {i: p for i, p in ranked if i < self.learned.n_procedures}
        first = ranked[0][0] if ranked else -1
        # The classifier lifts a name said in full past the cap only when no sibling's name (the
        # same variant: the other grade's permit) is nearly said too.
        if first in phrase and self.siblings(first, [j for j, m in phrase.items() if m.coverage >= LIFT_RIVAL]):
            first = -1
        out: list[tuple[float, Match]] = []
        for i in set(phrase) | set(learned):
            pm, lm = phrase.get(i), learned.get(i)
            # Only a variant the question asks for and the procedure lacks marks the learned
            # score down: its examples say the procedure's own variant in other words.
            ls = lm.score * MISSING_MODIFIER ** len(asked - self.proc_mods[i]) if lm else 0.0
            if pm is None:  # examples alone, no word of its names: a weaker sign
                ls *= LEARNED_ALONE
            ps = pm.score if pm else 0.0
            # The classifier's probability lifts the learned score (the question's words together,
            # not only its nearest text), up to LIFTED: it reorders candidates but does not make one
            # sure that the names and the nearest texts alone did not, unless its name is said in
            # full and the classifier puts it first. Only a candidate the question names in some
            # words is lifted: one described alone is asked about by the engine's own rule.
            lifted = min(1.0, ls + CLASS_BLEND * classified.get(i, 0.0)) if lm and pm else ls
            score = blend(ps, ls)
            if score < LIFTED:
                score = blend(ps, lifted)
                if not (pm is not None and pm.coverage >= LIFT_NAMED and i == first):
                    score = min(score, LIFTED)
            coverage = pm.coverage if pm else 0.0
            # Two candidates both named and described well reach the score's ceiling: the blend
            # before it is capped tells them apart (not the order of their codes).
            out.append((BLEND_PHRASE * ps + BLEND_LEARNED * lifted,
                        Match(self.procedures[i], round(score, 4), round(coverage, 4), lm.case if lm else None)))
        out.sort(key=lambda rm: (-rm[1].score, -rm[0], rm[1].procedure.code))
        return [m for _raw, m in out[:limit]]

    def learned_ranking(self, question: str) -> list[LearnedMatch]:
        """The learned ranking of a question (board procedures and other agencies' together, best
        first, LEARNED_RANKED of them)."""
        return self._of_last("ranking", question, lambda: self.learned.search_words(self._learned_words(question), LEARNED_RANKED))

    def classified(self, question: str) -> list[tuple[int, float]]:
        """The classifier's items for a question with their probabilities, best first (numbered
        as in the learned ranking, LEARNED_RANKED of them)."""
        return self._of_last("classified", question, lambda: self.learned.classify_words(self._learned_words(question), LEARNED_RANKED))

    def _learned_words(self, question: str) -> list[str]:
        return self._of_last("words", question, lambda: self.analyse(question))

    def _of_last(self, kind: str, question: str, compute: Callable[[], _T]) -> _T:
        """`compute()` for `question`, kept until another question asks for this kind: one answer
        reads the learned ranking several times (the blend, another agency first?, the examples'
        own choice, the classifier)."""
        last = self._last.get(kind)
        if last is not None and last[0] == question:
            return last[1]  # type: ignore[no-any-return]
        value = compute()
        self._last[kind] = (question, value)
        return value

    def says_own_words(self, question: str, item: int, other: int) -> bool:
        """Whether the question says a word of procedure `other`'s names that no name of `item`
        has ("cấp tỉnh" of the province's procedure, beside the board's)."""
        own = self._proc_words[other] - self._proc_words[item]
        return any(w in own for form in self.variants(question) for w in form.split() if w not in self.stopwords)

    def siblings(self, item: int, others: Iterable[int]) -> list[int]:
        """The procedures among `others` that make the same change as procedure `item` (its variant
        words, and maybe more: the extension of another grade's permit); none for a procedure
        without a variant word (a plain issuance says no change to share)."""
        mods = self.proc_mods[item]
        return [j for j in others if j != item and mods and self.proc_mods[j] >= mods]

    def lacking(self, question: str, p: Procedure) -> frozenset[str]:
        """The variant words the question asks for ("gia hạn", "cấp lại") that `p`'s name lacks."""
        return self.asked_variants(question) - self.proc_mods[self.by_code[p.code]]

    def other_agency(self, question: str) -> tuple[int, float] | None:
        """(place in kb.elsewhere, similarity) of another agency's procedure that the question's
        words are closest to, when it ranks above every board procedure; else None."""
        found = self.learned_ranking(question)
        if found and found[0].proc >= self.learned.n_procedures:
            return found[0].proc - self.learned.n_procedures, found[0].score
        return None

    def _by_code(self, question: str) -> Match | None:
        found = _CODE_RE.findall(question)
        codes = {c for c in found if c in self.by_code}
        if len(codes) == 1:
            return Match(self.procedures[self.by_code[codes.pop()]], 1.0, 1.0)
        return None


# The end of a clause: punctuation before a space or the end (not the dot inside "1.009664"), or
# a new line.
CLAUSE_END = r"[,.;:!?]+(?=\s|$)|\n+"
_CLAUSE_END_RE = re.compile(CLAUSE_END)
# A national procedure code, with or without the portal's ".H.." suffix ("1.009664.000.00.00.H12").
_CODE_RE = re.compile(r"(?<![\d.])([12]\.\d{6})(?![\d])")
# How many items of the learned ranking a search reads.
LEARNED_RANKED = 12
# The blend: the phrase score where the question names a procedure, raised by the learned
# similarity where the question describes it in other words.
BLEND_PHRASE = 0.8
BLEND_LEARNED = 0.7
# The learned similarity's share when no name of the procedure shares a word with the question.
LEARNED_ALONE = 0.8
# The classifier's probability, times CLASS_BLEND, lifts a named candidate's learned score, but
# not past LIFTED (under bot/engine's DIRECT: the lift reorders candidates, and one it carries is
# asked about, not answered as sure) unless the candidate's name is said in full (LIFT_NAMED) and
# the classifier puts it first. Held out (bench/calibrate.py, 3,057 questions), with the engine's
# DIRECT_GAP at 0.4: right 0.794 → 0.819, wrong_direct 41 → 27, asked back 31.5% → 37.6% of
# questions (DIRECT_GAP 0.4 alone: 0.794, 22, 41.7%; the lift always capped: 0.819, 24, 41.1%;
# the full-name exception at coverage 0.95: 0.818, 33, 35.4%, and two development messages naming
# ĐTM or an office's certificate in passing answered wrong). Uncapped, CLASS_BLEND 0.2, 0.4, 0.7
# and 1.0 gave right 0.805, 0.812, 0.824, 0.829 and wrong_direct 53, 59, 69, 74 (DIRECT_GAP 0.7).
CLASS_BLEND = 0.7
LIFTED = 0.94
LIFT_NAMED = 1.0
LIFT_RIVAL = 0.85


def blend(phrase: float, learned: float) -> float:
    """One score in [0, 1] from a phrase score and a learned similarity."""
    return min(1.0, max(phrase, BLEND_PHRASE * phrase + BLEND_LEARNED * learned, learned))
