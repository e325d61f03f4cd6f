"""The main job, small: `wardstream demo` runs end to end on the real stack."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.integration.conftest import MASTER_KEY, REPO

pytestmark = pytest.mark.integration


def test_demo_streams_stores_and_explains(stack: dict[str, str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDSTREAM_")}
    env.update(stack, WARDSTREAM_PSEUDONYM_MASTER_KEY=MASTER_KEY)
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "demo", "--users", "150", "--weeks", "3",
         "--seed", "8", "--timeout", "400"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=900,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr[-2000:] + out[-2000:]
    assert "[7/7] evaluation against the ground truth" in out
    assert "(202 Accepted)" in out
    assert "every event stored once" in out
    dead = out.split("dead letters:")[1].split("[6/7]")[0]
    assert "(record): not valid JSON" in dead
    assert "occurred_at: must be an RFC 3339 timestamp with an offset" in dead
    assert "tenant_id: is not a registered tenant" in dead
    flagged = int(re.search(r"(\d+) users reached the alert tier", out).group(1))
    packages = int(re.search(r"evidence preserved: (\d+) package", out).group(1))
    assert flagged > 0 and packages >= flagged  # at least one alert, so one package, each
    assert "word list" in out and "Where to look next" in out
