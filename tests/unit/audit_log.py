"""An audit log built in memory with the pure functions, for the audit tests."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.audit import merkle
from pipeline.audit.export import export_document
from pipeline.audit.records import AuditRecord, seal
from pipeline.audit.signing import TreeHead, public_key_bytes, sign_tree_head, signing_key

SEED = bytes(range(32))
KEY = signing_key(SEED)
PUBLIC_KEY = public_key_bytes(KEY)
PUBLIC_KEY_B64 = base64.b64encode(PUBLIC_KEY).decode()
TENANT = "acme"
START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
KINDS = ("alert", "tier_change", "decision", "evidence_access", "report", "erasure")


def fixed_salts() -> Any:
    counter = iter(range(10**6))
    return lambda size: next(counter).to_bytes(size, "big")


def record(i: int, kind: str | None = None) -> AuditRecord:
    return AuditRecord(
        record_id=f"rec-{i}",
        kind=kind or KINDS[i % len(KINDS)],  # type: ignore[arg-type]
        occurred_at=START + timedelta(minutes=i),
        actor="system:risk" if i % 2 else "u_" + "a" * 26,
        details={"tier": "high", "score_x100": 7125 + i, "reviewed": i % 3 == 0},
        personal={"subject": f"u_{'b' * 25}{i % 10}"},
    )


def leaves(n: int, tenant: str = TENANT) -> list[bytes]:
    salts = fixed_salts()
    return [seal(tenant, i, record(i), salts).leaf for i in range(n)]


def head(leaf_list: list[bytes], size: int, stamp: int, tenant: str = TENANT) -> TreeHead:
    root = merkle.root([merkle.leaf_hash(x) for x in leaf_list[:size]])
    return sign_tree_head(KEY, tenant, size, root, stamp)


def build(n: int = 8, sizes: tuple[int, ...] = (3, 5, 8)) -> dict[str, Any]:
    """An honest export: ``n`` records and a head at each of ``sizes``."""
    leaf_list = leaves(n)
    heads = [head(leaf_list, size, 1_740_830_400_000 + 1000 * i) for i, size in enumerate(sizes)]
    return export_document(TENANT, PUBLIC_KEY, leaf_list, heads)
