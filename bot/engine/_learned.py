"""A matcher learned at load from what the knowledge says people ask.

Every procedure is represented by its texts: official name, aliases, English name, its examples
(knowledge `examples:`) and its cases' names and examples. Each text becomes a TF-IDF vector over
folded, rewritten content words, their pairs, and the character 4-grams of each word (which forgive
typos: "extenson", "forein"; a question's word that some text uses as it is matches itself and
brings no character groups, which also keeps the question's features few); a question is scored
against every text sharing a feature (an inverted index, so cost grows with the matches, not the
catalogue) by cosine similarity. A procedure's score is its best text's similarity, lifted a
little by its second best (several examples agreeing are a stronger sign than one).

A classifier over the same features (multinomial naive Bayes: each procedure's texts pooled)
says which procedure a question's words point to together, as a probability: a long message that
describes a situation ("cty mình muốn thu hẹp nhà xưởng thuê, giảm vốn luôn") shares a few words
with many texts and none closely, so its nearest text says little, while its words, summed, do.

Greetings, politeness and company context (vocabulary `courtesy`) and the words that only say
what is asked (facets) carry no weight, so long polite messages score on their subject.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from ..kb import KnowledgeBase, Procedure

# Feature kinds and their weight in a vector (before normalising).
WORD_WEIGHT = 1.0
PAIR_WEIGHT = 0.8
CHAR_WEIGHT = 0.25
CHAR_N = 4
# How much the second-best text of a procedure adds to its best one.
SECOND_WEIGHT = 0.25
# A question's word that no text uses weighs this share of the rarest word's weight: it is what the
# question is about that no procedure covers ("gia hạn giấy phép kinh doanh rượu": "rượu").
UNKNOWN_IDF = 0.6
# How many of the best texts a question's procedures are read from.
TOP_TEXTS = 400
# The classifier's smoothing: the weight every feature gets in every item before its texts'
# (held out, bench/calibrate.py's 3,545 questions, 2026-12-07: 0.2 right 0.762, 0.1 0.797, 0.07
# 0.810, 0.05 0.817, 0.03 0.821 but 3 more procedures offered for questions about none, 0.01 0.825
# with 5 more answered wrongly and directly; with more examples per procedure, less smoothing lets
# a word that only one procedure's examples use say so. 0.07, not 0.05: at 0.05 the development
# sets lose four questions, "xin giấy chứng nhận đăng ký đầu tư …" among them). Every item is
# as likely before the question is read: a prior by number of texts (a procedure with many cases
# and examples ahead) was a little worse (0.836 → 0.830 at 0.1, more procedures offered wrongly).
SMOOTHING = 0.07
# Texts of these kinds: official names weigh a little more than one example.
KIND_WEIGHT = {"name": 1.0, "alias": 1.0, "en": 1.0, "example": 1.0, "case": 0.9}


@dataclass(frozen=True)
class LearnedMatch:
    """A procedure's similarity to a question, with the case whose texts matched best (or None).
    `proc` at or past the index's `n_procedures` is another agency's procedure (its place in
    `kb.elsewhere` after them)."""

    proc: int
    score: float
    case: int | None


def char_grams(word: str, n: int = CHAR_N) -> list[str]:
    """Character n-grams of a word padded with '#' ("#gia", "gia#" …); short words give themselves."""
    padded = f"#{word}#"
    if len(padded) <= n:
        return [padded]
    return [padded[i : i + n] for i in range(len(padded) - n + 1)]


class LearnedIndex:
    """TF-IDF nearest texts over a knowledge base's names, aliases, cases and examples."""

    def __init__(self, kb: KnowledgeBase, analyse: Callable[[str], list[str]]) -> None:
        """`analyse` turns a text into its content words (folded, rewritten, stop words out)."""
        self.analyse = analyse
        self.procedures = list(kb.procedures)
        self.n_procedures = len(self.procedures)
        texts = list(indexed_texts(kb))
        analysed: dict[str, dict[str, float]] = {}  # the same text in many procedures is analysed once
        bags = []
        for _, _, _, text in texts:
            bag = analysed.get(text)
            if bag is None:
                bag = analysed[text] = self._features(analyse(text))
            bags.append(bag)
        df: dict[str, int] = defaultdict(int)
        for bag in bags:
            for f in bag:
                df[f] += 1
        n = max(len(bags), 1)
        self.idf = {f: math.log(1 + n / d) for f, d in df.items()}
        self.max_idf = math.log(1 + n)
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.n_items = max((t[0] for t in texts), default=-1) + 1
        pooled: list[dict[str, float]] = [defaultdict(float) for _ in range(self.n_items)]
        for t, bag in enumerate(bags):
            vec = self._weigh(bag)
            if not vec:
                continue
            factor = KIND_WEIGHT[texts[t][2]]
            own = pooled[texts[t][0]]
            for f, w in vec.items():
                postings[f].append((t, w * factor))
                own[f] += w
        self._post = _as_arrays(postings)
        self._fit_classifier(pooled)
        self._proc_of = np.array([t[0] for t in texts], dtype=np.intp)
        self._case_of = [t[1] for t in texts]
        self._n_texts = len(texts)

    def _fit_classifier(self, pooled: list[dict[str, float]]) -> None:
        """The naive Bayes classifier from each item's pooled feature weights: log P(f | item) =
        log((weight + α) / (total + αV)), kept per feature for the items that have it (an item
        without f has log(α / (total + αV)), the same for every feature)."""
        vocabulary = len(self.idf)
        totals = np.array([sum(p.values()) for p in pooled], dtype=np.float64)
        self._has_texts = totals > 0
        self._log_norm = np.log(totals + SMOOTHING * vocabulary) - math.log(SMOOTHING)
        by_feature: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for item, weights in enumerate(pooled):
            for f, w in weights.items():
                by_feature[f].append((item, math.log1p(w / SMOOTHING)))
        self._likely = _as_arrays(by_feature)

    def classify(self, question: str, limit: int = 5) -> list[tuple[int, float]]:
        """(item, probability) of the items a question's words point to, best first, numbered
        as `LearnedMatch.proc` (board procedures, then other agencies'); [] when no word of the
        question is known."""
        return self.classify_words(self.analyse(question), limit)

    def classify_words(self, words: list[str], limit: int = 5) -> list[tuple[int, float]]:
        """Like `classify`, for content words already analysed."""
        vec = self._weigh(self._features(words, known=True), query=True)
        if not vec or not self.n_items:
            return []
        # log P(item | question) up to a constant: Σ weight(f) · log P(f | item), each item
        # starting from "no feature of its own" and lifted by the features it has.
        scores = -sum(vec.values()) * self._log_norm
        for f, w in vec.items():
            ids, lifts = self._likely[f]
            scores[ids] += w * lifts
        scores[~self._has_texts] = -np.inf
        probs = np.exp(scores - scores.max())
        probs /= probs.sum()
        k = min(limit, len(probs))
        best = np.argpartition(-probs, k - 1)[:k]
        best = best[np.argsort(-probs[best], kind="stable")]
        return [(int(i), float(probs[i])) for i in best]

    def _features(self, words: list[str], known: bool = False) -> dict[str, float]:
        """A text's features. `known` (a question): character groups only for words no text
        uses as they are (typos), where they find the word meant; a known word matches itself."""
        bag: dict[str, float] = defaultdict(float)
        for w in words:
            bag["w:" + w] += WORD_WEIGHT
            if not w.isdigit() and not (known and "w:" + w in self.idf):
                for g in char_grams(w):
                    bag["c:" + g] += CHAR_WEIGHT
        for a, b in zip(words, words[1:], strict=False):
            bag[f"p:{a} {b}"] += PAIR_WEIGHT
        return bag

    def _weigh(self, bag: dict[str, float], query: bool = False) -> dict[str, float]:
        """Sublinear TF × IDF, L2-normalised. In a question, a feature unknown to the index still
        counts in the norm (at UNKNOWN_IDF of the rarest weight), then is dropped."""
        unknown = UNKNOWN_IDF * self.max_idf if query else 0.0
        vec = {f: (1 + math.log(tf) if tf > 1 else tf) * self.idf.get(f, unknown) for f, tf in bag.items()}
        norm = math.sqrt(sum(v * v for v in vec.values()))
        return {f: v / norm for f, v in vec.items() if f in self.idf} if norm else {}

    def query_vector(self, question: str) -> dict[str, float]:
        """The question's weighted features (for tests and the staff report)."""
        return self._weigh(self._features(self.analyse(question), known=True), query=True)

    def search(self, question: str, limit: int = 5) -> list[LearnedMatch]:
        """Procedures by similarity to the question, best first."""
        return self.search_words(self.analyse(question), limit)

    def search_words(self, words: list[str], limit: int = 5) -> list[LearnedMatch]:
        """Like `search`, for content words already analysed."""
        vec = self._weigh(self._features(words, known=True), query=True)
        if not vec or not self._n_texts:
            return []
        acc = np.zeros(self._n_texts, dtype=np.float64)
        for f, w in vec.items():
            ids, weights = self._post[f]
            acc[ids] += w * weights
        hit = np.flatnonzero(acc > 0)
        if not len(hit):
            return []
        if len(hit) > TOP_TEXTS:
            # Only the TOP_TEXTS best texts are read: select them first (linear), then sort those,
            # not every text that shares a character group with the question.
            hit_scores = acc[hit]
            cut = np.partition(hit_scores, len(hit_scores) - TOP_TEXTS)[len(hit_scores) - TOP_TEXTS]
            hit = hit[hit_scores >= cut]
        order = hit[np.argsort(-acc[hit], kind="stable")]
        best: dict[int, list[float]] = {}
        case: dict[int, int | None] = {}
        for t in order[:TOP_TEXTS].tolist():
            proc = int(self._proc_of[t])
            scores = best.setdefault(proc, [])
            if len(scores) < 2:
                scores.append(float(acc[t]))
                if len(scores) == 1:
                    case[proc] = self._case_of[t]
        ranked = sorted(
            ((p, s[0] + SECOND_WEIGHT * (s[1] if len(s) > 1 else 0.0) * (1 - s[0])) for p, s in best.items()),
            key=lambda ps: -ps[1],
        )
        return [LearnedMatch(p, min(s, 1.0), case[p]) for p, s in ranked[:limit]]


def _as_arrays(postings: dict[str, list[tuple[int, float]]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each feature's (number, value) pairs as two arrays, for adding at numpy speed."""
    return {
        f: (np.fromiter((i for i, _ in items), dtype=np.intp, count=len(items)),
            np.fromiter((v for _, v in items), dtype=np.float64, count=len(items)))
        for f, items in postings.items()
    }


def indexed_texts(kb: KnowledgeBase) -> Iterator[tuple[int, int | None, str, str]]:
    """(item, case, kind, text) of every text the learned matcher reads: each procedure's names,
    aliases and examples, its cases' (when it has several), then other agencies' procedures, as
    items numbered after the board's (a message about one of them then finds it first)."""
    for i, p in enumerate(kb.procedures):
        for kind, text in _texts(p):
            yield i, None, kind, text
        if len(p.cases) > 1:
            for j, case in enumerate(p.cases):
                for text in (case.name, *case.examples):
                    yield i, j, "case", text
    for k, other in enumerate(kb.elsewhere):
        for text in (other.name, other.name_en, *other.examples):
            yield len(kb.procedures) + k, None, "example", text


def _texts(p: Procedure) -> Iterable[tuple[str, str]]:
    yield "name", p.name
    yield "en", p.name_en
    for a in p.aliases:
        yield "alias", a
    for e in p.examples:
        yield "example", e
