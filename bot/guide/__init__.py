"""Guided flows around the answer engine: the investor roadmap (text and picture), the document
pre-check, QR codes, feedback and complaints, the handover to staff, and the record of questions
the bot could not answer.

The engine delegates to these; channels only render the replies.
"""

from ._precheck import PrecheckGuide
from ._questions import QuestionLog, mask
from ._roadmap import Plan, PlanStep, RoadmapGuide, plan_roadmap, roadmap_text
from ._service import Guide
from ._talk import staff_reply_command, ticket

__all__ = [
    "Guide", "Plan", "PlanStep", "PrecheckGuide", "QuestionLog", "RoadmapGuide", "mask", "plan_roadmap",
    "roadmap_text", "staff_reply_command", "ticket",
]
