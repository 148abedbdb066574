"""Typed application state shared by the server's routes (aiohttp `web.AppKey`)."""

from __future__ import annotations

from aiohttp import web

from ..config import Settings
from ..dossiers import Notifier
from ..dossiers._applicant import ApplicantChannels
from ..storage import Storage
from ._reload import LiveEngine

SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)
STORAGE: web.AppKey[Storage] = web.AppKey("storage", Storage)
#: The engine being served (swapped in place on a knowledge reload).
ENGINE: web.AppKey[LiveEngine] = web.AppKey("engine", LiveEngine)
#: The dossier notifier (the outbox's delivery loop): channels register their senders on it.
NOTIFIER: web.AppKey[Notifier] = web.AppKey("dossiers_notifier", Notifier)
#: Which of the applicant's own channels (email, ZNS) this installation sends notices on.
APPLICANT: web.AppKey[ApplicantChannels] = web.AppKey("dossiers_applicant_channels", ApplicantChannels)
