"""Text normalisation, the seed stage model, learning and the model file format."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from pipeline.detect.stages import STAGE_INDEX, STAGES
from pipeline.detect.text import learn, load_model, normalise
from pipeline.detect.text.model import SEED_MODEL_PATH, StageModel, empty_model, signal_bytes
from pipeline.detect.text.seed_data import generate
from pipeline.errors import ConfigError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("D0N'T T3LL ur p4r3nts!!!", "dont tell ur parents"),
        ("s e c r e t", "secret"),
        ("s.e.c.r.e.t", "secret"),
        ("s-e-c-r-e-t", "secret"),
        ("soooo m4ture", "so mature"),
        ("heyyyyy", "hey"),
        ("s3nd m3 a p1c", "send me a pic"),
        ("add me on sn@p", "add me on snap"),
        ("$ecret", "secret"),
        ("im 13", "im 13"),  # a bare number is not leetspeak
        ("call 555-1234", "call 555 1234"),  # digit runs are not squeezed
        ("how old r u", "how old r u"),  # chat shorthand is not a spaced-out word
        ("u r a star", "u r a star"),
        ("Ｓｅｎｄ  me a pic", "send me a pic"),  # full-width letters
        ("se\u200bcret", "secret"),  # zero-width space
        ("café", "cafe"),
        ("", ""),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.fixture(scope="module")
def model() -> StageModel:
    return load_model()


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("how old r u", "age_probe"),
        ("so mature for your age", "flattery"),
        ("I'll send you a gift card", "gifts"),
        ("don't tell your parents we talk", "secrecy"),
        ("your friends don't get you like I do", "isolation"),
        ("add me on snap, more private", "platform_move"),
        ("send me a pic of you", "photo_request"),
        ("we should meet up", "meeting_request"),
        ("d0nt t3ll ur p a r e n t s we talk", "secrecy"),
    ],
)
def test_seed_model_recognises_each_stage(model: StageModel, text: str, stage: str) -> None:
    probabilities = model.predict(text)
    assert probabilities[STAGE_INDEX[stage]] >= 0.5
    others = [p for s, p in zip(STAGES, probabilities, strict=True) if s != stage]
    assert max(others) < 0.5


@pytest.mark.parametrize(
    "text",
    [
        "did you finish the math homework",
        "great hustle today team",
        "send me a photo of your worksheet",
        "how old is your dog",
        "happy birthday kiddo, love grandma",
        "gg wp",
        "drinks friday?",
    ],
)
def test_seed_model_leaves_benign_text_alone(model: StageModel, text: str) -> None:
    assert max(model.predict(text)) < 0.5


def test_seed_model_file_is_small_and_versioned(model: StageModel) -> None:
    assert SEED_MODEL_PATH.stat().st_size < 5_000_000
    assert model.version == "seed-1"
    assert model.learned == 0


def test_model_file_refuses_pickled_code(tmp_path: Path) -> None:
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(Path("x")))  # any class reference is refused
    with pytest.raises(ConfigError, match=r"evil\.pkl"):
        load_model(path)


def test_model_file_round_trips(tmp_path: Path, model: StageModel) -> None:
    path = tmp_path / "copy.pkl"
    model.save(path)
    again = load_model(path)
    assert again.version == model.version
    assert again.predict("send me a pic of you") == model.predict("send me a pic of you")


def test_missing_model_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nothing\.pkl"):
        load_model(tmp_path / "nothing.pkl")


def test_seed_corpus_is_deterministic() -> None:
    first = list(generate(seed=7, per_stage=20, benign=50, mixed=10))
    assert first == list(generate(seed=7, per_stage=20, benign=50, mixed=10))
    assert {label for _, labels in first for label in labels} == set(STAGES)


def test_cleared_decision_lowers_the_stages_seen(model: StageModel) -> None:
    text = "our little secret ok"
    before = model.predict(text)[STAGE_INDEX["secrecy"]]
    after_model = learn(model, [text] * 5, "cleared")
    assert after_model is not model
    assert after_model.predict(text)[STAGE_INDEX["secrecy"]] < before
    assert after_model.version == "seed-1+5"
    assert model.predict(text)[STAGE_INDEX["secrecy"]] == before  # the old model is unchanged


def test_confirmed_decision_reinforces_predicted_stages(model: StageModel) -> None:
    text = "nobody understands you except me"
    index = STAGE_INDEX["isolation"]
    before = model.predict(text)[index]
    assert before < 0.5
    # Below the threshold nothing is taught; with a lower threshold it is.
    assert learn(model, [text], "confirmed_grooming") is model
    taught = learn(model, [text] * 3, "confirmed_grooming", threshold=0.3)
    assert taught.predict(text)[index] > before


def test_other_decisions_teach_nothing(model: StageModel) -> None:
    assert learn(model, ["we should meet up"], "escalated") is model


def test_privacy_mode_signals_are_used_as_given() -> None:
    values = signal_bytes({"secrecy": 1.0, "gifts": 0.5, "not_a_stage": 1.0})
    assert values[STAGE_INDEX["secrecy"]] == 255
    assert values[STAGE_INDEX["gifts"]] == 128
    assert sum(values) == 255 + 128


def test_empty_model_is_undecided() -> None:
    assert empty_model().predict("anything") == (0.5,) * len(STAGES)
