"""``wardstream replay``: output files and fields per shared/spec/replay.md, exit codes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.detect.scenario import Scenario, at, grooming_sequence
from pipeline.replay import add_arguments, run

SCORE_FIELDS = ["tenant_id", "actor_id", "score", "tier", "max_score", "first_alert_at",
                "first_alert_event_id", "top_signals"]
ALERT_FIELDS = ["tenant_id", "actor_id", "tier", "score", "raised_at", "event_id", "explanation"]


def replay(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return run(parser.parse_args(argv))


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    sc = Scenario(tenant="acme")
    sc.profile("adult-7", "18_plus")
    sc.profile("kid-3", "13_15", timezone="UTC")
    grooming_sequence(sc, "adult-7", "kid-3")
    lines = [json.dumps(e) for e in sc.events]
    lines.insert(3, "not json")
    lines.insert(5, json.dumps({"event_id": "x", "tenant_id": "acme", "type": "message"}))
    lines.append(lines[-1])  # a repeated event id
    lines.append("")
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_replay_writes_the_three_files(tmp_path: Path, events_file: Path) -> None:
    out = tmp_path / "out"
    assert replay([str(events_file), "--out", str(out)]) == 0
    scores = read(out / "scores.jsonl")
    assert [list(s) for s in scores] == [SCORE_FIELDS] * len(scores)
    by_actor = {s["actor_id"]: s for s in scores}
    assert set(by_actor) == {"adult-7", "kid-3"}  # raw ids, as given
    adult = by_actor["adult-7"]
    assert adult["tenant_id"] == "acme"
    assert adult["tier"] in ("restrict", "critical")
    assert 0 <= adult["score"] <= adult["max_score"] <= 100
    assert adult["first_alert_at"].endswith("Z") and adult["first_alert_event_id"]
    tops = adult["top_signals"]
    assert [list(t) for t in tops] == [["signal", "contribution", "explanation"]] * len(tops)
    assert tops == sorted(tops, key=lambda t: -t["contribution"])
    kid = by_actor["kid-3"]
    assert kid["tier"] == "trusted" and kid["first_alert_at"] is None
    assert kid["first_alert_event_id"] is None and kid["top_signals"] == []

    alerts = read(out / "alerts.jsonl")
    assert alerts and [list(a) for a in alerts] == [ALERT_FIELDS] * len(alerts)
    assert alerts[0]["actor_id"] == "adult-7"
    assert alerts[0]["raised_at"] == adult["first_alert_at"]
    assert alerts[0]["event_id"] == adult["first_alert_event_id"]
    assert alerts[0]["explanation"].startswith("Messages to one 13-15 account")

    rejected = read(out / "rejected.jsonl")
    assert [r["line"] for r in rejected] == [4, 6, len(events_file.read_text().splitlines()) - 1,
                                             len(events_file.read_text().splitlines())]
    reasons = [r["errors"][0]["rule"] for r in rejected]
    assert reasons == ["json", "required", "duplicate", "empty"]
    assert all(r["reason"] for r in rejected)


def test_replay_is_deterministic(tmp_path: Path, events_file: Path) -> None:
    for name in ("a", "b"):
        assert replay([str(events_file), "--out", str(tmp_path / name)]) == 0
    for file in ("scores.jsonl", "alerts.jsonl", "rejected.jsonl"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def test_replay_orders_by_event_time(tmp_path: Path, events_file: Path) -> None:
    lines = events_file.read_text().splitlines()
    reordered = tmp_path / "reversed.jsonl"
    valid = [line for line in lines if line.startswith('{"event_id": "e')]
    reordered.write_text("\n".join(reversed(valid)) + "\n")
    assert replay([str(events_file), "--out", str(tmp_path / "a")]) == 0
    assert replay([str(reordered), "--out", str(tmp_path / "b")]) == 0
    assert read(tmp_path / "a" / "scores.jsonl") == read(tmp_path / "b" / "scores.jsonl")


def test_config_changes_tiers(tmp_path: Path, events_file: Path) -> None:
    config = tmp_path / "strict.yaml"
    config.write_text("tiers: {watch: 10, restrict: 95, critical: 99}\n", encoding="utf-8")
    assert replay([str(events_file), "--out", str(tmp_path / "o"), "--config", str(config)]) == 0
    assert read(tmp_path / "o" / "alerts.jsonl") == []


def test_missing_input_is_one_line_and_non_zero(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert replay([str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.jsonl" in err


def test_bad_config_is_one_line_and_non_zero(tmp_path: Path, events_file: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("signals: {stages: {weight: 1, cap: 99}}\n", encoding="utf-8")
    code = replay([str(events_file), "--out", str(tmp_path / "o"), "--config", str(config)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "signals.stages.cap" in err and "cap_below_alert" in err


def test_unwritable_output_is_non_zero(tmp_path: Path, events_file: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert replay([str(events_file), "--out", str(blocker / "sub")]) == 2


def test_empty_input_writes_empty_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert replay([str(empty), "--out", str(tmp_path / "o")]) == 0
    for file in ("scores.jsonl", "alerts.jsonl", "rejected.jsonl"):
        assert (tmp_path / "o" / file).read_text() == ""


def test_group_broadcast_is_not_private_contact(tmp_path: Path) -> None:
    sc = Scenario()
    sc.profile("coach", "18_plus")
    kids = [f"kid{n}" for n in range(30)]
    for kid in kids:
        sc.profile(kid, "13_15")
    for day in range(20):
        sc.message("coach", kids, at(day, 23), "send me a pic of you", channel="group",
                   conversation="team")
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in sc.events) + "\n")
    assert replay([str(path), "--out", str(tmp_path / "o")]) == 0
    coach = next(s for s in read(tmp_path / "o" / "scores.jsonl") if s["actor_id"] == "coach")
    assert coach["max_score"] == 0
