"""What a question asks for: a facet of a procedure, a dossier's status, the roadmap, contact…

Rules over the folded question (Vietnamese with or without diacritics, and English). The facet
is independent of the procedure: "còn lệ phí?" asks for the fee of the procedure talked about.
"""

from __future__ import annotations

import re

from ._text import fold

INTENTS = (
    "procedure", "documents", "time", "fee", "level", "where", "legal", "status", "roadmap",
    "contact", "greeting", "faq", "staff", "unknown",
)
FACETS = ("documents", "time", "fee", "level", "where", "legal")

# Dossier codes as printed on receipts: H42.25-241105-0003, 000.00.27.H42-240312-0011.
DOSSIER_CODE_RE = re.compile(
    r"(?<![\w.-])(?:\d{3}\.\d{2}\.\d{2}\.)?[A-Za-z]\d{2}(?:\.\d{2})?-\d{6}-\d{4}(?![\w-])"
)


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"(?:^| )(?:" + "|".join(patterns) + r")(?: |$)")


_STATUS = _rx(
    r"tra cuu (?:tinh trang |tien do |ket qua )?(?:ho so|hs)", r"tinh trang (?:ho so|hs)",
    r"tien do (?:xu ly )?(?:ho so|hs)", r"ho so (?:cua )?(?:toi|minh|em|cong ty)(?: \w+)* (?:dau|chua|nao|sao)",
    r"ho so (?:\w+ ){0,3}(?:den dau|toi dau|xong chua|da xong|the nao roi|ra sao)",
    r"kiem tra (?:tinh trang |tien do |trang thai )?(?:ho so|hs) (?:cua|da nop|minh|toi|em)",
    r"(?:xem|biet) (?:tinh trang |tien do |trang thai )?(?:ho so|hs) (?:cua|da nop)",
    r"trang thai (?:cua )?(?:ho so|hs)",
    r"(?:ho so|hs) (?:da nop|cua (?:toi|minh|em|cong ty)(?: \w+)?)(?: \w+){0,4} (?:bao gio|khi nao|den dau|xong chua|the nao|sao roi)",
    r"where is my (?:dossier|application|file)", r"(?:dossier|application) status",
    r"status of my (?:dossier|application|file)", r"track my (?:dossier|application)",
    r"check (?:my )?(?:dossier|application)", r"my dossier", r"ma ho so", r"nhan thong bao",
)
_GREETING = _rx(
    r"xin chao", r"chao(?: ban| anh| chi| em| ad| admin| bot| buoi sang| buoi chieu)?", r"alo", r"hello",
    r"hi", r"hey", r"good (?:morning|afternoon|evening)", r"hi there", r"start", r"cam on", r"thanks?(?: you)?",
)
_ROADMAP = _rx(
    r"lo trinh", r"roadmap", r"road map", r"(?:tat ca|toan bo|nhung) (?:cac )?thu tuc (?:can|phai)",
    r"cac buoc (?:thu tuc )?tu", r"tu (?:luc |khi )?(?:xin |dang ky )?(?:dau tu|chu truong) (?:\w+ ){0,4}den (?:khi )?",
    r"den khi (?:nha may |du an |doanh nghiep )?(?:di vao |bat dau )?(?:hoat dong|van hanh|san xuat)",
    r"(?:which|what) procedures do (?:i|we) need", r"all (?:the )?procedures", r"step by step",
    r"from (?:investment|registration|licen[cs]ing) to (?:operation|production)",
    r"(?:steps|procedures|how) to (?:set up|start|open|build|establish) (?:a |an |my |our )?(?:factory|plant|company|business|project)",
    r"(?:set|setting) up (?:a |an |my |our )?(?:factory|plant|business) in",
    # "muốn đầu tư nhà máy vào KCN thì cần xin giấy tờ gì đầu tiên": where an investor starts.
    r"(?:muon|du dinh|sap|chuan bi|dang tim hieu) (?:dau tu|xay dung nha may|dat nha may|lap nha may)(?: \w+){0,12} "
    r"(?:dau tien|truoc tien|truoc het|bat dau tu dau|bat dau nhu the nao|bat dau the nao)",
    r"first steps? (?:to|for) (?:invest|investing|set up|setting up)",
    r"(?:where|how) (?:do|should|can) (?:i|we) (?:start|begin)(?: \w+){0,3} invest(?:ing|ment)?",
)
_CONTACT = _rx(
    r"hotline", r"so dien thoai", r"sdt", r"dien thoai", r"lien he", r"lien lac", r"email", r"e mail",
    r"dia chi (?:cua )?(?:ban quan ly|bql|ban)", r"ban quan ly o dau", r"gio lam viec", r"lam viec (?:luc|tu) may gio",
    r"contact", r"phone(?: number)?", r"office hours", r"opening hours", r"working hours", r"gap can bo",
    r"address of the board",
)
_DOCUMENTS = _rx(
    r"ho so", r"giay to", r"thanh phan", r"can chuan bi", r"chuan bi", r"can nhung gi", r"gom nhung gi",
    r"mau don", r"to khai", r"bieu mau", r"(?:can )?nop (?:nhung )?(?:gi|cai gi|nhung gi)", r"documents?", r"papers?", r"forms?", r"what do i need",
    r"what (?:is|are) (?:needed|required)", r"requirements?", r"checklist",
)
_TIME = _rx(
    r"thoi gian", r"bao lau", r"bao nhieu ngay", r"may ngay", r"thoi han giai quyet", r"(?:khi nao|bao gio) (?:co|nhan|duoc|xong|tra)",
    r"mat bao lau", r"trong bao lau", r"how long", r"time", r"how many days", r"processing time", r"time limit",
    r"when (?:will|can|do) i (?:get|receive)", r"days? (?:does it|to)", r"deadline",
)
_FEE = _rx(
    r"le phi", r"phi", r"chi phi", r"bao nhieu tien", r"mat tien", r"ton tien", r"mien phi", r"fees?",
    r"costs?", r"how much", r"price", r"charges?", r"free", r"pay",
)
_LEVEL = _rx(
    r"truc tuyen", r"online", r"toan trinh", r"(?:muc do|dich vu cong|dvc|truc tuyen) mot phan", r"qua mang", r"dich vu cong", r"nop qua dvc",
    r"electronic(?:ally)?", r"internet", r"e filing", r"dvc",
)
_WHERE = _rx(
    r"o dau", r"noi nop", r"nop (?:tai|o) dau", r"dia chi nop", r"buu chinh", r"buu dien", r"truc tiep",
    r"co quan nao", r"ai giai quyet", r"where", r"which (?:agency|office)", r"by post", r"in person",
    r"one stop", r"mot cua",
)
_LEGAL = _rx(
    r"can cu", r"phap ly", r"van ban (?:phap luat|nao|phap ly)", r"nghi dinh nao", r"luat nao", r"quy dinh o dau",
    r"legal basis", r"which law", r"what law", r"legal grounds?",
)


def detect_intent(question: str, has_procedure: bool) -> str:
    """The intent of a question. `has_procedure` says whether a procedure was recognised in it
    (which decides between a facet of it and, e.g., a general contact question)."""
    if DOSSIER_CODE_RE.search(question):
        return "status"
    f = fold(question)
    if not f:
        return "unknown"
    if _STATUS.search(f):
        return "status"
    if _ROADMAP.search(f):
        return "roadmap"
    facet = facet_of(f)
    if has_procedure:
        return facet or "procedure"
    if _CONTACT.search(f):
        return "contact"
    if _GREETING.search(f) and len(f.split()) <= 5:
        return "greeting"
    return facet or "unknown"


def facet_of(folded: str) -> str | None:
    """The facet asked for in a folded question, or None. Order matters: "nộp trực tuyến"
    asks for the online level even though "nộp" alone would ask where."""
    if _LEVEL.search(folded) and not _TIME.search(folded):
        return "level"
    for name, rx in (("time", _TIME), ("fee", _FEE), ("legal", _LEGAL), ("where", _WHERE), ("documents", _DOCUMENTS)):
        if rx.search(folded):
            return name
    return None
