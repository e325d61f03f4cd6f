"""Text normalisation before features: the same words however they are disguised.

Steps, in order: Unicode compatibility folding and case folding; zero-width
characters and accents removed; apostrophes dropped ("don't" -> "dont");
letters spaced or dotted apart joined ("s e c r e t", "s.e.c.r.e.t" ->
"secret"); leetspeak undone inside words that contain a letter (1->i, 3->e,
4->a, 0->o, 5->s, 7->t, @->a, $->s; a bare number such as "13" is kept);
runs of three or more of one character squeezed to one ("sooo" -> "so").
The result is lower-case words separated by single spaces.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

_LEET: Final = str.maketrans({"1": "i", "3": "e", "4": "a", "0": "o", "5": "s", "7": "t",
                              "@": "a", "$": "s"})
_INVISIBLE: Final = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_APOSTROPHES: Final = str.maketrans(dict.fromkeys("'’`´", None))
# Single characters joined by dots, dashes, underscores or stars ("s.e.c.r.e.t").
_DOTTED: Final = re.compile(r"(?<![\w@$])(?:[\w@$][.\-_*·]){2,}[\w@$](?![\w@$])")
_DOT_SEPARATORS: Final = re.compile(r"[.\-_*·]")
_PIECES: Final = re.compile(r"[a-z0-9@$]+")
_LEETABLE: Final = re.compile(r"[0-9@$]")
_LETTER: Final = re.compile(r"[a-z]")
_RUNS: Final = re.compile(r"([a-z])\1{2,}")
_MIN_SPACED_RUN: Final = 3
# Chat shorthand made of single letters ("u r a", "i c u") is not a spaced-out word.
_SHORTHAND: Final = frozenset("uriaykncb24")


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_INVISIBLE)
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _undot(match: re.Match[str]) -> str:
    return _DOT_SEPARATORS.sub("", match.group(0))


def _join_spaced(pieces: list[str]) -> list[str]:
    """Join runs of three or more one-character pieces ("s e c r e t")."""
    joined: list[str] = []
    run: list[str] = []

    def flush() -> None:
        spaced = len(run) >= _MIN_SPACED_RUN and not all(p in _SHORTHAND for p in run)
        joined.extend(["".join(run)] if spaced else run)
        run.clear()

    for piece in pieces:
        if len(piece) == 1:
            run.append(piece)
            continue
        if run:
            flush()
        joined.append(piece)
    if run:
        flush()
    return joined


def _unleet(word: str) -> str:
    if not _LETTER.search(word):
        return word
    return word.translate(_LEET)


def normalise(text: str) -> str:
    """The normalised form of ``text`` (see the module docstring)."""
    folded = _fold(text).translate(_APOSTROPHES)
    if "." in folded or "-" in folded or "_" in folded or "*" in folded or "·" in folded:
        folded = _DOTTED.sub(_undot, folded)
    pieces = _PIECES.findall(folded)
    if any(len(piece) == 1 for piece in pieces):
        pieces = _join_spaced(pieces)
    if _LEETABLE.search(folded):
        pieces = [_unleet(piece) for piece in pieces]
    return _RUNS.sub(r"\1", " ".join(pieces))
