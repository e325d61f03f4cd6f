"""wardstream evaluate on a small simulated platform, and its ablations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.evaluate.runs import TEXT_SIGNALS, ablated
from pipeline.score.config import load_config


def test_ablations_switch_off_exactly_one_family_of_signals() -> None:
    config = load_config()
    behaviour = ablated(config, "behaviour only")
    text = ablated(config, "text only")
    for name, weight in config.signals.items():
        assert (behaviour.signals[name].weight == 0) == (name in TEXT_SIGNALS)
        assert (text.signals[name].weight == 0) == (name not in TEXT_SIGNALS)
        assert weight.weight > 0
    assert ablated(config, "all") is config


def test_evaluate_prints_runs_side_by_side_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "eval.json"
    code = main(["evaluate", "--seed", "7", "--users", "160", "--weeks", "3",
                 "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    header = next(line for line in printed.splitlines() if "behaviour only" in line)
    assert header.split() == ["all", "behaviour", "only", "text", "only", "word", "list"]
    assert "targets:" in printed
    document = json.loads(out.read_text())
    assert set(document["runs"]) == {"all", "behaviour only", "text only", "word list"}
    for run in document["runs"].values():
        assert run["true_positive"] + run["false_negative"] == (
            document["runs"]["all"]["true_positive"] + document["runs"]["all"]["false_negative"])
    # Text signals are capped below the alert tier: text alone never flags anyone.
    assert document["runs"]["text only"]["users_flagged"] == 0
    assert len(document["targets"]) == 5


def test_evaluate_without_data_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate"]) == 2
    assert capsys.readouterr().err.strip() == (
        "wardstream evaluate: give --events and --truth, or --seed")


def test_evaluate_missing_file_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.jsonl"
    assert main(["evaluate", "--events", str(missing), "--truth", str(missing)]) == 2
    assert str(missing) in capsys.readouterr().err
