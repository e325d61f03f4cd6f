"""The grooming stages the text model estimates, in the order they usually appear.

The order follows the grooming literature: getting to know the child (asking
their age, flattering them), building dependence (gifts), securing secrecy and
exclusivity, moving the contact somewhere less watched, and finally requests
for pictures and a meeting. Indices into ``STAGES`` are stored in states and
bit masks, so this tuple must only ever grow at the end.
"""

from __future__ import annotations

from typing import Final

STAGES: Final[tuple[str, ...]] = (
    "age_probe",
    "flattery",
    "gifts",
    "secrecy",
    "isolation",
    "platform_move",
    "photo_request",
    "meeting_request",
)
N_STAGES: Final = len(STAGES)
STAGE_INDEX: Final[dict[str, int]] = {name: i for i, name in enumerate(STAGES)}

# How explanations name a stage.
STAGE_LABELS: Final[tuple[str, ...]] = (
    "asking their age",
    "flattery",
    "gifts",
    "secrecy",
    "isolation from friends or family",
    "moving to another app",
    "asking for a picture",
    "asking to meet",
)

# Stage probabilities travel quantised to one byte: 0..255 stands for 0..1.
PROB_SCALE: Final = 255


def quantise(probability: float) -> int:
    """A probability in [0, 1] as 0..255 (clamped, rounded half up)."""
    if probability <= 0.0:
        return 0
    if probability >= 1.0:
        return PROB_SCALE
    return int(probability * PROB_SCALE + 0.5)


def mask_names(mask: int) -> list[str]:
    """Stage names whose bit is set in ``mask``, in stage order."""
    return [STAGES[i] for i in range(N_STAGES) if mask >> i & 1]
