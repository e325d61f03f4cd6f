"""The body of an ``alert.raised`` delivery, and its exact bytes.

The payload is built once, when the delivery is enqueued, and stored; every
attempt and every replay sends the same bytes (canonical JSON: sorted keys, no
spaces). ``platform_user_id`` and ``session_id`` are the tenant's own raw ids,
sent only to that tenant's endpoints. The system never bans: the recommended
action is always a human review.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

EVENT_ALERT_RAISED = "alert.raised"
RECOMMENDED_ACTION = "REVIEW"


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What the outbox knows about an alert when it enqueues a delivery."""

    alert_id: str
    tenant_id: str
    actor: str
    tier: str
    score: float  # 0..100
    raised_at: datetime
    explanation: str
    drivers: Sequence[Mapping[str, Any]]
    platform_user_id: str | None
    session_id: str | None


def alert_payload(facts: AlertFacts, *, evidence_package_id: str | None) -> dict[str, Any]:
    score = min(100.0, max(0.0, float(facts.score)))
    return {
        "event": EVENT_ALERT_RAISED,
        "alert_id": facts.alert_id,
        "tenant_id": facts.tenant_id,
        "session_id": facts.session_id,
        "platform_user_id": facts.platform_user_id,
        "risk_score": round(score / 100.0, 4),
        "score": round(score, 2),
        "risk_level": facts.tier,
        "explanation": facts.explanation,
        "behavioral_signals": [
            {"signal": str(d["signal"]), "contribution": float(d["contribution"]),
             "explanation": str(d["explanation"])}
            for d in facts.drivers
        ],
        "recommended_action": RECOMMENDED_ACTION,
        "evidence_package_id": evidence_package_id,
        "created_at": facts.raised_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }


def body_bytes(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes POSTed (and signed) for ``payload``."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")
