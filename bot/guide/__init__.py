"""Guided flows around the answer engine: the investor roadmap (text and picture), the document
pre-check, QR codes, feedback and complaints, the handover to staff, and the record of questions
the bot could not answer.

The engine delegates to these; channels only render the replies.
"""

from ._roadmap import Plan, PlanStep, RoadmapGuide, plan_roadmap, roadmap_text

__all__ = ["Plan", "PlanStep", "RoadmapGuide", "plan_roadmap", "roadmap_text"]
