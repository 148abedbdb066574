"""ZNS (Zalo Notification Service): a status change sent to the applicant's phone as an approved
template message (docs/staff.md: "Notices to the applicant").

- Send: POST {ZALO_ZNS_API_BASE}/message/template, header access_token (the OA's), JSON
  {"phone": "84…", "template_id", "template_data": {param: text}, "tracking_id"}; success is
  {"error": 0, "data": {"msg_id", "sent_time", "quota": {"dailyQuota", "remainingQuota"}}}
  (https://developers.zalo.me/docs/zalo-notification-service/, as restated by SDKs such as
  @warriorteam/redai-zalo-sdk and zalo-mcp's zalo_zns_send_message).
- Errors, from Zalo's table (https://zalo.cloud/zns/guidelines/handle-error-code): an invalid
  access token (-124; the OA API's -216) is refreshed once and the message sent again; template
  errors (-109 template id, -111 / -112 template data, -117 no permission for the template) and
  a phone that cannot get ZNS (-108, -114, -118, -119) are permanent: the notice goes to the
  next channel; an exhausted quota (-115, -144) is retried later. Template and quota errors are
  reported to the staff chats, once a day per error code.
- Templates: a YAML or JSON file (TTHC_ZNS_TEMPLATES) of template id and parameters per status,
  checked when the server starts (`load_templates`, SettingError naming the file, status, param).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from ..config import SettingError
from ..core import Reply, now_vn, to_vn
from ..dossiers._digest import parse_staff_chats
from ..dossiers._notify import PermanentError, reply_to_payload
from ..dossiers._status import STATUSES
from ..web._keys import APPLICANT, NOTIFIER, STORAGE

log = logging.getLogger(__name__)

CHANNEL = "zns"
SEND_PATH = "/message/template"
TOKEN_ERRORS = frozenset({-124, -216})
TEMPLATE_ERRORS = frozenset({-109, -111, -112, -117})
RECIPIENT_ERRORS = frozenset({-108, -114, -118, -119})
QUOTA_ERRORS = frozenset({-115, -144})
#: What a template parameter can take from the dossier's status change.
FIELDS = ("code", "status", "status_vi", "status_en", "procedure", "procedure_code", "applicant",
          "due_date", "supplement", "next_step", "date")
DEFAULT_MAX = 100


class ZnsError(Exception):
    """ZNS refused a message: `code` is Zalo's error number; `permanent` when retrying is useless."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(f"ZNS error {code}: {message}")
        self.code = code
        self.permanent = code in TEMPLATE_ERRORS or code in RECIPIENT_ERRORS


@dataclass(frozen=True)
class Param:
    name: str
    field: str | None  # one of FIELDS, or None for a fixed text
    text: str = ""
    max: int = DEFAULT_MAX


@dataclass(frozen=True)
class Template:
    status: int
    template_id: str
    params: tuple[Param, ...]


def _param(where: str, name: Any, spec: Any) -> Param:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_]{1,64}", name):
        raise SettingError(f"{where}: parameter name {name!r} must be letters, digits or _ (as in the template)")
    limit = DEFAULT_MAX
    if isinstance(spec, dict):
        unknown = set(spec) - {"field", "max"}
        if unknown:
            raise SettingError(f"{where}, parameter {name}: unknown keys {sorted(unknown)} (field, max)")
        limit = spec.get("max", DEFAULT_MAX)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1000:
            raise SettingError(f"{where}, parameter {name}: max must be a whole number from 1 to 1000")
        spec = spec.get("field")
    if not isinstance(spec, str) or not spec:
        raise SettingError(f"{where}, parameter {name}: give a field ({', '.join(FIELDS)}) or a fixed text after '='")
    if spec.startswith("="):
        return Param(name, None, spec[1:], limit)
    if spec not in FIELDS:
        raise SettingError(f"{where}, parameter {name}: unknown field {spec!r}; use one of {', '.join(FIELDS)}, "
                         "or a fixed text after '='")
    return Param(name, spec, "", limit)


def parse_templates(data: Any, source: str = "TTHC_ZNS_TEMPLATES") -> dict[int, Template]:
    """Templates per status from the parsed file; ValueError saying what is wrong and where."""
    if not isinstance(data, dict) or not isinstance(data.get("statuses"), dict) or not data["statuses"]:
        raise SettingError(f"{source}: expected a 'statuses:' map of status code (1–10) to template")
    out: dict[int, Template] = {}
    for key, spec in data["statuses"].items():
        try:
            status = int(str(key))
        except ValueError:
            status = -1
        if status not in STATUSES:
            raise SettingError(f"{source}: status {key!r} is not a status code from 1 to 10")
        where = f"{source}, status {status}"
        if not isinstance(spec, dict):
            raise SettingError(f"{where}: expected template_id and params")
        unknown = set(spec) - {"template_id", "params"}
        if unknown:
            raise SettingError(f"{where}: unknown keys {sorted(unknown)} (template_id, params)")
        template_id = str(spec.get("template_id") or "").strip()
        if not re.fullmatch(r"\d{1,20}", template_id):
            raise SettingError(f"{where}: template_id must be the template's number from the ZNS account (got {spec.get('template_id')!r})")
        params = spec.get("params")
        if not isinstance(params, dict) or not params:
            raise SettingError(f"{where}: params must map each template parameter to a field")
        out[status] = Template(status, template_id, tuple(_param(where, n, s) for n, s in params.items()))
    return out


def load_templates(path: str | Path) -> dict[int, Template]:
    """Read and check the templates file (YAML or JSON)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingError(f"TTHC_ZNS_TEMPLATES: cannot read {p}: {exc.strerror or exc}") from exc
    try:
        if p.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:
        raise SettingError(f"TTHC_ZNS_TEMPLATES: {p} is not valid {'JSON' if p.suffix.lower() == '.json' else 'YAML'}: {exc}") from exc
    return parse_templates(data, str(p))


def _date(text: str | None) -> str:
    if not text:
        return ""
    try:
        return to_vn(datetime.fromisoformat(text)).strftime("%d/%m/%Y")
    except ValueError:
        return ""


def template_data(template: Template, notice: dict[str, Any]) -> dict[str, str]:
    """The template_data of a notice: each parameter filled from its field, cut to its max."""
    st = STATUSES[int(notice["status"])]
    values = {
        "code": notice.get("code"), "status": st.official, "status_vi": st.vi, "status_en": st.en,
        "procedure": notice.get("procedure_name"), "procedure_code": notice.get("procedure_code"),
        "applicant": notice.get("applicant"), "due_date": _date(notice.get("due_at")),
        "supplement": notice.get("supplement"), "next_step": st.next_vi, "date": _date(notice.get("at")),
    }
    out: dict[str, str] = {}
    for p in template.params:
        value = p.text if p.field is None else str(values.get(p.field) or "")
        value = " ".join(value.split()) or "—"
        out[p.name] = value if len(value) <= p.max else value[: p.max - 1] + "…"
    return out


class ZnsSender:
    """The outbox's sender for "zns" (payloads carrying a notice; the address is the 84… phone)."""

    def __init__(self, settings: Any, templates: dict[int, Template], tokens: Any,
                 http: Callable[[], aiohttp.ClientSession | None], storage: Any | None = None,
                 staff_chats: Iterable[tuple[str, str]] = ()) -> None:
        self.settings = settings
        self.templates = templates
        self.tokens = tokens
        self.http = http
        self.storage = storage
        self.staff_chats = list(staff_chats)
        self.quota: dict[str, Any] | None = None  # the last quota Zalo reported

    async def __call__(self, phone: str, payload: dict[str, Any]) -> None:
        notice = payload.get("notice")
        if not isinstance(notice, dict):
            raise PermanentError("a ZNS row without a notice")
        template = self.templates.get(int(notice["status"]))
        if template is None:
            raise PermanentError(f"no ZNS template for status {notice['status']}")
        body = {
            "phone": phone, "template_id": template.template_id, "template_data": template_data(template, notice),
            "tracking_id": re.sub(r"[^A-Za-z0-9._:-]", "", str(notice.get("key", "")))[:48],
        }
        try:
            data = await self.call(body)
        except ZnsError as exc:
            if exc.code in TEMPLATE_ERRORS or exc.code in QUOTA_ERRORS:
                await self._alert(exc, template)
            raise
        quota = (data.get("data") or {}).get("quota") if isinstance(data.get("data"), dict) else None
        if isinstance(quota, dict):
            self.quota = quota
        log.info("zns: sent %s (status %s, template %s)", notice.get("code"), notice.get("status"), template.template_id)

    async def call(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST one message; on an invalid access token refresh once and retry."""
        http = self.http()
        if http is None:
            raise ConnectionError("the Zalo OA channel is not started")
        token = await self.tokens.current(http)
        url = self.settings.zns_api_base.rstrip("/") + SEND_PATH
        for attempt in (1, 2):
            async with http.post(url, json=body, headers={"access_token": token}) as resp:
                try:
                    data = await resp.json(content_type=None)
                except (ValueError, aiohttp.ContentTypeError):
                    data = None
            if not isinstance(data, dict):
                raise ZnsError(-resp.status if resp.status != 200 else -100, "answer is not JSON")
            try:
                code = int(data.get("error", -100))
            except (TypeError, ValueError):
                code = -100
            if resp.status == 200 and code == 0:
                return data
            if code in TOKEN_ERRORS and attempt == 1:
                token = await self.tokens.refresh(http, stale=token)
                continue
            raise ZnsError(code, str(data.get("message", ""))[:200])
        raise ZnsError(-124, "token refused after a refresh")  # pragma: no cover

    async def _alert(self, exc: ZnsError, template: Template) -> None:
        """Tell the staff chats (once a day per error code) that ZNS templates or quota need them."""
        if self.storage is None or not self.staff_chats:
            log.error("zns: %s (template %s); no staff chat to tell", exc, template.template_id)
            return
        kind = "hết hạn mức (quota)" if exc.code in QUOTA_ERRORS else f"lỗi mẫu {template.template_id}"
        text = (f"ZNS: {kind}, mã lỗi {exc.code}. Thông báo hồ sơ qua ZNS đang không gửi được"
                f"{' (sẽ thử lại sau)' if exc.code in QUOTA_ERRORS else '; đã chuyển sang kênh khác (email)'}. "
                f"Kiểm tra tài khoản ZNS (https://account.zalo.cloud) và TTHC_ZNS_TEMPLATES.\n"
                f"(ZNS {'quota exhausted' if exc.code in QUOTA_ERRORS else 'template error'}: error {exc.code}.)")
        now = now_vn()
        storage = self.storage

        def queue() -> None:
            for channel, chat in self.staff_chats:
                storage.enqueue(f"zns-alert:{exc.code}:{template.template_id}:{now.date().isoformat()}:{channel}:{chat}",
                                channel, chat, reply_to_payload(Reply(text)), now)

        try:
            if storage.shared:
                await asyncio.to_thread(queue)
            else:
                queue()
        except Exception:  # pragma: no cover - an alert never stops a delivery
            log.exception("zns: staff alert not queued")
        log.warning("zns: %s (template %s): staff told", exc, template.template_id)


def setup_zns(app: Any, settings: Any, oa: Any) -> ZnsSender | None:
    """Deliver "zns" rows of the outbox with the OA's tokens and connection; the templates file
    is checked now (SettingError stops the start)."""
    templates = load_templates(settings.zns_templates)
    notifier = app.get(NOTIFIER)
    if notifier is None:
        return None
    staff = parse_staff_chats(settings.staff_chats)
    sender = ZnsSender(settings, templates, oa.tokens, lambda: oa.http, app.get(STORAGE), staff)
    notifier.register_payload(CHANNEL, sender)
    applicant = app.get(APPLICANT)
    if applicant is not None:  # the import route queues ZNS notices for these statuses
        app[APPLICANT] = replace(applicant, zns_statuses=frozenset(templates))
    log.info("zns: templates for statuses %s", ", ".join(str(s) for s in sorted(templates)))
    return sender
