"""Platform-integration request bodies mapped onto the event contract (pure, no HTTP).

The contract (shared/spec/events.md) stays the one source of validation: a
mapper checks only what the contract cannot see (the request's own unknown
fields, numeric timestamps, metadata shapes, ids that map nowhere), builds
contract events, and returns them in a :class:`Mapped` whose ``renames`` turn
a contract field named in a later validation error back into the request's
own field, so a caller always reads the names it sent.

- :func:`decision`: ``POST /v1/decisions`` -> one ``moderation`` event;
- :func:`compat_message`: ``POST /api/v1/events/message`` -> one ``message`` event;
- :func:`client_event`: the client library's ``POST /v1/events`` body -> one
  event, plus a ``profile`` event per recipient whose age band or time zone
  its metadata names;
- :func:`report_request`: ``POST /api/v1/reports/generate``'s body, checked.

docs/integration.md has the mapping tables.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from pipeline.contract.fields import Checker, Choice, Text, wrong_type
from pipeline.contract.spec import AGE_BANDS, DECISIONS, USER_ID
from pipeline.errors import FieldError, InvalidRecord

IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY: Final = 255
# Decisions that settle a review item; "escalated" hands it on and leaves it open.
CLOSING_DECISIONS: Final = frozenset(DECISIONS) - {"escalated"}
CLIENT_EVENT_TYPES: Final = ("message", "image", "friend_request", "gift", "profile_change",
                             "voice_clip")
# Client-library event type -> contract type. The contract has no image without a file
# hash, no voice clip and no gift: they reach the pair as messages (their text, if any,
# kept), so they count as contact; a friend request is a contact request.
CLIENT_TYPE_MAP: Final[Mapping[str, str]] = {
    "message": "message",
    "image": "message",
    "gift": "message",
    "voice_clip": "message",
    "friend_request": "contact",
    "profile_change": "profile",
}
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e][\x20-\x7e]*")
# Unix times at or above this are milliseconds (as seconds it would be year 5138).
_MILLIS_FROM = 100_000_000_000
_ALERT_ID = Text(1, 128)
_ID = Text(1, 256)
_EVENT_ID_ROOM = 120  # a derived recipient-profile id appends ".p<index>" (<= 128 chars)


@dataclass(frozen=True)
class Mapped:
    """Contract events built from one request, and how to name their fields back.

    ``renames[i]`` maps a contract field of ``events[i]`` to the request's field;
    a field not in it keeps its name.
    """

    events: list[dict[str, Any]]
    renames: list[dict[str, str]] = field(default_factory=list)

    def request_field(self, index: int, contract_field: str) -> str:
        names = self.renames[index] if index < len(self.renames) else {}
        cut = min((i for i in (contract_field.find("["), contract_field.find("."))
                   if i >= 0), default=len(contract_field))
        head, rest = contract_field[:cut], contract_field[cut:]
        return names[head] + rest if head in names else contract_field

    def request_errors(self, items: Iterable[Mapping[str, Any]]) -> list[FieldError]:
        """Errors of a rejected batch (``index``, ``field``, ``rule``, ``message``) in
        the request's names, each (field, rule) once."""
        seen: set[tuple[str, str]] = set()
        errors: list[FieldError] = []
        for item in items:
            name = self.request_field(int(item.get("index", 0)), str(item["field"]))
            if (name, item["rule"]) not in seen:
                seen.add((name, item["rule"]))
                errors.append(FieldError(name, str(item["rule"]), str(item["message"])))
        return errors


@dataclass(frozen=True)
class DecisionRequest:
    mapped: Mapped
    alert_id: str | None


@dataclass(frozen=True)
class ClientEvent:
    """The client library's body: its claimed tenant and the events it maps to."""

    tenant_id: str
    mapped: Mapped


@dataclass(frozen=True)
class ReportRequest:
    session_id: str
    confirmed_by: str


def idempotent_event_id(tenant_id: str, purpose: str, key: str) -> str:
    """The event id a client's idempotency key stands for: the same key of the same
    tenant for the same purpose always gives the same id, so a retry is a duplicate."""
    material = f"{len(tenant_id)}:{tenant_id}|{purpose}|{key}".encode()
    return f"{purpose}-{hashlib.sha256(material).hexdigest()[:40]}"


def idempotency_key(value: str | None) -> str | None:
    """The ``Idempotency-Key`` header's value, checked (None when absent)."""
    if value is None:
        return None
    if not 1 <= len(value) <= MAX_IDEMPOTENCY_KEY or not _PRINTABLE_ASCII.fullmatch(value):
        raise InvalidRecord([FieldError(
            IDEMPOTENCY_HEADER, "format",
            f"must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters")])
    return value


def is_client_library_shape(body: Any) -> bool:
    """True for the client library's event body: ``idempotency_key`` and ``event_type``
    and no contract ``type`` (a contract event always has ``type``)."""
    return (isinstance(body, dict) and "idempotency_key" in body and "event_type" in body
            and "type" not in body)


def _object(body: Any, path: str = "(body)") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidRecord([wrong_type(path, "a JSON object", body)])
    return body


def _unknown(body: Mapping[str, Any], allowed: Iterable[str], prefix: str = "") -> Iterator[
        FieldError]:
    known = set(allowed)
    for name in body:
        if name not in known:
            shown = name if len(name) <= 64 else name[:64] + "…"
            yield FieldError(prefix + shown, "unknown_field", "is not a field here")


def _checked(value: Any, checker: Checker, path: str, required: bool) -> Iterator[FieldError]:
    if value is None:
        if required:
            yield FieldError(path, "required", "is required")
        return
    yield from checker.check(value, path)


def _time(value: Any, path: str, errors: list[FieldError]) -> Any:
    """A request time as the contract's RFC 3339 text: strings pass through (the contract
    checks them), Unix seconds or milliseconds become UTC text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    seconds = value / 1000 if abs(value) >= _MILLIS_FROM else value
    try:
        if not math.isfinite(seconds):
            raise ValueError(seconds)
        return datetime.fromtimestamp(seconds, UTC).isoformat()
    except (ValueError, OverflowError, OSError):
        errors.append(FieldError(path, "out_of_range", "is not a representable Unix time"))
        return None


def _raise(errors: list[FieldError]) -> None:
    if errors:
        raise InvalidRecord(errors)


# --- POST /v1/decisions -----------------------------------------------------------------------

_DECISION_FIELDS = ("subject", "decision", "reviewer", "alert_id", "note", "occurred_at")


def decision(body: Any, *, tenant_id: str, event_id: str, now: datetime) -> DecisionRequest:
    """A reviewer's decision as a contract ``moderation`` event (the reviewer acts)."""
    body = _object(body)
    errors = list(_unknown(body, _DECISION_FIELDS))
    errors.extend(_checked(body.get("alert_id"), _ALERT_ID, "alert_id", required=False))
    errors.extend(_checked(body.get("decision"), Choice(DECISIONS), "decision",
                           required=True))
    occurred = body.get("occurred_at")
    occurred = now.astimezone(UTC).isoformat() if occurred is None else _time(
        occurred, "occurred_at", errors)
    _raise(errors)
    event = {
        "event_id": event_id, "tenant_id": tenant_id, "type": "moderation",
        "occurred_at": occurred, "actor_id": body.get("reviewer"),
        "subject_id": body.get("subject"), "decision": body.get("decision"),
        "reviewer_id": body.get("reviewer"), "note": body.get("note"),
    }
    renames = {"actor_id": "reviewer", "reviewer_id": "reviewer", "subject_id": "subject"}
    alert = body.get("alert_id")
    return DecisionRequest(Mapped([event], [renames]), alert if isinstance(alert, str) else None)


# --- POST /api/v1/events/message ---------------------------------------------------------------

_MESSAGE_FIELDS = ("platform_user_id", "session_id", "content", "timestamp", "recipient_ids",
                   "metadata")
_MESSAGE_METADATA = ("ip_address", "user_agent")


def _channel(recipients: Any) -> str | None:
    """``private`` for one recipient, ``group`` for more (None: the contract says why)."""
    if not isinstance(recipients, list) or not recipients:
        return None
    return "private" if len(recipients) == 1 else "group"


def _metadata(body: Mapping[str, Any], known: Iterable[str],
              errors: list[FieldError]) -> dict[str, Any]:
    """The body's ``metadata`` object (empty when absent or not an object, said in ``errors``)."""
    metadata = body.get("metadata")
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        errors.append(wrong_type("metadata", "an object", metadata))
        return {}
    errors.extend(_unknown(metadata, known, "metadata."))
    return metadata


def compat_message(body: Any, *, tenant_id: str, event_id: str) -> Mapped:
    """The integration guide's message body as a contract ``message`` event."""
    body = _object(body)
    errors = list(_unknown(body, _MESSAGE_FIELDS))
    metadata = _metadata(body, _MESSAGE_METADATA, errors)
    occurred = _time(body.get("timestamp"), "timestamp", errors)
    _raise(errors)
    recipients = body.get("recipient_ids")
    event = {
        "event_id": event_id, "tenant_id": tenant_id, "type": "message",
        "occurred_at": occurred, "actor_id": body.get("platform_user_id"),
        "conversation_id": body.get("session_id"), "recipient_ids": recipients,
        "channel": _channel(recipients), "content": body.get("content"),
        "ip": metadata.get("ip_address"), "user_agent": metadata.get("user_agent"),
    }
    if event["channel"] is None:
        event.pop("channel")  # no recipients: the contract's error names recipient_ids
    renames = {"actor_id": "platform_user_id", "conversation_id": "session_id",
               "occurred_at": "timestamp", "ip": "metadata.ip_address",
               "user_agent": "metadata.user_agent", "channel": "recipient_ids"}
    return Mapped([event], [renames])


# --- POST /v1/events in the client library's shape ----------------------------------------------

_CLIENT_FIELDS = ("idempotency_key", "tenant_id", "conversation_id", "actor_external_id_hash",
                  "target_actor_external_id_hashes", "event_type", "timestamp", "content",
                  "metadata")
_CLIENT_METADATA = ("recipient_age_bands", "recipient_timezone")
_TARGETS = "target_actor_external_id_hashes"
_BANDS = "metadata.recipient_age_bands"


def _recipient_bands(value: Any, targets: list[Any], errors: list[FieldError]) -> dict[int, str]:
    """Recipient index -> age band, from a list aligned with the targets or an object
    keyed by target."""
    bands: dict[int, str] = {}
    band = Choice(AGE_BANDS)
    if value is None:
        return bands
    if isinstance(value, list):
        if len(value) != len(targets):
            errors.append(FieldError(_BANDS, "items", f"has {len(value)} items; must have one "
                                     f"per target ({len(targets)})"))
            return bands
        entries = [(i, v, f"{_BANDS}[{i}]") for i, v in enumerate(value)]
    elif isinstance(value, dict):
        entries = []
        for key, v in value.items():
            if key not in targets:
                errors.append(FieldError(f"{_BANDS}.{str(key)[:64]}", "unknown_target",
                                         f"is not one of {_TARGETS}"))
            else:
                entries.append((targets.index(key), v, f"{_BANDS}.{key}"))
    else:
        errors.append(wrong_type(_BANDS, "an array or an object of age bands", value))
        return bands
    for index, v, path in entries:
        problems = list(band.check(v, path)) if v is not None else []
        errors.extend(problems)
        if v is not None and not problems:
            bands[index] = v
    return bands


def _primary(kind: str, body: Mapping[str, Any], base: dict[str, Any],
             targets: list[Any]) -> tuple[dict[str, Any], dict[str, str]]:
    renames = {"actor_id": "actor_external_id_hash", "occurred_at": "timestamp"}
    if kind == "contact":
        renames["target_id"] = f"{_TARGETS}[0]"
        return {**base, "action": "request", "target_id": targets[0] if targets else None}, \
            renames
    if kind == "profile":
        return base, renames
    renames.update({"recipient_ids": _TARGETS, "channel": _TARGETS})
    event = {**base, "conversation_id": body.get("conversation_id"), "recipient_ids":
             body.get(_TARGETS), "channel": _channel(body.get(_TARGETS)),
             "content": body.get("content")}
    if event["channel"] is None:
        event.pop("channel")
    return event, renames


def client_event(body: Any) -> ClientEvent:
    """The client library's body as contract events (the caller compares the tenant with
    the key's).

    The event id is :func:`idempotent_event_id` of the body's ``idempotency_key``, so a
    retry is a duplicate; recipient profile events get ``<id>.p<recipient index>``.
    """
    body = _object(body)
    errors = list(_unknown(body, _CLIENT_FIELDS))
    key = body.get("idempotency_key")
    tenant = body.get("tenant_id")
    errors.extend(_checked(key, Text(1, MAX_IDEMPOTENCY_KEY), "idempotency_key", True))
    errors.extend(_checked(tenant, Text(1, 64), "tenant_id", True))
    errors.extend(_checked(body.get("event_type"), Choice(CLIENT_EVENT_TYPES), "event_type",
                           True))
    metadata = _metadata(body, _CLIENT_METADATA, errors)
    raw_targets = body.get(_TARGETS)
    targets = raw_targets if isinstance(raw_targets, list) else []
    kind = CLIENT_TYPE_MAP.get(str(body.get("event_type")), "message")
    if kind == "contact" and len(targets) != 1:
        errors.append(FieldError(_TARGETS, "items", "a friend_request names exactly one target"))
    elif kind != "message" and body.get("content") not in (None, ""):
        errors.append(FieldError("content", "not_allowed",
                                 f"a {body.get('event_type')} event carries no content"))
    bands = _recipient_bands(metadata.get("recipient_age_bands"), targets, errors)
    timezone = metadata.get("recipient_timezone")
    occurred = _time(body.get("timestamp"), "timestamp", errors)
    _raise(errors)
    tenant, key = str(tenant), str(key)  # both checked as strings above
    event_id = idempotent_event_id(tenant, "client", key)
    base = {"event_id": event_id, "tenant_id": tenant, "type": kind, "occurred_at": occurred,
            "actor_id": body.get("actor_external_id_hash")}
    primary, renames = _primary(kind, body, base, targets)
    events, all_renames = [primary], [renames]
    for index, target in enumerate(targets):
        if index not in bands and timezone is None:
            continue
        events.append({"event_id": f"{event_id[:_EVENT_ID_ROOM]}.p{index}", "tenant_id": tenant,
                       "type": "profile", "occurred_at": occurred, "actor_id": target,
                       "age_band": bands.get(index), "timezone": timezone})
        all_renames.append({"actor_id": f"{_TARGETS}[{index}]", "occurred_at": "timestamp",
                            "age_band": f"{_BANDS}[{index}]",
                            "timezone": "metadata.recipient_timezone"})
    return ClientEvent(tenant, Mapped(events, all_renames))


# --- POST /api/v1/reports/generate -------------------------------------------------------------


def report_request(body: Any) -> ReportRequest:
    """The report request's body, checked (generation itself is not built)."""
    body = _object(body)
    errors = list(_unknown(body, ("session_id", "confirmed_by")))
    errors.extend(_checked(body.get("session_id"), _ID, "session_id", required=True))
    errors.extend(_checked(body.get("confirmed_by"), USER_ID, "confirmed_by", required=True))
    _raise(errors)
    return ReportRequest(str(body["session_id"]), str(body["confirmed_by"]))
