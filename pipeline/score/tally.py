"""Incremental score: only sources whose signal changed are recomputed.

Every source decays with the same half-life, so a source's points can be
*anchored* once, ``points * 2 ** ((at - ref) / half_life)`` for a reference
time ``ref``, and the whole score at clock ``c`` is

    sum over names of min(cap, (sum_k anchored_k * repeat ** k) * 2 ** (-(c - ref) / half_life))

with the anchored values of a name sorted largest first (a common factor does
not change their order). A :class:`Tally` keeps the anchored values per source
and the per-name sums, and recomputes a source only when its signal object is
replaced. A new cleared decision or a new reference time rebuilds everything;
a new actor baseline (register shift) rebuilds the pair sources. ``ref`` is a
grid point derived from the clock, so the result depends only on the sources
and the clock, not on what was cached before (a decoded state scores the same).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from pipeline.detect.signals import PairSignal, Signal
from pipeline.score.config import ScoreConfig
from pipeline.score.features import PEER_EXEMPT, Term, register_term

_GRID_HALF_LIVES: Final = 32  # ref moves every 32 half-lives of event time

TermsOf = Callable[[str], list[Term]]


class Tally:
    """Derived per-state cache; never stored (a decoded state starts empty)."""

    __slots__ = ("baseline", "by_name", "context", "entries", "totals")

    def __init__(self) -> None:
        self.context: tuple[int, int, float] | None = None
        self.baseline: object = None
        # source -> (signal it was built from, [(name, anchored points)])
        self.entries: dict[str, tuple[Signal, list[tuple[str, float]]]] = {}
        self.by_name: dict[str, dict[str, float]] = {}
        self.totals: dict[str, float] = {}

    def score(self, sources: Mapping[str, Signal], clock_us: int, baseline: object,
              cleared_at_us: int, terms_of: TermsOf, config: ScoreConfig,
              peer_weight: float = 1.0) -> float:
        """The score as of ``clock_us`` (0..100, one decimal)."""
        half_life_us = round(config.half_life_days * 86_400_000_000)
        grid = half_life_us * _GRID_HALF_LIVES
        ref_us = (clock_us // grid) * grid
        context = (cleared_at_us, ref_us, peer_weight)
        if context != self.context:
            self.context = context
            self.entries.clear()
            self.by_name.clear()
            self.totals.clear()
        dirty: set[str] = set()
        entries = self.entries
        stale = [k for k in entries if k not in sources]
        if baseline != self.baseline:  # register shifts of pair sources change
            self.baseline = baseline
            stale.extend(k for k, (signal, _) in entries.items()
                         if isinstance(signal, PairSignal) and k in sources)
        for key in stale:
            self._drop(key, dirty)
        for key, signal in sources.items():
            entry = entries.get(key)
            if entry is not None and entry[0] is signal:
                continue
            if entry is not None:
                self._drop(key, dirty)
            points = _anchored(signal, terms_of(key), baseline, cleared_at_us, ref_us,
                               half_life_us, config, peer_weight)
            entries[key] = (signal, points)
            for name, value in points:
                self.by_name.setdefault(name, {})[key] = value
                dirty.add(name)
        repeat = config.repeat_factor
        for name in dirty:
            values = sorted(self.by_name.get(name, {}).values(), reverse=True)
            if values:
                self.totals[name] = sum(v * repeat**k for k, v in enumerate(values))
            else:
                self.totals.pop(name, None)
                self.by_name.pop(name, None)
        if not self.totals:
            return 0.0
        decay = float(0.5 ** ((clock_us - ref_us) / half_life_us))
        signals = config.signals
        capped = sorted((min(signals[name].cap, total * decay)
                         for name, total in self.totals.items()), reverse=True)
        return round(min(100.0, sum(capped)), 1)

    def _drop(self, key: str, dirty: set[str]) -> None:
        _, points = self.entries.pop(key)
        for name, _ in points:
            found = self.by_name.get(name)
            if found is not None:
                found.pop(key, None)
            dirty.add(name)


def capped_points(term: Term, config: ScoreConfig, peer_weight: float) -> float:
    """A term's points with the peer discount (where it applies), capped."""
    points = term.points if term.name in PEER_EXEMPT else term.points * peer_weight
    return min(points, config.signals[term.name].cap)


def _anchored(signal: Signal, found: list[Term], baseline: object, cleared_at_us: int,
              ref_us: int, half_life_us: float, config: ScoreConfig,
              peer_weight: float) -> list[tuple[str, float]]:
    if not found:
        return []
    points = [(t.name, capped_points(t, config, peer_weight)) for t in found]
    if isinstance(signal, PairSignal):
        shift = register_term(signal, baseline if isinstance(baseline, tuple) else None,
                              config)
        if shift is not None:
            points.append((shift.name, capped_points(shift, config, peer_weight)))
    factor = float(2.0 ** ((signal.at_us - ref_us) / half_life_us))
    if signal.at_us <= cleared_at_us:
        factor *= config.cleared_factor
    return [(name, value * factor) for name, value in points]
