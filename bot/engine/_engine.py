"""The procedure flow: questions about the board's procedures (and its FAQ, other agencies'
procedures, greetings and contact) and the buttons of its answers, in; an Answer out.

Channel-agnostic and synchronous (pure CPU, about a millisecond). It is the last flow the
assistant (bot.conversation) offers a message to, so it answers every message no other flow
took; intents another flow owns (a dossier's status, the roadmap) it hands over (`Handoff`).
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections import Counter
from typing import Any

from rapidfuzz import fuzz, process

from ..core import FACETS, Answer, Button, ConversationState, Pending, Reply, now_vn
from ..core._flow import Handoff, Message
from ..core._text import fold, is_vi_syllable
from ..kb import FaqEntry, KnowledgeBase, Procedure
from ..kb._vocabulary import compile_phrases, matches
from ..workdays import WorkCalendar
from . import _compose as compose
from ._index import CLAUSE_END, LIFT_RIVAL, Match, ProcedureIndex, procedure_phrases
from ._intent import IntentRules
from ._learned import LearnedMatch

log = logging.getLogger(__name__)

# Below this score no procedure is claimed; the bot says it does not know.
CONFIDENT = 0.6
# Below this score a likely procedure is asked about ("Có phải bạn hỏi …?"), not answered.
DIRECT = 0.95
# …when the second best scores at least this share of the best (0: always). Held out
# (bench/calibrate.py, 3,057 questions, with the classifier's lift in bot/engine/_index.py): 0.4,
# wrong_direct 27 and asked back 37.6% of questions; 0.5, 39 and 34.4%; 0.6, 49 and 30.8%; 0.7
# (the setting before the lift), 61 and 28.5%. Counting only runners-up with no variant the
# message does not ask ("gia hạn" beside the permit asked) gave 47 at 0.4: such siblings are
# what the bot most often confuses. On 3,545 questions (2026-12-07): 0.45, 0.4, 0.37, 0.35, 0.33,
# 0.3, 0.25 gave wrong_direct 23, 17, 14, 12, 12, 11, 10, asked back 40.7% … 46.9%, right 0.794 at
# every one; the objective was best at 0.37 and 0.35 (0.5874, 0.5872; 0.5864 at 0.4).
DIRECT_GAP = 0.35
# A best candidate under CONFIDENT still counts when it reaches this share of it and scores
# SURE_MARGIN times the second best.
SURE_MARGIN_FLOOR = 0.75
SURE_MARGIN = 2.0
# Candidates scoring at least this fraction of the best one are "close": unless the question
# names the best one in full, the bot asks which one is meant.
CLOSE = 0.6
FULL = 0.95
# Candidates listed beside the best one must reach this fraction of its score.
LISTED = 0.8
# Below CONFIDENT, a procedure whose name (or alias) the question contains nearly whole is offered
# as a question back ("did you mean …?"), never answered: at least this score and coverage.
SUGGEST = 0.35
SUGGEST_COVERAGE = 0.85
# A long message (at least ASK_WORDS words: greeting, company context, several clauses) scores low
# on every procedure, since most of its words name none; below CONFIDENT, its likeliest procedures
# are offered as a question back when the best reaches ASK_FLOOR and shares a word with its names
# (short questions that low are about something the board does not handle, and get "unknown").
# Fit by bench/calibrate.py.
ASK_WORDS = 8
ASK_FLOOR = 0.25
ASK_OPTIONS = 0.6
# …and when the message says at least this share of the best procedure's name (its words, weighted
# by rarity): a long message about something else shares a few common words with many names.
ASK_COVERAGE = 0.7
# Another agency's procedure (knowledge/elsewhere.yaml) ranked above every board procedure by the
# learned similarity is answered as such when that similarity reaches this.
OTHER_FLOOR = 0.2
# …and a message asking whom to contact is about another agency's procedure only when the learned
# similarity to it reaches this: the board's own contact questions share words with its examples.
CONTACT_OTHER = 0.4
# A text of a pool is compared with a question only up to this many times its words, plus these.
CLOSEST_LENGTH = 2
CLOSEST_EXTRA = 4
# A board procedure whose name the message says at least this share of (its words, by rarity) is
# not outranked by another agency's that only the learned similarity puts first.
NAMED = 0.95
# A message handed to another flow (a dossier's status, the roadmap) is about the best candidate
# when it says at least this share of its name and no close candidate's as much.
HANDED = 0.9
HANDED_FLOOR = 0.45
# A best candidate not named in full is not answered directly when the learned ranking (the
# examples) puts another above it by this much: asked back instead (held out, wrong answers given
# directly 67 → 50 of 2,569, asked back 20.4% → 22.8%; a margin of 0.05 gave 56 and 21.6%).
RIVAL_MARGIN = 0.01
# A message that names no procedure is asked about the one the examples say, when the learned
# similarity reaches DESCRIBED and DESCRIBED_MARGIN times the next item's (at 0.25, held out: right
# 0.805 → 0.817 of 2,569, 2 more procedures offered for questions about none; 0.35 gives the same
# development figures and leaves "mã tra cứu … tra không ra" alone; margins 1.25 and 1.6 gave
# dev_fourth 0.78 and 0.76 against 0.77, dev_long_out false confident 0.14 and 0.11 against 0.12).
DESCRIBED = 0.35
DESCRIBED_MARGIN = 1.4
# Before that rule, the classifier's (bot/engine/_learned.py): a message naming no procedure is
# asked about the board procedure its words point to with probability CLASSIFIED, or with
# CLASSIFIED_FLOOR and CLASSIFIED_MARGIN times the next item's. Held out (bench/calibrate.py, 3,057
# questions with this session's 488 examples): right 0.727 → 0.784, wrong_direct 61 unchanged,
# procedures offered for questions about none 21 → 29. CLASSIFIED alone gave 0.777 and 28; at 0.1
# and 0.2 (before the new examples) 0.833 and 0.828 against 0.836 at 0.15.
CLASSIFIED = 0.15
CLASSIFIED_FLOOR = 0.06
CLASSIFIED_MARGIN = 2.0
# A best candidate is not answered directly when the classifier's first item is another board
# procedure with probability CLASS_RIVAL (and, over a best named in full with the top score,
# CLASS_RIVAL_NAMED times the best's own): asked back with both. Held out (bench/calibrate.py):
# wrong answers given directly 60 → 41 of 3,057, asked back 30.4% → 31.5% of questions; at 0.3,
# 44 and at 0.1, 37 (without the named guard: 35, but "how long does a work permit take" was
# asked back about the exemption); a named guard of 1.5, 3 or 5 gave 41, 42, 45.
CLASS_RIVAL = 0.2
CLASS_RIVAL_NAMED = 2.0
# Another agency's procedure is answered, whatever board procedure the message also mentions,
# when the classifier gives it probability CLASS_OTHER and the learned ranking puts it (or another
# agency's) first too, unless the message, without what it says is done, names a board procedure
# (coverage OTHER_NAMED, score OTHER_NAMED_SCORE). Held out (bench/calibrate.py, 3,057 questions):
# procedures offered for questions about none 32 → 24, right 0.790 → 0.794; flat for CLASS_OTHER
# from 0.3 to 0.5, 25 at 0.7; without the named guard 23, but "thủ tục điều chỉnh GCNĐKĐT khi thay
# đổi người đại diện" went to the enterprise registration office. The named guard's score at 0.8
# (2026-12-07, 3,545 questions: offered for none 21 → 18, right and wrong_direct unchanged) cost
# top-1 on the blind sets (mean of sixteen 0.908 → 0.904): a board procedure named in a long message
# is more often what it asks than the other agency's business beside it. Kept at 0.6.
CLASS_OTHER = 0.5
# …or when it is clearly first (CLASS_OTHER_FLOOR and CLASS_OTHER_MARGIN times the next item), as
# `_clearly_first` reads a board procedure's lead: "mở chi nhánh ở Hà Nội thì đăng ký ở đâu" is the
# branch registration at 0.42 against 0.04, whatever "nội" of "nội quy lao động" says. Held out
# (2026-12-07, 3,545 questions): procedures offered for questions about none 24 → 21, right 0.790 →
# 0.791, wrong_direct 22 unchanged; flat for floors 0.06 to 0.15 at margin 3 (0.15 at margin 2 too;
# 0.3 or a margin of 5: 22).
CLASS_OTHER_FLOOR = 0.15
CLASS_OTHER_MARGIN = 3.0
OTHER_NAMED = 0.9
OTHER_NAMED_SCORE = 0.6
# A FAQ question asked nearly word for word (token_set_ratio) wins over a partly named procedure.
FAQ_SURE = 0.95
# …and a procedure of another agency asked nearly word for word wins over a partly named one.
ELSEWHERE_SURE = 0.9


class Engine:
    """Answers questions about one knowledge base."""

    name = "procedures"
    actions = ("f:", "p:", "d:", "lang:", "menu:")
    intents: tuple[str, ...] = ()

    def __init__(self, kb: KnowledgeBase, calendar: WorkCalendar | None = None) -> None:
        """`calendar` (a WorkCalendar) lets time answers say when a dossier filed today would be due."""
        self.kb = kb
        self.calendar = calendar
        self.index = ProcedureIndex(kb)
        self.vocabulary = self.index.vocabulary
        self.intents_rules = IntentRules(self.vocabulary)
        self.stopwords = self.vocabulary.stopwords
        self._out_of_scope = [
            (compile_phrases(t.when, self.vocabulary.classes), compile_phrases(t.unless, self.vocabulary.classes), t.reply, t.reply_en)
            for t in self.vocabulary.out_of_scope
        ]
        self.by_code = {p.code: p for p in kb.procedures}
        self._background = compile_phrases(self.vocabulary.background, self.vocabulary.classes)
        self._background_ends = frozenset(w for e in self.vocabulary.background_ends for w in e.split())
        self._faq = [(entry, [(fold(q), frozenset(self._faq_words(fold(q)))) for q in entry.questions]) for entry in kb.faq]
        # Procedures of other agencies (knowledge/elsewhere.yaml), matched like FAQ questions on
        # their names and examples.
        self._elsewhere = [
            (entry, [(fold(t), frozenset(self._faq_words(fold(t)))) for t in (entry.name, entry.name_en, *entry.examples)])
            for entry in kb.elsewhere
        ]
        # Each pool's texts in one list (rapidfuzz's choices) and, beside each, its entry and words.
        self._pools: dict[str, tuple[list[str], list[tuple[Any, frozenset[str]]]]] = {
            name: ([text for _entry, texts in entries for text, _words in texts],
                   [(entry, words) for entry, texts in entries for _text, words in texts])
            for name, entries in (("faq", self._faq), ("elsewhere", self._elsewhere))
        }
        # Each pool text's number of words and of distinct meaningful words.
        self._pool_sizes = {name: [(len(text.split()), len(words)) for text, (_entry, words) in zip(texts, owned, strict=True)]
                            for name, (texts, owned) in self._pools.items()}
        # A pure function of the question, for one knowledge: popular questions repeat.
        self._closest_cached = functools.lru_cache(maxsize=4096)(self._closest)

    # -- the flow ---------------------------------------------------------------------------

    def take(self, msg: Message, state: ConversationState) -> Answer | Handoff:
        """The answer to a button of a procedure answer, a reply to the bot's own question
        ("which procedure?", "which case?"), or a question; or a hand-off of a question whose
        intent another flow answers."""
        q, lang = msg.text, msg.lang
        if msg.action:
            return self._action(q, state, lang)
        pending = state.pending
        if pending is not None and pending.kind == "choose":
            picked = self._chosen(q, pending)
            if picked is not None:
                p = self.by_code[picked]
                return self._facet(q, pending.facet or "procedure", p, [Match(p, 1.0)], state, lang)
        if pending is not None and pending.kind == "case":
            chosen = self._typed_case(q, pending)
            if chosen is not None:
                return self._facet(q, chosen[1], chosen[0], [Match(chosen[0], 1.0)], state, lang, chosen[2])
        changed = self._case_follow_up(q, state)
        if changed is not None:
            return self._facet(q, changed[1], changed[0], [Match(changed[0], 1.0)], state, lang, changed[2])
        answer = self._two_questions(q, state, lang) or self._question(q, state, lang)
        if isinstance(answer, Answer):
            answer.question = True
        return answer

    def empty(self, lang: str) -> Reply:
        """The reply to an empty message (or one of signs only)."""
        return self._empty(lang)

    # -- internals --------------------------------------------------------------------------

    def folded(self, q: str) -> str:
        """A question folded, with texting spellings replaced: the form intents are read from."""
        return " ".join(self.index.words(q))

    def _question(self, q: str, state: ConversationState, lang: str) -> Answer | Handoff:
        folded = self.folded(q)
        # What is already done ("đã có quyết định phê duyệt ĐTM, …") is not what is asked, nor
        # what is out of scope; a dossier's status ("hồ sơ đã nộp … đã có kết quả chưa") is.
        foreground = None if self.intents_rules.detect(q, folded, False) in ("status", "roadmap") else self._foreground(q)
        if foreground is not None:
            answer = self._question(foreground, state, lang)
            if isinstance(answer, Answer):
                answer.q = q
            return answer
        for pattern, unless, vi, en in self._out_of_scope:
            if matches(pattern, folded) and not matches(unless, folded):
                state.pending = None
                return Answer(q, lang, "unknown", [], Reply(vi if lang == "vi" else en, self._menu_buttons(lang)))
        found = self._searched(q)
        confident = [m for m in found if m.score >= CONFIDENT]
        if not confident and found and found[0].score >= CONFIDENT * SURE_MARGIN_FLOOR and (
            len(found) == 1 or found[0].score >= SURE_MARGIN * found[1].score
        ):
            # Below the threshold but far ahead of every other candidate: a long message scores
            # low on every procedure, and the gap says which one it is about.
            confident = [found[0]]
        asked = self._asking_part(q)
        intent = self.intents_rules.detect(q, folded, has_procedure=bool(confident), asked=asked)
        if intent in ("status", "roadmap"):
            return Handoff(intent, self._named(q, found))
        if intent == "contact" and not confident and len(q.split()) >= ASK_WORDS:
            # "… or which office should we contact?" about another agency's procedure: that agency.
            other = self._other_agency(q, max(found[0].score if found else 0.0, CONTACT_OTHER))
            if other is not None:
                return self._elsewhere_answer(q, other, lang)
        if intent in ("greeting", "contact") and not (intent == "contact" and confident):
            return self._general(q, intent, state, lang)
        if confident and confident[0].score < 1.0:
            # The FAQ's own question, asked nearly word for word, is not a procedure's look-alike.
            faq = self._faq_match(q, strict=True)
            if faq is not None:
                return Answer(q, lang, "faq", [], Reply(faq.answer_vi if lang == "vi" else faq.answer_en,
                                                        self._menu_buttons(lang)))
            # So is a procedure of another agency that the question names word for word.
            other = self._best_of(q, "elsewhere", ELSEWHERE_SURE)
            if other is not None:
                return self._elsewhere_answer(q, other, lang)
        other = self._classified_other(q)
        if other is not None:
            return self._elsewhere_answer(q, other, lang)
        if confident:
            best = confident[0]
            listed = [m for m in confident if m.score >= best.score * LISTED][:5]
            close = [m for m in listed if m.score >= best.score * CLOSE]
            # Ask when the best is only partly named, or when the question names two in full
            # ("thành viên góp vốn có phải xin giấy phép lao động?").
            unsure = best.coverage < FULL or (len(close) > 1 and close[1].coverage >= FULL)
            # …or when the question says a word of a close sibling's names that the best's lack
            # (the variant they share does not decide between them).
            if len(close) > 1 and not self._distinct_by_question(q, close) and (
                    self._sibling_said(q, best, close) or unsure and not self._variant_decides(q, close)):
                return self._clarify(q, intent, close, listed, state, lang)
            second = found[1].score if len(found) > 1 else 0.0
            # A best candidate without a variant the question asks for ("gia hạn …" when only the
            # issuance exists) is another procedure than the one asked: never answered directly.
            lacks = bool(self.index.lacking(q, best.procedure))
            if best.score < DIRECT:
                # Not named in full: a procedure of another agency wins when the question describes
                # it in words the board's candidate never uses ("gia hạn visa", not the permit).
                # So does one the learned ranking puts above every board procedure, as similar to
                # the question as the board's best is, when the question does not say that one's name.
                other = self._elsewhere_subject(q, best.procedure) or (self._other_agency(q, best.score) if best.coverage < NAMED else None)
                if other is not None:
                    return self._elsewhere_answer(q, other, lang)
            if (lacks or best.score < DIRECT and second >= DIRECT_GAP * best.score) and not self._distinct_by_question(q, [best]):
                # Likely, not sure, with another candidate not far behind: a question back with the
                # likeliest ones.
                options = [m for m in found if m.score >= best.score * LISTED][:3]
                # …and the others the classifier finds likely, or siblings the message nearly names
                # too (the other grade's permit, which the classifier's lift of one grade has left behind).
                likely = {index_item for index_item, p in self.index.classified(q) if p >= CLASS_RIVAL}
                near = self._siblings(best, [m for m in found if m.coverage >= LIFT_RIVAL])
                options += [m for m in found if m not in options
                            and (self.index.by_code[m.procedure.code] in likely or m in near)]
                options = options[:3]
                return self._clarify(q, intent, options, options, state, lang)
            rival = self._learned_rival(q, best, found) or self._classified_rival(q, best, found)
            if rival is not None:
                # The names say one procedure, the examples another: asked back, both offered.
                options = [best, rival]
                return self._clarify(q, intent, options, options, state, lang)
            return self._facet(q, intent, best.procedure, listed, state, lang)
        # No procedure named: a follow-up on the last one, or a general question.
        facet = self.intents_rules.facet_of(folded)
        last = self.by_code.get(state.last or "")
        if last is not None:
            retry = self._in_context(q, last)
            if retry is not None:
                return self._facet(q, facet or "procedure", retry.procedure, [retry], state, lang)
        if found and found[0].score >= ASK_FLOOR and found[0].coverage >= ASK_COVERAGE and len(q.split()) >= ASK_WORDS:
            options = [m for m in found if m.score >= found[0].score * ASK_OPTIONS][:3]
            # Another agency's procedure the message describes in words the board's candidates
            # never use ("thẩm duyệt PCCC", "thẻ tạm trú") is answered as such.
            # The learned ranking's other agency wins only over a name the message does not say in full.
            named = options[0].coverage >= NAMED
            other = self._elsewhere_subject(q, options[0].procedure) or (
                None if named else self._other_agency(q, options[0].score))
            if other is not None:
                return self._elsewhere_answer(q, other, lang)
            # Nor is a board procedure offered when the learned ranking puts another agency's first.
            if ((named or self.index.other_agency(q) is None)
                    and self._best_of(q, "elsewhere", ELSEWHERE_SURE) is None and self._faq_match(q) is None):
                return self._clarify(q, self.intents_rules.detect(q, folded, True, asked), options, options, state, lang)
        described = self._described(q, found)
        if described is not None and (last is None or described.procedure.code != last.code) \
                and self._best_of(q, "elsewhere", ELSEWHERE_SURE) is None and self._faq_match(q) is None:
            return self._clarify(q, self.intents_rules.detect(q, folded, True, asked), [described], [described], state, lang)
        suggested = [m for m in found if m.score >= SUGGEST and m.coverage >= SUGGEST_COVERAGE][:3]
        if suggested and (last is None or suggested[0].procedure.code != last.code):
            return self._suggest(q, facet or "procedure", suggested, state, lang)
        if last is not None:
            if facet and len(fold(q).split()) <= 8:
                match = Match(last, state.last_score if state.last_score is not None else CONFIDENT)
                return self._facet(q, facet, last, [match], state, lang)
        other = self._best_of(q, "elsewhere", ELSEWHERE_SURE)
        if other is not None:  # not a board procedure: "unknown" to the board, with who handles it
            return self._elsewhere_answer(q, other, lang)
        faq = self._faq_match(q)
        if faq is not None:
            entry = faq
            text = entry.answer_vi if lang == "vi" else entry.answer_en
            return Answer(q, lang, "faq", [], Reply(text, self._menu_buttons(lang)))
        if len(q.split()) >= ASK_WORDS:
            # A long message is never close to a short text word for word; the learned ranking
            # says which other agency's procedure it describes.
            other = self._other_agency(q, found[0].score if found else 0.0)
            if other is not None:
                return self._elsewhere_answer(q, other, lang)
        if facet:
            return Answer(q, lang, facet, [], self._which_procedure(facet, lang), unsure=True)
        return Answer(q, lang, "unknown", [], self._unknown(lang))

    def _described(self, q: str, found: list[Match]) -> Match | None:
        """A board procedure the message describes without naming it ("cty em ít đơn hàng, tính
        nghỉ chạy xưởng 3 tháng"): the classifier's first item when it is a board procedure clearly
        first (`_clearly_first`); else the learned ranking's first, similar enough
        (DESCRIBED) and DESCRIBED_MARGIN times the next item, board procedure or other agency's."""
        index = self.index
        classified = index.classified(q)
        if classified and classified[0][0] < index.learned.n_procedures and self._clearly_first(classified, CLASSIFIED, CLASSIFIED_FLOOR, CLASSIFIED_MARGIN):
            return self._classified_match(q, *classified[0], found)
        learned = index.learned_ranking(q)[:2]
        if not learned or learned[0].proc >= index.learned.n_procedures or learned[0].score < DESCRIBED:
            return None
        if len(learned) > 1 and learned[0].score < DESCRIBED_MARGIN * learned[1].score:
            return None
        return self._as_match(learned[0], found)

    @staticmethod
    def _clearly_first(classified: list[tuple[int, float]], likely: float, floor: float, margin: float) -> bool:
        """The classifier's first item is `likely`, or at least `floor` and `margin` times the
        next: a procedure's probability is shared with its siblings (the same change decided by
        the board or by the province), so a clear lead says as much as a high probability."""
        first = classified[0][1]
        second = classified[1][1] if len(classified) > 1 else 0.0
        return first >= likely or (first >= floor and first >= margin * second)

    def _sibling_said(self, q: str, best: Match, close: list[Match]) -> bool:
        """Whether a close sibling of the best (the same change, decided by another authority or
        for another grade) has a word of its names in the question that the best's names lack:
        "sửa quyết định chấp thuận nhà đầu tư cấp tỉnh" says the province's, not only the board's."""
        mine = self.index.by_code[best.procedure.code]
        return any(self.index.says_own_words(q, mine, self.index.by_code[m.procedure.code])
                   for m in self._siblings(best, close[1:]))

    def _siblings(self, best: Match, among: list[Match]) -> list[Match]:
        """The candidates among `among` that are siblings of `best` (`ProcedureIndex.siblings`)."""
        by_code = self.index.by_code
        near = set(self.index.siblings(by_code[best.procedure.code], [by_code[m.procedure.code] for m in among]))
        return [m for m in among if by_code[m.procedure.code] in near]

    def _learned_rival(self, q: str, best: Match, found: list[Match]) -> Match | None:
        """Another candidate that the learned ranking (the examples) puts above `best` by
        RIVAL_MARGIN, when `best` is not named in full with the top score."""
        if best.score >= 1.0 and best.coverage >= FULL:
            return None
        index = self.index
        learned = [m for m in index.learned_ranking(q)[:5] if m.proc < index.learned.n_procedures]
        if not learned or index.procedures[learned[0].proc].code == best.procedure.code:
            return None
        own = next((m.score for m in learned if m.proc == index.by_code[best.procedure.code]), 0.0)
        return self._as_match(learned[0], found) if learned[0].score >= own + RIVAL_MARGIN else None

    def _classified_rival(self, q: str, best: Match, found: list[Match]) -> Match | None:
        """Another board procedure that the classifier puts first with probability CLASS_RIVAL:
        the message's words, summed, say another than its names ("điều chỉnh giấy phép xây
        dựng nhà ở riêng lẻ" names the grade I/II amendment's alias in full)."""
        index = self.index
        classified = index.classified(q)
        if not classified:
            return None
        item, p = classified[0]
        own = index.by_code[best.procedure.code]
        if item >= index.learned.n_procedures or item == own or p < CLASS_RIVAL:
            return None
        if best.score >= 1.0 and best.coverage >= FULL:
            theirs = next((pb for i, pb in classified if i == own), 0.0)
            if p < CLASS_RIVAL_NAMED * theirs:
                return None
        return self._classified_match(q, item, p, found)

    def _classified_match(self, q: str, item: int, p: float, found: list[Match]) -> Match:
        """The classifier's board procedure `item` as a candidate: as the learned ranking has it
        (its similarity and case), or with its probability when that ranking left it out."""
        nearest = next((m for m in self.index.learned_ranking(q) if m.proc == item), None)
        return self._as_match(nearest or LearnedMatch(item, p, None), found)

    def _as_match(self, learned: LearnedMatch, found: list[Match]) -> Match:
        """A board procedure of the learned ranking as a candidate: its place among `found`, or
        its learned similarity alone (no word of its names said)."""
        p = self.index.procedures[learned.proc]
        return next((m for m in found if m.procedure.code == p.code), Match(p, round(learned.score, 4), 0.0, learned.case))

    def _named(self, q: str, found: list[Match]) -> tuple[Match, ...]:
        """The procedure a message handed to another flow is about (its dossier's status, its
        place in the roadmap): the best candidate when the message says most of its name
        (HANDED) and no other candidate that does has more of the variants the message asks for
        ("gia hạn"), or as many and a close score; nothing otherwise (a guess would send the user
        to the wrong procedure)."""
        if not found or found[0].score < HANDED_FLOOR or found[0].coverage < HANDED:
            return ()
        best = found[0]
        missing = len(self.index.lacking(q, best.procedure))
        for m in found[1:]:
            if m.coverage < HANDED:
                continue
            theirs = len(self.index.lacking(q, m.procedure))
            if theirs < missing or theirs == missing and m.score >= best.score * CLOSE:
                return ()
        return (best,)

    def _searched(self, q: str) -> list[Match]:
        """The question's candidates; for a message of several sentences whose whole scores below
        CONFIDENT, those of its last sentence when that one names a procedure confidently (the
        context comes first, the question last: "… sắp hết hạn. Cho em hỏi thủ tục gia hạn …")."""
        found = self.index.search(q)
        if found and found[0].score >= CONFIDENT:
            return found
        sentences = [s for s in _SENTENCE_RE.split(q) if len(s.split()) >= 3]
        if len(sentences) < 2:
            return found
        last = self.index.search(sentences[-1])
        # The last sentence's procedure must be a close candidate of the whole message too: a
        # question that names no procedure of its own ("… kiểm tra giúp em hồ sơ đã đến bước nào?")
        # does not replace the subject the context named.
        if last and last[0].score >= CONFIDENT and last[0].coverage >= ASK_COVERAGE and any(
            m.procedure.code == last[0].procedure.code and m.score >= ASK_OPTIONS * found[0].score for m in found
        ):
            return last
        return found

    def _foreground(self, q: str) -> str | None:
        """What a long message asks, read apart from its context: its sentences that ask (end with
        "?") or the message without the clauses that say what is already done (vocabulary
        `background`: "đã có quyết định phê duyệt ĐTM, …"), the first of them that names a
        procedure in full, or another agency's, on its own; None otherwise (read it whole)."""
        if len(q.split()) < ASK_WORDS:
            return None
        rest = self._without_background(q)
        asking = self._asking_sentences(rest or q)
        # The question read alone must keep every variant its context asks ("… a small grade IV
        # warehouse to another spot. How do we get a relocation permit?": the grade).
        if asking is not None and len(asking.split()) >= 3 and \
                self.index.asked_variants(rest or q) <= self.index.asked_variants(asking):
            # The question names one of the whole message's likeliest procedures in full.
            best = self.index.search(asking)
            if best and best[0].score >= ASK_FLOOR and best[0].coverage >= ASK_COVERAGE and any(
                m.procedure.code == best[0].procedure.code for m in self._searched(rest or q)[:3]
            ):
                return asking
        if rest is not None and len(rest.split()) >= 3 and self._names_on_its_own(rest):
            return rest
        return None

    def _names_on_its_own(self, text: str) -> bool:
        """True when `text` says most of a procedure's name, or the learned ranking puts another
        agency's procedure first, as a long message would be asked back or told who handles it."""
        best = self.index.search(text)
        if best and best[0].score >= ASK_FLOOR and best[0].coverage >= ASK_COVERAGE:
            return True
        other = self.index.other_agency(text)
        return other is not None and other[1] >= OTHER_FLOOR

    def _without_background(self, q: str) -> str | None:
        """The message without its clauses that say what is already done; None when it has none."""
        if self._background is None:
            return None
        kept: list[str] = []
        dropped = False
        for clause in _CLAUSE_RE.split(q):
            raw = clause.split()
            folded, owner = self.index.owned_words(raw)
            text = f" {' '.join(folded)} "
            found = self._background.search(text)
            if found is None:
                kept.append(clause)
                continue
            start = owner[len(text[: found.start()].split())]
            end = len(raw)
            for j in range(start + 1, len(raw)):
                if fold(raw[j]) in self._background_ends:
                    end = j + 1
                    break
            if end - start <= len(found.group(0).split()) + 1:
                start = 0  # "giấy phép lao động đã có": what is done comes before the phrase
            dropped = True
            kept.append(" ".join(raw[:start] + raw[end:]))
        return " ".join("".join(kept).split()) if dropped else None

    @staticmethod
    def _asking_sentences(q: str) -> str | None:
        """The sentences of a message that end with a question mark, when some others do not
        (context, then the question); None otherwise."""
        sentences = [s.strip() for s in _SENTENCE_RE.split(q) if s.strip()]
        asking = [s for s in sentences if s.endswith("?")]
        if not asking or len(asking) == len(sentences):
            return None
        return " ".join(asking)

    def _asking_part(self, q: str) -> str | None:
        """The folded sentences of a message that end with a question mark, when some others do
        not; None otherwise."""
        asking = self._asking_sentences(q)
        return None if asking is None else self.folded(asking)

    def _in_context(self, q: str, last: Procedure) -> Match | None:
        """A short follow-up naming only a variant ("còn gia hạn thì sao?") read against the
        last procedure's subject."""
        words = fold(q).split()
        if len(words) > 8:
            return None
        core = fold(procedure_phrases(last)[0][1])
        found = self.index.search(f"{q} {core}")
        if found and found[0].score >= CONFIDENT and found[0].procedure.code != last.code:
            if self.index.variant_words(" ".join(self.index.rewriter.rewrite(words))):
                return found[0]
        return None

    def _two_questions(self, q: str, state: ConversationState, lang: str) -> Answer | None:
        """A message with two questions about two procedures ("… GPLĐ cần gì? Ngoài ra gia hạn
        GPXD thế nào?"): the first is answered and the second offered as a button."""
        parts = [p for p in _QUESTION_BREAK_RE.split(q) if p and p.strip()]
        if len(parts) < 2:
            folded = self.folded(q)
            for brk in self.vocabulary.question_breaks:
                at = f" {folded} ".find(f" {brk} ")
                if at > 0:
                    raw_words = q.split()
                    n = len(folded[:at].split())
                    parts = [" ".join(raw_words[:n]), " ".join(raw_words[n:])]
                    break
        if len(parts) < 2:
            return None
        first, rest = parts[0].strip(), " ".join(parts[1:]).strip()
        one = [m for m in self.index.search(first) if m.score >= DIRECT]
        two = [m for m in self.index.search(rest) if m.score >= DIRECT]
        if not one or not two or one[0].procedure.code == two[0].procedure.code:
            return None
        answer = self._question(first, state, lang)
        if isinstance(answer, Handoff):
            return None
        if not answer.matches or answer.matches[0].procedure.code != one[0].procedure.code:
            return answer if answer.matches else None
        p2 = two[0].procedure
        facet = self.intents_rules.facet_of(self.folded(rest)) or "procedure"
        label = ("Câu hỏi thứ hai: " if lang == "vi" else "Your second question: ") + _display_name(p2, lang, 30)
        reply = answer.reply
        answer.reply = Reply(reply.text, (Button(label, f"p:{p2.code}:{facet}"), *reply.buttons), reply.image)
        answer.q = q
        return answer

    def _elsewhere_answer(self, q: str, entry: Any, lang: str) -> Answer:
        """Who handles a procedure of another agency: "unknown" to the board, with the way there."""
        return Answer(q, lang, "unknown", [], Reply(compose.elsewhere_answer(entry, lang, self.kb.board),
                                                    self._menu_buttons(lang)))

    def _other_agency(self, q: str, board: float) -> Any | None:
        """The other agency's procedure the learned ranking puts above every board procedure for
        this question, when similar enough: OTHER_FLOOR, and the best board procedure's score
        (`board`: the message names that one in words of its own names)."""
        found = self.index.other_agency(q)
        if found is None or found[1] < max(OTHER_FLOOR, board):
            return None
        return self.kb.elsewhere[found[0]]

    def _classified_other(self, q: str) -> Any | None:
        """The other agency's procedure that the classifier finds likely (CLASS_OTHER) or clearly
        first (CLASS_OTHER_FLOOR, CLASS_OTHER_MARGIN) and the learned ranking puts above every
        board procedure: the message's words, summed and one by one, say it is about that agency's
        business, whatever board procedure it also mentions
        ("giấy phép lao động xong rồi, giờ hỏi về thị thực")."""
        index = self.index
        classified = index.classified(q)
        if not classified or classified[0][0] < index.learned.n_procedures or not self._clearly_first(
                classified, CLASS_OTHER, CLASS_OTHER_FLOOR, CLASS_OTHER_MARGIN):
            return None
        if index.other_agency(q) is None:
            return None
        # Not over a board procedure the message asks about by name, outside what it says is done.
        named = index.search(self._without_background(q) or q)
        if named and named[0].coverage >= OTHER_NAMED and named[0].score >= OTHER_NAMED_SCORE:
            return None
        return self.kb.elsewhere[classified[0][0] - index.learned.n_procedures]

    def _elsewhere_subject(self, q: str, p: Procedure) -> Any | None:
        """The other agency's procedure the question describes, when the words it shares with it
        include one that no name, alias or example of `p` uses."""
        other = self._best_of(q, "elsewhere")
        if other is None:
            return None
        own = {w for t in (p.name, p.name_en, *p.aliases, *p.examples) for w in fold(t).split()}
        theirs = {w for t in (other.name, other.name_en, *other.examples) for w in fold(t).split()}
        # Courtesy and company context ("doanh nghiệp", "công ty") never make a subject distinct.
        asked = set(self._faq_words(self.index.strip_facets(fold(q)))) - self.index.courtesy
        return other if (asked & theirs) - own else None

    def _chosen(self, q: str, pending: Pending) -> str | None:
        """The option a reply to "which procedure do you mean?" picks: its number ("2"), or a yes
        ("có", "đúng rồi", "yes") when one option was offered."""
        codes = [c for c in pending.codes if c in self.by_code]
        folded = self.folded(q)
        if folded.isdigit() and folded.isascii() and 1 <= int(folded) <= len(codes):
            return codes[int(folded) - 1]
        if len(codes) == 1 and len(folded.split()) <= 4 and self.intents_rules.is_yes(folded):
            return codes[0]
        return None

    def _variant_decides(self, q: str, close: list[Match]) -> bool:
        """True when the question names a variant (gia hạn, cấp lại, điều chỉnh…) that the best
        candidate has and none of the others the question names as fully: "work permit extension"
        is the extension, not the first permit that also scored close (nor the extension of the
        exemption, whose name it says only in part)."""
        index = self.index
        asked = self.index.asked_variants(q)
        if not asked:
            return False
        mods = [index.proc_mods[index.by_code[m.procedure.code]] for m in close]
        named = min(close[0].coverage, FULL)
        return asked <= mods[0] and not any(asked <= other for m, other in zip(close[1:], mods[1:], strict=True)
                                            if m.coverage >= named)

    @staticmethod
    def _distinct_by_question(q: str, close: list[Match]) -> bool:
        """True when the question itself names one of the close candidates by code."""
        return any(m.procedure.code in q for m in close)

    def _facet(
        self, q: str, intent: str, p: Procedure, matches: list[Match], state: ConversationState, lang: str,
        case: int | None = None, page: int = 1,
    ) -> Answer:
        """The answer about one facet of a procedure. With several cases, for one case: `case`
        (1-based; 0 asks again), else the case the question names or describes, else the one
        chosen earlier in the conversation; none known and the answer depends on it: which case?"""
        state.last = p.code
        state.last_score = matches[0].score if matches else CONFIDENT
        state.pending = None
        facet = intent if intent in FACETS else "procedure"
        state.facet = facet
        n = self._case_for(q, p, matches, state, case)
        if n is None and compose.needs_case(p, facet):
            state.case = None
            state.pending = Pending("case", code=p.code, facet=facet)
            return Answer(q, lang, facet, matches, Reply(compose.case_question(p, facet, lang), self._case_buttons(p, facet, lang)))
        if n is not None:
            state.case = (p.code, n)
        expected = self._expected(p, lang, n) if facet == "time" else None
        pages = compose.answer(p, facet, lang, self.kb.board, n, expected).pages()
        page = min(max(page, 1), len(pages))
        vi = lang == "vi"
        chosen = f":{n}" if n is not None else (":0" if len(p.cases) > 1 else "")
        buttons: tuple[Button, ...] = ()
        if page < len(pages):
            buttons += (Button(f"Xem tiếp ({page + 1}/{len(pages)})" if vi else f"More ({page + 1}/{len(pages)})",
                               f"f:{facet}:{p.code}{chosen or ':0'}:{page + 1}"),)
        if facet == "documents":
            c = p.cases[(n or 1) - 1]
            shown = pages[page - 1]
            buttons += tuple(Button(f"Chi tiết {k}" if vi else f"Details {k}", f"d:{p.code}:{n or 1}:{k}")
                             for k in compose.long_documents(c, lang) if f"«Chi tiết {k}»" in shown or f"“Details {k}”" in shown)
        buttons += compose.facet_buttons(p, lang, facet, n)
        if facet == "documents":  # the pre-check of these papers
            check = f"c:{p.code}" + (f":{n}" if n is not None and len(p.cases) > 1 else "")
            buttons += (Button("☑ Kiểm tra hồ sơ" if vi else "☑ Check my papers", check),)
        if n is not None:
            buttons += (Button("↺ Đổi trường hợp" if vi else "↺ Change case", f"f:{facet}:{p.code}:0"),)
        return Answer(q, lang, facet, matches, Reply(pages[page - 1], buttons))

    def _case_for(
        self, q: str, p: Procedure, matches: list[Match], state: ConversationState, case: int | None,
    ) -> int | None:
        """The case (1-based) an answer is about: pressed, named ("trường hợp 2"), described
        (the matcher's `Match.case`), or kept from earlier in the conversation; None when unknown."""
        if len(p.cases) < 2:
            return None
        if case is not None:
            return case if 1 <= case <= len(p.cases) else None
        named = _CASE_NUMBER_RE.search(q)
        if named and 1 <= int(named.group(1)) <= len(p.cases):
            return int(named.group(1))
        for m in matches[:1]:
            if m.procedure.code == p.code and m.case is not None and 0 <= m.case < len(p.cases):
                return m.case + 1
        kept = state.case
        if kept is not None and kept[0] == p.code:
            return kept[1] if 1 <= kept[1] <= len(p.cases) else None
        return None

    def _typed_case(self, q: str, pending: Pending) -> tuple[Procedure, str, int] | None:
        """A typed answer to "which case?": its number ("2", "trường hợp 2", "case 2")."""
        p = self.by_code.get(pending.code)
        facet = pending.facet or "procedure"
        if p is None or facet not in (*FACETS, "procedure"):
            return None
        t = q.strip().rstrip(".").strip()
        named = _CASE_NUMBER_RE.fullmatch(t) or re.fullmatch(r"([0-9]{1,2})", t)
        if named and 1 <= int(named.group(1)) <= len(p.cases):
            return p, facet, int(named.group(1))
        return None

    def _case_follow_up(self, q: str, state: ConversationState) -> tuple[Procedure, str, int] | None:
        """A short follow-up naming another case of the last procedure by its number ("còn
        trường hợp 1 thì sao?", "case 3?"): the last facet, for that case."""
        last = self.by_code.get(state.last or "")
        named = _CASE_NUMBER_RE.search(q)
        if last is None or named is None or len(last.cases) < 2 or len(fold(q).split()) > 7:
            return None
        n = int(named.group(1))
        facet = state.facet or "procedure"
        if not 1 <= n <= len(last.cases) or facet not in (*FACETS, "procedure"):
            return None
        return last, facet, n

    def _case_buttons(self, p: Procedure, facet: str, lang: str) -> tuple[Button, ...]:
        """A button per case, labelled so people recognise theirs, then the facets that do not
        depend on the case."""
        buttons = tuple(Button(compose.case_label(c, lang), f"f:{facet}:{p.code}:{i}") for i, c in enumerate(p.cases, 1))
        labels = compose.FACET_LABELS[lang]
        return buttons + tuple(Button(labels[f], f"f:{f}:{p.code}") for f in ("where", "level", "legal") if f != facet)

    def _detail(self, q: str, p: Procedure, case: int, n: int, page: int, state: ConversationState, lang: str) -> Answer | None:
        """One document of a case in full, paged."""
        if not 1 <= case <= len(p.cases) or not 1 <= n <= len(p.cases[case - 1].documents):
            return None
        state.last = p.code
        if len(p.cases) > 1:
            state.case = (p.code, case)
        pages = compose.document_detail(p, case, n, lang).pages()
        page = min(max(page, 1), len(pages))
        vi = lang == "vi"
        buttons: tuple[Button, ...] = ()
        if page < len(pages):
            buttons += (Button(f"Xem tiếp ({page + 1}/{len(pages)})" if vi else f"More ({page + 1}/{len(pages)})",
                               f"d:{p.code}:{case}:{n}:{page + 1}"),)
        suffix = f":{case}" if len(p.cases) > 1 else ""
        buttons += (Button("← Danh sách hồ sơ" if vi else "← All documents", f"f:documents:{p.code}{suffix}"),)
        return Answer(q, lang, "documents", [Match(p, 1.0)], Reply(pages[page - 1], buttons))

    def _clarify(self, q: str, intent: str, close: list[Match], listed: list[Match], state: ConversationState, lang: str) -> Answer:
        facet = intent if intent in FACETS else "procedure"
        state.pending = Pending("choose", codes=tuple(m.procedure.code for m in close), facet=facet)
        if len(close) == 1:
            head = "Có phải bạn hỏi về thủ tục này?" if lang == "vi" else "Is this the procedure you mean?"
            # A follow-up ("còn lệ phí?") is about it unless the user says otherwise.
            state.last = close[0].procedure.code
            state.last_score = close[0].score
        else:
            head = "Bạn muốn hỏi thủ tục nào?" if lang == "vi" else "Which procedure do you mean?"
        lines = [head] + [f"{i}. {_display_name(m.procedure, lang, 200)} ({m.procedure.code})" for i, m in enumerate(close, 1)]
        buttons = tuple(Button(label, f"p:{m.procedure.code}:{facet}") for m, label in zip(close, _labels(close, lang), strict=True))
        return Answer(q, lang, intent if intent in FACETS else "procedure", listed, Reply("\n".join(lines), buttons), unsure=True)

    def _suggest(self, q: str, facet: str, suggested: list[Match], state: ConversationState, lang: str) -> Answer:
        """Not sure enough to answer: offer the procedures the question nearly names."""
        state.pending = None
        vi = lang == "vi"
        name = functools.partial(_display_name, lang=lang)
        lines = ["Tôi chưa chắc bạn hỏi về thủ tục nào. Có phải bạn muốn hỏi:" if vi
                 else "I am not sure which procedure you mean. Did you mean:"]
        lines += [f"{i}. {name(m.procedure, limit=200)} ({m.procedure.code})" for i, m in enumerate(suggested, 1)]
        lines.append("Bấm vào thủ tục đúng, hoặc gõ lại tên thủ tục." if vi
                     else "Press the right one, or type the procedure's name again.")
        buttons = tuple(Button(label, f"p:{m.procedure.code}:{facet}") for m, label in zip(suggested, _labels(suggested, lang), strict=True))
        return Answer(q, lang, facet, [], Reply("\n".join(lines), buttons), unsure=True)

    def _action(self, q: str, state: ConversationState, lang: str) -> Answer:
        parts = q.split(":")
        kind = parts[0]
        if kind == "f" and 3 <= len(parts) <= 5 and parts[1] in (*FACETS, "procedure") and all(_SMALL_NUMBER_RE.fullmatch(x) for x in parts[3:]):
            # f:<facet>:<code>[:<case, 0 = ask again>[:<page>]]
            p = self.by_code.get(parts[2])
            if p is not None:
                case = int(parts[3]) if len(parts) > 3 else None
                page = int(parts[4]) if len(parts) > 4 else 1
                return self._facet(q, parts[1], p, [Match(p, 1.0)], state, lang, case, page)
        if kind == "d" and len(parts) in (4, 5) and all(_SMALL_NUMBER_RE.fullmatch(x) for x in parts[2:]):
            # d:<code>:<case>:<document>[:<page>]: one document in full
            p = self.by_code.get(parts[1])
            if p is not None:
                detail = self._detail(q, p, int(parts[2]), int(parts[3]), int(parts[4]) if len(parts) > 4 else 1, state, lang)
                if detail is not None:
                    return detail
        if kind == "p" and len(parts) >= 2:
            p = self.by_code.get(parts[1])
            facet = parts[2] if len(parts) > 2 and parts[2] in (*FACETS, "procedure") else "procedure"
            if p is not None:
                return self._facet(q, facet, p, [Match(p, 1.0)], state, lang)
        if kind == "lang" and len(parts) == 2 and parts[1] in ("vi", "en"):
            state.lang_forced = state.lang = parts[1]
            return self._general(q, "greeting", state, parts[1])
        if kind == "menu" and len(parts) == 2 and parts[1] in ("contact", "greeting"):
            return self._general(q, parts[1], state, lang)
        # An old or foreign button: answer politely instead of guessing.
        return Answer(q, lang, "unknown", [], Reply(
            "Nút này không còn hiệu lực. Bạn hãy gõ câu hỏi nhé." if lang == "vi"
            else "That button is no longer valid. Please type your question.", self._menu_buttons(lang)))

    def _general(self, q: str, intent: str, state: ConversationState, lang: str) -> Answer:
        vi = lang == "vi"
        board = self.kb.board
        if intent == "greeting" and self.intents_rules.is_thanks(self.folded(q)):
            text = ("Rất vui được giúp bạn! Bạn cần hỏi thêm thủ tục nào cứ nhắn nhé." if vi
                    else "You're welcome! Ask me about any other procedure whenever you need.")
            return Answer(q, lang, "greeting", [], Reply(text, self._menu_buttons(lang)))
        if intent == "greeting":
            name = board.name if board and vi else board.name_en if board else ""
            text = (
                f"Xin chào! Tôi là trợ lý thủ tục hành chính của {name or 'Ban Quản lý'}. Bạn có thể hỏi về hồ sơ, "
                "thời gian, lệ phí, cách nộp trực tuyến của một thủ tục, ví dụ: «Hồ sơ cấp giấy chứng nhận đăng ký đầu tư», "
                "«gia hạn giấy phép lao động mất bao lâu», hoặc tra cứu tình trạng hồ sơ."
                if vi else
                f"Hello! I answer questions on the administrative procedures of {name or 'the management board'}: "
                "documents, time limits, fees and online filing, e.g. “documents for an investment registration certificate” "
                "or “how long does a work permit extension take”. I can also look up a dossier's status."
            )
            return Answer(q, lang, "greeting", [], Reply(text, self._menu_buttons(lang)))
        return Answer(q, lang, "contact", [], Reply(compose.contact(board, lang), self._menu_buttons(lang)))

    def _expected(self, p: Procedure, lang: str, only: int | None = None) -> str | None:
        """'Filed today, due on …' for each case with a fixed limit (working-day calendar);
        `only`: for that case (1-based) alone."""
        if self.calendar is None:
            return None
        now = now_vn()
        dues: dict[str, list[int]] = {}
        for i, case in enumerate(p.cases, 1):
            if case.time.known and only in (None, i):
                due = self.calendar.due_date(now, case.time).strftime("%d/%m/%Y")
                dues.setdefault(due, []).append(i)
        if not dues:
            return None
        parts = [d + ("" if only else compose.cases_word(n, len(p.cases), lang)) for d, n in dues.items()]
        today = now.strftime("%d/%m/%Y")
        if lang == "vi":
            return f"Nếu hồ sơ hợp lệ được tiếp nhận hôm nay ({today}), hạn trả kết quả dự kiến: {'; '.join(parts)}."
        return f"If a complete dossier is received today ({today}), the result is due by: {'; '.join(parts)}."

    def _faq_match(self, q: str, strict: bool = False) -> FaqEntry | None:
        """The FAQ entry one of whose questions this one says in other words (see `_best_of`);
        `strict`: only a question that is nearly one of the FAQ's own (FAQ_SURE), every word of it
        in the FAQ's."""
        found: FaqEntry | None = self._best_of(q, "faq", FAQ_SURE if strict else None, needs_subject=False)
        return found

    def _best_of(self, q: str, pool: str, sure: float | None = None, needs_subject: bool = True) -> Any | None:
        """`_closest` (the FAQ's or other agencies' texts, `pool`), remembered for the next time
        the same question is asked."""
        return self._closest_cached(q, pool, sure, needs_subject)

    def _closest(self, q: str, pool: str, sure: float | None = None, needs_subject: bool = True) -> Any | None:
        """The entry one of whose texts this question says in other words: close as word sets
        (token_set_ratio, which forgives extra words on either side) and with most of this
        question's own words in it ("xin giấy phép kinh doanh xăng dầu" shares "xin giấy phép"
        with a FAQ question, and "dầu" folds like "đâu", but it is not that question). `sure`:
        only texts at least this close that hold every word of the question. `needs_subject`: the
        question must say what it is about, not only what is asked ("mất bao lâu" names nothing)."""
        fq = fold(q)
        words = self._faq_words(fq)
        if needs_subject and not self._faq_words(self.index.strip_facets(fq)):
            return None
        choices, owners = self._pools[pool]
        # A text much longer than the question holds its few words by chance ("nộp hồ sơ ở đâu"
        # in a long example about fire safety): token_set_ratio forgives what the text adds. One
        # with too few distinct words cannot hold 0.6 of the question's (each at most as often as
        # the question's most repeated word): neither is compared.
        longest = CLOSEST_LENGTH * len(fq.split()) + CLOSEST_EXTRA
        need = math.ceil(0.6 * len(words) / max(Counter(words).values())) if words else 0
        sizes = self._pool_sizes[pool]
        kept = [i for i, (n_words, n_distinct) in enumerate(sizes) if n_words <= longest and n_distinct >= need]
        # Every text left at least 0.82 close, scored in one pass of rapidfuzz's C loop; then the
        # closest that passes the word checks (the first of equals, in the knowledge's order).
        close = process.extract(fq, [choices[i] for i in kept], scorer=fuzz.token_set_ratio, score_cutoff=82, limit=None)
        best, best_score, best_at = None, 0.0, -1
        for _text, raw, k in close:
            at = kept[k]
            score = raw / 100
            if score < best_score or score == best_score and at > best_at:
                continue
            entry, candidate_words = owners[at]
            covered = sum(w in candidate_words for w in words) / len(words) if words else 0.0
            if sure is not None and (score < sure or covered < 1.0):
                continue
            if covered >= 0.75 or (score >= 0.9 and covered >= 0.6):
                best, best_score, best_at = entry, score, at
        return best

    def _faq_words(self, folded: str) -> list[str]:
        """The words of a folded question that carry meaning, English plurals made singular."""
        return [w[:-1] if len(w) > 3 and w.endswith("s") and w.isascii() and not is_vi_syllable(w) else w
                for w in folded.split() if w not in self.stopwords]

    def _menu_buttons(self, lang: str) -> tuple[Button, ...]:
        if lang == "vi":
            return (Button("Tra cứu hồ sơ", "menu:status"), Button("Lộ trình thủ tục", "menu:roadmap"),
                    Button("Liên hệ", "menu:contact"), Button("English", "lang:en"))
        return (Button("Check a dossier", "menu:status"), Button("Investor roadmap", "menu:roadmap"),
                Button("Contact", "menu:contact"), Button("Tiếng Việt", "lang:vi"))

    def _which_procedure(self, facet: str, lang: str) -> Reply:
        label = compose.FACET_LABELS[lang][facet].lower()
        text = (f"Bạn muốn hỏi {label} của thủ tục nào? Hãy gõ tên thủ tục, ví dụ «{label} cấp giấy phép lao động»."
                if lang == "vi" else
                f"Which procedure do you mean ({label})? Type its name, e.g. “work permit {label}”.")
        popular = [self.by_code[c] for c in POPULAR_CODES if c in self.by_code][:4]
        return Reply(text, tuple(Button(_display_name(p, lang, 40), f"p:{p.code}:{facet}") for p in popular))

    def _unknown(self, lang: str) -> Reply:
        board = self.kb.board
        hotline = board.hotline if board else ""
        text = (
            "Xin lỗi, tôi chưa tìm được thủ tục phù hợp với câu hỏi này. Bạn thử hỏi theo tên thủ tục, ví dụ "
            "«cấp giấy chứng nhận đăng ký đầu tư», «gia hạn giấy phép lao động», «giấy phép xây dựng»"
            + (f", hoặc gọi đường dây nóng {hotline}." if hotline else ".")
            if lang == "vi" else
            "Sorry, I could not find a procedure matching this question. Try naming the procedure, e.g. "
            "“investment registration certificate”, “work permit extension”, “construction permit”"
            + (f", or call the hotline {hotline}." if hotline else ".")
        )
        return Reply(text, self._menu_buttons(lang))

    def _empty(self, lang: str) -> Reply:
        return Reply(
            "Bạn hãy gõ câu hỏi về thủ tục hành chính, ví dụ «hồ sơ cấp giấy phép lao động gồm những gì?»."
            if lang == "vi" else "Please type a question about a procedure, e.g. “what documents does a work permit need?”",
            self._menu_buttons(lang),
        )


def _labels(found: list[Match], lang: str) -> list[str]:
    """Button labels for procedures to choose from: short names, longer where two would read
    the same ("Issuance of an Investment Registration…" twice)."""
    for limit in (40, 64):
        labels = [_display_name(m.procedure, lang, limit) for m in found]
        if len(set(labels)) == len(labels):
            break
    return labels


def _display_name(p: Procedure, lang: str, limit: int) -> str:
    """A procedure's short name in the reader's language, cut to `limit` characters."""
    if lang == "en" and p.name_en:
        return p.name_en if len(p.name_en) <= limit else p.name_en[: limit - 1].rstrip() + "…"
    return compose.short_name(p, limit)


# Where a clause ends (a background phrase's reach), the punctuation kept in the text.
_CLAUSE_RE = re.compile(f"({CLAUSE_END})")
# Where one question ends and another may start.
_SENTENCE_RE = re.compile(r"(?<=[.!?;])\s+|\n+")
_QUESTION_BREAK_RE = re.compile(r"(?<=[?;])\s+|\n+")
# Button actions start with these (see Button.action); anything else is a question.
# Case and page numbers in actions: ASCII digits only, small.
_SMALL_NUMBER_RE = re.compile(r"[0-9]{1,2}")
# "trường hợp 2", "TH 2", "case 2": the case a question names by its number.
_CASE_NUMBER_RE = re.compile(r"(?:\btrường hợp|\btruong hop|\bth|\bcase)\s*(?:số|so|no\.?|#)?\s*([0-9]{1,2})\b", re.IGNORECASE)
# Procedures offered as examples when the bot must ask which one is meant.
POPULAR_CODES = ("1.009664", "1.014199", "1.013236", "1.009748", "1.009647")
