"""Per-actor detector: whom a user contacts, what is refused or reported, their usual style.

State (``ActorState``, 59 bytes plus 9 per contact and 5 per reporter):
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

FORMAT: Final = 2
MAX_CONTACTS: Final = 64
MAX_REPORTERS: Final = 16
WINDOW_DAYS: Final = 28
RECENT_DAYS: Final = 7
NONE: Final = -1
# Baseline EWMA weight of a new message: 1/32 (about the last 30-100 messages).
_BASELINE_KEEP: Final = 31
_BASELINE_DIV: Final = 32
_BASELINE_STEP_BITS: Final = 3  # a change of the baseline's byte >> 3 (1/32) is signalled
_REFUSALS: Final = frozenset({"decline", "block", "remove"})

_VERSION: Final = struct.Struct("<B")
_HEAD: Final = struct.Struct(f"<qqIIIIBqiB{N_STAGES}BHH")
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
    signal_day: int = NONE  # day of the newest signal sent (one at least per active day)
    signal_band: int = 0  # the actor's band code in the newest signal sent
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
            state.decision_at_us, state.signal_day, state.signal_band, *state.baseline,
            len(state.contacts), len(state.reporters),
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
        decision_at_us=head[7], signal_day=head[8], signal_band=head[9],
        baseline=bytearray(head[10 : 10 + N_STAGES]),
    )
    n_contacts, n_reporters = head[10 + N_STAGES :]
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


def _touch_contact(state: ActorState, user: str, band: int, day: int) -> bool:
    """Record contact with ``user`` on ``day``; True when the actor's figures changed."""
    key = id_hash(user)
    entry = state.contacts.get(key)
    if entry is not None:
        old_band, first, last = entry
        if old_band == band and first <= day <= last:
            return False
        entry[0] = band
        entry[1] = min(first, day)
        entry[2] = max(last, day)
        # The windowed figures change only when the contact re-enters a window.
        return (old_band != band or day < first
                or last <= day - (RECENT_DAYS if is_minor(band) else WINDOW_DAYS))
    if len(state.contacts) >= MAX_CONTACTS:
        stalest = min(state.contacts, key=lambda k: (state.contacts[k][2], k))
        if (state.contacts[stalest][2], stalest) > (day, key):
            return False
        del state.contacts[stalest]
    state.contacts[key] = [band, day, day]
    return True


def _own_event(state: ActorState, staged: StagedEvent, profiles: ProfileView, day: int) -> bool:
    """Fold the actor's own event; True when the actor's figures changed."""
    event = staged.event
    changed = False
    if (event.type == "message" and event.channel == "private") or (
        event.type == "media" and len(event.recipients) == 1
    ):
        for recipient in event.recipients:
            if recipient != event.actor:
                changed |= _touch_contact(state, recipient, _band(profiles, recipient), day)
        if staged.stages is not None:
            baseline = state.baseline
            for i, value in enumerate(staged.stages):
                before = baseline[i]
                after = baseline[i] = (before * _BASELINE_KEEP + value) // _BASELINE_DIV
                # Signal the usual register again once it moved a noticeable step.
                changed |= before >> _BASELINE_STEP_BITS != after >> _BASELINE_STEP_BITS
            state.baseline_n += 1
    elif event.type == "contact" and event.action == "request" and event.target is not None:
        band = _band(profiles, event.target)
        changed = _touch_contact(state, event.target, band, day)
        if is_minor(band):
            state.requests_to_minors += 1
            changed = True
    elif event.type == "profile":
        changed = True
    return changed


def _routed_event(state: ActorState, actor: str, staged: StagedEvent,
                  profiles: ProfileView) -> bool:
    """Fold another user's event about the actor; True when the actor's figures changed."""
    event = staged.event
    if event.type == "contact" and event.target == actor and event.action in _REFUSALS:
        if is_minor(_band(profiles, event.actor)):
            state.declined_by_minors += 1
            return True
    elif event.type == "report" and event.target == actor:
        state.reports += 1
        key = id_hash(event.actor)
        if key in state.reporters or len(state.reporters) < MAX_REPORTERS:
            state.reporters[key] = _band(profiles, event.actor)
        return True
    elif (event.type == "moderation" and event.subject == actor and event.decision is not None
          and (state.decision_at_us == NONE or event.occurred_at_us >= state.decision_at_us)):
        state.decision = DECISION_CODES.get(event.decision, NO_DECISION)
        state.decision_at_us = event.occurred_at_us
        return True
    return False


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
    """Fold one event that reached ``actor``'s key; signal ``actor``'s risk when the
    figures may have changed: the event changed them, the actor's band changed, or
    it is the first event of a newer day (windows slide and evidence decays by day).

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
        changed = _own_event(state, staged, profiles, day)
    else:
        changed = _routed_event(state, actor, staged, profiles)
    band = _band(profiles, actor)
    if not changed and day <= state.signal_day and band == state.signal_band:
        return state, []
    state.signal_day = max(state.signal_day, day)
    state.signal_band = band
    return state, [_signal(state, actor, staged, profiles, day)]
