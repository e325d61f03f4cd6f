"""``wardstream export``: refusals that need no database (exit 2, the option named)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli import main


def _run(tmp_path: Path, *args: str) -> int:
    return main(["export", *args, "--out", str(tmp_path / "out.json")])


@pytest.mark.parametrize(("args", "named"), [
    (["dsa", "--tenant", "acme", "--from", "2026-13-01", "--to", "2026-12-31"], "--from:"),
    (["transparency", "--tenant", "acme", "--from", "2026-02-01", "--to", "2026-01-01"],
     "--to: must not be before from"),
    (["osa", "--tenant", "acme", "--from", "2020-01-01", "--to", "2026-01-01"], "--to:"),
    (["dsa", "--tenant", "a b", "--from", "2026-01-01", "--to", "2026-01-02"], "--tenant:"),
])
def test_bad_options_exit_2_naming_the_option(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              args: list[str], named: str) -> None:
    assert _run(tmp_path, *args) == 2
    assert named in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()


def test_unknown_kind_and_format_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        _run(tmp_path, "gdpr", "--tenant", "acme", "--from", "2026-01-01", "--to", "2026-01-02")
    assert caught.value.code == 2
    with pytest.raises(SystemExit) as caught:
        _run(tmp_path, "dsa", "--tenant", "acme", "--from", "2026-01-01", "--to", "2026-01-02",
             "--format", "pdf")
    assert caught.value.code == 2
