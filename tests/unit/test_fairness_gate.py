"""The trainer's fairness gate: benign messages in every writing style, rates, verdicts."""

from __future__ import annotations

import asyncio
import re

import pytest

from agents.trainer import FairnessGate
from pipeline.detect.text import fairness
from pipeline.detect.text.fairness import FairnessResult
from pipeline.detect.text.learning import learn
from pipeline.detect.text.model import load_model
from pipeline.score.config import load_config


class FlagsDigits:
    """A stand-in model that marks every message containing a digit with a stage."""

    version = "digits"

    def predict(self, text: str) -> tuple[float, ...]:
        return (0.9 if re.search(r"\d", text) else 0.1, 0.0)


def test_every_style_carries_the_same_benign_messages() -> None:
    suite = fairness.benign_suite()
    assert set(suite) == set(fairness.STYLES)
    sizes = {len(texts) for texts in suite.values()}
    assert sizes == {len(fairness.BENIGN_TOPICS) * fairness.MESSAGES_PER_TOPIC}
    standard, abbrev = suite["standard"], suite["abbrev"]
    assert any(a != s for a, s in zip(abbrev, standard, strict=True))
    assert fairness.benign_suite() is suite  # built once per process


def test_rates_and_gap_come_from_the_messages_each_style_marks() -> None:
    suite = {"standard": ["see you at practice", "good game", "ok", "room 12"],
             "leet": ["s33 you at practice", "g00d game", "ok", "room 12"]}
    result = fairness.evaluate(FlagsDigits(), 0.5, suite)
    assert result.benign_stage_rates == {"standard": 0.25, "leet": 0.75}
    assert result.gap == pytest.approx(0.5)
    assert result.widest == ("standard", "leet")
    assert result.messages_per_style == 4


def test_a_suite_with_unequal_styles_is_refused() -> None:
    with pytest.raises(ValueError, match="suite"):
        fairness.evaluate(FlagsDigits(), 0.5, {"standard": ["a", "b"], "leet": ["a"]})
    with pytest.raises(ValueError, match="suite"):
        fairness.evaluate(FlagsDigits(), 0.5, {"standard": ["a"]})


def _result(version: str, gap: float) -> FairnessResult:
    return FairnessResult(version, {"standard": 0.10, "leet": 0.10 + gap}, 100)


@pytest.mark.parametrize(("gap", "parent_gap", "passed"), [
    (0.01, 0.00, True),    # within the limit
    (0.02, 0.05, True),    # at the limit
    (0.04, 0.05, True),    # over the limit, but narrower than the parent
    (0.06, 0.05, False),   # over the limit and wider than the parent
    (0.03, 0.00, False),
])
def test_the_gate_passes_within_the_limit_or_no_wider_than_the_parent(
        gap: float, parent_gap: float, passed: bool) -> None:
    assert fairness.passes(_result("c", gap), _result("p", parent_gap), 0.02) is passed


def test_the_seed_model_is_within_the_default_limit() -> None:
    result = fairness.evaluate(load_model(), load_config().stage_threshold)
    assert result.gap <= fairness.DEFAULT_MAX_GAP, result.benign_stage_rates


def test_the_gate_records_a_learned_version_with_its_figures() -> None:
    seed = load_model()
    candidate = learn(seed, ["don't tell your parents we talk", "send me a pic tonight"],
                      "confirmed_grooming", load_config().stage_threshold)
    assert candidate is not seed
    record = asyncio.run(FairnessGate(load_config().stage_threshold, 1.0).judge(candidate, seed))
    assert record.kind == "fairness_evaluation"
    assert record.details["passed"] is True  # a limit of 1.0 passes any gap
    assert record.details["model_version"] == candidate.version
    assert record.details["parent_version"] == seed.version
    rates = {k: v for k, v in record.details.items() if k.startswith("rate_")}
    assert set(rates) == {f"rate_{style}" for style in fairness.STYLES}
    assert all(isinstance(v, str) and re.fullmatch(r"0\.\d{4}|1\.0000", v) for v in rates.values())
    strict = asyncio.run(FairnessGate(load_config().stage_threshold, 0.0).judge(candidate, seed))
    gap, parent_gap = float(str(strict.details["gap"])), float(str(strict.details["parent_gap"]))
    assert strict.details["passed"] is (gap <= parent_gap)
