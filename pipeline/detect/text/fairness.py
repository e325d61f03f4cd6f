"""Does a text model flag benign messages more often in one writing style than another?

The trainer publishes a new text model version only after this check
(DESIGN.md: models are fairness-gated). The suite is the same benign messages,
generated from the simulator's benign topics (children, teenagers, coaches,
teachers, relatives, adults among themselves, gamers), each rewritten in every
writing style the simulator knows. Because every style carries the same
messages, a difference between the styles' rates comes from the style alone.
The rate is the share of benign messages marked with a stage: any stage
probability at the stage threshold or above (what makes a message count as a
stage in the score). Benign look-alikes carry stage-like phrasing on purpose
(a coach's praise, teenagers asking each other's age), so the level is not a
false-alarm rate; the gap between styles is what the gate watches.

The gate passes a candidate whose largest gap between two styles is within the
limit, or no larger than its parent's: a deployment whose current model is
already over the limit can still learn, but never drift further from fair.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from pipeline.simulate.phrases import render
from pipeline.simulate.styles import apply_style

STYLES = ("standard", "abbrev", "emoji", "nonnative", "leet")
BENIGN_TOPICS = (
    "child_chat", "teen_chat", "teen_night", "school_group", "gaming", "gaming_discord",
    "adult_chat", "flirt", "family_to_minor", "minor_to_family", "coach_group", "coach_dm",
    "teacher_group", "teacher_dm", "tutor_dm", "student_reply",
)
SUITE_SEED = 20261122
MESSAGES_PER_TOPIC = 24
DEFAULT_MAX_GAP = 0.02


class StagePredictor(Protocol):
    """What the gate needs of a model (``StageModel`` is one)."""

    @property
    def version(self) -> str: ...

    def predict(self, text: str) -> tuple[float, ...]: ...


@lru_cache(maxsize=2)
def benign_suite(seed: int = SUITE_SEED,
                 per_topic: int = MESSAGES_PER_TOPIC) -> Mapping[str, tuple[str, ...]]:
    """The benign messages of the suite in each style, the same messages in every style."""
    rng = random.Random(seed)
    base = [render(topic, rng) for topic in BENIGN_TOPICS for _ in range(per_topic)]
    return {style: tuple(apply_style(text, style, random.Random(f"{seed}:{style}:{index}"))
                         for index, text in enumerate(base))
            for style in STYLES}


@dataclass(frozen=True)
class FairnessResult:
    """Share of the benign suite marked with a stage, per writing style, and the largest gap."""

    model_version: str
    benign_stage_rates: Mapping[str, float]
    messages_per_style: int

    @property
    def gap(self) -> float:
        rates = self.benign_stage_rates.values()
        return max(rates) - min(rates)

    @property
    def widest(self) -> tuple[str, str]:
        """The styles with the lowest and the highest rate."""
        ordered = sorted(self.benign_stage_rates, key=lambda s: self.benign_stage_rates[s])
        return ordered[0], ordered[-1]


def evaluate(model: StagePredictor, threshold: float,
             suite: Mapping[str, Sequence[str]] | None = None) -> FairnessResult:
    """The share of ``suite``'s messages the model marks with a stage, per style.

    ``suite`` defaults to :func:`benign_suite`.
    """
    suite = benign_suite() if suite is None else suite
    rates = {}
    sizes = set()
    for style, texts in suite.items():
        flagged = sum(1 for text in texts if max(model.predict(text)) >= threshold)
        rates[style] = flagged / len(texts)
        sizes.add(len(texts))
    if len(rates) < 2 or len(sizes) != 1:
        raise ValueError("suite: needs at least two styles with the same number of messages")
    return FairnessResult(model.version, rates, sizes.pop())


def passes(candidate: FairnessResult, parent: FairnessResult,
           max_gap: float = DEFAULT_MAX_GAP) -> bool:
    """The gate: within ``max_gap``, or no wider than the parent's gap."""
    return candidate.gap <= max_gap or candidate.gap <= parent.gap


def decimal(value: float) -> str:
    """A rate as the audit log keeps figures: a decimal string, never a float."""
    return f"{value:.4f}"
