"""Privacy mode: stage signals computed on the platform, so message text never leaves it.

:class:`StageExtractor` reads the exported stage model (``stage_model.json``,
made by ``python -m pipeline.detect.text.export`` from the pipeline's own model)
and computes, for a message text, the eight grooming-stage probabilities the
pipeline would compute from the text itself: the same normalisation, the same
CRC-32 hashed word unigrams, bigrams and character trigrams, the same logistic
regressions. :func:`private_message` turns a contract ``message`` event with
``content`` into one with ``content_signals`` and ``content_sha256`` only.

Pure standard library (no numpy), so it runs wherever the client does.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

from wardstream.errors import ModelError

MODEL_KIND: Final = "wardstream.stage_model.json"
MODEL_FORMAT: Final = 1

# ---- normalisation (same steps as the pipeline; see docs/sdk.md)
_LEET: Final = str.maketrans({"1": "i", "3": "e", "4": "a", "0": "o", "5": "s", "7": "t",
                              "@": "a", "$": "s"})
_INVISIBLE: Final = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_APOSTROPHES: Final = str.maketrans(dict.fromkeys("'\u2019`\u00b4", None))
_DOTTED: Final = re.compile(r"(?<![\w@$])(?:[\w@$][.\-_*\u00b7]){2,}[\w@$](?![\w@$])")
_DOT_SEPARATORS: Final = re.compile(r"[.\-_*\u00b7]")
_PIECES: Final = re.compile(r"[a-z0-9@$]+")
_LEETABLE: Final = re.compile(r"[0-9@$]")
_LETTER: Final = re.compile(r"[a-z]")
_RUNS: Final = re.compile(r"([a-z])\1{2,}")
_SHORTHAND: Final = frozenset("uriaykncb24")


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_INVISIBLE)
    if folded.isascii():
        return folded
    return "".join(ch for ch in unicodedata.normalize("NFKD", folded)
                   if not unicodedata.combining(ch))


def _join_spaced(pieces: list[str]) -> list[str]:
    out: list[str] = []
    run: list[str] = []
    for piece in [*pieces, ""]:  # "" ends the last run
        if len(piece) == 1:
            run.append(piece)
            continue
        if len(run) >= 3 and not all(p in _SHORTHAND for p in run):
            out.append("".join(run))
        else:
            out.extend(run)
        run = []
        if piece:
            out.append(piece)
    return out


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces, disguises undone (leetspeak,
    spaced or dotted letters, stretched words, accents, zero-width characters)."""
    folded = _fold(text).translate(_APOSTROPHES)
    if any(sep in folded for sep in ".-_*\u00b7"):
        folded = _DOTTED.sub(lambda m: _DOT_SEPARATORS.sub("", m.group(0)), folded)
    pieces = _PIECES.findall(folded)
    if any(len(p) == 1 for p in pieces):
        pieces = _join_spaced(pieces)
    if _LEETABLE.search(folded):
        pieces = [p.translate(_LEET) if _LETTER.search(p) else p for p in pieces]
    return _RUNS.sub(r"\1", " ".join(pieces))


# ---- features


def feature_keys(normalised: str, bucket_bits: int = 17, max_chars: int = 2000) -> list[int]:
    """Hashed bucket of every word, word bigram and character trigram occurrence."""
    mask = (1 << bucket_bits) - 1
    words = normalised[:max_chars].encode().split()
    if not words:
        return []
    word_seed, bigram_seed, char_seed = zlib.crc32(b"w"), zlib.crc32(b"b"), zlib.crc32(b"c")
    keys = [zlib.crc32(w, word_seed) & mask for w in words]
    keys.extend(zlib.crc32(left + b" " + right, bigram_seed) & mask
                for left, right in zip([b"<s>", *words], [*words, b"</s>"], strict=True))
    padded = b" " + b" ".join(words) + b" "
    keys.extend(zlib.crc32(padded[i:i + 3], char_seed) & mask for i in range(len(padded) - 2))
    return keys


def _l2_norm(keys: list[int]) -> float:
    if len(set(keys)) == len(keys):
        return math.sqrt(len(keys))
    return math.sqrt(sum(c * c for c in Counter(keys).values()))


def content_sha256(text: str) -> str:
    """The hex SHA-256 of the UTF-8 text (what the pipeline computes from ``content``)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class StageExtractor:
    """The eight stage probabilities of a text, from an exported stage model."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        if document.get("kind") != MODEL_KIND or document.get("format") != MODEL_FORMAT:
            raise ModelError(f"not a {MODEL_KIND} document of format {MODEL_FORMAT}")
        features = document.get("features", {})
        if features.get("hash") != "crc32" or (features.get("word_seed"),
                                               features.get("bigram_seed"),
                                               features.get("char_seed")) != ("w", "b", "c"):
            raise ModelError("the model's feature recipe is not one this client implements")
        self.stages: tuple[str, ...] = tuple(document["stages"])
        self.version = str(document["version"])
        self.bucket_bits = int(document["bucket_bits"])
        self.max_chars = int(features.get("max_chars", 2000))
        self.intercepts: tuple[float, ...] = tuple(float(b) for b in document["intercepts"])
        keys: list[int] = document["keys"]
        rows: list[list[float]] = document["values"]
        if len(rows) != len(self.stages) or len(self.intercepts) != len(self.stages):
            raise ModelError("the model's stages, intercepts and values do not line up")
        self._weights: dict[int, tuple[float, ...]] = {
            int(k): tuple(float(row[i]) for row in rows) for i, k in enumerate(keys)}
        self._zero = (0.0,) * len(self.stages)

    @classmethod
    def from_file(cls, path: Path | str) -> StageExtractor:
        try:
            return cls(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{path}: cannot load the stage model ({exc})") from None

    @classmethod
    def bundled(cls) -> StageExtractor:
        """The model shipped with this package (the pipeline's seed model)."""
        return _bundled()

    def probabilities(self, text: str) -> tuple[float, ...]:
        """Stage probabilities in ``self.stages`` order (all 0.0 for empty text)."""
        if not text:
            return self._zero
        keys = feature_keys(normalise(text), self.bucket_bits, self.max_chars)
        sums = [0.0] * len(self.stages)
        for key in keys:
            row = self._weights.get(key)
            if row is not None:
                for i, w in enumerate(row):
                    sums[i] += w
        norm = _l2_norm(keys) if keys else 1.0
        return tuple(
            1.0 / (1.0 + math.exp(-min(max(b + s / norm, -30.0), 30.0)))
            for b, s in zip(self.intercepts, sums, strict=True))

    def signals(self, text: str) -> dict[str, float]:
        """``content_signals`` for a text: stage name -> probability in [0, 1]."""
        return dict(zip(self.stages, self.probabilities(text), strict=True))


@lru_cache(maxsize=1)
def _bundled() -> StageExtractor:
    resource = resources.files("wardstream").joinpath("stage_model.json")
    try:
        return StageExtractor(json.loads(resource.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"the bundled stage model cannot be loaded ({exc})") from None


def private_message(event: Mapping[str, Any], extractor: StageExtractor) -> dict[str, Any]:
    """A copy of a contract event with ``content`` replaced by ``content_sha256`` and
    ``content_signals``. Events without ``content`` are unchanged; an empty text gets
    a hash and no signals (the pipeline does not score empty text either); a
    non-message event with ``content`` is refused (:class:`ValueError`)."""
    out = dict(event)
    content = out.pop("content", None)
    if content is None:
        return out
    if out.get("type") != "message":
        raise ValueError("content is only allowed on message events (privacy mode sends "
                         "no text at all)")
    if not isinstance(content, str):
        raise TypeError("content must be a string")
    out["content_sha256"] = content_sha256(content)
    if content and "content_signals" not in out:
        out["content_signals"] = extractor.signals(content)
    return out
