"""``wardstream duties``: the periodic duties in one process, beside the workers and the API.

    wardstream duties                          # until SIGTERM / Ctrl-C
    wardstream duties --once                   # each duty once, a summary line each
    wardstream duties --once --only evidence --tenant t-1

Duties and default intervals (``WARDSTREAM_DUTIES_<DUTY>_SECONDS``): evidence
5 s, webhooks 2 s, audit 600 s, expire 3600 s, retention 86400 s; see
docs/duties.md. Exit codes: 0 done or stopped, 1 a duty failed in ``--once``,
2 configuration or usage (the message names the setting or option).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Final

from pipeline.duties.config import DUTIES, TENANT_SCOPED, load_duties_settings, parse_only
from pipeline.duties.scheduler import Outcome, Scheduler
from pipeline.errors import ConfigError

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_CANNOT_RUN: Final = 2

log = logging.getLogger("pipeline.duties")


def _only(text: str) -> tuple[str, ...]:
    try:
        return parse_only(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true",
                        help="run each duty once, print a summary line per duty, exit")
    parser.add_argument("--only", type=_only, metavar="DUTY[,DUTY...]",
                        help=f"run only these duties (of {', '.join(DUTIES)})")
    parser.add_argument("--tenant", action="append", dest="tenants", metavar="TENANT",
                        help="only this tenant (repeatable); for the duties "
                             f"{', '.join(d for d in DUTIES if d in TENANT_SCOPED)} only")


def _say(message: str) -> None:
    print(f"wardstream duties: {message}", file=sys.stderr, flush=True)


def check_tenant_scope(selected: tuple[str, ...], tenants: list[str] | None) -> None:
    """``--tenant`` with a duty that works on every tenant is a usage error, not a surprise."""
    if not tenants:
        return
    unscoped = [duty for duty in selected if duty not in TENANT_SCOPED]
    if unscoped:
        raise ConfigError(
            f"--tenant: {', '.join(unscoped)} cannot be limited to a tenant; add --only "
            f"with some of {', '.join(d for d in DUTIES if d in TENANT_SCOPED)}")


def _log_outcome(outcome: Outcome) -> None:
    if outcome.failed:
        log.error("duty %s failed (%s); retried at its next interval", outcome.job,
                  outcome.error)
    elif any((outcome.counts or {}).values()):
        log.info("duty %s", outcome.line())
    else:
        log.debug("duty %s", outcome.line())


def run(args: argparse.Namespace) -> int:
    from pipeline.duties.jobs import ROUNDS_PER_RUN, Database, plan_duties
    from pipeline.settings import load_settings

    selected: tuple[str, ...] = args.only or DUTIES
    stop = threading.Event()
    try:
        check_tenant_scope(selected, args.tenants)
        settings = load_settings()
        intervals = load_duties_settings()
        logging.basicConfig(level=settings.log_level,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        db = Database(settings.pg_dsn.get_secret_value())
        plan = plan_duties(selected, settings, intervals, db, stop, tenants=args.tenants,
                           required=args.only is not None,
                           max_rounds=None if args.once else ROUNDS_PER_RUN)
    except ConfigError as exc:
        _say(f"configuration: {exc}")
        return EXIT_CANNOT_RUN
    try:
        if args.once:
            for duty, why in plan.off:
                print(f"{duty}: off ({why})", flush=True)
            outcomes = Scheduler(plan.jobs, report=_log_outcome).run_all_once()
            for outcome in outcomes:
                print(outcome.line(), flush=True)
            return EXIT_FAILED if any(o.failed for o in outcomes) else EXIT_OK
        for duty, why in plan.off:
            log.warning("duty %s is off: %s", duty, why)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        log.info("duties: %s", ", ".join(f"{job.name} every {job.interval:g}s"
                                         for job in plan.jobs) or "none to run")
        Scheduler(plan.jobs, report=_log_outcome).run_forever(stop)
        log.info("duties: stopped")
        return EXIT_OK
    finally:
        plan.close()
        db.close()
