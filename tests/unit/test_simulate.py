"""Tests of the synthetic platform generator (`pipeline.simulate`, `wardstream simulate`).

Every generated event is checked against a strict reading of events.md written
here, independently of the pipeline's own validator. Configs are small so the
whole module runs in seconds without services.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pipeline.simulate import (
    SimulationConfig,
    SimulationConfigError,
    SimulationResult,
    simulate,
    write,
)
from pipeline.simulate.command import add_arguments, run

# --- the contract, from events.md (version 1) --------------------------------------------

COMMON = {"event_id", "tenant_id", "type", "occurred_at", "actor_id"}
TYPE_FIELDS: dict[str, tuple[set[str], set[str]]] = {  # type -> (required, optional)
    "message": (
        {"conversation_id", "recipient_ids", "channel"},
        {"content", "content_sha256", "content_signals", "language", "ip", "port",
         "user_agent", "device_id"},
    ),
    "contact": ({"action", "target_id"}, set()),
    "session": ({"action"}, {"ip", "port", "user_agent", "device_id"}),
    "profile": (
        set(),
        {"age_band", "age_source", "account_created_at", "country", "language", "timezone",
         "display_name", "email", "phone", "cohort"},
    ),
    "media": ({"media_type", "sha256"}, {"pdq", "conversation_id", "recipient_ids"}),
    "report": ({"target_id"}, {"reason"}),
    "moderation": ({"subject_id", "decision", "reviewer_id"}, {"note"}),
}
RFC3339_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
TENANT = re.compile(r"[A-Za-z0-9_.-]{1,64}")
HEX64 = re.compile(r"[0-9a-f]{64}")
CONTACT_ACTIONS = {"request", "accept", "decline", "block", "remove", "follow", "unfollow"}
AGE_BANDS = {"under_13", "13_15", "16_17", "18_plus", "unknown"}
DECISIONS = {"confirmed_grooming", "confirmed_other_harm", "cleared", "escalated"}

# Stage words a careful groomer must never write (checked case-insensitively).
STAGE_WORDS = (
    "how old", "your age", "what grade", "mature", "older than", "gift", "skins", "robux",
    "secret", "between us", "don't tell", "dont tell", "parents", "snap", "whatsapp",
    "discord", "telegram", "kik", "private", "pic", "selfie", "photo", "meet", "pick you up",
    "where do you live", "come see you", "friends don't", "only one who",
)
# Words that must never appear anywhere: the generator writes nothing sexual.
INDECENT_WORDS = ("sex", "nude", "naked", "porn", "undress", "underwear", "lingerie", "boobs")


def _is_rfc3339(value: object) -> bool:
    return isinstance(value, str) and RFC3339_OFFSET.fullmatch(value) is not None


def contract_problems(event: dict[str, Any]) -> list[str]:
    """Everything about `event` that events.md forbids; empty when it conforms."""
    problems: list[str] = []
    missing = COMMON - event.keys()
    if missing:
        return [f"missing {sorted(missing)}"]
    kind = event["type"]
    if kind not in TYPE_FIELDS:
        return [f"unknown type {kind!r}"]
    required, optional = TYPE_FIELDS[kind]
    if required - event.keys():
        problems.append(f"missing {sorted(required - event.keys())}")
    unknown = event.keys() - COMMON - required - optional
    if unknown:
        problems.append(f"unknown fields {sorted(unknown)}")
    if not isinstance(event["event_id"], str) or not 1 <= len(event["event_id"]) <= 128:
        problems.append("event_id")
    if not isinstance(event["tenant_id"], str) or not TENANT.fullmatch(event["tenant_id"]):
        problems.append("tenant_id")
    if not _is_rfc3339(event["occurred_at"]):
        problems.append(f"occurred_at {event['occurred_at']!r}")
    if not isinstance(event["actor_id"], str) or not 1 <= len(event["actor_id"]) <= 256:
        problems.append("actor_id")
    checks = {
        "message": _message_problems,
        "contact": _contact_problems,
        "session": _session_problems,
        "profile": _profile_problems,
        "media": _media_problems,
        "report": _report_problems,
        "moderation": _moderation_problems,
    }
    problems += checks[kind](event)
    return problems


def _recipients_ok(value: object) -> bool:
    return (isinstance(value, list) and 1 <= len(value) <= 100
            and all(isinstance(r, str) and r for r in value) and len(set(value)) == len(value))


def _device_problems(event: dict[str, Any]) -> list[str]:
    problems = []
    if "port" in event and (not isinstance(event["port"], int) or not 0 <= event["port"] <= 65535):
        problems.append("port")
    for name in ("ip", "user_agent", "device_id"):
        if name in event and not isinstance(event[name], str):
            problems.append(name)
    return problems


def _message_problems(event: dict[str, Any]) -> list[str]:
    problems = _device_problems(event)
    if not isinstance(event["conversation_id"], str) or not event["conversation_id"]:
        problems.append("conversation_id")
    if not _recipients_ok(event["recipient_ids"]):
        problems.append("recipient_ids")
    if event["channel"] not in ("private", "group", "public"):
        problems.append("channel")
    if event["channel"] == "private" and len(event["recipient_ids"]) != 1:
        problems.append("private message with several recipients")
    if "content" in event and (not isinstance(event["content"], str)
                               or len(event["content"]) > 20000):
        problems.append("content")
    if "content_sha256" in event and not HEX64.fullmatch(str(event["content_sha256"])):
        problems.append("content_sha256")
    return problems


def _contact_problems(event: dict[str, Any]) -> list[str]:
    problems = [] if event["action"] in CONTACT_ACTIONS else ["action"]
    if not isinstance(event["target_id"], str) or not event["target_id"]:
        problems.append("target_id")
    return problems


def _session_problems(event: dict[str, Any]) -> list[str]:
    return _device_problems(event) + ([] if event["action"] in ("login", "logout") else ["action"])


def _profile_problems(event: dict[str, Any]) -> list[str]:
    problems = []
    if "age_band" in event and event["age_band"] not in AGE_BANDS:
        problems.append("age_band")
    if "age_source" in event and event["age_source"] not in ("declared", "estimated", "verified"):
        problems.append("age_source")
    if "account_created_at" in event and not _is_rfc3339(event["account_created_at"]):
        problems.append("account_created_at")
    if "country" in event and not re.fullmatch(r"[A-Z]{2}", str(event["country"])):
        problems.append("country")
    if "timezone" in event:
        try:
            ZoneInfo(str(event["timezone"]))
        except (KeyError, ValueError):
            problems.append("timezone")
    cohort = event.get("cohort", {})
    if not isinstance(cohort, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in cohort.items()):
        problems.append("cohort")
    return problems


def _media_problems(event: dict[str, Any]) -> list[str]:
    problems = [] if event["media_type"] in ("image", "video") else ["media_type"]
    if not HEX64.fullmatch(str(event["sha256"])):
        problems.append("sha256")
    if "recipient_ids" in event and not _recipients_ok(event["recipient_ids"]):
        problems.append("recipient_ids")
    return problems


def _report_problems(event: dict[str, Any]) -> list[str]:
    problems = [] if isinstance(event["target_id"], str) and event["target_id"] else ["target_id"]
    if "reason" in event and (not isinstance(event["reason"], str) or len(event["reason"]) > 1000):
        problems.append("reason")
    return problems


def _moderation_problems(event: dict[str, Any]) -> list[str]:
    problems = [] if event["decision"] in DECISIONS else ["decision"]
    if "note" in event and (not isinstance(event["note"], str) or len(event["note"]) > 2000):
        problems.append("note")
    if not event["reviewer_id"] or not event["subject_id"]:
        problems.append("reviewer_id/subject_id")
    return problems


# --- fixtures --------------------------------------------------------------------------------

SMALL = SimulationConfig(seed=7, users=500, weeks=3, groomer_share=0.08, duplicate_share=0.01)


@pytest.fixture(scope="module")
def small() -> SimulationResult:
    return simulate(SMALL)


def _instant(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).astimezone(UTC)


def _truth(result: SimulationResult) -> dict[str, dict[str, Any]]:
    return {row["actor_id"]: row for row in result.truth}


def _messages(result: SimulationResult) -> list[dict[str, Any]]:
    return [e for e in result.events if e["type"] == "message"]


# --- determinism -----------------------------------------------------------------------------


def test_same_seed_gives_identical_output() -> None:
    config = SimulationConfig(seed=11, users=150, weeks=2, groomer_share=0.1)
    first, again = simulate(config), simulate(config)
    assert first.events == again.events
    assert first.truth == again.truth
    assert first.duplicates == again.duplicates


def test_different_seed_gives_different_output() -> None:
    first = simulate(SimulationConfig(seed=11, users=150, weeks=2))
    other = simulate(SimulationConfig(seed=12, users=150, weeks=2))
    assert other.events != first.events
    assert other.truth != first.truth


# --- the event contract ----------------------------------------------------------------------


def test_every_event_satisfies_the_contract(small: SimulationResult) -> None:
    bad = [(e["event_id"], p) for e in small.events if (p := contract_problems(e))]
    assert bad == []
    assert {e["tenant_id"] for e in small.events} == {"demo"}
    assert {e["type"] for e in small.events} == set(TYPE_FIELDS)


def test_occurred_at_uses_the_actors_local_offset(small: SimulationResult) -> None:
    zones = {e["actor_id"]: e["timezone"] for e in small.events if e["type"] == "profile"}
    for event in small.events[::50]:
        zone = zones.get(event["actor_id"])
        if zone is None:
            continue
        moment = _instant(event["occurred_at"])
        local = moment.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")
        assert event["occurred_at"] == local


def test_events_are_sorted_by_time_and_inside_the_run(small: SimulationResult) -> None:
    instants = [_instant(e["occurred_at"]) for e in small.events]
    assert instants == sorted(instants)
    assert instants[0] >= SMALL.start
    assert (instants[-1] - SMALL.start).days < SMALL.weeks * 7


def test_duplicates_are_exact_retries_and_counted(small: SimulationResult) -> None:
    seen: dict[str, dict[str, Any]] = {}
    repeats = 0
    for event in small.events:
        first = seen.get(event["event_id"])
        if first is None:
            seen[event["event_id"]] = event
        else:
            repeats += 1
            assert first == event
    assert repeats == small.duplicates == small.summary()["duplicates"]
    assert repeats > 0


def test_no_indecent_words_anywhere(small: SimulationResult) -> None:
    for event in _messages(small):
        text = str(event.get("content", "")).lower()
        assert not any(word in text for word in INDECENT_WORDS), text


# --- population and ground truth -------------------------------------------------------------


def test_each_role_appears(small: SimulationResult) -> None:
    roles = {row["role"] for row in small.truth}
    expected = {"minor", "teen_social", "groomer_overt", "groomer_careful", "groomer_parallel",
                "groomer_ring", "coach", "teacher", "tutor", "relative", "adult_flirt", "gamer",
                "adult"}
    assert expected <= roles
    groomers = [row for row in small.truth if row["is_groomer"]]
    assert groomers and all(row["role"].startswith("groomer_") for row in groomers)
    assert {row["careful"] for row in groomers} == {True, False}


def test_truth_has_one_row_per_actor_that_appears(small: SimulationResult) -> None:
    seen: set[str] = set()
    for event in small.events:
        seen.add(event["actor_id"])
        seen.update(event.get("recipient_ids", []))
        for name in ("target_id", "subject_id", "reviewer_id"):
            if name in event:
                seen.add(event[name])
    ids = [row["actor_id"] for row in small.truth]
    assert len(ids) == len(set(ids))
    assert set(ids) == seen


def test_truth_rows_have_the_documented_fields(small: SimulationResult) -> None:
    fields = {"tenant_id", "actor_id", "role", "is_groomer", "age_band", "cohort", "style",
              "victims", "careful", "first_contact_at", "first_photo_request_at",
              "first_meeting_request_at", "escalation_at", "victim_timelines"}
    for row in small.truth:
        assert fields <= row.keys()
        assert row["age_band"] in AGE_BANDS - {"unknown"}
        for timeline in row["victim_timelines"]:
            for name in ("first_contact_at", "first_photo_request_at",
                         "first_meeting_request_at", "escalation_at"):
                assert timeline[name] is None or _is_rfc3339(timeline[name])


def test_victims_are_minors_and_groomers_adults(small: SimulationResult) -> None:
    truth = _truth(small)
    victims = [v for row in small.truth for v in row["victims"]]
    assert victims
    for row in small.truth:
        if row["is_groomer"]:
            assert row["age_band"] == "18_plus"
            assert row["victims"] or row["contact_requests_to_minors"] > 0
        else:
            assert row["victims"] == []
    assert all(truth[v]["age_band"] != "18_plus" for v in victims)


def test_rings_converge_on_the_same_minor(small: SimulationResult) -> None:
    rings: dict[str, list[dict[str, Any]]] = {}
    for row in small.truth:
        if row["role"] == "groomer_ring":
            rings.setdefault(row["ring_id"], []).append(row)
    assert rings
    for members in rings.values():
        assert 2 <= len(members) <= 4
        shared = set.intersection(*(set(m["victims"]) for m in members))
        assert shared


def test_parallel_groomers_work_several_minors(small: SimulationResult) -> None:
    parallel = [row for row in small.truth if row["role"] == "groomer_parallel"]
    assert parallel and all(len(row["victims"]) >= 2 for row in parallel)


def test_overt_stage_times_point_at_real_messages_in_order(small: SimulationResult) -> None:
    sent = {(e["actor_id"], e["recipient_ids"][0], e["occurred_at"])
            for e in _messages(small) if e["channel"] == "private"}
    checked = 0
    for row in small.truth:
        if not row["is_groomer"] or row["careful"]:
            continue
        for line in row["victim_timelines"]:
            photo, meeting = line["first_photo_request_at"], line["first_meeting_request_at"]
            if photo is None or meeting is None:
                continue
            checked += 1
            assert (row["actor_id"], line["victim_id"], photo) in sent
            assert (row["actor_id"], line["victim_id"], meeting) in sent
            first = _instant(line["first_contact_at"])
            assert first < _instant(photo) <= _instant(meeting)
            assert line["stages_seen"][:2] == ["age", "flattery"]
    assert checked > 0


def test_escalation_is_at_night_in_the_victims_time_zone(small: SimulationResult) -> None:
    zones = {e["actor_id"]: e["timezone"] for e in small.events if e["type"] == "profile"}
    truth = _truth(small)
    escalations = 0
    for row in small.truth:
        for line in row["victim_timelines"]:
            if line["escalation_at"] is None:
                continue
            escalations += 1
            victim_zone = ZoneInfo(zones[line["victim_id"]])
            hour = _instant(line["escalation_at"]).astimezone(victim_zone).hour
            assert hour >= 22 or hour < 5
            assert truth[line["victim_id"]]["age_band"] != "18_plus"
    assert escalations > 0


def test_grooming_contact_rises_and_moves_to_night(small: SimulationResult) -> None:
    zones = {e["actor_id"]: e["timezone"] for e in small.events if e["type"] == "profile"}
    pairs = {(row["actor_id"], line["victim_id"]) for row in small.truth
             for line in row["victim_timelines"]}
    sent: dict[tuple[str, str], list[datetime]] = {}
    for event in _messages(small):
        key = (event["actor_id"], event["recipient_ids"][0])
        if event["channel"] == "private" and key in pairs:
            sent.setdefault(key, []).append(_instant(event["occurred_at"]))
    early = late = early_night = late_night = 0
    for (_, victim), times in sent.items():
        span = times[-1] - times[0]
        for when in times:
            hour = when.astimezone(ZoneInfo(zones[victim])).hour
            night = hour >= 22 or hour < 5
            if when - times[0] < span / 3:
                early, early_night = early + 1, early_night + night
            elif when - times[0] > span * 2 / 3:
                late, late_night = late + 1, late_night + night
    assert late > 2 * early
    assert late_night / late > early_night / early + 0.2


def test_careful_groomers_never_write_stage_words(small: SimulationResult) -> None:
    careful = {row["actor_id"] for row in small.truth if row["is_groomer"] and row["careful"]}
    texts = [str(e["content"]).lower() for e in _messages(small)
             if e["actor_id"] in careful and "content" in e]
    assert len(texts) > 50
    offending = [t for t in texts if any(word in t for word in STAGE_WORDS)]
    assert offending == []


def test_overt_groomers_do_write_stage_words(small: SimulationResult) -> None:
    overt = {row["actor_id"] for row in small.truth if row["is_groomer"] and not row["careful"]}
    texts = [str(e["content"]).lower() for e in _messages(small)
             if e["actor_id"] in overt and "content" in e]
    assert any(word in t for t in texts for word in STAGE_WORDS)


def test_benign_look_alikes_stay_in_their_age_groups(small: SimulationResult) -> None:
    truth = _truth(small)
    flirt_private = teen_snap = 0
    for event in _messages(small):
        if event["channel"] != "private":
            continue
        sender, recipient = truth[event["actor_id"]], truth[event["recipient_ids"][0]]
        if sender["role"] == "adult_flirt":
            flirt_private += 1
            assert recipient["age_band"] == "18_plus"
        if sender["role"] == "teen_social" and "snap" in str(event.get("content", "")).lower():
            teen_snap += 1
            assert recipient["age_band"] in ("13_15", "16_17")
    assert flirt_private > 0 and teen_snap > 0


def test_declined_and_blocked_requests_to_minors(small: SimulationResult) -> None:
    groomers = {row["actor_id"] for row in small.truth if row["is_groomer"]}
    refusals = [e for e in small.events if e["type"] == "contact"
                and e["action"] in ("decline", "block") and e["target_id"] in groomers]
    assert refusals
    assert any(e["type"] == "report" and e["target_id"] in groomers for e in small.events)


def test_cohort_is_independent_of_role_but_shapes_style() -> None:
    result = simulate(SimulationConfig(seed=3, users=2000, weeks=1, groomer_share=0.3))
    rows = [r for r in result.truth if r["role"] != "moderator"]
    for key in ("dialect", "region"):
        table = Counter((r["cohort"][key], r["is_groomer"]) for r in rows)
        values = sorted({r["cohort"][key] for r in rows})
        total = len(rows)
        groomers = sum(1 for r in rows if r["is_groomer"])
        chi2 = 0.0
        for value in values:
            in_value = table[(value, True)] + table[(value, False)]
            for flag, count in ((True, groomers), (False, total - groomers)):
                expected = in_value * count / total
                chi2 += (table[(value, flag)] - expected) ** 2 / expected
        assert chi2 < 13.8, (key, chi2)  # p = 0.001 at 2 degrees of freedom
    share = {d: sum(1 for r in rows if r["cohort"]["dialect"] == d and r["style"] == "nonnative")
             / sum(1 for r in rows if r["cohort"]["dialect"] == d) for d in "abc"}
    assert share["c"] > 3 * share["a"]


def test_privacy_share_drops_content_for_those_users() -> None:
    result = simulate(SimulationConfig(seed=5, users=200, weeks=1, privacy_share=0.5))
    private = {row["actor_id"] for row in result.truth if row.get("privacy_mode")}
    assert 80 <= len(private) <= 120
    for event in _messages(result):
        assert ("content" in event) == (event["actor_id"] not in private)
        assert "content_signals" not in event


def test_write_produces_compact_utf8_json_lines(tmp_path: Path) -> None:
    small = simulate(SimulationConfig(seed=9, users=100, weeks=1))
    events, truth = tmp_path / "events.jsonl", tmp_path / "truth.jsonl"
    write(small, events, truth)
    lines = events.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(small.events)
    assert json.loads(lines[0]) == small.events[0]
    assert ", " not in lines[0] and '": ' not in lines[0]
    assert len(truth.read_text(encoding="utf-8").splitlines()) == len(small.truth)


# --- configuration and CLI -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"users": 0}, "users"),
        ({"weeks": 0}, "weeks"),
        ({"tenant_id": "no spaces"}, "tenant_id"),
        ({"privacy_share": 1.5}, "privacy_share"),
        ({"duplicate_share": -0.1}, "duplicate_share"),
        ({"start": datetime(2026, 3, 2)}, "start"),  # naive: no offset
        ({"groomer_share": 0.5, "relative_share": 0.6}, "groomer_share"),
    ],
)
def test_config_rejects_bad_values_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(SimulationConfigError) as caught:
        SimulationConfig(seed=1, **changes)
    assert caught.value.field == field
    assert field in str(caught.value)
    assert isinstance(caught.value, ValueError)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="wardstream simulate")
    add_arguments(parser)
    return parser.parse_args(argv)


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["--users", "0"], "--users"),
        (["--users", "many"], "--users"),
        (["--weeks", "-1"], "--weeks"),
        (["--seed", "x"], "--seed"),
        (["--tenant", "a b"], "--tenant"),
        (["--privacy-share", "2"], "--privacy-share"),
        (["--privacy-share", "nan"], "--privacy-share"),
    ],
)
def test_cli_bad_arguments_exit_2_naming_the_option(
        argv: list[str], option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert run(_parse(["--out", str(out), *argv])) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and option in err
    assert not out.exists()


def test_cli_requires_out(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(_parse([])) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--out" in err


def test_cli_writes_files_and_a_summary(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--out", str(tmp_path), "--seed", "2", "--users", "120", "--weeks", "1",
            "--tenant", "acme"]
    assert run(_parse(argv)) == 0
    out = capsys.readouterr().out
    lines = (tmp_path / "events.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    truth = (tmp_path / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    assert events and {e["tenant_id"] for e in events} == {"acme"}
    assert f"wrote {len(events)} events" in out
    assert f"wrote {len(truth)} truth rows" in out
    assert "events by type:" in out and "users by role:" in out


def test_output_does_not_depend_on_string_hash_randomisation(tmp_path: Path) -> None:
    digests = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        subprocess.run(
            [sys.executable, "-m", "pipeline.simulate", "--out", str(out), "--users", "80",
             "--weeks", "1", "--seed", "4"],
            check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": hash_seed},
        )
        digests.append([hashlib.sha256((out / name).read_bytes()).hexdigest()
                        for name in ("events.jsonl", "truth.jsonl")])
    assert digests[0] == digests[1]
