"""Typed application state shared by the server's routes (aiohttp `web.AppKey`)."""

from __future__ import annotations

from aiohttp import web

from ..config import Settings
from ..conversation import Conversations
from ..dossiers import Notifier
from ..dossiers._applicant import ApplicantChannels
from ..storage import Storage
from ._reload import LiveAssistant

SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)
STORAGE: web.AppKey[Storage] = web.AppKey("storage", Storage)
#: The assistant being served (swapped in place on a knowledge reload).
ASSISTANT: web.AppKey[LiveAssistant] = web.AppKey("assistant", LiveAssistant)
#: The dossier notifier (the outbox's delivery loop): channels register their senders on it.
NOTIFIER: web.AppKey[Notifier] = web.AppKey("dossiers_notifier", Notifier)
#: Which of the applicant's own channels (email, ZNS) this installation sends notices on.
APPLICANT: web.AppKey[ApplicantChannels] = web.AppKey("dossiers_applicant_channels", ApplicantChannels)
#: The one conversation service: the web API and every channel answer through it.
CONVERSATIONS: web.AppKey[Conversations] = web.AppKey("conversations", Conversations)
