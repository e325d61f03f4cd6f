"""Learning from moderation decisions: which messages teach what.

A ``confirmed_grooming`` decision makes the subject's recent messages whose
predicted probability of a stage is at or above ``threshold`` positive
examples of that stage (the reviewer confirmed the pattern the model saw);
a ``cleared`` decision makes the subject's recent messages negative examples
of every stage. Other decisions teach nothing. Privacy-mode messages (no
text) cannot teach the text model and are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from pipeline.detect.stages import STAGES
from pipeline.detect.text.model import StageModel, train

DEFAULT_THRESHOLD = 0.5


def select_examples(
    model: StageModel, texts: Iterable[str], label: str, threshold: float = DEFAULT_THRESHOLD
) -> list[tuple[str, Mapping[str, bool]]]:
    """The training examples a decision ``label`` makes of ``texts``."""
    examples: list[tuple[str, Mapping[str, bool]]] = []
    for text in texts:
        if not text:
            continue
        if label == "cleared":
            examples.append((text, dict.fromkeys(STAGES, False)))
        elif label == "confirmed_grooming":
            probabilities = model.predict(text)
            positives = {s: True for s, p in zip(STAGES, probabilities, strict=True)
                         if p >= threshold}
            if positives:
                examples.append((text, positives))
    return examples


def learn(
    model: StageModel, texts: Sequence[str], label: str, threshold: float = DEFAULT_THRESHOLD
) -> StageModel:
    """The model after learning from one decision about the author of ``texts``.

    Returns ``model`` itself when the decision teaches nothing; otherwise a new
    model whose version names how many examples it has learnt since its seed.
    """
    examples = select_examples(model, texts, label, threshold)
    if not examples:
        return model
    base = model.version.split("+", 1)[0]
    return train(model, examples, f"{base}+{model.learned + len(examples)}")
