"""Linguistic features: text normalisation and the online stage model.

``normalise`` undoes the usual tricks to slip past filters (leetspeak,
spaced-out letters, stretched words); ``StageModel`` estimates per-message
probabilities of the grooming stages in ``pipeline.detect.stages``. The model
is a set of ``river`` logistic regressions over hashed word and character
n-grams, started from a seed model built by ``python -m
pipeline.detect.text.train_seed`` and updated by ``learn`` from moderation
decisions.
"""

from pipeline.detect.text.learning import learn, select_examples
from pipeline.detect.text.model import SEED_MODEL_PATH, StageModel, load_model
from pipeline.detect.text.normalise import normalise

__all__ = ["SEED_MODEL_PATH", "StageModel", "learn", "load_model", "normalise", "select_examples"]
