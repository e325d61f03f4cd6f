"""Plain-language explanations: what a moderator reads beside a score.

Each signal has one sentence template filled from the figures of the source
that contributes most to it ("contact with one 13-15 account rose from 2 to
19 messages a week over 3 weeks"). Notes follow in brackets when a figure
was discounted: an unknown age band, evidence a reviewer cleared, figures
that are days old, or more sources with the same signal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipeline.detect.bands import BAND_LABELS, UNKNOWN, band_of, is_claimed, is_minor
from pipeline.detect.signals import ActorSignal, PairSignal, Signal, TargetSignal
from pipeline.detect.stages import N_STAGES, STAGE_LABELS
from pipeline.score.config import ScoreConfig
from pipeline.score.features import (
    MINUTES_PER_DAY,
    Term,
    earlier_weekly,
    minor_contacts,
    reciprocity_factor,
    register_shift,
)


@dataclass(frozen=True, slots=True)
class Context:
    """What the renderer needs beyond the signal itself."""

    age_days: float  # how old the source's newest figures are, in event time
    cleared: bool  # the figures predate a reviewer's "cleared" decision
    more_sources: int  # other sources with the same signal
    baseline: tuple[int, ...] | None  # the actor's usual stage levels
    peers: int = 0  # possible minors who start conversations with the user themselves
    peer_weight: float = 1.0  # the weight that gives this signal (features.peer_weight)


def _label(band: int) -> str:
    return BAND_LABELS[band_of(band)]


def _account(band: int) -> str:
    if band == UNKNOWN:
        return "one account of unknown age"
    return f"one {_label(band)} account"


def _percent(per_mille: int) -> str:
    return f"{(per_mille + 5) // 10}%"


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _days(minutes: int) -> str:
    days = minutes / MINUTES_PER_DAY
    if days < 1.0:
        return "less than a day"
    return _plural(round(days), "day")


def _stages(s: PairSignal) -> str:
    names = [STAGE_LABELS[i] for i in range(N_STAGES) if s.stage_mask >> i & 1]
    count = len(names)
    if s.stage_msgs <= 1:
        how = "in a single message"
    elif count < 2:
        how = f"within {_days(s.stage_span_min)} of first contact"
    else:
        order = "in the usual order" if s.stage_order_pm >= 800 else (
            "mostly in the usual order" if s.stage_order_pm >= 600 else "out of the usual order")
        how = f"{order} within {_days(s.stage_span_min)} of first contact"
    kind = "grooming stage" if count == 1 else "grooming stages"
    return (f"messages to {_account(s.other_band)} showed {count} {kind} {how}: "
            + ", ".join(names))


def _escalation(s: PairSignal) -> str:
    earlier, weeks = earlier_weekly(s)
    return (f"contact with {_account(s.other_band)} rose from {round(earlier)} to "
            f"{_plural(s.weekly[3], 'message')} a week over {_plural(weeks + 1, 'week')}")


def _night(s: PairSignal) -> str:
    earlier = ("no messages before that" if s.night_earlier_pm < 0
               else f"{_percent(s.night_earlier_pm)} in the three weeks before")
    return (f"{_percent(s.night_recent_pm)} of {_plural(s.recent_msgs, 'message')} to "
            f"{_account(s.other_band)} in the last 7 days were sent between 22:00 and 06:00 "
            f"in the recipient's time ({earlier})")


def _initiation(s: PairSignal) -> str:
    total = s.init_own + s.init_other
    return (f"started {s.init_own} of {_plural(total, 'conversation')} with "
            f"{_account(s.other_band)} (a conversation starts after 6 hours of silence)")


def _asymmetry(s: PairSignal) -> str:
    total = s.own_28 + s.other_28
    share = round(100 * s.own_28 / total) if total else 0
    return (f"wrote {share}% of the {_plural(total, 'message')} exchanged with "
            f"{_account(s.other_band)} in the last 28 days ({s.other_28} came back)")


def _migration(s: PairSignal) -> str:
    return (f"moved {_account(s.other_band)} from a shared group or public conversation to "
            f"private messages ({_days(s.migrated_min)} after they first shared one)")


def _media(s: PairSignal) -> str:
    sent = _plural(s.media_after_request, "image or video", "images or videos")
    return (f"{_account(s.other_band)} sent {sent} "
            "after being asked for a picture")


def _attention(s: PairSignal) -> str:
    return (f"replies to {_account(s.other_band)} within {_plural(s.latency_s, 'second')} "
            f"on average over {_plural(s.recent_msgs, 'message')} in the last 7 days")


def _register(s: PairSignal, ctx: Context, config: ScoreConfig) -> str:
    shift = round(register_shift(s, ctx.baseline, config) * 100)
    return (f"recent messages to {_account(s.other_band)} moved towards grooming stages, "
            f"{shift} points above this account's usual register")


def _fanout(s: ActorSignal) -> str:
    return (f"in private contact with {_plural(minor_contacts(s), 'minor')} in the last 28 days "
            f"({s.new_minors_7} first contacted in the last 7 days)")


def _declined(s: ActorSignal) -> str:
    return (f"{_plural(s.declined_by_minors, 'contact request')} to minors "
            f"{'was' if s.declined_by_minors == 1 else 'were'} declined or blocked "
            f"({s.requests_to_minors} requests to minors sent)")


def _reports(s: ActorSignal) -> str:
    return (f"reported by {_plural(s.reporters, 'user')} "
            f"({s.minor_reporters} of them {'a minor' if s.minor_reporters == 1 else 'minors'})")


def _new_account(s: ActorSignal) -> str:
    return (f"account is {_plural(s.account_age_days, 'day')} old and already in private "
            "contact with minors")


def _coordinated(s: TargetSignal) -> str:
    others = _plural(s.others_escalating, "other adult account")
    verb = "is" if s.others_escalating == 1 else "are"
    return f"{others} {verb} escalating contact with the same {_label(s.target_band)} account"


def _gate_note(signal: Signal, age_gate: float) -> str:
    if age_gate >= 0.999:
        return ""
    weight = f"counted at {round(age_gate * 100)}% weight"
    sender = signal.band if isinstance(signal, ActorSignal) else signal.sender_band
    reasons = []
    if sender == UNKNOWN:
        reasons.append("this account's age is unknown")
    elif is_claimed(sender):
        reasons.append(f"this account's {_label(sender)} age is only self-declared")
    elif is_minor(sender):
        reasons.append(f"this account is {_label(sender)}")
    if isinstance(signal, PairSignal | TargetSignal):
        other = signal.other_band if isinstance(signal, PairSignal) else signal.target_band
        if other == UNKNOWN:
            reasons.append("the recipient's age is unknown")
    return "; ".join([*reasons, weight])


_PAIR_TEXT: dict[str, Callable[[PairSignal], str]] = {
    "stages": _stages, "escalation": _escalation, "night": _night,
    "initiation": _initiation, "migration": _migration,
    "media_after_request": _media, "attention": _attention, "asymmetry": _asymmetry,
}


def explain(term: Term, signal: Signal, ctx: Context, config: ScoreConfig) -> str:
    """One sentence for one term, with notes on discounts."""
    name = term.name
    if isinstance(signal, PairSignal):
        if name == "register_shift":
            text = _register(signal, ctx, config)
        else:
            text = _PAIR_TEXT[name](signal)
    elif isinstance(signal, ActorSignal):
        text = {"minor_fanout": _fanout, "declined_requests": _declined, "reports": _reports,
                "new_account": _new_account}[name](signal)
    else:
        text = _coordinated(signal)
    mutual = 1.0
    two_way = ""
    if isinstance(signal, PairSignal) and name not in ("asymmetry", "register_shift"):
        mutual = reciprocity_factor(signal)
        if mutual < 1.0:
            two_way = (f"a two-way conversation ({signal.other_28} of "
                       f"{signal.own_28 + signal.other_28} messages in 28 days came back), "
                       f"counted at {round(mutual * 100)}% weight")
    notes = [note for note in (_gate_note(signal, term.gate / mutual), two_way) if note]
    if ctx.peer_weight < 1.0:
        notes.append(f"{ctx.peers} accounts that may be minors start conversations with "
                     f"this account themselves, as peers and relatives do, counted at "
                     f"{round(ctx.peer_weight * 100)}% weight")
    if ctx.cleared:
        notes.append(f"predates a reviewer's cleared decision, counted at "
                     f"{round(config.cleared_factor * 100)}% weight")
    if ctx.age_days >= 1.0:
        notes.append(f"figures from {_plural(round(ctx.age_days), 'day')} ago")
    if ctx.more_sources:
        notes.append(f"and {_plural(ctx.more_sources, 'more account')} like this")
    return text + (f" ({'; '.join(notes)})" if notes else "")
