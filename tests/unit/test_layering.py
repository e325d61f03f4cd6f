"""The detection core stays pure: no stream, database or web framework imports."""

from __future__ import annotations

import subprocess
import sys

PURE_MODULES = [
    "pipeline.contract",
    "pipeline.model",
    "pipeline.normalize",
    "pipeline.ingest",
    "pipeline.pseudonym",
    "pipeline.api.batch",
    "pipeline.api.read_params",
    "pipeline.pair_analysis",
]
FORBIDDEN = ["faust", "aiokafka", "psycopg", "fastapi", "mode", "starlette"]


def test_pure_modules_import_no_io_framework() -> None:
    optional = ["pipeline.detect", "pipeline.score", "pipeline.core", "pipeline.replay",
                "pipeline.simulate"]
    code = (
        "import importlib, importlib.util, sys\n"
        f"for m in {PURE_MODULES!r}: importlib.import_module(m)\n"
        f"for m in {optional!r}:\n"
        "    if importlib.util.find_spec(m) is not None: importlib.import_module(m)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""
