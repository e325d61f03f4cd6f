"""Stage probabilities attached to a message once, before it fans out to keys.

In the stream this runs where normalised events are read (keyed by actor),
so pair, target and actor agents all see the same figures and the text
model runs once per message. Only private messages from a sender who may be
an adult are scored: they are the only ones grooming signals use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.detect.bands import may_be_adult
from pipeline.detect.profiles import ProfileView, band_code_of
from pipeline.detect.text.model import StageModel, signal_bytes
from pipeline.model import NormalizedEvent


@dataclass(frozen=True, slots=True)
class StagedEvent:
    """A normalised event and, for scored messages, its stage bytes (0..255 each)."""

    event: NormalizedEvent
    stages: tuple[int, ...] | None = None

    def to_record(self) -> dict[str, Any]:
        return {"event": self.event.to_record(),
                "stages": None if self.stages is None else list(self.stages)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> StagedEvent:
        stages = record.get("stages")
        return cls(NormalizedEvent.from_record(record["event"]),
                   None if stages is None else tuple(int(s) for s in stages))


def annotate(event: NormalizedEvent, model: StageModel, profiles: ProfileView) -> StagedEvent:
    """``event`` with stage bytes when it is a private message worth scoring."""
    if event.type != "message" or event.channel != "private":
        return StagedEvent(event)
    if not may_be_adult(band_code_of(profiles.get(event.actor))):
        return StagedEvent(event)
    if event.content:
        return StagedEvent(event, model.stage_bytes(event.content, event.content_sha256))
    if event.content_signals:
        return StagedEvent(event, signal_bytes(event.content_signals))
    return StagedEvent(event)
