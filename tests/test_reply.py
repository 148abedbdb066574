"""Long answers are split for channels without cutting an item in the middle."""

from __future__ import annotations

from bot.engine import Reply, split_text


def test_short_text_is_one_part() -> None:
    assert split_text("Hồ sơ gồm 3 giấy tờ.", 100) == ["Hồ sơ gồm 3 giấy tờ."]


def test_split_keeps_every_line_whole_when_it_fits() -> None:
    lines = [f"{i}. Giấy tờ số {i} — 1 bản chính, 1 bản sao" for i in range(1, 200)]
    text = "Hồ sơ cần nộp\n\n" + "\n".join(lines)
    parts = split_text(text, 400)
    assert all(len(p) <= 400 for p in parts)
    rejoined = [line for p in parts for line in p.split("\n") if line]
    assert rejoined == ["Hồ sơ cần nộp", *lines]


def test_a_line_longer_than_the_limit_is_cut_at_spaces() -> None:
    long_line = " ".join(["chứng nhận"] * 300)
    parts = split_text(long_line, 100)
    assert all(len(p) <= 100 for p in parts)
    assert " ".join(parts).split() == long_line.split()


def test_reply_chunks_use_the_channel_limit() -> None:
    reply = Reply("\n".join(["x" * 50] * 100))
    assert all(len(c) <= 2000 for c in reply.chunks(2000))
    assert sum(c.count("x") for c in reply.chunks(2000)) == 5000
