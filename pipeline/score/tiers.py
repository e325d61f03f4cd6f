"""Tiers from scores, with hysteresis so a score near a boundary does not flap.

Going up is immediate: a score at or above a tier's lower bound reaches it.
Going down needs the score to fall ``margin`` below the lower bound of the
current tier (and then lands in the tier the score is in, no lower).
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.score.config import TIER_NAMES


def tier_of(score: float, bounds: Sequence[float]) -> int:
    """Index of the tier ``score`` falls in, without hysteresis."""
    tier = 0
    for index, bound in enumerate(bounds):
        if score >= bound:
            tier = index
    return tier


def next_tier(current: int, score: float, bounds: Sequence[float], margin: float) -> int:
    """The tier after ``score`` is reached from ``current``."""
    raw = tier_of(score, bounds)
    if raw >= current:
        return raw
    held = tier_of(score + margin, bounds)
    return max(raw, min(current, held))


def tier_name(index: int) -> str:
    return TIER_NAMES[index]
