"""Which per-key states an event reaches: the repartitioning the stream does.

``route`` is pure and is what the Faust agents use to pick repartition keys,
so the harness and the stream fan events out the same way:

- a private message or single-recipient media reaches the pair of sender and
  each recipient, the sender's actor state, and the target state of each
  recipient who may be a minor when the sender may be an adult;
- a group or public message is one broadcast: it reaches the sender's actor
  state and, only to remember that the two shared a conversation (for the
  group-to-private migration signal), the pairs of sender and recipients
  where one side may be an adult and the other a minor;
- a contact action reaches the pair and the actor; a decline, block or
  removal also reaches the *target's* actor state (their refused requests);
- a report reaches the reporter's and the reported user's actor states;
- a moderation decision reaches the actor's and the subject's actor states.

Every signal for a user's risk is emitted by a step that ran under that
user's actor key or on that user's own message, so the risk input of a user
is ordered by the user's own events (see docs/detection.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from pipeline.detect.bands import may_be_adult, may_be_minor
from pipeline.detect.profiles import Profile, ProfileView, band_code_of
from pipeline.model import NormalizedEvent

_REFUSALS = frozenset({"decline", "block", "remove"})


def pair_key(a: str, b: str) -> tuple[str, str]:
    """The unordered pair key: the two pseudonyms, smaller first."""
    return (a, b) if a < b else (b, a)


def pair_key_str(key: tuple[str, str]) -> str:
    """The pair key as one string (table and topic key)."""
    return key[0] + "|" + key[1]


@dataclass(frozen=True, slots=True)
class Route:
    """The keys one event reaches, and whose profiles the steps read."""

    pairs: tuple[tuple[str, str], ...] = ()
    actors: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()


def _band(profiles: ProfileView, user: str) -> int:
    return band_code_of(profiles.get(user))


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _message_route(event: NormalizedEvent, profiles: ProfileView) -> Route:
    sender = event.actor
    recipients = [r for r in dict.fromkeys(event.recipients) if r != sender]
    sender_band = _band(profiles, sender)
    private = event.channel == "private" if event.type == "message" else len(recipients) == 1
    if private:
        targets: tuple[str, ...] = ()
        if event.type == "message" and may_be_adult(sender_band):
            targets = tuple(r for r in recipients if may_be_minor(_band(profiles, r)))
        return Route(
            pairs=tuple(pair_key(sender, r) for r in recipients),
            actors=(sender,),
            targets=targets,
            reads=(sender, *recipients),
        )
    if event.type == "media":
        return Route(actors=(sender,), reads=(sender,))
    shared = []
    for recipient in recipients:
        band = _band(profiles, recipient)
        if (may_be_adult(sender_band) and may_be_minor(band)) or (
            may_be_minor(sender_band) and may_be_adult(band)
        ):
            shared.append(pair_key(sender, recipient))
    return Route(pairs=tuple(shared), actors=(sender,), reads=(sender, *recipients))


def route(event: NormalizedEvent, profiles: ProfileView) -> Route:
    """The keys ``event`` reaches (see the module docstring)."""
    kind = event.type
    if kind in ("message", "media"):
        return _message_route(event, profiles)
    actor = event.actor
    if kind == "contact" and event.target is not None and event.target != actor:
        refused = event.action in _REFUSALS
        return Route(
            pairs=(pair_key(actor, event.target),),
            actors=(actor, event.target) if refused else (actor,),
            reads=(actor, event.target),
        )
    if kind == "report" and event.target is not None:
        return Route(actors=_unique([actor, event.target]), reads=(actor, event.target))
    if kind == "moderation" and event.subject is not None:
        return Route(actors=_unique([actor, event.subject]), reads=(actor, event.subject))
    return Route(actors=(actor,), reads=(actor,))


def step_records(event: NormalizedEvent, keys: Route, snapshot: Mapping[str, Profile],
                 ) -> Iterator[tuple[str, str, Mapping[str, Profile]]]:
    """(step kind, key, the profiles that step reads) for each record ``keys`` asks for.

    ``snapshot`` holds the profiles of ``keys.reads``. A pair step reads its two
    users and a target step the sender and the target; only the actor step reads
    every recipient. Each routed record carries just what its step reads, so a
    group message's pair records do not each carry the whole group's profiles
    (measured: encoding routed records was the stream worker's largest own cost).
    """
    for first, second in keys.pairs:
        yield "pair", pair_key_str((first, second)), _only(snapshot, (first, second))
    for target in keys.targets:
        yield "target", target, _only(snapshot, (event.actor, target))
    for actor in keys.actors:
        yield "actor", actor, snapshot


def _only(snapshot: Mapping[str, Profile], users: tuple[str, str]) -> dict[str, Profile]:
    return {user: snapshot[user] for user in users if user in snapshot}
