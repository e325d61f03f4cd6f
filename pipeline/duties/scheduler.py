"""A small deterministic scheduler: named jobs, each on its own interval, run one at a time.

A loop over a monotonic clock and a next-due time per job; no threads, no
dependency. Every job is due when the scheduler starts (a daily job must not
wait a day after each restart), then at ``due + k * interval``: a job that
overran, or a process that was suspended, runs once and not once per missed
interval. Due jobs run in due order, ties in the order they were given.

A job that raises is reported (its name, the exception's type and where it
was raised, never its message: messages can quote row values) and runs again
at its next interval; the other jobs go on. The stop event is checked between
jobs, so SIGTERM ends the loop once the running job has finished.

The clock and the wait are injected: tests drive the loop with a fake clock.
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

Counts = Mapping[str, int]
Clock = Callable[[], float]
Wait = Callable[[float], bool]  # wait up to this many seconds; True once stop is set


@dataclass(frozen=True, slots=True)
class Job:
    """A duty: ``run`` does one round and returns what it did as counts."""

    name: str
    interval: float
    run: Callable[[], Counts]

    def __post_init__(self) -> None:
        if not self.interval > 0:
            raise ValueError(f"job {self.name}: interval must be positive, not {self.interval}")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One run of one job: its counts, or the failure (exception type and place)."""

    job: str
    counts: Counts | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def line(self) -> str:
        """``evidence: built=2`` or ``evidence: failed (OperationalError at builder.py:93)``."""
        if self.error is not None:
            return f"{self.job}: failed ({self.error})"
        counts = self.counts or {}
        return f"{self.job}: " + (" ".join(f"{k}={v}" for k, v in counts.items()) or "done")


def describe_failure(exc: Exception) -> str:
    """The exception's type and the file and line it came from; no message, no values."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    last = frames[-1]
    return f"{type(exc).__name__} at {Path(last.filename).name}:{last.lineno}"


def run_job(job: Job) -> Outcome:
    """Run ``job`` once; a failure becomes an Outcome, never an escape."""
    try:
        return Outcome(job.name, counts=dict(job.run()))
    # A supervisor: any bug in one duty must not stop the others. BaseException
    # (KeyboardInterrupt, SystemExit) still propagates.
    except Exception as exc:  # noqa: BLE001
        return Outcome(job.name, error=describe_failure(exc))


class Scheduler:
    """Runs ``jobs`` when due; ``report`` is called with every outcome."""

    def __init__(self, jobs: Iterable[Job], *, clock: Clock = time.monotonic,
                 report: Callable[[Outcome], None] = lambda _: None) -> None:
        self._jobs = tuple(jobs)
        names = [job.name for job in self._jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names must be unique: {names}")
        self._clock = clock
        self._report = report
        start = clock()
        self._due = {job.name: start for job in self._jobs}

    @property
    def jobs(self) -> tuple[Job, ...]:
        return self._jobs

    def next_due(self, name: str) -> float:
        return self._due[name]

    def _due_now(self) -> list[Job]:
        now = self._clock()
        order = {job.name: index for index, job in enumerate(self._jobs)}
        due = [job for job in self._jobs if self._due[job.name] <= now]
        return sorted(due, key=lambda job: (self._due[job.name], order[job.name]))

    def _reschedule(self, job: Job) -> None:
        due, now = self._due[job.name], self._clock()
        missed = math.floor((now - due) / job.interval) if now > due else 0
        self._due[job.name] = due + (missed + 1) * job.interval

    def run_pending(self, stop: threading.Event | None = None) -> list[Outcome]:
        """Run every job that is due now (stopping early if ``stop`` is set between jobs)."""
        outcomes = []
        for job in self._due_now():
            if stop is not None and stop.is_set():
                break
            outcome = run_job(job)
            self._reschedule(job)
            self._report(outcome)
            outcomes.append(outcome)
        return outcomes

    def seconds_until_next(self) -> float:
        if not self._jobs:
            return math.inf
        return max(0.0, min(self._due.values()) - self._clock())

    def run_forever(self, stop: threading.Event, wait: Wait | None = None) -> None:
        """Run jobs as they fall due until ``stop`` is set (checked between jobs)."""
        wait = wait or stop.wait
        while not stop.is_set():
            self.run_pending(stop)
            if stop.is_set():
                return
            pause = self.seconds_until_next()
            if wait(pause if math.isfinite(pause) else 3600.0):
                return

    def run_all_once(self) -> list[Outcome]:
        """Every job once, in the order given (``--once``)."""
        outcomes = []
        for job in self._jobs:
            outcome = run_job(job)
            self._report(outcome)
            outcomes.append(outcome)
        return outcomes
