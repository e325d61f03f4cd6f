"""The evidence module's pure parts import no database, stream or web framework."""

from __future__ import annotations

import subprocess
import sys

PURE = ["pipeline.evidence.policy", "pipeline.evidence.package", "pipeline.evidence.requests",
        "pipeline.evidence.errors"]
FORBIDDEN = ["faust", "aiokafka", "psycopg", "fastapi", "mode", "starlette"]


def test_pure_evidence_modules_import_no_io_framework() -> None:
    code = (
        "import importlib, sys\n"
        f"for m in {PURE!r}: importlib.import_module(m)\n"
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""
