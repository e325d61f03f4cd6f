"""Build the seed stage model: ``python -m pipeline.detect.text.train_seed [--out FILE]``.

Deterministic: the corpus comes from ``seed_data.generate`` with a fixed seed,
examples are shuffled with a fixed seed each epoch, and river's SGD has no
other randomness, so the same code always writes the same weights. It prints
precision and recall per stage on a corpus generated with another seed.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from pipeline.detect.stages import STAGES
from pipeline.detect.text.features import featurise
from pipeline.detect.text.model import SEED_MODEL_PATH, StageModel, new_learner
from pipeline.detect.text.normalise import normalise
from pipeline.detect.text.seed_data import generate

SEED_VERSION: Final = "seed-1"
CORPUS_SEED: Final = 1
HELD_OUT_SEED: Final = 2
EPOCHS: Final = 4
# Positives are about one in twelve examples per stage; weigh them up so a
# clear stage sentence lands well above 0.5.
POSITIVE_WEIGHT: Final = 3.0


def corpus(seed: int) -> list[tuple[dict[int, float], frozenset[str]]]:
    seen: dict[str, frozenset[str]] = {}
    for text, labels in generate(seed):
        seen.setdefault(text, labels)
    return [(featurise(normalise(text)), labels) for text, labels in seen.items()]


def build(epochs: int = EPOCHS) -> StageModel:
    """Train the seed model from scratch."""
    examples = corpus(CORPUS_SEED)
    learners = [new_learner() for _ in STAGES]
    rng = random.Random(CORPUS_SEED)
    for _ in range(epochs):
        rng.shuffle(examples)
        for features, labels in examples:
            for stage, learner in zip(STAGES, learners, strict=True):
                positive = stage in labels
                learner.learn_one(features, positive, POSITIVE_WEIGHT if positive else 1.0)
    return StageModel.from_learners(learners, SEED_VERSION)


def evaluate(model: StageModel, seed: int = HELD_OUT_SEED) -> list[str]:
    """Precision and recall per stage at 0.5 on a corpus generated with ``seed``."""
    counts = {stage: [0, 0, 0] for stage in STAGES}  # true pos, false pos, false neg
    for features, labels in corpus(seed):
        probabilities = model.predict_features(features)
        for stage, p in zip(STAGES, probabilities, strict=True):
            predicted, actual = p >= 0.5, stage in labels
            if predicted and actual:
                counts[stage][0] += 1
            elif predicted:
                counts[stage][1] += 1
            elif actual:
                counts[stage][2] += 1
    lines = []
    for stage, (tp, fp, fn) in counts.items():
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        lines.append(f"{stage:16s} precision {precision:.3f} recall {recall:.3f}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.detect.text.train_seed")
    parser.add_argument("--out", type=Path, default=SEED_MODEL_PATH)
    args = parser.parse_args(argv)
    model = build()
    model.save(args.out)
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size} bytes, version {model.version})")
    for line in evaluate(model):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
