"""The stream's pure pieces: record formats, guarded states, and the steps chained
through their records give the same risk as the in-process harness."""

from __future__ import annotations

import functools
import io
import json

import pytest

from pipeline.avro import NORMALIZED_EVENT_SCHEMA_ID, SIGNAL_BATCH_SCHEMA_ID, load_schema_map
from pipeline.core import Engine
from pipeline.detect.annotate import annotate
from pipeline.detect.profiles import Profile, ProfileTable
from pipeline.detect.routing import route, step_records
from pipeline.detect.text.model import load_model
from pipeline.errors import InvalidRecord
from pipeline.model import NormalizedEvent
from pipeline.replay import EventReader
from pipeline.score.config import load_config
from pipeline.score.risk import RiskState
from pipeline.simulate.config import SimulationConfig
from pipeline.simulate.engine import simulate
from pipeline.stream.records import (
    add_profile_version,
    decode_profile,
    decode_profile_history,
    decode_routed,
    decode_signal_batch,
    encode_profile,
    encode_profile_history,
    encode_routed,
    encode_signal_batch,
    group_signals,
    profile_as_of,
)
from pipeline.stream.steps import (
    RECENT_EVENTS,
    DecodedCache,
    Published,
    decode_risk_value,
    event_tag,
    join_guarded,
    join_risk,
    join_step_value,
    split_guarded,
    split_step_value,
    step_actor,
    step_pair,
    step_risk,
    step_target,
)

SCHEMAS = load_schema_map()


@functools.cache
def _platform() -> tuple[NormalizedEvent, ...]:
    config = SimulationConfig(seed=4, users=80, weeks=2, tenant_id="acme", groomer_share=0.05)
    reader = EventReader(io.StringIO())
    for line, event in enumerate(simulate(config).events, start=1):
        reader.take(line, json.dumps(event).encode())
    return tuple(sorted(reader.events, key=lambda e: e.occurred_at_us))


def platform_events() -> list[NormalizedEvent]:
    return list(_platform())


def test_profiles_round_trip_with_and_without_optional_fields() -> None:
    full = Profile(age_band=3, age_trusted=True, timezone="Europe/Berlin",
                   account_created_at_us=1_700_000_000_000_000, updated_at_us=5)
    bare = Profile(updated_at_us=9)
    assert decode_profile(encode_profile(full)) == full
    assert decode_profile(encode_profile(bare)) == bare
    assert decode_profile_history(encode_profile_history([bare, full])) == [bare, full]


def test_a_profile_is_read_as_of_the_events_time() -> None:
    older, newer = Profile(age_band=1, updated_at_us=100), Profile(age_band=4, updated_at_us=200)
    versions = add_profile_version(add_profile_version([], newer), older)
    assert versions == [older, newer]
    assert profile_as_of(versions, 99) is None
    assert profile_as_of(versions, 150) == older
    assert profile_as_of(versions, 200) == newer
    many = [Profile(updated_at_us=t) for t in range(20)]
    kept: list[Profile] = []
    for version in many:
        kept = add_profile_version(kept, version)
    assert [p.updated_at_us for p in kept] == list(range(12, 20))


def test_guarded_values_keep_the_applied_offset() -> None:
    assert split_guarded(None) == (-1, None)
    assert split_guarded(join_guarded(41, b"state")) == (41, b"state")


def test_step_values_keep_the_newest_event_tags() -> None:
    assert split_step_value(None) == (-1, (), None)
    tags = tuple(event_tag("acme", f"e-{i}") for i in range(RECENT_EVENTS + 5))
    assert len(set(tags)) == len(tags)
    offset, kept, state = split_step_value(join_step_value(7, tags, b"\x02pair"))
    assert (offset, kept, state) == (7, tags[-RECENT_EVENTS:], b"\x02pair")
    assert event_tag("acme", "e-1") != event_tag("acme2", "e-1")


def test_a_record_of_another_schema_is_refused_naming_it() -> None:
    event = platform_events()[0]
    framed = SCHEMAS.encode(NORMALIZED_EVENT_SCHEMA_ID, event.to_record())
    with pytest.raises(InvalidRecord) as caught:
        decode_routed(SCHEMAS, framed)
    assert caught.value.errors[0].field == "(record)"
    assert "routed event" in caught.value.errors[0].message


def test_a_signal_batch_with_undecodable_signals_is_refused_naming_the_field() -> None:
    framed = SCHEMAS.encode(SIGNAL_BATCH_SCHEMA_ID, {
        "actor": "u_x", "tenant_id": "acme", "step": "pair", "event_id": "e-1", "at_us": 1,
        "signals": [b"\x01\x02not a signal"]})
    with pytest.raises(InvalidRecord) as caught:
        decode_signal_batch(SCHEMAS, framed)
    assert caught.value.errors[0].field == "signals"


def test_decoded_cache_answers_only_for_the_stored_bytes() -> None:
    cache: DecodedCache[str] = DecodedCache(capacity=2)
    cache.put("a", b"1", "one")
    assert cache.get("a", b"1") == "one"
    assert cache.get("a", b"2") is None
    cache.put("b", b"1", "b")
    cache.put("c", b"1", "c")
    assert cache.get("a", b"1") is None  # evicted, least recently used


def test_risk_publishes_only_when_the_shown_score_or_tier_moves() -> None:
    config = load_config()
    events = platform_events()
    engine = Engine(config, load_model())
    engine.run(events)
    # Feed one user's risk twice with the same batch: the second changes nothing.
    with_sources = [state for state in engine.risks.values() if state.sources]
    assert with_sources, "the platform produced no signals"
    source = next(iter(with_sources[0].sources.values()))
    batches = group_signals("pair", events[-1], [source])
    first = step_risk(batches[0], None, Published(), config)
    assert first.score is not None and first.published.tenths == round(first.state.score * 10)
    again = step_risk(batches[0], first.state, first.published, config)
    assert again.score is None and again.alerts == []
    published, restored = decode_risk_value(join_risk(again.published, again.state))
    assert published == again.published and restored.score == again.state.score


def test_steps_chained_through_their_records_match_the_harness() -> None:
    """What the agents do, in process: every state and record through its codec."""
    config = load_config()
    model = load_model()
    events = platform_events()
    engine = Engine(config, model)
    engine.run(events)

    profiles = ProfileTable()
    states: dict[tuple[str, str], bytes | None] = {}
    risks: dict[str, tuple[Published, RiskState | None]] = {}
    threshold = config.stage_threshold_byte
    steps = {"pair": step_pair, "actor": step_actor, "target": step_target}
    for event in events:
        if event.type == "profile":
            profiles.apply(event)
        staged = annotate(event, model, profiles)
        keys = route(event, profiles)
        snapshot = {u: p for u in keys.reads if (p := profiles.get(u)) is not None}
        framed = SCHEMAS.encode(NORMALIZED_EVENT_SCHEMA_ID, event.to_record())
        for kind, key, readers in step_records(event, keys, snapshot):
            routed = decode_routed(SCHEMAS, encode_routed(
                SCHEMAS, key, framed, staged.stages, model.version, readers))
            new_state, emitted = steps[kind](routed, states.get((kind, key)), threshold)
            states[(kind, key)] = new_state
            for batch in group_signals(kind, event, emitted):
                batch = decode_signal_batch(SCHEMAS, encode_signal_batch(SCHEMAS, batch))
                published, risk = risks.get(batch.actor, (Published(), None))
                outcome = step_risk(batch, risk, published, config)
                risks[batch.actor] = (outcome.published, outcome.state)
    assert any(state.tier >= config.alert_tier for state in engine.risks.values())
    for actor, expected in engine.risks.items():
        published, state = risks[actor]
        assert state is not None
        assert (round(state.score, 6), state.tier) == (round(expected.score, 6), expected.tier)
        assert published.tenths == round(expected.score * 10)
