"""The submission's state machine: which state may follow which, and what each state does next.

Pure: the run (pipeline/ncmec/submission.py) asks :func:`next_step` what to do,
does it, and records the new state through :func:`check_transition`. The
diagram is in docs/ncmec.md and in migration 0006.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

State = Literal["built", "submitting", "submitted", "files_uploaded", "finished",
                "retracting", "retracted", "failed", "needs_reconciliation"]
STATES: Final[tuple[str, ...]] = get_args(State)
FINAL: Final[frozenset[str]] = frozenset({"finished", "retracted", "failed"})

Step = Literal["submit", "upload_files", "finish", "retract", "reconcile", "done"]

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "built": frozenset({"submitting"}),
    # submitted: NCMEC gave a report id; built: it certainly did not file it (5xx,
    # no connection) and we may try again; needs_reconciliation: it may have.
    "submitting": frozenset({"submitted", "built", "needs_reconciliation", "failed"}),
    "submitted": frozenset({"files_uploaded", "retracting"}),
    "files_uploaded": frozenset({"finished", "retracting"}),
    # finished: NCMEC says the report was already finished (a finish whose answer was lost).
    "retracting": frozenset({"retracted", "finished", "failed"}),
    "needs_reconciliation": frozenset({"submitted", "built"}),
    "finished": frozenset(),
    "retracted": frozenset(),
    "failed": frozenset(),
}

_NEXT: Final[dict[str, Step]] = {
    "built": "submit",
    # Found on start: a previous run died between sending submit and storing the
    # answer. Never re-submit from here; an operator reconciles.
    "submitting": "reconcile",
    "needs_reconciliation": "reconcile",
    "submitted": "upload_files",
    "files_uploaded": "finish",
    "retracting": "retract",
    "finished": "done",
    "retracted": "done",
    "failed": "done",
}


class IllegalTransition(ValueError):
    """A bug: the run tried to move a report along an edge the diagram does not have."""


def check_transition(current: str, new: str) -> None:
    if new not in TRANSITIONS.get(current, frozenset()):
        raise IllegalTransition(f"a report cannot go from {current} to {new}")


def next_step(state: str) -> Step:
    if state not in _NEXT:
        raise IllegalTransition(f"unknown state {state!r}")
    return _NEXT[state]
