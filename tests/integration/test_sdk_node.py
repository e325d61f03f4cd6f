"""The Node SDK's tests (sdk/node, ``node --test``) against a real API: this module
starts the API, makes a tenant, a key and a scored user, runs ``npm ci``, the build
and the tests, and then checks on the raw topic that the privacy-mode event carried
no text and the pipeline's own stage signals. Needs node and npm: without them this
fails (it does not skip)."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from pipeline.settings import Settings
from tests.integration.conftest import Tenant
from tests.integration.sdk_seed import (
    PRIVACY_TEXT,
    assert_private_record,
    raw_records,
    sdk_key,
    seed_user,
)

pytestmark = pytest.mark.integration

NODE_DIR = Path(__file__).resolve().parents[2] / "sdk" / "node"
MIN_TESTS = 80  # unit (vectors, signatures, retries, batching) and the API suite


def _run(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=NODE_DIR, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _summary(tap: str, name: str) -> int:
    found = re.search(rf"^# {name} (\d+)$", tap, re.MULTILINE)
    assert found, f"no '# {name}' line in node's TAP output:\n{tap[-3000:]}"
    return int(found.group(1))


def test_the_node_sdk_suite_passes_against_the_api(
    api: str, settings: Settings, raw_json_topic: str, db: psycopg.Connection, tenant: Tenant,
) -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("node and npm are needed for the Node SDK tests (Node 20+); install them")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    assert int(version.stdout.strip().lstrip("v").split(".")[0]) >= 20, version.stdout
    user = seed_user(db, tenant.tenant_id)
    privacy_id = f"node-privacy-{secrets.token_hex(6)}"
    env = {**os.environ, "WARDSTREAM_URL": api, "WARDSTREAM_KEY": sdk_key(db, tenant.tenant_id),
           "WARDSTREAM_TENANT": tenant.tenant_id, "WARDSTREAM_USER": user.raw_id,
           "WARDSTREAM_PSEUDONYM": user.pseudonym, "WARDSTREAM_PRIVACY_EVENT_ID": privacy_id,
           "WARDSTREAM_PRIVACY_TEXT": PRIVACY_TEXT}
    for step in ([npm, "ci", "--no-audit", "--no-fund"], [npm, "run", "build"]):
        done = _run(step, env, 600)
        assert done.returncode == 0, f"{' '.join(step)} failed:\n{done.stdout}\n{done.stderr}"
    tests = sorted(str(p.relative_to(NODE_DIR)) for p in (NODE_DIR / "test").glob("*.test.mjs"))
    done = _run([node, "--test", "--test-reporter=tap", *tests], env, 600)
    tap = done.stdout
    assert done.returncode == 0, f"node --test failed:\n{tap[-6000:]}\n{done.stderr[-2000:]}"
    assert _summary(tap, "fail") == 0 and _summary(tap, "skipped") == 0
    assert "# SKIP" not in tap, "a Node test was skipped (is WARDSTREAM_URL passed?)"
    assert _summary(tap, "pass") == _summary(tap, "tests") >= MIN_TESTS
    assert re.search(r"^ok \d+ - the Node SDK against the API$", tap, re.MULTILINE), tap[-3000:]

    records = raw_records(settings, raw_json_topic, tenant.tenant_id)
    [sent] = [r for r in records if r["event_id"] == privacy_id]
    assert_private_record(sent, PRIVACY_TEXT)
    assert not any(PRIVACY_TEXT in json.dumps(r) for r in records)
