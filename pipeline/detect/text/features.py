"""Hashed bag of word unigrams, word bigrams and character trigrams.

Features are bucket numbers from CRC-32 (stable across processes, unlike
Python's salted ``hash``) so the model's size is bounded however much it
learns. Values are L2-normalised counts, so long and short messages weigh
the same. Character trigrams run over the whole normalised text with a space
at each end, so they see word edges ("pic" in " pic " and "pics").
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from typing import Final

BUCKET_BITS: Final = 17
N_BUCKETS: Final = 1 << BUCKET_BITS
_MASK: Final = N_BUCKETS - 1
_MAX_CHARS: Final = 2_000
_WORD_SEED: Final = zlib.crc32(b"w")
_BIGRAM_SEED: Final = zlib.crc32(b"b")
_CHAR_SEED: Final = zlib.crc32(b"c")
_crc = zlib.crc32


def feature_keys(normalised: str) -> list[int]:
    """Bucket numbers of every feature occurrence (repeats kept) of a normalised text."""
    data = normalised[:_MAX_CHARS].encode()
    words = data.split()
    if not words:
        return []
    keys = [_crc(word, _WORD_SEED) & _MASK for word in words]
    keys.extend(
        _crc(left + b" " + right, _BIGRAM_SEED) & _MASK
        for left, right in zip([b"<s>", *words], [*words, b"</s>"], strict=True)
    )
    padded = b" " + b" ".join(words) + b" "
    keys.extend(_crc(padded[i : i + 3], _CHAR_SEED) & _MASK for i in range(len(padded) - 2))
    return keys


def l2_norm(keys: list[int]) -> float:
    """Euclidean length of the count vector of ``keys``."""
    if len(set(keys)) == len(keys):
        return math.sqrt(len(keys))
    return math.sqrt(sum(c * c for c in Counter(keys).values()))


def featurise(normalised: str) -> dict[int, float]:
    """L2-normalised hashed features of an already normalised text (river's input)."""
    keys = feature_keys(normalised)
    if not keys:
        return {}
    norm = l2_norm(keys)
    return {key: count / norm for key, count in Counter(keys).items()}
