"""Age bands as small integer codes, and the gate that keeps minor-only signals quiet.

States store a band in one byte. ``gate`` says how much a signal that needs an
adult-to-minor relationship counts for a given sender and recipient: fully for
a known adult writing to a known minor, nothing when either side rules it out
(a minor sending, an adult receiving), and a configurable fraction for each
side whose age band is unknown.
"""

from __future__ import annotations

from typing import Final

UNKNOWN: Final = 0
UNDER_13: Final = 1
AGE_13_15: Final = 2
AGE_16_17: Final = 3
ADULT: Final = 4
# Added to a band code when the band is only the user's own declaration: a
# declared minor may be an adult posing as a teenager.
CLAIMED: Final = 8
_BAND_MASK: Final = 7

BAND_CODES: Final[dict[str, int]] = {
    "unknown": UNKNOWN,
    "under_13": UNDER_13,
    "13_15": AGE_13_15,
    "16_17": AGE_16_17,
    "18_plus": ADULT,
}
BAND_NAMES: Final[tuple[str, ...]] = ("unknown", "under_13", "13_15", "16_17", "18_plus")
# How explanations name a band ("one 13-15 account").
BAND_LABELS: Final[tuple[str, ...]] = ("unknown-age", "under-13", "13-15", "16-17", "adult")


def band_code(name: str | None) -> int:
    """The code of a contract age band; ``None`` and unknown names are ``UNKNOWN``."""
    if name is None:
        return UNKNOWN
    return BAND_CODES.get(name, UNKNOWN)


def band_of(code: int) -> int:
    """The band of a code, without the ``CLAIMED`` flag."""
    return code & _BAND_MASK


def is_claimed(code: int) -> bool:
    return bool(code & CLAIMED)


def is_minor(code: int) -> bool:
    return UNDER_13 <= code & _BAND_MASK <= AGE_16_17


def may_be_minor(code: int) -> bool:
    """A minor (declared or confirmed) or an account whose age is unknown."""
    return code & _BAND_MASK != ADULT


def may_be_adult(code: int) -> bool:
    """An adult, an account of unknown age, or one whose minor band is only declared."""
    band = code & _BAND_MASK
    return band in (ADULT, UNKNOWN) or (code & CLAIMED != 0 and is_minor(code))


def gate(sender: int, recipient: int, unknown_factor: float,
         claimed_minor_factor: float = 0.0) -> float:
    """Weight of an adult-to-minor signal for these band codes (0 when ruled out).

    A sender whose minor band is only declared counts ``claimed_minor_factor``
    (adults posing as teenagers); a confirmed minor sender or an adult
    recipient rules the signal out.
    """
    if recipient & _BAND_MASK == ADULT:
        return 0.0
    weight = 1.0
    if is_minor(sender):
        if not sender & CLAIMED:
            return 0.0
        weight = claimed_minor_factor
    elif sender & _BAND_MASK == UNKNOWN:
        weight = unknown_factor
    if recipient & _BAND_MASK == UNKNOWN:
        weight *= unknown_factor
    return weight
