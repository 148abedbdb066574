"""Vietnamese text handling: folding, normalising, language detection."""

from __future__ import annotations

import unicodedata

from bot.engine import detect_lang as _detect_lang
from bot.engine import fold, normalize
from bot.kb._loader import bundled_vocabulary

_VOCABULARY = bundled_vocabulary()


def detect_lang(text: str, default: str = "vi") -> str:
    """The language as the bot detects it with the bundled vocabulary's English words."""
    assert _VOCABULARY is not None
    return _detect_lang(text, default, _VOCABULARY.english_words, _VOCABULARY.english_ambiguous)


def test_fold_removes_diacritics_case_and_punctuation() -> None:
    assert fold("Giấy chứng nhận ĐĂNG KÝ đầu tư!") == "giay chung nhan dang ky dau tu"
    assert fold("GCNĐKĐT") == "gcndkdt"
    assert fold("  Đ/đ  ") == "d d"


def test_fold_is_the_same_for_composed_and_decomposed_input() -> None:
    text = "Gia hạn giấy phép lao động"
    assert fold(unicodedata.normalize("NFD", text)) == fold(text) == "gia han giay phep lao dong"


def test_normalize_nfc_control_characters_and_length() -> None:
    decomposed = unicodedata.normalize("NFD", "hồ sơ")
    assert normalize(decomposed) == "hồ sơ"
    assert normalize("a\x00b\u200bc\x1b[31m") == "a b c [31m"
    long = "xin giấy phép " * 1000
    cut = normalize(long, limit=500)
    assert len(cut) <= 500 and not cut.endswith(" ")
    assert cut.endswith(("xin", "giấy", "phép"))


def test_detect_lang() -> None:
    assert detect_lang("thủ tục cấp giấy phép lao động") == "vi"
    assert detect_lang("thoi gian cap giay chung nhan dang ky dau tu") == "vi"
    assert detect_lang("xin work permit cho giam doc nguoi nhat") == "vi"
    assert detect_lang("How do I get an investment registration certificate?") == "en"
    assert detect_lang("where is my dossier") == "en"
    assert detect_lang("hi there") == "en"
    assert detect_lang("work permit extension") == "en"
    # Undecidable text keeps the conversation's language.
    assert detect_lang("1.009664", default="en") == "en"
    assert detect_lang("qwerty zxcv", default="vi") == "vi"
