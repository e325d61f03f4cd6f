"""Audit records and their leaf encoding: canonical, deterministic, free of personal data.

A leaf is canonical JSON (sorted keys, no spaces, ASCII only, integers but no
floats) of one record: tenant, sequence number, record id, kind, when, who
acted (a pseudonym or a named system component) and non-personal details.
Anything personal (whom a decision was about, a reviewer's note, a report
reference) enters only as a salted commitment ``SHA-256(salt || value)``; the
salt and value live in an erasable table, so erasing them leaves the leaf,
and every proof over it, intact while the value can no longer be confirmed
by anyone. Changing this encoding changes every hash: add a new ``v`` instead.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal, get_args

from pipeline.audit import merkle
from pipeline.audit.errors import InvalidAuditRecord
from pipeline.pseudonym import KIND_PREFIX

LEAF_VERSION: Final = 1
SALT_BYTES: Final = 32
MAX_DETAILS: Final = 32
MAX_PERSONAL: Final = 16
MAX_PERSONAL_VALUE_BYTES: Final = 16 * 1024
_INT_LIMIT: Final = 2**63  # what JSON readers in other languages keep exactly as well

# New kinds go at the end; a kind's meaning never changes (it is part of every leaf).
Kind = Literal[
    "tier_change", "alert", "decision", "model_deployment", "fairness_evaluation",
    "evidence_access", "report", "erasure", "export",
    "evidence_built", "evidence_hold", "evidence_release", "evidence_extend",
]
KINDS: Final[tuple[str, ...]] = get_args(Kind)
DetailValue = str | int | bool | None

TENANT_RE: Final = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_PSEUDONYM_RE: Final = re.compile(rf"^[{''.join(sorted(KIND_PREFIX.values()))}]_[a-z2-7]{{26}}$")
_SYSTEM_RE: Final = re.compile(r"^system:[a-z][a-z0-9_.-]{0,62}$")
_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Detail strings are short tokens (ids, tier names, versions, figures as text):
# no spaces, so no message text; no "@", so no email addresses.
_TOKEN_RE: Final = re.compile(r"^[A-Za-z0-9_.:/+=-]{0,128}$")


@dataclass(frozen=True)
class AuditRecord:
    """What happened, before it has a place in the log.

    ``record_id`` is deterministic (an alert id, a decision id): appending the
    same id twice keeps the first, so a replayed stream adds nothing.
    ``details`` must be non-personal; ``personal`` values are committed.
    """

    record_id: str
    kind: Kind
    occurred_at: datetime
    actor: str
    details: Mapping[str, DetailValue] = field(default_factory=dict)
    personal: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_token("record_id", self.record_id, min_length=1)
        if self.kind not in KINDS:
            raise InvalidAuditRecord("kind", f"must be one of {', '.join(KINDS)}")
        if self.occurred_at.utcoffset() is None:
            raise InvalidAuditRecord("occurred_at", "must carry a time zone")
        if not (_PSEUDONYM_RE.match(self.actor) or _SYSTEM_RE.match(self.actor)):
            raise InvalidAuditRecord(
                "actor", "must be a pseudonym (u_...) or system:<component>, never a raw id")
        _check_details(self.details)
        _check_personal(self.personal, self.details)


@dataclass(frozen=True)
class Commitment:
    """One personal value's salt and digest; the salt row is what erasure deletes."""

    name: str
    salt: bytes
    value: str
    digest: bytes


@dataclass(frozen=True)
class SealedLeaf:
    tenant: str
    seq: int
    leaf: bytes
    leaf_hash: bytes
    commitments: tuple[Commitment, ...]


def commit(salt: bytes, value: str) -> bytes:
    """SHA-256(salt || UTF-8 value); the salt has a fixed length, so the split is unambiguous."""
    if len(salt) != SALT_BYTES:
        raise ValueError(f"a commitment salt is {SALT_BYTES} bytes")
    return hashlib.sha256(salt + value.encode("utf-8")).digest()


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """The one serialisation that is hashed and signed."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def format_time(moment: datetime) -> str:
    """UTC, always with microseconds, so one instant has one spelling."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seal(
    tenant: str,
    seq: int,
    record: AuditRecord,
    salt_source: Callable[[int], bytes] = secrets.token_bytes,
) -> SealedLeaf:
    """The leaf of ``record`` at ``seq`` in ``tenant``'s log, with fresh commitments."""
    if not TENANT_RE.match(tenant):
        raise InvalidAuditRecord("tenant", "must be 1..64 characters of [A-Za-z0-9_.-]")
    if not 0 <= seq < _INT_LIMIT:
        raise InvalidAuditRecord("seq", "must be a non-negative 63-bit integer")
    commitments = []
    for name in sorted(record.personal):
        salt = salt_source(SALT_BYTES)
        value = record.personal[name]
        commitments.append(Commitment(name, salt, value, commit(salt, value)))
    leaf = canonical_json({
        "v": LEAF_VERSION,
        "tenant": tenant,
        "seq": seq,
        "record_id": record.record_id,
        "kind": record.kind,
        "occurred_at": format_time(record.occurred_at),
        "actor": record.actor,
        "details": dict(record.details),
        "commitments": {c.name: c.digest.hex() for c in commitments},
    })
    return SealedLeaf(tenant, seq, leaf, merkle.leaf_hash(leaf), tuple(commitments))


def _check_token(name: str, value: object, min_length: int = 0) -> None:
    if not isinstance(value, str) or not _TOKEN_RE.match(value) or len(value) < min_length:
        raise InvalidAuditRecord(
            name, f"must be a token of {min_length}..128 characters of [A-Za-z0-9_.:/+=-]")
    if _looks_like_ip(value):
        raise InvalidAuditRecord(name, "looks like an IP address; commit it under personal")


def _looks_like_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _check_details(details: Mapping[str, DetailValue]) -> None:
    if len(details) > MAX_DETAILS:
        raise InvalidAuditRecord("details", f"at most {MAX_DETAILS} entries")
    for name, value in details.items():
        where = f"details.{name}"
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise InvalidAuditRecord(where, "names are snake_case, 1..63 characters")
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, int):
            if not -_INT_LIMIT < value < _INT_LIMIT:
                raise InvalidAuditRecord(where, "integers must fit in 63 bits")
            continue
        if isinstance(value, float):
            raise InvalidAuditRecord(where, "no floats: give a decimal string or an integer")
        _check_token(where, value)


def _check_personal(personal: Mapping[str, str], details: Mapping[str, DetailValue]) -> None:
    if len(personal) > MAX_PERSONAL:
        raise InvalidAuditRecord("personal", f"at most {MAX_PERSONAL} entries")
    for name, value in personal.items():
        where = f"personal.{name}"
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise InvalidAuditRecord(where, "names are snake_case, 1..63 characters")
        if name in details:
            raise InvalidAuditRecord(where, "is also in details")
        if not isinstance(value, str):
            raise InvalidAuditRecord(where, "must be a string")
        if len(value.encode("utf-8", "surrogatepass")) > MAX_PERSONAL_VALUE_BYTES:
            raise InvalidAuditRecord(where, f"at most {MAX_PERSONAL_VALUE_BYTES} bytes")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidAuditRecord(where, "must be valid Unicode text") from None
