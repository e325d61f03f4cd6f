"""The pair detector: both directions in one state, figures per direction, compact codec."""

from __future__ import annotations

from pipeline.detect.annotate import StagedEvent
from pipeline.detect.pair import PairState, decode_pair, encode_pair, pair_step
from pipeline.detect.profiles import ProfileTable
from pipeline.detect.routing import pair_key
from pipeline.detect.scenario import Scenario, at
from pipeline.detect.signals import PairSignal
from pipeline.detect.stages import N_STAGES, STAGE_INDEX
from pipeline.model import NormalizedEvent

THRESHOLD = 128


def stage_bytes(*names: str) -> tuple[int, ...]:
    values = [0] * N_STAGES
    for name in names:
        values[STAGE_INDEX[name]] = 255
    return tuple(values)


def run(scenario: Scenario, stages: dict[str, tuple[int, ...]] | None = None
        ) -> tuple[PairState, list[PairSignal], tuple[str, str]]:
    """Fold every event of the adult/kid pair; stages by event id."""
    profiles = ProfileTable()
    key = pair_key(scenario.pseudonym("adult"), scenario.pseudonym("kid"))
    state: PairState | None = None
    signals: list[PairSignal] = []
    for event in scenario.normalized():
        if event.type == "profile":
            profiles.apply(event)
            continue
        staged = StagedEvent(event, (stages or {}).get(event.event_id))
        state, emitted = pair_step(key, state, staged, profiles, THRESHOLD)
        signals.extend(emitted)
    assert state is not None
    return state, signals, key


def base(adult_band: str = "18_plus", kid_band: str = "13_15") -> Scenario:
    sc = Scenario()
    sc.profile("adult", adult_band)
    sc.profile("kid", kid_band, timezone="Europe/Berlin")
    return sc


def test_both_directions_land_in_one_state() -> None:
    sc = base()
    sc.message("adult", "kid", at(0, 10), "hi")
    sc.message("kid", "adult", at(0, 10, 5), "hey")
    sc.message("adult", "kid", at(0, 10, 6), "how are you")
    state, signals, key = run(sc)
    adult_dir = 0 if key[0] == sc.pseudonym("adult") else 1
    assert state.msgs[adult_dir] == 2
    assert state.msgs[1 - adult_dir] == 1
    assert [s.actor for s in signals] == [sc.pseudonym("adult")] * 2  # only adult -> minor signals


def test_sessions_and_reply_latency() -> None:
    sc = base()
    sc.message("adult", "kid", at(0, 10), "hi")  # starts a conversation
    sc.message("kid", "adult", at(0, 10, 2), "hey")  # reply after 120 s
    sc.message("adult", "kid", at(0, 10, 3), "ok")  # reply after 60 s
    sc.message("adult", "kid", at(0, 17), "again")  # 7 h later: a new conversation
    sc.message("kid", "adult", at(1, 9), "morning")  # the kid starts one
    state, signals, key = run(sc)
    adult_dir = 0 if key[0] == sc.pseudonym("adult") else 1
    assert state.sessions[adult_dir] == 2
    assert state.sessions[1 - adult_dir] == 1
    assert state.latency_s[adult_dir] == 60
    assert state.latency_s[1 - adult_dir] == 120
    assert signals[-1].init_own == 2  # the kid's later start reaches the adult next time


def test_night_share_uses_the_recipients_time_zone() -> None:
    sc = base()
    # 21:30 UTC is 22:30 in Berlin in March (UTC+1): night for the kid.
    for day in range(6):
        sc.message("adult", "kid", at(day, 21, 30), "hi")
    _, signals, _ = run(sc)
    assert signals[-1].night_recent_pm == 1000
    assert signals[-1].recent_msgs == 6
    assert signals[-1].night_earlier_pm == -1


def test_night_falls_back_to_the_events_offset() -> None:
    sc = Scenario()
    sc.profile("adult", "18_plus")
    sc.profile("kid", "13_15")  # no time zone
    sc.message("adult", "kid", at(0, 21, 30), "hi")  # 21:30 at offset +00:00: not night
    _, signals, _ = run(sc)
    assert signals[-1].night_recent_pm == 0


def test_weekly_counts_show_escalation() -> None:
    sc = base()
    for week, per_day in enumerate((0, 1, 2, 5)):
        for day in range(7):
            for n in range(per_day):
                sc.message("adult", "kid", at(week * 7 + day, 15, n), "hi")
    _, signals, _ = run(sc)
    assert signals[-1].weekly == (0, 7, 14, 35)


def test_group_then_private_is_a_migration() -> None:
    sc = base()
    sc.message("adult", ["kid", "other"], at(0, 10), "welcome all", channel="group",
               conversation="team")
    sc.message("adult", "kid", at(2, 10), "hey you")
    _, signals, _ = run(sc)
    assert signals[-1].migrated_min == 2 * 1440


def test_group_messages_are_not_private_contact() -> None:
    sc = base()
    for n in range(5):
        sc.message("adult", ["kid", "other"], at(0, 10, n), "hi all", channel="group",
                   conversation="team")
    state, signals, _ = run(sc)
    assert state.msgs == [0, 0]
    assert signals == []
    assert state.first_shared_at_us >= 0


def test_stages_first_seen_in_order_and_photo_answered() -> None:
    sc = base()
    ids = {}
    for day, stage in enumerate(("age_probe", "flattery", "secrecy", "photo_request")):
        ids[sc.message("adult", "kid", at(day, 15), stage)["event_id"]] = stage_bytes(stage)
    sc.media("kid", "adult", at(4, 15))
    sc.message("adult", "kid", at(5, 15), "thanks")
    _, signals, _ = run(sc, ids)
    last = signals[-1]
    assert last.stage_mask == sum(1 << STAGE_INDEX[s] for s in
                                  ("age_probe", "flattery", "secrecy", "photo_request"))
    assert last.stage_order_pm == 1000
    assert last.stage_msgs == 4
    assert last.stage_span_min == 3 * 1440
    assert last.media_after_request == 1


def test_stages_out_of_order_lower_the_order_figure() -> None:
    sc = base()
    ids = {}
    for day, stage in enumerate(("meeting_request", "photo_request", "age_probe")):
        ids[sc.message("adult", "kid", at(day, 15), stage)["event_id"]] = stage_bytes(stage)
    _, signals, _ = run(sc, ids)
    assert signals[-1].stage_order_pm == 0


def test_adults_between_themselves_emit_nothing() -> None:
    sc = base(kid_band="18_plus")
    sc.message("adult", "kid", at(0, 23), "send me a pic of you")
    _, signals, _ = run(sc)
    assert signals == []


def test_late_message_is_counted_but_starts_no_conversation() -> None:
    profiles = ProfileTable()
    sc = base()
    sc.message("adult", "kid", at(1, 10), "later one")
    sc.message("adult", "kid", at(0, 10), "earlier one")
    events = [e for e in (NormalizedEvent.from_record(e.to_record()) for e in sc.normalized())]
    for event in events:
        if event.type == "profile":
            profiles.apply(event)
    messages = sorted((e for e in events if e.type == "message"),
                      key=lambda e: -e.occurred_at_us)  # newest first: a late arrival
    key = pair_key(sc.pseudonym("adult"), sc.pseudonym("kid"))
    state = None
    for event in messages:
        state, _ = pair_step(key, state, StagedEvent(event), profiles, THRESHOLD)
    assert state is not None
    assert sum(state.msgs) == 2
    assert sum(state.sessions) == 1
    assert state.first_at_us == min(e.occurred_at_us for e in messages)


def test_ring_forgets_days_older_than_four_weeks() -> None:
    sc = base()
    sc.message("adult", "kid", at(0, 10), "hi")
    sc.message("adult", "kid", at(40, 10), "back again")
    state, signals, _ = run(sc)
    assert signals[-1].weekly == (0, 0, 0, 1)
    assert sum(state.msgs) == 2


def test_codec_round_trip_and_size() -> None:
    sc = base()
    ids = {sc.message("adult", "kid", at(0, 23), "x")["event_id"]: stage_bytes("gifts")}
    sc.message("kid", "adult", at(0, 23, 5), "y")
    sc.media("kid", "adult", at(1, 1))
    state, _, _ = run(sc, ids)
    data = encode_pair(state)
    assert len(data) == len(encode_pair(PairState())) <= 512
    assert decode_pair(data) == state


def test_pinned_empty_state_encoding() -> None:
    """A stored empty pair state of format 1 must stay readable."""
    pinned = encode_pair(PairState())
    assert pinned[0] == 1
    assert decode_pair(pinned) == PairState()
    assert len(pinned) == 297
