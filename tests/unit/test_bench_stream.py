"""wardstream bench stream: options are checked before anything starts; figures render."""

from __future__ import annotations

import pytest

from pipeline.bench.stream import StreamFigures, render
from pipeline.cli import main


@pytest.mark.parametrize(("argv", "named"), [
    (["--workers", "0"], "--workers"),
    (["--workers", "one"], "--workers"),
    (["--workers", "9"], "--workers"),
    (["--users", "0"], "--users"),
    (["--weeks", "99"], "--weeks"),
    (["--latency-seconds", "0"], "--latency-seconds"),
])
def test_bad_options_exit_2_naming_the_option(argv: list[str], named: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "stream", *argv]) == 2
    assert named in capsys.readouterr().err


def test_figures_render_rates_ratio_and_latency_percentiles() -> None:
    figures = StreamFigures(workers=2, events=10_000, seconds=4.0,
                            bare_events_per_second=50_000.0, latency_events=800,
                            score_ms=[float(ms) for ms in range(1, 101)],
                            alert_ms=[])
    text = render([figures])
    row = next(line for line in text.splitlines() if line.startswith("| 2 |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[3] == "1,250"            # 10,000 events / 4 s / 2 workers
    assert cells[5] == "0.050"            # 2,500 / 50,000
    assert cells[7] == "51 / 100 (100)"   # p50 and p99 of 1..100 ms
    assert cells[8] == "n/a / n/a (0)"
