"""Answer latency (p50, p99) and start-up time, on the bundled knowledge and on a synthetic
knowledge base of 5,000 procedures (the national catalogue's order of size).

    .venv/bin/python bench/bench_answer.py [--procedures 5000] [--rounds 20]

Prints one table; the figures go in the README. Targets: p50 ≤ 1 ms bundled, ≤ 10 ms at 5,000.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.conversation import Assistant  # noqa: E402
from bot.kb import KnowledgeBase, default_knowledge_dir, load_knowledge  # noqa: E402

QUESTIONS = [
    "Thủ tục cấp Giấy chứng nhận đăng ký đầu tư",
    "xin chu truong dau tu du an nha may trong kcn",
    "How do I get an investment registration certificate?",
    "GCNĐKĐT cần chuẩn bị hồ sơ gì",
    "thoi gian cap giay chung nhan dang ky dau tu",
    "gia hạn gplđ",
    "apply for a work permit",
    "giấy phép lao động cần hồ sơ gì",
    "xin phep xay dung nha may",
    "điều chỉnh gpxd",
    "báo cáo ĐTM",
    "environmental license",
    "ho so H40.21-250101-0001 xu ly den dau roi",
    "hôm nay trời có mưa không",
    "cách nấu phở bò",
    "qwerty zxcv",
    "chấm dứt hoạt động văn phòng điều hành bcc",
    "góp vốn mua phần vốn góp nhà đầu tư nước ngoài",
]

SUBJECTS = [
    "khai thác khoáng sản", "kinh doanh dịch vụ lữ hành", "hoạt động hóa chất", "xuất khẩu gạo", "phân bón",
    "thuốc bảo vệ thực vật", "dược phẩm", "thiết bị y tế", "vật liệu nổ công nghiệp", "tần số vô tuyến điện",
    "dịch vụ viễn thông", "xuất bản", "quảng cáo", "trò chơi điện tử", "vận tải đường thủy", "cảng cá",
    "giống cây trồng", "thủy sản", "rừng trồng", "nước sạch", "điện lực", "xăng dầu", "khí dầu mỏ hóa lỏng",
    "an toàn thực phẩm", "giáo dục nghề nghiệp", "cơ sở khám bệnh", "di sản văn hóa", "thể thao", "du lịch",
    "bảo hiểm", "chứng khoán", "ngân hàng", "kế toán", "kiểm toán", "đấu giá", "công chứng", "luật sư",
]
VERBS = ["Cấp", "Cấp lại", "Gia hạn", "Điều chỉnh", "Thu hồi", "Đăng ký", "Thông báo", "Chấm dứt", "Thẩm định"]
OBJECTS = ["giấy phép", "giấy chứng nhận", "chứng chỉ hành nghề", "văn bản chấp thuận", "quyết định"]


def synthetic(base: KnowledgeBase, n: int, seed: int = 7) -> KnowledgeBase:
    """`n` procedures: the bundled ones plus plausible generated names over their cases."""
    rng = random.Random(seed)
    procs = list(base.procedures)
    template = procs
    i = 0
    while len(procs) < n:
        t = template[i % len(template)]
        i += 1
        name = f"{rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(SUBJECTS)} {rng.choice(SUBJECTS)}"
        code = f"9.{len(procs):06d}"
        procs.append(replace(t, code=code, name=name, name_en=f"Synthetic procedure {code}", aliases=()))
    return replace(base, procedures=tuple(procs))


def latency(engine: Assistant, rounds: int) -> tuple[float, float]:
    """Every search computed: the index's memory of recent questions is turned off here."""
    engine.index.cache_size = 0
    samples = []
    for _ in range(rounds):
        for q in QUESTIONS:
            start = time.perf_counter()
            engine.answer(q, {})
            samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procedures", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()

    start = time.perf_counter()
    kb = load_knowledge(default_knowledge_dir())
    loaded = time.perf_counter()
    engine = Assistant(kb)
    built = time.perf_counter()
    p50, p99 = latency(engine, args.rounds)

    big_kb = synthetic(kb, args.procedures)
    start_big = time.perf_counter()
    big = Assistant(big_kb)
    built_big = time.perf_counter() - start_big
    b50, b99 = latency(big, max(3, args.rounds // 4))

    print(f"{'knowledge':<28}{'procedures':>11}{'start-up ms':>13}{'p50 ms':>9}{'p99 ms':>9}")
    print(f"{'bundled (load YAML + index)':<28}{len(kb.procedures):>11}{(built - start) * 1000:>13.0f}{p50:>9.3f}{p99:>9.3f}")
    print(f"{'  of which YAML load':<28}{'':>11}{(loaded - start) * 1000:>13.0f}")
    print(f"{'synthetic (index only)':<28}{len(big_kb.procedures):>11}{built_big * 1000:>13.0f}{b50:>9.3f}{b99:>9.3f}")
    print(f"targets: p50 <= 1 ms bundled ({'ok' if p50 <= 1 else 'MISSED'}), "
          f"<= 10 ms at {len(big_kb.procedures)} ({'ok' if b50 <= 10 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
