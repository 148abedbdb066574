"""What a question asks for: a facet of a procedure, a dossier's status, the roadmap, contact…

The phrases are data (knowledge/vocabulary.yaml: `facets` and `intents`); this module holds the
order in which they decide. The facet is independent of the procedure: "còn lệ phí?" asks for the
fee of the procedure talked about.
"""

from __future__ import annotations

from ..core import DOSSIER_CODE_RE
from ..kb import Vocabulary
from ..kb._vocabulary import FACET_ORDER, matches

# A greeting is only a greeting in a short message ("chào anh, cho em hỏi …" asks something).
GREETING_WORDS = 5



class IntentRules:
    """The intent of a folded question, from the vocabulary's phrases."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.facets = vocabulary.facet_patterns
        self.intents = vocabulary.intent_patterns
        self.context = tuple(f" {c} " for c in sorted(vocabulary.context, key=len, reverse=True))

    def detect(self, question: str, folded: str, has_procedure: bool, asked: str | None = None) -> str:
        """The intent of a question (`folded`: its folded, texting-normalised form).
        `has_procedure` says whether a procedure was recognised in it (which decides between a
        facet of it and, e.g., a general contact question). `asked`: the same form of the
        message's sentences that ask (end with "?"), when only some do: the facet is read there,
        not in the context ("bên em đã nộp hồ sơ … Bao lâu thì có kết quả?" asks the time)."""
        if DOSSIER_CODE_RE.search(question):
            return "status"
        folded = self._without_context(folded)
        asked = None if asked is None else self._without_context(asked)
        if not folded:
            return "unknown"
        if matches(self.intents["status"], folded):
            return "status"
        if matches(self.intents["roadmap"], folded):
            return "roadmap"
        facet = self.facet_of(asked if asked is not None else folded)
        if has_procedure:
            return facet or "procedure"
        if matches(self.intents["contact"], folded):
            return "contact"
        if matches(self.intents["greeting"], folded) and len(folded.split()) <= GREETING_WORDS:
            return "greeting"
        return facet or "unknown"

    def _without_context(self, folded: str) -> str:
        """A folded text without the vocabulary's `context` phrases: circumstances, not a request."""
        padded = f" {folded} "
        for phrase in self.context:
            padded = padded.replace(phrase, " ")
        return padded.strip()

    def facet_of(self, folded: str) -> str | None:
        """The facet asked for in a folded question, or None. Order matters: "nộp trực tuyến"
        asks for the online level even though "nộp" alone would ask where; the online level gives
        way to the time ("nộp trực tuyến mất bao lâu")."""
        if matches(self.facets["level"], folded) and not matches(self.facets["time"], folded):
            return "level"
        for name in FACET_ORDER[1:]:
            if matches(self.facets[name], folded):
                return name
        return None

    def is_yes(self, folded: str) -> bool:
        """True when a short reply says yes ("có", "đúng rồi", "yes")."""
        return matches(self.intents["affirm"], folded)

    def is_thanks(self, folded: str) -> bool:
        """True when a message thanks the bot."""
        return matches(self.intents["thanks"], folded)
