"""Fit the matcher's decision constants on the project's own question sets, by cross-validation.

    .venv/bin/python bench/calibrate.py [--folds 5]

The blind sets (bench/questions_blind_long.yaml, bench/questions_blind_final.yaml) are never read
here. For each candidate setting (the blend of phrase and learned scores, the weight of words no
procedure uses, the confidence threshold) the questions are answered in process and scored like
../shared/tools/eval_questions.py; a setting is chosen on k-1 folds and scored on the held-out
fold. Prints the cross-validated figures and the setting chosen on all questions: put that in
bot/engine (and the figures in the README) by hand.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(SHARED / "tools"))

from eval_questions import hits  # type: ignore[import-not-found]  # noqa: E402

from bot.engine import (  # noqa: E402
    Engine,  # noqa: E402
    _engine,
    _index,
    _learned,
)
from bot.kb import default_knowledge_dir, load_knowledge  # noqa: E402

OWN_SETS = [SHARED / "eval" / "dev_questions.yaml"] + [
    ROOT / "bench" / f"questions_{n}.yaml" for n in ("more", "fresh", "unseen", "blind")
]
GRID = {
    "BLEND_PHRASE": [0.7, 0.8],
    "BLEND_LEARNED": [0.5, 0.6, 0.7],
    "LEARNED_ALONE": [0.6, 0.75, 0.9],
    "UNKNOWN_IDF": [0.6, 0.8, 1.0],
    "CONFIDENT": [0.55, 0.6, 0.65, 0.7],
}
HOME = {"BLEND_PHRASE": _index, "BLEND_LEARNED": _index, "LEARNED_ALONE": _index, "UNKNOWN_IDF": _learned,
        "CONFIDENT": _engine}


def load_questions() -> list[dict]:
    out: list[dict] = []
    for path in OWN_SETS:
        out.extend(yaml.safe_load(path.read_text(encoding="utf-8")))
    return out


def score(engine: Engine, questions: list[dict], targets: dict) -> tuple[float, int, int]:
    """(top1 hits + no-target questions left alone, wrong_direct, false confident) over questions."""
    good = wrong = false_conf = 0
    for case in questions:
        ans = engine.answer(case["q"], {})
        names = [m.procedure.name for m in ans.matches]
        want = case.get("target")
        intent = case.get("intent")
        intents = intent if isinstance(intent, list) else [intent]
        if want:
            rules = [targets[k] for k in (want if isinstance(want, list) else [want])]
            if names and any(hits(names[0], r) for r in rules):
                good += 1
            elif names and not ans.reply.text.strip().split("\n")[0].rstrip().endswith("?"):
                wrong += 1
        elif not {"status", "roadmap", "contact"} & set(intents):
            if names:
                false_conf += 1
            else:
                good += 1
        else:
            good += 1
    return good / max(len(questions), 1), wrong, false_conf


def apply(setting: dict[str, float]) -> None:
    for name, value in setting.items():
        setattr(HOME[name], name, value)


def objective(result: tuple[float, int, int], n: int) -> float:
    accuracy, wrong, false_conf = result
    # A wrong direct answer is the worst outcome: it costs as much as five misses.
    return accuracy - 5 * wrong / n - false_conf / n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()
    kb = load_knowledge(default_knowledge_dir())
    engine = Engine(kb)
    targets = yaml.safe_load((SHARED / "eval" / "targets.yaml").read_text(encoding="utf-8"))
    questions = load_questions()
    settings = [dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())]
    # Every setting scored on every question once; folds reuse the per-question results.
    per_question: list[list[tuple[float, int, int]]] = []
    for setting in settings:
        apply(setting)
        per_question.append([score(engine, [q], targets) for q in questions])
    order = list(range(len(questions)))
    random.Random(2026).shuffle(order)
    folds = [order[i :: args.folds] for i in range(args.folds)]

    def total(s: int, ids: list[int]) -> tuple[float, int, int]:
        rs = [per_question[s][i] for i in ids]
        return sum(r[0] for r in rs) / max(len(rs), 1), sum(r[1] for r in rs), sum(r[2] for r in rs)

    held: list[tuple[float, int, int]] = []
    for k, fold in enumerate(folds):
        train = [i for j, f in enumerate(folds) if j != k for i in f]
        best = max(range(len(settings)), key=lambda s: objective(total(s, train), len(train)))
        held.append(total(best, fold))
        print(f"fold {k + 1}: chose {settings[best]} -> held-out accuracy {held[-1][0]:.3f}, "
              f"wrong_direct {held[-1][1]}, false confident {held[-1][2]}")
    acc = sum(h[0] * len(f) for h, f in zip(held, folds, strict=True)) / len(questions)
    print(f"cross-validated: accuracy {acc:.3f}, wrong_direct {sum(h[1] for h in held)}, "
          f"false confident {sum(h[2] for h in held)}, n={len(questions)}")
    best = max(range(len(settings)), key=lambda s: objective(total(s, order), len(order)))
    print(f"chosen on all: {settings[best]} -> {total(best, order)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
