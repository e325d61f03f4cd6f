"""Writing-style transforms applied to template text per author.

Styles: `standard` (as written), `abbrev` ("u", "r", "ngl", "tmrw"), `emoji`,
`nonnative` (simplified grammar) and `leet` (digit swaps and spaced-out letters,
"s e c r e t", "p1c"), used by some groomers and some benign users alike.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

_ABBREVIATIONS = (
    (r"\bnot gonna lie\b", "ngl"),
    (r"\bto be honest\b", "tbh"),
    (r"\bi don't know\b", "idk"),
    (r"\bright now\b", "rn"),
    (r"\byou're\b", "ur"),
    (r"\byour\b", "ur"),
    (r"\byou\b", "u"),
    (r"\bare\b", "r"),
    (r"\btomorrow\b", "tmrw"),
    (r"\btonight\b", "tn"),
    (r"\bplease\b", "pls"),
    (r"\bbecause\b", "bc"),
    (r"\bokay\b", "ok"),
    (r"\bthanks\b", "thx"),
    (r"\bfor real\b", "fr"),
    (r"\bwant to\b", "wanna"),
    (r"\bi'm\b", "im"),
    (r"\bdon't\b", "dont"),
)
_ABBREV_RES = tuple((re.compile(pattern), short) for pattern, short in _ABBREVIATIONS)
_NONNATIVE = (
    (re.compile(r"\bI'm\b"), "I am"),
    (re.compile(r"\bdon't\b"), "not"),
    (re.compile(r"\bdid you\b"), "you did"),
    (re.compile(r"\bare you\b"), "you are"),
    (re.compile(r"\bdo you\b"), "you"),
    (re.compile(r"\b(the|a) "), ""),
)
_EMOJI = ("😂", "😊", "🙂", "😅", "🔥", "👍", "😎", "🎮", "💯", "🙃", "😴", "⚽", "📚", "✨")
_LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5"})
_WORD_RE = re.compile(r"[A-Za-z]{3,}")
# Words a leet writer most likely disguises: stage keywords and a few common ones.
_LEET_TARGETS = frozenset((
    "secret", "pic", "snap", "parents", "meet", "private", "gift", "old", "between",
    "discord", "whatsapp", "telegram", "selfie", "skins", "tell", "live",
))


def apply_style(text: str, style: str, rng: random.Random) -> str:
    """Rewrite `text` in the author's `style`; unknown styles leave it unchanged."""
    if style == "abbrev":
        return _abbreviate(text)
    if style == "emoji":
        return _emoji(text, rng)
    if style == "nonnative":
        return _nonnative(text, rng)
    if style == "leet":
        return _leet(text, rng)
    return text


@lru_cache(maxsize=8192)
def _abbreviate(text: str) -> str:
    out = text.lower()
    for pattern, short in _ABBREV_RES:
        out = pattern.sub(short, out)
    return out.rstrip(".!")


def _emoji(text: str, rng: random.Random) -> str:
    count = rng.choice((1, 1, 2, 3))
    tail = "".join(rng.choice(_EMOJI) for _ in range(count))
    return f"{text} {tail}" if rng.random() < 0.85 else f"{tail} {text}"


def _nonnative(text: str, rng: random.Random) -> str:
    out = text
    for pattern, replacement in _NONNATIVE:
        if rng.random() < 0.7:
            out = pattern.sub(replacement, out)
    if out.endswith("?") and rng.random() < 0.4:
        out = out[:-1] + ", no?"
    return out


def _leet(text: str, rng: random.Random) -> str:
    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        lowered = word.lower()
        target = lowered in _LEET_TARGETS
        draw = rng.random()
        if target and draw < 0.35:
            return " ".join(word)
        if draw < (0.8 if target else 0.2):
            return lowered.translate(_LEET)
        return word

    return _WORD_RE.sub(swap, text)
