"""``wardstream duties --once`` against the real PostgreSQL, limited to a fresh tenant.

Only the tenant-scoped duties run here (evidence, audit), each with ``--tenant``:
the shared database's other tenants are not touched, and retention and expiry
(which would act on every tenant) are left to their own suites.
"""

from __future__ import annotations

import base64
import os

import psycopg
import pytest

from pipeline import cli
from pipeline.audit import store as audit_store
from tests.integration.conftest import MASTER_KEY, Tenant
from tests.integration.evidence_seed import INCIDENT, alert, user

pytestmark = pytest.mark.integration


@pytest.fixture
def duties_env(stack: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("WARDSTREAM_"):
            monkeypatch.delenv(name)
    for name, value in stack.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WARDSTREAM_PSEUDONYM_MASTER_KEY", MASTER_KEY)


def duties(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = cli.main(["duties", "--once", *args])
    return code, capsys.readouterr().out.splitlines()


@pytest.mark.usefixtures("duties_env")
def test_once_builds_the_evidence_package_of_a_new_alert(
        db: psycopg.Connection, tenant: Tenant, capsys: pytest.CaptureFixture[str]) -> None:
    alert_id = alert(db, tenant.tenant_id, user(tenant.tenant_id, "suspect"), INCIDENT)

    code, lines = duties(capsys, "--only", "evidence", "--tenant", tenant.tenant_id)
    assert (code, lines) == (0, ["evidence: built=1"])
    keys = db.execute("SELECT package_id FROM evidence.package_keys WHERE tenant_id = %s"
                      " AND trigger = 'alert' AND trigger_id = %s",
                      (tenant.tenant_id, alert_id)).fetchall()
    assert len(keys) == 1

    # Idempotent: a second round finds nothing pending.
    assert duties(capsys, "--only", "evidence", "--tenant", tenant.tenant_id) == (
        0, ["evidence: built=0"])


@pytest.mark.usefixtures("duties_env")
def test_once_signs_a_tree_head_for_a_tenant_whose_log_grew(
        db: psycopg.Connection, tenant: Tenant, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARDSTREAM_AUDIT_SIGNING_KEY",
                       base64.b64encode(os.urandom(32)).decode("ascii"))
    alert(db, tenant.tenant_id, user(tenant.tenant_id, "suspect"), INCIDENT)

    code, lines = duties(capsys, "--only", "evidence,audit", "--tenant", tenant.tenant_id)
    assert (code, lines) == (0, ["evidence: built=1", "audit: signed=1 failed=0"])
    heads = audit_store.tree_heads(db, tenant.tenant_id)
    assert len(heads) == 1
    assert heads[0][0].tree_size == audit_store.tree_size(db, tenant.tenant_id) > 0

    # The log has not grown since: nothing to sign.
    assert duties(capsys, "--only", "audit", "--tenant", tenant.tenant_id) == (
        0, ["audit: signed=0 failed=0"])
