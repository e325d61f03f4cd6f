"""The ground-truth file: one JSON object per simulated account.

Times are the `occurred_at` strings of the events they point at (the groomer's
local offset), so a row can be joined back to the event stream exactly.
"""

from __future__ import annotations

from pipeline.simulate.config import JsonDict
from pipeline.simulate.grooming import Case, Plan
from pipeline.simulate.population import User
from pipeline.simulate.timeline import format_ts

TIMING_FIELDS = ("first_contact_at", "first_photo_request_at", "first_meeting_request_at",
                 "escalation_at")


def build_truth(tenant_id: str, users: list[User], plan: Plan) -> list[JsonDict]:
    """Rows in actor-id order; groomers carry per-victim timelines."""
    cases: dict[str, list[Case]] = {}
    groomed_by: dict[str, list[str]] = {}
    for case in plan.cases:
        if case.first_contact_ts is None:
            continue
        cases.setdefault(case.groomer.actor_id, []).append(case)
        groomed_by.setdefault(case.victim.actor_id, []).append(case.groomer.actor_id)
    rows = [_row(tenant_id, user, cases.get(user.actor_id, []),
                 groomed_by.get(user.actor_id, []), plan) for user in users]
    rows.sort(key=lambda row: str(row["actor_id"]))
    return rows


def _row(tenant_id: str, user: User, cases: list[Case], groomed_by: list[str],
         plan: Plan) -> JsonDict:
    times = [_case_times(case) for case in cases]
    row: JsonDict = {
        "tenant_id": tenant_id,
        "actor_id": user.actor_id,
        "role": user.role,
        "is_groomer": user.is_groomer,
        "age_band": user.age_band,
        "declared_age_band": user.declared_age_band,
        "cohort": dict(user.cohort),
        "style": user.style,
        "careful": user.careful,
        "privacy_mode": user.privacy,
        "victims": [case.victim.actor_id for case in cases],
        "groomed_by": sorted(set(groomed_by)),
    }
    for name in TIMING_FIELDS:
        known = [ts for t in times if (ts := t[name]) is not None]
        row[name] = _when(min(known) if known else None, user)
    row["victim_timelines"] = [
        {
            "victim_id": case.victim.actor_id,
            "victim_age_band": case.victim.age_band,
            "ring_id": case.ring_id,
            **{name: _when(t[name], user) for name in (*TIMING_FIELDS, "blocked_at")},
            "stages_seen": list(case.stage_ts),
        }
        for case, t in zip(cases, times, strict=True)
    ]
    row["ring_id"] = next((case.ring_id for case in cases if case.ring_id), None)
    if user.is_groomer:
        row["contact_requests_to_minors"] = plan.approached.get(user.actor_id, 0)
    if user.notes:
        row["notes"] = "; ".join(user.notes)
    return row


def _case_times(case: Case) -> dict[str, int | None]:
    return {
        "first_contact_at": case.first_contact_ts,
        "first_photo_request_at": case.stage_ts.get("photo"),
        "first_meeting_request_at": case.stage_ts.get("meeting"),
        "escalation_at": case.escalation_ts,
        "blocked_at": case.blocked_ts,
    }


def _when(ts: int | None, groomer: User) -> str | None:
    return None if ts is None else format_ts(ts, groomer.tz)
