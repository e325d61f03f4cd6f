"""The stage model: eight online logistic regressions over hashed n-grams.

One binary ``river.linear_model.LogisticRegression`` per stage (one-vs-rest,
so a message may show two stages at once). Learning goes through river;
prediction uses a dense copy of the weights (one matrix product per message),
because the detection core must keep up with tens of thousands of events a
second. Privacy-mode messages carry ``content_signals`` with the same stage
names and are used as they are.

The file format is a pickle of plain builtins (dict, list, str, int, float,
bytes): :func:`load_model` refuses any pickled class or function, so a model
file cannot run code when it is loaded.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from river import linear_model, optim

from pipeline.detect.stages import N_STAGES, STAGES, quantise
from pipeline.detect.text.features import N_BUCKETS, feature_keys, featurise, l2_norm
from pipeline.detect.text.normalise import normalise
from pipeline.errors import ConfigError

MODEL_FORMAT: Final = 1
SEED_MODEL_PATH: Final = Path(__file__).with_name("seed_model.pkl")
LEARNING_RATE: Final = 0.5
L2: Final = 1e-5
_CACHE_LIMIT: Final = 100_000
_ZERO: Final = (0,) * N_STAGES


def new_learner() -> linear_model.LogisticRegression:
    """A fresh river learner with the settings the seed model was trained with."""
    return linear_model.LogisticRegression(
        optimizer=optim.SGD(LEARNING_RATE), l2=L2, intercept_lr=0.05
    )


class StageModel:
    """Per-message stage probabilities; immutable once built (``learn`` makes a new one)."""

    __slots__ = ("_cache", "_dense", "intercepts", "learned", "version", "weights")

    def __init__(
        self,
        intercepts: Sequence[float],
        weights: Sequence[Mapping[int, float]],
        version: str,
        learned: int = 0,
    ) -> None:
        if len(intercepts) != N_STAGES or len(weights) != N_STAGES:
            raise ValueError(f"a stage model needs {N_STAGES} intercepts and weight maps")
        self.intercepts: tuple[float, ...] = tuple(float(b) for b in intercepts)
        self.weights: tuple[dict[int, float], ...] = tuple(dict(w) for w in weights)
        self.version = version
        self.learned = learned
        self._dense: NDArray[np.float64] | None = None
        self._cache: dict[str, tuple[int, ...]] = {}

    @classmethod
    def from_learners(
        cls, learners: Sequence[linear_model.LogisticRegression], version: str, learned: int = 0
    ) -> StageModel:
        weights = [
            {int(k): float(v) for k, v in dict(learner._weights).items() if abs(v) >= 1e-6}
            for learner in learners
        ]
        return cls([float(learner.intercept) for learner in learners], weights, version, learned)

    def learners(self) -> list[linear_model.LogisticRegression]:
        """River learners holding this model's weights, ready for ``learn_one``."""
        built = []
        for intercept, weights in zip(self.intercepts, self.weights, strict=True):
            learner = new_learner()
            learner.intercept = intercept
            for key, value in weights.items():
                learner._weights[key] = value
            built.append(learner)
        return built

    def _matrix(self) -> NDArray[np.float64]:
        if self._dense is None:
            dense = np.zeros((N_BUCKETS, N_STAGES), dtype=np.float64)
            for stage, weights in enumerate(self.weights):
                if weights:
                    keys = np.fromiter(weights.keys(), dtype=np.int64, count=len(weights))
                    values = np.fromiter(weights.values(), dtype=np.float64, count=len(weights))
                    dense[keys, stage] = values
            self._dense = dense
        return self._dense

    def predict_features(self, features: Mapping[int, float]) -> tuple[float, ...]:
        """Stage probabilities for already hashed features."""
        logits = np.array(self.intercepts, dtype=np.float64)
        if features:
            keys = np.fromiter(features.keys(), dtype=np.int64, count=len(features))
            values = np.fromiter(features.values(), dtype=np.float64, count=len(features))
            logits += values @ self._matrix()[keys]
        probabilities: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))
        return tuple(float(p) for p in probabilities)

    def predict(self, text: str) -> tuple[float, ...]:
        """Stage probabilities (in ``STAGES`` order) for a raw message text."""
        keys = feature_keys(normalise(text))
        logits = np.array(self.intercepts, dtype=np.float64)
        if keys:
            logits += self._matrix()[np.array(keys, dtype=np.int64)].sum(axis=0) / l2_norm(keys)
        probabilities: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))
        return tuple(probabilities.tolist())

    def stage_bytes(self, text: str, cache_key: str | None = None) -> tuple[int, ...]:
        """Quantised (0..255) stage probabilities, cached by ``cache_key`` (a content hash)."""
        if cache_key is not None:
            hit = self._cache.get(cache_key)
            if hit is not None:
                return hit
        result = tuple(quantise(p) for p in self.predict(text)) if text else _ZERO
        if cache_key is not None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[cache_key] = result
        return result

    def to_payload(self) -> dict[str, Any]:
        """The model as plain builtins (what the pickle file holds)."""
        stages = []
        for weights in self.weights:
            keys = sorted(weights)
            stages.append({
                "keys": np.array(keys, dtype="<i4").tobytes(),
                "values": np.array([weights[k] for k in keys], dtype="<f8").tobytes(),
            })
        return {
            "format": MODEL_FORMAT,
            "kind": "wardstream.stage_model",
            "version": self.version,
            "learned": self.learned,
            "stages": list(STAGES),
            "buckets": N_BUCKETS,
            "intercepts": list(self.intercepts),
            "weights": stages,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], source: str = "model") -> StageModel:
        if payload.get("kind") != "wardstream.stage_model":
            raise ConfigError(f"{source}: not a wardstream stage model")
        if payload.get("format") != MODEL_FORMAT:
            raise ConfigError(
                f"{source}: model format {payload.get('format')!r}; this build reads {MODEL_FORMAT}"
            )
        if payload.get("stages") != list(STAGES) or payload.get("buckets") != N_BUCKETS:
            raise ConfigError(f"{source}: model stages or feature buckets differ from this build")
        weights = []
        for stage in payload["weights"]:
            keys = np.frombuffer(stage["keys"], dtype="<i4")
            values = np.frombuffer(stage["values"], dtype="<f8")
            weights.append(dict(zip(keys.tolist(), values.tolist(), strict=True)))
        return cls(payload["intercepts"], weights, str(payload["version"]),
                   int(payload["learned"]))

    def save(self, path: Path) -> None:
        path.write_bytes(model_to_bytes(self))


class _BuiltinsOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"model files may not reference {module}.{name}")


def load_model(path: Path = SEED_MODEL_PATH) -> StageModel:
    """Load a model file; raise :class:`ConfigError` naming the file when it is unusable."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read model file ({exc.strerror})") from None
    return model_from_bytes(data, str(path))


def model_to_bytes(model: StageModel) -> bytes:
    """The model file's bytes (what ``save`` writes and the ``models`` topic carries)."""
    return pickle.dumps(model.to_payload(), protocol=5)


def model_from_bytes(data: bytes, source: str = "model") -> StageModel:
    """Parse model bytes; :class:`ConfigError` naming ``source`` when they are unusable."""
    try:
        payload = _BuiltinsOnly(io.BytesIO(data)).load()
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise ConfigError(f"{source}: not a valid model file ({exc})") from None
    if not isinstance(payload, dict):
        raise ConfigError(f"{source}: not a wardstream stage model")
    return StageModel.from_payload(payload, source)


def signal_bytes(signals: Mapping[str, float]) -> tuple[int, ...]:
    """Quantised stage probabilities from privacy-mode ``content_signals``."""
    return tuple(quantise(float(signals.get(name, 0.0))) for name in STAGES)


def train(
    model: StageModel, examples: Iterable[tuple[str, Mapping[str, bool]]], version: str
) -> StageModel:
    """A new model: ``model`` after one pass of river ``learn_one`` over labelled texts.

    Each example is a text and, for the stages it teaches, whether the text
    shows that stage; stages not named are left alone.
    """
    learners = model.learners()
    count = 0
    for text, labels in examples:
        features = featurise(normalise(text))
        if not features:
            continue
        for stage, learner in zip(STAGES, learners, strict=True):
            target = labels.get(stage)
            if target is not None:
                learner.learn_one(features, target)
        count += 1
    return StageModel.from_learners(learners, version, model.learned + count)


def empty_model(version: str = "empty") -> StageModel:
    """A model that has learnt nothing (every probability 0.5)."""
    return StageModel([0.0] * N_STAGES, [{} for _ in STAGES], version)
