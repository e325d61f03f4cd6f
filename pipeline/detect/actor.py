"""Per-actor detector: whom a user contacts, what is refused or reported, their usual style.

State (``ActorState``, 54 bytes plus 9 per contact and 5 per reporter):
a capped set of private contacts (hashed id, age band, first and last day
seen; at most ``MAX_CONTACTS``, the least recently seen dropped first),
contact requests sent to minors and how many minors declined or blocked
them, distinct reporters (hashed id and age band), a slow EWMA of the
user's stage probabilities over all their scored private messages (their
usual register), and the newest moderation decision.

Events reach an actor state from the actor (their own messages, requests,
sessions, profile) and, routed, from others: a decline, block or removal
naming them, a report about them, a moderation decision about them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Final

from pipeline.detect.annotate import StagedEvent
from pipeline.detect.bands import band_of, is_minor
from pipeline.detect.clock import US_PER_DAY, day_index
from pipeline.detect.codec import Reader, check_version, id_hash
from pipeline.detect.profiles import ProfileView, band_code_of
from pipeline.detect.signals import DECISION_CODES, NO_DECISION, ActorSignal
from pipeline.detect.stages import N_STAGES

FORMAT: Final = 1
MAX_CONTACTS: Final = 64
MAX_REPORTERS: Final = 16
WINDOW_DAYS: Final = 28
RECENT_DAYS: Final = 7
NONE: Final = -1
# Baseline EWMA weight of a new message: 1/32 (about the last 30-100 messages).
_BASELINE_KEEP: Final = 31
_BASELINE_DIV: Final = 32
_REFUSALS: Final = frozenset({"decline", "block", "remove"})

_VERSION: Final = struct.Struct("<B")
_HEAD: Final = struct.Struct(f"<qqIIIIBq{N_STAGES}BHH")
_CONTACT: Final = struct.Struct("<IBHH")
_REPORTER: Final = struct.Struct("<IB")


@dataclass(slots=True)
class ActorState:
    """Everything the actor detector keeps about one user."""

    first_at_us: int = NONE
    last_at_us: int = NONE
    requests_to_minors: int = 0
    declined_by_minors: int = 0
    reports: int = 0
    baseline_n: int = 0
    decision: int = NO_DECISION
    decision_at_us: int = NONE
    baseline: bytearray = field(default_factory=lambda: bytearray(N_STAGES))
    # hashed id -> [band, first day, last day]
    contacts: dict[int, list[int]] = field(default_factory=dict)
    # hashed id -> band
    reporters: dict[int, int] = field(default_factory=dict)


def encode_actor(state: ActorState) -> bytes:
    """Binary form of an actor state (fixed head, then contacts and reporters)."""
    parts = [
        _VERSION.pack(FORMAT),
        _HEAD.pack(
            state.first_at_us, state.last_at_us, state.requests_to_minors,
            state.declined_by_minors, state.reports, state.baseline_n, state.decision,
            state.decision_at_us, *state.baseline, len(state.contacts), len(state.reporters),
        ),
    ]
    parts.extend(_CONTACT.pack(key, *value) for key, value in state.contacts.items())
    parts.extend(_REPORTER.pack(key, band) for key, band in state.reporters.items())
    return b"".join(parts)


def decode_actor(data: bytes) -> ActorState:
    """Inverse of :func:`encode_actor`."""
    reader = Reader(data)
    check_version(reader, FORMAT, "actor state")
    head = reader.unpack(_HEAD)
    state = ActorState(
        first_at_us=head[0], last_at_us=head[1], requests_to_minors=head[2],
        declined_by_minors=head[3], reports=head[4], baseline_n=head[5], decision=head[6],
        decision_at_us=head[7], baseline=bytearray(head[8 : 8 + N_STAGES]),
    )
    n_contacts, n_reporters = head[8 + N_STAGES :]
    for _ in range(n_contacts):
        key, band, first, last = reader.unpack(_CONTACT)
        state.contacts[key] = [band, first, last]
    for _ in range(n_reporters):
        key, band = reader.unpack(_REPORTER)
        state.reporters[key] = band
    reader.done()
    return state


def _band(profiles: ProfileView, user: str) -> int:
    return band_code_of(profiles.get(user))


def _touch_contact(state: ActorState, user: str, band: int, day: int) -> None:
    key = id_hash(user)
    entry = state.contacts.get(key)
    if entry is not None:
        entry[0] = band
        entry[1] = min(entry[1], day)
        entry[2] = max(entry[2], day)
        return
    if len(state.contacts) >= MAX_CONTACTS:
        stalest = min(state.contacts, key=lambda k: (state.contacts[k][2], k))
        if (state.contacts[stalest][2], stalest) > (day, key):
            return
        del state.contacts[stalest]
    state.contacts[key] = [band, day, day]


def _own_event(state: ActorState, staged: StagedEvent, profiles: ProfileView, day: int) -> None:
    event = staged.event
    if (event.type == "message" and event.channel == "private") or (
        event.type == "media" and len(event.recipients) == 1
    ):
        for recipient in event.recipients:
            if recipient != event.actor:
                _touch_contact(state, recipient, _band(profiles, recipient), day)
        if staged.stages is not None:
            baseline = state.baseline
            for i, value in enumerate(staged.stages):
                baseline[i] = (baseline[i] * _BASELINE_KEEP + value) // _BASELINE_DIV
            state.baseline_n += 1
    elif event.type == "contact" and event.action == "request" and event.target is not None:
        band = _band(profiles, event.target)
        _touch_contact(state, event.target, band, day)
        if is_minor(band):
            state.requests_to_minors += 1


def _routed_event(state: ActorState, actor: str, staged: StagedEvent,
                  profiles: ProfileView) -> None:
    event = staged.event
    if event.type == "contact" and event.target == actor and event.action in _REFUSALS:
        if is_minor(_band(profiles, event.actor)):
            state.declined_by_minors += 1
    elif event.type == "report" and event.target == actor:
        state.reports += 1
        key = id_hash(event.actor)
        if key in state.reporters or len(state.reporters) < MAX_REPORTERS:
            state.reporters[key] = _band(profiles, event.actor)
    elif (event.type == "moderation" and event.subject == actor and event.decision is not None
          and (state.decision_at_us == NONE or event.occurred_at_us >= state.decision_at_us)):
            state.decision = DECISION_CODES.get(event.decision, NO_DECISION)
            state.decision_at_us = event.occurred_at_us


def _signal(state: ActorState, actor: str, staged: StagedEvent,
            profiles: ProfileView, day: int) -> ActorSignal:
    event = staged.event
    profile = profiles.get(actor)
    band = band_code_of(profile)
    created = profile.account_created_at_us if profile is not None else None
    age_days = NONE if created is None else max(0, (event.occurred_at_us - created) // US_PER_DAY)
    by_band = [0, 0, 0, 0, 0]
    minors_7 = new_minors_7 = 0
    for contact_band, first, last in state.contacts.values():
        if last > day - WINDOW_DAYS:
            by_band[band_of(contact_band)] += 1
        if is_minor(contact_band):
            if last > day - RECENT_DAYS:
                minors_7 += 1
            if first > day - RECENT_DAYS:
                new_minors_7 += 1
    return ActorSignal(
        actor=actor, tenant_id=event.tenant_id, event_id=event.event_id,
        at_us=event.occurred_at_us, band=band, account_age_days=min(age_days, 0x7FFFFFFF),
        contacts_28=tuple(by_band), minors_7=minors_7, new_minors_7=new_minors_7,
        requests_to_minors=state.requests_to_minors,
        declined_by_minors=state.declined_by_minors, reporters=len(state.reporters),
        minor_reporters=sum(1 for b in state.reporters.values() if is_minor(b)),
        baseline=tuple(state.baseline), decision=state.decision,
        decision_at_us=state.decision_at_us,
    )


def actor_step(
    actor: str, state: ActorState | None, staged: StagedEvent, profiles: ProfileView
) -> tuple[ActorState, list[ActorSignal]]:
    """Fold one event that reached ``actor``'s key; always signal ``actor``'s risk.

    The state is updated in place and returned (pass a copy to keep the old one).
    """
    state = ActorState() if state is None else state
    event = staged.event
    at_us = event.occurred_at_us
    day = day_index(at_us)
    if state.first_at_us == NONE or at_us < state.first_at_us:
        state.first_at_us = at_us
    state.last_at_us = max(state.last_at_us, at_us)
    if event.actor == actor:
        _own_event(state, staged, profiles, day)
    else:
        _routed_event(state, actor, staged, profiles)
    return state, [_signal(state, actor, staged, profiles, day)]
