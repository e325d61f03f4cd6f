"""``wardstream evaluate``: how well detection finds the known groomers, beside a word list.

Give it an events file and its ground truth (``wardstream simulate`` writes
both), or a simulator seed to generate them in memory. It replays the events
three times (all signals, behaviour only, text only) and runs the word-list
baseline on the same events, then prints the metrics side by side, checks the
issue's targets, and optionally writes everything as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.evaluate.baseline import word_list_predictions
from pipeline.evaluate.metrics import Report, evaluate, messages_towards_victims
from pipeline.evaluate.runs import ABLATIONS, ablated, detect
from pipeline.evaluate.table import render, target_checks
from pipeline.model import NormalizedEvent
from pipeline.replay import EventReader, read_lines
from pipeline.score.config import load_config

EXIT_OK = 0
EXIT_TARGET_MISSED = 1
EXIT_CANNOT_RUN = 2


@dataclass
class Dataset:
    raw_events: list[dict[str, Any]]
    events: list[NormalizedEvent]
    raw_ids: dict[tuple[str, str], str]
    truth: list[dict[str, Any]]
    rejected: int
    label: str


class _NullText:
    def write(self, _: str) -> int:
        return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_argument_group("data (either files or a simulator seed)")
    source.add_argument("--events", type=Path, help="events in the contract, JSON Lines")
    source.add_argument("--truth", type=Path, help="ground truth from wardstream simulate")
    source.add_argument("--seed", type=int, help="simulate this seed in memory instead")
    source.add_argument("--users", type=int, default=2000)
    source.add_argument("--weeks", type=int, default=6)
    parser.add_argument("--config", type=Path, help="detection configuration (YAML)")
    parser.add_argument("--json", type=Path, dest="json_out", help="also write results here")
    parser.add_argument("--check-targets", action="store_true",
                        help="exit 1 when a target of the detection issue is missed")


def _load(args: argparse.Namespace) -> Dataset:
    reader = EventReader(_NullText())  # type: ignore[arg-type]
    raw_events: list[dict[str, Any]] = []
    if args.seed is not None:
        from pipeline.simulate import SimulationConfig, simulate

        result = simulate(SimulationConfig(seed=args.seed, users=args.users, weeks=args.weeks))
        for number, event in enumerate(result.events, start=1):
            raw_events.append(event)
            reader.take(number, json.dumps(event).encode())
        truth = result.truth
        label = f"simulator seed {args.seed} ({args.users} users, {args.weeks} weeks)"
    else:
        if args.events is None or args.truth is None:
            raise ConfigError("give --events and --truth, or --seed")
        with args.events.open("rb") as handle:
            for number, raw in read_lines(handle):
                reader.take(number, raw)
                if raw.strip():
                    try:
                        raw_events.append(json.loads(raw))
                    except ValueError:
                        continue
        with args.truth.open(encoding="utf-8") as handle:
            truth = [json.loads(line) for line in handle if line.strip()]
        label = str(args.events)
    events = sorted(reader.events, key=lambda e: e.occurred_at_us)
    return Dataset(raw_events, events, reader.raw_ids, truth, reader.rejections, label)


def evaluate_dataset(data: Dataset, config_path: Path | None) -> dict[str, Report]:
    from pipeline.detect.text.model import load_model

    config = load_config(config_path)
    model = load_model()
    sent = messages_towards_victims(data.raw_events, data.truth)
    reports = {
        run: evaluate(detect(data.events, data.raw_ids, ablated(config, run), model),
                      data.truth, sent)
        for run in ABLATIONS
    }
    reports["word list"] = evaluate(word_list_predictions(data.raw_events), data.truth, sent)
    return reports


def run(args: argparse.Namespace) -> int:
    try:
        data = _load(args)
        reports = evaluate_dataset(data, args.config)
    except ConfigError as exc:
        print(f"wardstream evaluate: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except OSError as exc:
        print(f"wardstream evaluate: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    checks = target_checks(reports)
    print(render(data.label, len(data.raw_events), data.rejected, data.truth, reports, checks))
    if args.json_out is not None:
        document = {
            "data": data.label,
            "events": len(data.raw_events),
            "rejected": data.rejected,
            "runs": {name: report.as_dict() for name, report in reports.items()},
            "targets": [{"target": t, "value": v, "met": ok} for t, v, ok in checks],
        }
        args.json_out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    if args.check_targets and not all(ok for _, _, ok in checks):
        return EXIT_TARGET_MISSED
    return EXIT_OK
