"""The detection runs an evaluation compares: all signals, behaviour only, text only.

Each run is the replay engine with a configuration variant, so an ablation
measures exactly what the product would do with those signals switched off.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from pipeline.core import Engine
from pipeline.detect.text.model import StageModel
from pipeline.evaluate.metrics import Prediction
from pipeline.model import NormalizedEvent
from pipeline.score.config import SIGNAL_NAMES, ScoreConfig, SignalWeight

# Signals derived from message text (or the SDK's content_signals); the rest
# come from behaviour alone: who contacts whom, when, how often, who refuses.
TEXT_SIGNALS: Final = frozenset({"stages", "register_shift", "media_after_request"})
ABLATIONS: Final = ("all", "behaviour only", "text only")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def ablated(config: ScoreConfig, run: str) -> ScoreConfig:
    """``config`` with the signals outside ``run`` weighted zero."""
    if run == "all":
        return config
    keep = TEXT_SIGNALS if run == "text only" else frozenset(SIGNAL_NAMES) - TEXT_SIGNALS
    signals = {
        name: weight if name in keep else SignalWeight(0.0, 0.0)
        for name, weight in config.signals.items()
    }
    return dataclasses.replace(config, signals=signals)


def detect(
    events: Sequence[NormalizedEvent],
    raw_ids: dict[tuple[str, str], str],
    config: ScoreConfig,
    model: StageModel,
) -> list[Prediction]:
    """One prediction per acting user: when they first reached the alert tier, if ever."""
    engine = Engine(config, model)
    first: dict[tuple[str, str], int] = {}
    for alert in engine.run(events):
        first.setdefault((alert.tenant_id, alert.actor), alert.raised_at_us)
    actors = {(e.tenant_id, e.actor) for e in events}
    return [
        Prediction(
            raw_ids[key],
            _EPOCH + timedelta(microseconds=first[key]) if key in first else None,
        )
        for key in sorted(actors)
    ]
