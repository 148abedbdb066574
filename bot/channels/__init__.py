"""Chat channels (Telegram, Zalo Official Account, Zalo Bot): thin adapters on the one aiohttp server.

Each adapter turns a platform's incoming message into text for the assistant and renders the
assistant's Reply back; none holds domain logic. Per-chat state goes through `Conversations`
(SQLite when the app has a Storage). `setup_channels` mounts only the channels whose tokens
are set.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from aiohttp import web

from ..config import Settings
from ..dossiers._applicant import ApplicantChannels
from ..web._keys import NOTIFIER
from ._sessions import Conversations, MemorySessions, SessionStore, conversations, hide_in_logs
from ._zns import load_templates

log = logging.getLogger(__name__)

__all__ = ["Conversations", "MemorySessions", "SessionStore", "applicant_channels", "enabled_channels", "setup_channels"]


def enabled_channels(settings: Settings) -> list[str]:
    """The channels whose settings are complete enough to run."""
    names = []
    if settings.telegram_token:
        names.append("telegram")
    if _zalo_oa_ready(settings):
        names.append("zalo_oa")
    if settings.zalo_bot_token:
        names.append("zalo_bot")
    return names


def _zalo_oa_ready(settings: Settings) -> bool:
    app_id = settings.zalo_oa_app_id
    secret = settings.zalo_oa_secret_key
    tokens = settings.zalo_oa_access_token or settings.zalo_oa_refresh_token
    if not (app_id or secret or tokens):
        return False
    missing = [
        name for name, value in (
            ("ZALO_OA_APP_ID", app_id), ("ZALO_OA_SECRET_KEY", secret),
            ("ZALO_OA_ACCESS_TOKEN or ZALO_OA_REFRESH_TOKEN", tokens),
        ) if not value
    ]
    if missing:
        log.warning("zalo-oa: not started: %s not set", ", ".join(missing))
        return False
    return True


def setup_channels(app: web.Application, settings: Settings) -> None:
    """Mount the webhook routes of the configured channels on `app` and register their
    start/stop in `app.cleanup_ctx`. Channels without tokens are left out entirely."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    names = enabled_channels(settings)
    if not names:
        return
    conv = conversations(app)
    senders: dict[str, Any] = {}
    if "telegram" in names:
        from ._telegram import setup_telegram

        senders["telegram"] = setup_telegram(app, settings, conv).deliver
    oa = None
    if "zalo_oa" in names:
        from ._zalo_oa import setup_zalo_oa

        oa = setup_zalo_oa(app, settings, conv)
        senders["zalo_oa"] = oa.deliver
    if "zalo_bot" in names:
        from ._zalo_bot import setup_zalo_bot

        senders["zalo_bot"] = setup_zalo_bot(app, settings, conv).deliver
    _register_senders(app, senders)
    if oa is not None and settings.zns_templates:
        from ._zns import setup_zns  # ZNS to the applicant's phone, with the OA's tokens

        setup_zns(app, settings, oa)
    hide_in_logs()
    log.info("channels: %s", ", ".join(names))


def _register_senders(app: web.Application, senders: dict[str, Any]) -> None:
    """Let the dossier notifier (the outbox) deliver through these channels, when it runs."""
    notifier = app.get(NOTIFIER)
    if notifier is None:
        return
    for channel, sender in senders.items():
        notifier.register(channel, sender)


def applicant_channels(settings: Settings) -> ApplicantChannels:
    """The applicant's channels this installation sends notices on: email (bot.dossiers) and,
    with TTHC_ZNS_TEMPLATES and a configured Zalo OA, ZNS for the templates' statuses. Raises
    ValueError (SettingError) for a broken setting."""
    applicant = ApplicantChannels.from_settings(settings)
    if not settings.zns_templates:
        return applicant
    templates = load_templates(settings.zns_templates)
    if "zalo_oa" not in enabled_channels(settings):
        log.warning("zns: TTHC_ZNS_TEMPLATES is set but the Zalo OA is not configured: ZNS is off")
        return applicant
    return replace(applicant, zns_statuses=frozenset(templates))
