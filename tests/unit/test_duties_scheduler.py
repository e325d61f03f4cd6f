"""The duties scheduler with a fake clock and fake jobs: due times, isolation, stopping."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest

from pipeline.duties.command import _log_outcome
from pipeline.duties.scheduler import Counts, Job, Outcome, Scheduler, run_job


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0  # monotonic clocks do not start at zero

    def __call__(self) -> float:
        return self.now


def recorder(clock: FakeClock, calls: list[tuple[str, float]], name: str,
             cost: float = 0.0) -> Callable[[], Counts]:
    def run() -> Counts:
        calls.append((name, clock.now - 1000.0))
        clock.now += cost
        return {"done": 1}
    return run


def run_for(scheduler: Scheduler, clock: FakeClock, seconds: float) -> threading.Event:
    """Drive ``run_forever`` with a wait that advances the fake clock, until ``seconds``."""
    stop = threading.Event()
    end = clock.now + seconds

    def wait(pause: float) -> bool:
        clock.now += pause
        if clock.now > end:
            stop.set()
        return stop.is_set()

    scheduler.run_forever(stop, wait)
    return stop


def test_each_job_runs_at_start_then_on_its_own_interval() -> None:
    clock, calls = FakeClock(), []
    jobs = [Job("slow", 5, recorder(clock, calls, "slow")),
            Job("fast", 2, recorder(clock, calls, "fast"))]
    run_for(Scheduler(jobs, clock=clock), clock, 10)
    assert [t for name, t in calls if name == "slow"] == [0, 5, 10]
    assert [t for name, t in calls if name == "fast"] == [0, 2, 4, 6, 8, 10]
    # Same due time: the order given; otherwise due order.
    assert calls[:2] == [("slow", 0), ("fast", 0)]


def test_an_overrunning_job_runs_once_not_once_per_missed_interval() -> None:
    clock, calls = FakeClock(), []
    scheduler = Scheduler([Job("long", 5, recorder(clock, calls, "long", cost=12))], clock=clock)
    scheduler.run_pending()
    # Ran 0..12: the runs due at 5 and 10 collapse into one at 15 (phase kept).
    assert scheduler.next_due("long") == 1015.0
    run_for(scheduler, clock, 10)   # until 22: one more run, at 15 (and done at 27)
    assert [t for _, t in calls] == [0, 15]
    assert scheduler.next_due("long") == 1030.0


def test_a_failing_job_is_reported_and_retried_at_its_interval_while_others_run() -> None:
    clock, calls, outcomes = FakeClock(), [], []

    def broken() -> Counts:
        calls.append(("broken", clock.now - 1000.0))
        raise KeyError("user-4711")

    jobs = [Job("broken", 3, broken), Job("fine", 2, recorder(clock, calls, "fine"))]
    run_for(Scheduler(jobs, clock=clock, report=outcomes.append), clock, 6)
    assert [t for name, t in calls if name == "broken"] == [0, 3, 6]   # not a hot loop
    assert [t for name, t in calls if name == "fine"] == [0, 2, 4, 6]
    failed = [o for o in outcomes if o.failed]
    assert len(failed) == 3
    assert failed[0].error is not None
    assert failed[0].error.startswith("KeyError at test_duties_scheduler.py:")
    assert "user-4711" not in failed[0].line()


def test_failure_log_names_job_and_type_but_not_the_message(
        caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> Counts:
        raise ValueError("actor pseudonym 9f8e7d")

    caplog.set_level(logging.DEBUG, logger="pipeline.duties")
    Scheduler([Job("evidence", 5, broken)], report=_log_outcome).run_all_once()
    assert "duty evidence failed (ValueError at " in caplog.text
    assert "9f8e7d" not in caplog.text


def test_stop_is_honoured_between_jobs() -> None:
    clock, calls = FakeClock(), []
    stop = threading.Event()

    def stopper() -> Counts:
        calls.append(("stopper", 0.0))
        stop.set()  # SIGTERM arrives while this job runs
        return {}

    jobs = [Job("stopper", 5, stopper), Job("next", 5, recorder(clock, calls, "next"))]
    waits: list[float] = []
    Scheduler(jobs, clock=clock).run_forever(stop, lambda s: waits.append(s) or stop.is_set())
    assert calls == [("stopper", 0.0)]   # the running job finished; the next did not start
    assert waits == []                   # and the loop did not wait for the next round


def test_stop_set_during_a_wait_ends_the_loop() -> None:
    clock, calls = FakeClock(), []
    stop = threading.Event()

    def wait(pause: float) -> bool:
        stop.set()
        return True

    Scheduler([Job("a", 5, recorder(clock, calls, "a"))], clock=clock).run_forever(stop, wait)
    assert calls == [("a", 0.0)]


def test_run_all_once_runs_every_job_once_in_order_despite_failures() -> None:
    def broken() -> Counts:
        raise RuntimeError("boom")

    outcomes = Scheduler([Job("evidence", 5, lambda: {"built": 2}),
                          Job("audit", 600, broken),
                          Job("expire", 3600, lambda: {"destroyed": 0})]).run_all_once()
    lines = [o.line() for o in outcomes]
    assert lines[0] == "evidence: built=2"
    assert lines[1].startswith("audit: failed (RuntimeError at test_duties_scheduler.py:")
    assert lines[2] == "expire: destroyed=0"


def test_jobs_are_checked() -> None:
    with pytest.raises(ValueError, match="interval must be positive"):
        Job("a", 0, dict)
    with pytest.raises(ValueError, match="unique"):
        Scheduler([Job("a", 1, dict), Job("a", 2, dict)])


def test_run_job_lets_keyboard_interrupt_through() -> None:
    def interrupted() -> Counts:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_job(Job("a", 1, interrupted))


def test_outcome_line_without_counts() -> None:
    assert Outcome("audit", counts={}).line() == "audit: done"
