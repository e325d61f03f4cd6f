"""The naive word-list filter every behavioural system must beat.

It flags a user the first time one of their messages contains a listed word
or phrase (after lower-casing), the way keyword moderation does. It sees what
the behavioural system sees and nothing more; it is here to be compared
against, side by side, on the same events.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pipeline.evaluate.metrics import Prediction

WORD_LIST = (
    "how old", "your age", "secret", "don't tell", "dont tell", "between us", "pic",
    "photo", "snap", "whatsapp", "meet up", "meet me", "gift card", "mature",
)
_PATTERN = re.compile("|".join(re.escape(w) for w in WORD_LIST))


def word_list_predictions(events: Iterable[Mapping[str, Any]]) -> list[Prediction]:
    first: dict[str, datetime] = {}
    actors: set[str] = set()
    for event in events:
        actor = event.get("actor_id")
        if not isinstance(actor, str):
            continue
        actors.add(actor)
        content = event.get("content")
        if (actor not in first and event.get("type") == "message"
                and isinstance(content, str) and _PATTERN.search(content.lower())):
            first[actor] = datetime.fromisoformat(event["occurred_at"])
    return [Prediction(a, first.get(a)) for a in sorted(actors)]
