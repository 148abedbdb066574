"""The knowledge base: procedures a board handles, its profile, glossary and FAQ."""

from ..config import default_knowledge_dir
from ._loader import (
    KnowledgeError,
    Problem,
    check_knowledge,
    load_knowledge,
    nfc,
)
from ._model import (
    Board,
    Case,
    Document,
    ExternalProcedure,
    FaqEntry,
    Fee,
    Form,
    GlossaryEntry,
    KnowledgeBase,
    Procedure,
    ReturnReason,
    Roadmap,
    RoadmapOption,
    RoadmapQuestion,
    RoadmapStep,
    TimeLimit,
    public_texts,
)
from ._vocabulary import OutOfScope, Vocabulary

__all__ = [
    "Board", "Case", "Document", "ExternalProcedure", "FaqEntry", "Fee", "Form", "GlossaryEntry", "KnowledgeBase",
    "KnowledgeError", "Problem", "Procedure", "ReturnReason", "Roadmap", "RoadmapOption", "RoadmapQuestion",
    "RoadmapStep", "TimeLimit", "OutOfScope", "Vocabulary", "check_knowledge",
    "default_knowledge_dir", "load_knowledge", "nfc", "public_texts",
]
