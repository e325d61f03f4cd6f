"""``wardstream replay EVENTS.jsonl --out DIR [--config FILE]`` (shared/spec/replay.md).

Reads events in the platform contract, one JSON object a line; every line is
either accepted or written to ``rejected.jsonl`` with its line number and
the reason (not JSON, not valid, a repeated ``(tenant_id, event_id)``).
Accepted events are pseudonymised with a fixed replay key, put in event-time
order (stable, so equal times keep file order) and run through the same
:class:`pipeline.core.Engine` the streaming workers' steps form. Output:
``scores.jsonl`` (one line per actor, by tenant and actor id),
``alerts.jsonl`` (in the order raised) and ``rejected.jsonl``, with raw ids
"as given" mapped back from the pseudonyms.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final

from pipeline.contract import parse_json, validate_event
from pipeline.core import Engine
from pipeline.detect.clock import to_rfc3339
from pipeline.detect.text.model import load_model
from pipeline.errors import ConfigError, InvalidRecord
from pipeline.model import NormalizedEvent
from pipeline.normalize import normalize
from pipeline.pseudonym import Pseudonymizer
from pipeline.score.config import load_config
from pipeline.score.risk import Alert, RiskState
from pipeline.score.tiers import tier_name

# Replay output maps pseudonyms back to raw ids, so the key only has to be
# fixed (the same run twice gives the same states), not secret.
REPLAY_KEY: Final = b"wardstream/replay/fixed-pseudonym-key/v1"
EXIT_OK: Final = 0
EXIT_CANNOT_RUN: Final = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("events", type=Path, metavar="EVENTS.jsonl",
                        help="events in the platform event contract, one JSON object a line")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="directory for scores.jsonl, alerts.jsonl and rejected.jsonl")
    parser.add_argument("--config", type=Path, default=None, metavar="FILE",
                        help="detection configuration (YAML); the shipped defaults otherwise")


def _dump(handle: IO[str], record: dict[str, Any]) -> None:
    handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")


def read_lines(handle: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """Numbered lines of a JSON Lines file, line endings removed."""
    for number, raw in enumerate(handle, start=1):
        yield number, raw.rstrip(b"\r\n") if raw.endswith(b"\n") else raw


class EventReader:
    """Accepts or rejects each line; remembers who the pseudonyms are.

    ``evaluate`` and ``bench`` read event files through this class too, so every
    tool applies the same contract, dedupe and pseudonymisation as replay.
    """

    def __init__(self, rejected: IO[str]) -> None:
        self.rejected = rejected
        self.pseudonyms = Pseudonymizer(REPLAY_KEY)
        self.raw_ids: dict[tuple[str, str], str] = {}
        self.first_line: dict[tuple[str, str], int] = {}
        self.events: list[NormalizedEvent] = []
        self.rejections = 0

    def reject(self, line: int, reason: str, errors: list[dict[str, str]]) -> None:
        self.rejections += 1
        _dump(self.rejected, {"line": line, "reason": reason, "errors": errors})

    def take(self, line: int, raw: bytes) -> None:
        if not raw.strip():
            self.reject(line, "(record): empty line",
                        [{"field": "(record)", "rule": "empty", "message": "empty line"}])
            return
        try:
            valid = validate_event(parse_json(raw))
        except InvalidRecord as exc:
            self.reject(line, str(exc), [e.as_dict() for e in exc.errors])
            return
        key = (valid.tenant_id, valid.event_id)
        first = self.first_line.get(key)
        if first is not None:
            message = f"repeats the event_id of line {first}; processed once"
            self.reject(line, f"event_id: {message}",
                        [{"field": "event_id", "rule": "duplicate", "message": message}])
            return
        self.first_line[key] = line
        event, identities = normalize(valid, self.pseudonyms, f"replay:{line}")
        for entry in identities:
            if entry.kind == "user":
                self.raw_ids.setdefault((entry.tenant_id, entry.pseudonym), entry.value)
        self.events.append(event)


def _score_record(tenant: str, actor_id: str, risk: RiskState | None) -> dict[str, Any]:
    if risk is None:
        risk = RiskState()
    alerted = risk.first_alert_at_us >= 0
    return {
        "tenant_id": tenant,
        "actor_id": actor_id,
        "score": risk.score,
        "tier": tier_name(risk.tier),
        "max_score": risk.max_score,
        "first_alert_at": to_rfc3339(risk.first_alert_at_us) if alerted else None,
        "first_alert_event_id": risk.first_alert_event_id if alerted else None,
        "top_signals": [d.to_record() for d in risk.max_drivers],
    }


def _alert_record(alert: Alert, actor_id: str) -> dict[str, Any]:
    return {
        "tenant_id": alert.tenant_id,
        "actor_id": actor_id,
        "tier": alert.tier,
        "score": alert.score,
        "raised_at": to_rfc3339(alert.raised_at_us),
        "event_id": alert.event_id,
        "explanation": alert.explanation,
    }


def _fail(message: str) -> int:
    print(f"wardstream replay: {message}", file=sys.stderr)
    return EXIT_CANNOT_RUN


def run(args: argparse.Namespace) -> int:
    """Run a replay; 0 when every line was processed or rejected, 2 when it cannot run."""
    try:
        config = load_config(args.config)
        model = load_model()
    except ConfigError as exc:
        return _fail(str(exc).replace("\n", " "))
    out: Path = args.out
    try:
        source = open(args.events, "rb")  # noqa: SIM115 - closed below, after checks
    except OSError as exc:
        return _fail(f"cannot read {args.events}: {exc.strerror}")
    with source:
        try:
            out.mkdir(parents=True, exist_ok=True)
            rejected = open(out / "rejected.jsonl", "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            return _fail(f"cannot write to {out}: {exc.strerror}")
        with rejected:
            reader = EventReader(rejected)
            for line, raw in read_lines(source):
                reader.take(line, raw)
    events = sorted(reader.events, key=lambda e: e.occurred_at_us)
    engine = Engine(config, model)
    alerts = engine.run(events)
    raw_ids = reader.raw_ids
    with open(out / "alerts.jsonl", "w", encoding="utf-8") as handle:
        for alert in alerts:
            _dump(handle, _alert_record(alert, raw_ids[(alert.tenant_id, alert.actor)]))
    actors = {(e.tenant_id, e.actor) for e in events}
    rows = sorted((tenant, raw_ids[(tenant, actor)], actor) for tenant, actor in actors)
    with open(out / "scores.jsonl", "w", encoding="utf-8") as handle:
        for tenant, actor_id, actor in rows:
            _dump(handle, _score_record(tenant, actor_id, engine.risks.get(actor)))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wardstream replay", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
