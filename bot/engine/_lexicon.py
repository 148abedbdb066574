"""The engine's built-in vocabulary, all in folded form (lower case, no diacritics).

Abbreviations that belong to a board's domain (GCNĐKĐT, GPLĐ, KCN…) live in the knowledge base's
glossary, where staff can add more; this module holds the language around them: English words
mapped to the Vietnamese phrases of official names, everyday Vietnamese mapped to official wording,
the words that only say *what* is asked (time, fee…), and the words that tell one variant of a
procedure from another (issue / re-issue / adjust / extend…).
"""

from __future__ import annotations

# Everyday and English wording → the official Vietnamese wording used in procedure names.
# Expansions are appended to the question, never substituted, so the original words still count.
SYNONYMS: dict[str, str] = {
    # English → Vietnamese
    "investment registration certificate": "giay chung nhan dang ky dau tu",
    "investment certificate": "giay chung nhan dang ky dau tu",
    "investment license": "giay chung nhan dang ky dau tu",
    "investment licence": "giay chung nhan dang ky dau tu",
    "investment policy": "chu truong dau tu",
    "policy approval": "chap thuan chu truong dau tu",
    "in principle approval": "chap thuan chu truong dau tu",
    "investor approval": "chap thuan nha dau tu",
    "work permit": "giay phep lao dong",
    "working permit": "giay phep lao dong",
    "labor permit": "giay phep lao dong",
    "labour permit": "giay phep lao dong",
    "work permit exemption": "xac nhan khong thuoc dien cap giay phep lao dong",
    "exemption certificate": "xac nhan khong thuoc dien cap giay phep lao dong",
    "exempt from work permit": "xac nhan khong thuoc dien cap giay phep lao dong",
    "labor rules": "noi quy lao dong",
    "labour rules": "noi quy lao dong",
    "internal labor regulations": "noi quy lao dong",
    "internal labour regulations": "noi quy lao dong",
    "labor regulations": "noi quy lao dong",
    "labour regulations": "noi quy lao dong",
    "building permit": "giay phep xay dung",
    "construction permit": "giay phep xay dung",
    "construction license": "giay phep xay dung",
    "construction licence": "giay phep xay dung",
    "environmental license": "giay phep moi truong",
    "environmental licence": "giay phep moi truong",
    "environmental permit": "giay phep moi truong",
    "environment license": "giay phep moi truong",
    "environment permit": "giay phep moi truong",
    "environmental impact assessment": "danh gia tac dong moi truong",
    "environmental impact": "danh gia tac dong moi truong",
    "feasibility study": "bao cao nghien cuu kha thi",
    "feasibility report": "bao cao nghien cuu kha thi",
    "design appraisal": "tham dinh thiet ke xay dung",
    "technical design": "thiet ke xay dung",
    "construction design": "thiet ke xay dung",
    "eco industrial park": "khu cong nghiep sinh thai",
    "eco industrial zone": "khu cong nghiep sinh thai",
    "eco park": "khu cong nghiep sinh thai",
    "eco enterprise": "doanh nghiep sinh thai",
    "eco friendly enterprise": "doanh nghiep sinh thai",
    "capital contribution": "gop von",
    "share purchase": "mua co phan",
    "buy shares": "mua co phan",
    "acquire shares": "mua co phan",
    "investment guarantee": "bao dam dau tu",
    "investment guarantees": "bao dam dau tu",
    "executive office": "van phong dieu hanh",
    "operating office": "van phong dieu hanh",
    "business cooperation contract": "hop dong hop tac kinh doanh",
    "foreign investor": "nha dau tu nuoc ngoai",
    "foreign investors": "nha dau tu nuoc ngoai",
    "foreign worker": "nguoi lao dong nuoc ngoai",
    "foreign workers": "nguoi lao dong nuoc ngoai",
    "foreign employee": "nguoi lao dong nuoc ngoai",
    "foreign employees": "nguoi lao dong nuoc ngoai",
    "foreign staff": "nguoi lao dong nuoc ngoai",
    "operation term": "thoi han hoat dong",
    "operating term": "thoi han hoat dong",
    "project duration": "thoi han hoat dong du an",
    "project term": "thoi han hoat dong du an",
    "project": "du an",
    "projects": "du an",
    "investment": "dau tu",
    "invest": "dau tu",
    "investor": "nha dau tu",
    "permit": "giay phep",
    "license": "giay phep",
    "licence": "giay phep",
    "certificate": "giay chung nhan",
    "appraisal": "tham dinh",
    "appraise": "tham dinh",
    "construction": "xay dung",
    "building": "xay dung",
    "build": "xay dung",
    "factory": "nha may",
    "environment": "moi truong",
    "environmental": "moi truong",
    "industrial park": "khu cong nghiep",
    "industrial zone": "khu cong nghiep",
    "economic zone": "khu kinh te",
    "export processing zone": "khu che xuat",
    "high tech park": "khu cong nghe cao",
    "relocation": "di doi",
    "relocate": "di doi",
    "repair": "sua chua cai tao",
    "renovation": "sua chua cai tao",
    "renovate": "sua chua cai tao",
    "special investment procedure": "thu tuc dau tu dac biet",
    # verbs of variants (English)
    "increase capital": "dieu chinh von dau tu",
    "increase my project capital": "dieu chinh von dau tu du an",
    "increase the project capital": "dieu chinh von dau tu du an",
    "capital increase": "dieu chinh von dau tu",
    "new": "cap moi",
    "issue": "cap",
    "issuance": "cap",
    "issuing": "cap",
    "obtain": "cap",
    "apply": "cap",
    "amend": "dieu chinh",
    "amendment": "dieu chinh",
    "amending": "dieu chinh",
    "adjust": "dieu chinh",
    "adjustment": "dieu chinh",
    "modify": "dieu chinh",
    "modification": "dieu chinh",
    "change": "dieu chinh",
    "changes": "dieu chinh",
    "extend": "gia han",
    "extension": "gia han",
    "extending": "gia han",
    "renew": "gia han",
    "renewal": "gia han",
    "prolong": "gia han",
    "reissue": "cap lai",
    "re issue": "cap lai",
    "reissuance": "cap lai",
    "replacement": "cap lai",
    "replace": "cap lai",
    "lost": "cap lai",
    "correct": "hieu dinh",
    "correction": "hieu dinh",
    "exchange": "doi",
    "terminate": "cham dut hoat dong",
    "termination": "cham dut hoat dong",
    "close": "cham dut hoat dong",
    "closing": "cham dut hoat dong",
    "closure": "cham dut hoat dong",
    "dissolve": "cham dut hoat dong",
    "end": "cham dut",
    "suspend": "ngung hoat dong",
    "suspension": "ngung hoat dong",
    "pause": "ngung hoat dong",
    "stop": "ngung hoat dong",
    "transfer": "chuyen nhuong",
    "transferring": "chuyen nhuong",
    "revoke": "thu hoi",
    "revocation": "thu hoi",
    "establish": "thanh lap",
    "establishment": "thanh lap",
    "set up": "thanh lap",
    "open": "thanh lap",
    # everyday Vietnamese → official wording
    "gcn": "giay chung nhan",
    "cty": "cong ty",
    "mat ban goc": "cap lai",
    "lam mat": "cap lai",
    "danh mat": "cap lai",
    "bi that lac": "cap lai",
    "gian tien do": "dieu chinh tien do",
    "lui tien do": "dieu chinh tien do",
    "cham tien do": "dieu chinh tien do",
    "ngung du an": "ngung hoat dong du an",
    "dung hoat dong": "ngung hoat dong",
    "thay doi": "dieu chinh",
    "sua doi": "dieu chinh",
    "bo sung nganh nghe": "dieu chinh",
    "doi ten": "dieu chinh",
    "tang von": "dieu chinh",
    "giam von": "dieu chinh",
    "keo dai": "gia han",
    "het han": "gia han",
    "lam lai": "cap lai",
    "bi mat": "cap lai",
    "mat giay": "cap lai",
    "hong": "cap lai",
    "rach": "cap lai",
    "xin phep xay dung": "cap giay phep xay dung",
    "giay phep dau tu": "giay chung nhan dang ky dau tu",
    "giay chung nhan dau tu": "giay chung nhan dang ky dau tu",
    "chu truong": "chap thuan chu truong dau tu",
    "xin chu truong": "chap thuan chu truong dau tu",
    "dong cua du an": "cham dut hoat dong du an",
    "dung du an": "ngung hoat dong du an",
    "tam dung": "ngung hoat dong",
    "tam ngung": "ngung hoat dong",
    "giai the du an": "cham dut hoat dong du an",
    "ban du an": "chuyen nhuong du an",
    "sang nhuong": "chuyen nhuong",
    "mua lai cong ty": "gop von mua co phan mua phan von gop",
    "mua co phan": "gop von mua co phan",
    "nguoi nuoc ngoai": "nguoi lao dong nuoc ngoai",
    "lao dong nuoc ngoai": "nguoi lao dong nuoc ngoai",
    "chuyen gia nuoc ngoai": "nguoi lao dong nuoc ngoai",
    "mien giay phep lao dong": "xac nhan khong thuoc dien cap giay phep lao dong",
    "mien gplđ": "xac nhan khong thuoc dien cap giay phep lao dong",
    "khong can giay phep lao dong": "xac nhan khong thuoc dien cap giay phep lao dong",
    # "… có cần / có phải xin giấy phép lao động không?" asks whether someone is exempt.
    "co can giay phep lao dong khong": "xac nhan khong thuoc dien cap giay phep lao dong",
    "co can xin giay phep lao dong khong": "xac nhan khong thuoc dien cap giay phep lao dong",
    "co phai xin giay phep lao dong khong": "xac nhan khong thuoc dien cap giay phep lao dong",
    "co phai co giay phep lao dong khong": "xac nhan khong thuoc dien cap giay phep lao dong",
    "co bat buoc giay phep lao dong khong": "xac nhan khong thuoc dien cap giay phep lao dong",
    "need a work permit": "xac nhan khong thuoc dien cap giay phep lao dong",
    "danh gia moi truong": "danh gia tac dong moi truong",
    "bao cao moi truong": "danh gia tac dong moi truong",
    "kha thi": "bao cao nghien cuu kha thi",
    "ban ve thiet ke": "thiet ke xay dung",
    "khu sinh thai": "khu cong nghiep sinh thai",
    "kcn sinh thai": "khu cong nghiep sinh thai",
}

# Words that tell one variant of a procedure from another. A candidate whose name carries one of
# these that the question lacks (or the reverse) is marked down, so that "gia hạn GPLĐ" finds the
# extension and not the first issue.
MODIFIERS: tuple[str, ...] = (
    "dieu chinh",
    "cap lai",
    "gia han",
    "cap doi",
    "doi",
    "cham dut",
    "ngung",
    "thu hoi",
    "hieu dinh",
    "sua chua",
    "di doi",
    "thu tuc dau tu dac biet",
    "khong thuoc dien",
)

# Words that carry no meaning for finding a procedure (Vietnamese and English).
STOPWORDS: frozenset[str] = frozenset(
    """toi minh em anh chi ban cho cua va voi la thi ma nhe a a oi a nha nhi vay the nao nhu sao gi
    gium giup dum hoi xin hay co khong duoc chua roi can muon phai se dang da bi tai o trong ngoai
    khi nao neu de ve den nay kia do cac nhung mot hai moi tren duoi len xuong ra vao
    cach lam
    i me my we our you your the a an is are am be was were do does did how what when where which who
    why of to for in on at by with from about as and or but not can could should would will may
    need needs want get please tell me know procedure procedures process steps step this that it its
    there here some any there""".split()
)

# Phrases that only say which facet is asked (documents, time, fee, channel), not which procedure.
# They are taken out of the question before it is matched against procedure names.
FACET_PHRASES: tuple[str, ...] = tuple(
    sorted(
        {
            "thanh phan ho so", "ho so gom", "ho so bao gom", "ho so can", "can nhung gi", "gom nhung gi",
            "nhung giay to gi", "giay to gi", "giay to", "ho so", "can chuan bi", "chuan bi", "mau don", "to khai",
            "thoi gian giai quyet", "thoi han giai quyet", "thoi gian", "bao lau", "mat bao lau", "bao nhieu ngay",
            "may ngay", "ngay lam viec", "khi nao co ket qua", "khi nao", "le phi", "chi phi", "mat phi",
            "bao nhieu tien", "phi", "mien phi", "co mat phi khong", "nop truc tuyen", "truc tuyen", "online",
            "qua mang", "toan trinh", "dich vu cong", "nop o dau", "o dau", "noi nop", "nop",
            "buu chinh", "truc tiep", "dia chi", "duoc khong", "co duoc khong", "can cu phap ly", "cac buoc",
            "trinh tu", "thu tuc", "tthc", "quy trinh", "huong dan", "lam the nao", "nhu the nao",
            "the nao", "documents", "document", "papers", "paper", "forms", "required", "requirements",
            "how long", "processing time", "how many days", "how much", "cost", "costs", "fee", "fees",
            "charge", "charges", "price", "free", "submit", "file", "filing", "where", "legal basis",
        },
        key=lambda p: (-len(p), p),
    )
)

# Phrases of circumstance that name no procedure but share its words ("chấm dứt dự án trước thời
# hạn" is not about the term of a project): taken out before matching, like FACET_PHRASES.
CONTEXT_PHRASES: tuple[str, ...] = ("truoc thoi han", "truoc han", "ahead of schedule", "early")

# Questions that share a bundled procedure's words but ask for something the board does not do,
# with what to say instead (folded patterns). "Giấy phép lao động cho người Việt Nam đi làm ở
# Nhật" is not the work permit for foreigners working in Viet Nam.
_ABROAD = (r"nuoc ngoai|nhat|nhat ban|han quoc|han|dai loan|duc|uc|my|hoa ky|chau au|trung quoc|singapore|"
           r"malaysia|canada|abroad|overseas|japan|korea|taiwan|germany")
# Each rule: (pattern, unless, Vietnamese reply, English reply); `unless` ("" for none) keeps
# the rule off questions it would misread.
_FOREIGN_WORKER = r"(?:^| )(?:nguoi|lao dong|chuyen gia|ky su|nhan vien|cong dan) nuoc ngoai|foreign(?:er|ers| worker| expert| national| employee)"
OUT_OF_SCOPE: tuple[tuple[str, str, str, str], ...] = (
    (
        r"(?:^| )(?:xuat khau lao dong|(?:nguoi|lao dong|cong dan) viet(?: nam)? (?:\w+ ){0,4}(?:di |sang )?"
        rf"(?:lam viec|lam|lao dong|xuat khau) (?:o |tai |sang )?(?:{_ABROAD})"
        rf"|di (?:lam viec|lam|lao dong|xuat khau lao dong) (?:o |tai )?(?:{_ABROAD})"
        rf"|vietnamese (?:\w+ ){{0,2}}(?:working|to work|work) (?:in )?(?:{_ABROAD}))(?: |$)",
        "",
        "Ban Quản lý không giải quyết thủ tục cho người Việt Nam đi làm việc ở nước ngoài. Giấy phép lao động "
        "do Ban cấp là cho người nước ngoài làm việc tại Việt Nam (cho doanh nghiệp trong khu công nghiệp, khu "
        "kinh tế). Về đi làm việc ở nước ngoài theo hợp đồng, bạn hãy hỏi cơ quan quản lý lao động của tỉnh nơi "
        "bạn cư trú.",
        "The management board does not handle Vietnamese citizens going to work abroad. The work permits it issues "
        "are for foreigners working in Viet Nam (for employers in the industrial parks and economic zones). For "
        "working abroad under a contract, please ask the labour authority of your province.",
    ),
    (
        r"(?:^| )(?:giay phep lao dong (?:\w+ ){0,2}(?:cho|doi voi|cua) (?:nguoi|lao dong|nhan vien|cong dan|ky su)"
        r"(?: lao dong)? viet(?: nam)?|(?:nguoi|lao dong|nhan vien|cong dan) viet(?: nam)? (?:\w+ ){0,3}(?:co )?"
        r"(?:can|phai) (?:xin |co |lam )?giay phep lao dong|work permit (?:for|of) (?:a |my |our )?vietnamese)(?: |$)",
        _FOREIGN_WORKER,
        "Giấy phép lao động chỉ cấp cho người nước ngoài làm việc tại Việt Nam. Người lao động Việt Nam làm "
        "việc tại Việt Nam, kể cả cho doanh nghiệp có vốn nước ngoài, không phải xin giấy phép lao động.",
        "Work permits are only for foreigners working in Viet Nam. Vietnamese employees working in Viet Nam, "
        "including for foreign-invested companies, do not need one.",
    ),
)
