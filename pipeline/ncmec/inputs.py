"""A :class:`ReportInput` read from a JSON file (``wardstream ncmec build|submit --input``).

The file's shape is in docs/ncmec.md. Every error is an
:class:`InvalidReportInput` whose field is the path into the file
(``reported.ip_events[1].port``), so the person who wrote it can fix it.
The conversation is given as ``path`` (relative to the JSON file) or
``content_base64``, with the ``sha256`` it was preserved under.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Final, TypeVar, cast

from pipeline.ncmec.errors import InvalidReportInput
from pipeline.ncmec.model import (
    ONLINE_ENTICEMENT,
    Attachment,
    IncidentType,
    IpCaptureEvent,
    IpEventName,
    Recipient,
    RecipientRole,
    ReportedPerson,
    Reporter,
    ReportInput,
)

MAX_INPUT_BYTES: Final = 1024 * 1024
T = TypeVar("T")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InvalidReportInput(where or "(document)", "must be a JSON object")
    return cast(Mapping[str, Any], value)


def _known(obj: Mapping[str, Any], path: str, keys: set[str]) -> None:
    for key in obj:
        if key not in keys:
            raise InvalidReportInput(_join(path, key), "is not a known field")


def _string(obj: Mapping[str, Any], key: str, path: str, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise InvalidReportInput(_join(path, key), "is required")
        return None
    if not isinstance(value, str):
        raise InvalidReportInput(_join(path, key), "must be a string")
    return value


def _required(obj: Mapping[str, Any], key: str, path: str) -> str:
    return cast(str, _string(obj, key, path))


def _time(obj: Mapping[str, Any], key: str, path: str) -> datetime:
    text = _required(obj, key, path)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidReportInput(_join(path, key), "must be an ISO 8601 date and time") from None


def _int(obj: Mapping[str, Any], key: str, path: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidReportInput(_join(path, key), "must be an integer")
    return value


def _list(obj: Mapping[str, Any], key: str, path: str, item: Callable[[object, str], T],
          required: bool = False) -> tuple[T, ...]:
    value = obj.get(key)
    if value is None:
        if required:
            raise InvalidReportInput(_join(path, key), "is required")
        return ()
    if not isinstance(value, list):
        raise InvalidReportInput(_join(path, key), "must be a JSON array")
    return tuple(item(v, f"{_join(path, key)}[{i}]") for i, v in enumerate(value))


def _reporter(value: object, path: str) -> Reporter:
    obj = _object(value, path)
    _known(obj, path, {"esp_name", "first_name", "last_name", "email", "phone",
                       "terms_of_service_url"})
    return Reporter(
        esp_name=_required(obj, "esp_name", path),
        first_name=_required(obj, "first_name", path),
        last_name=_required(obj, "last_name", path),
        email=_required(obj, "email", path),
        phone=_string(obj, "phone", path, required=False),
        terms_of_service_url=_string(obj, "terms_of_service_url", path, required=False),
    )


def _ip_event(value: object, path: str) -> IpCaptureEvent:
    obj = _object(value, path)
    _known(obj, path, {"ip_address", "event_name", "at", "port", "possible_proxy"})
    proxy = obj.get("possible_proxy")
    if proxy is not None and not isinstance(proxy, bool):
        raise InvalidReportInput(_join(path, "possible_proxy"), "must be true or false")
    return IpCaptureEvent(
        ip_address=_required(obj, "ip_address", path),
        event_name=cast(IpEventName, _required(obj, "event_name", path)),
        at=_time(obj, "at", path),
        port=_int(obj, "port", path),
        possible_proxy=proxy,
    )


def _report_id(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidReportInput(path, "must be an integer CyberTipline report id")
    return value


def _reported(value: object, path: str) -> ReportedPerson:
    obj = _object(value, path)
    _known(obj, path, {"esp_user_id", "screen_name", "subject", "email", "display_name",
                       "profile_url", "ip_events", "prior_report_ids"})
    return ReportedPerson(
        esp_user_id=_required(obj, "esp_user_id", path),
        screen_name=_required(obj, "screen_name", path),
        subject=_required(obj, "subject", path),
        email=_string(obj, "email", path, required=False),
        display_name=_string(obj, "display_name", path, required=False),
        profile_url=_string(obj, "profile_url", path, required=False),
        ip_events=_list(obj, "ip_events", path, _ip_event),
        prior_report_ids=_list(obj, "prior_report_ids", path, _report_id),
    )


def _recipient(value: object, path: str) -> Recipient:
    obj = _object(value, path)
    _known(obj, path, {"screen_name", "esp_user_id", "age", "estimated_age", "role"})
    return Recipient(
        screen_name=_required(obj, "screen_name", path),
        esp_user_id=_string(obj, "esp_user_id", path, required=False),
        age=_int(obj, "age", path),
        estimated_age=_string(obj, "estimated_age", path, required=False),
        role=cast(RecipientRole, _string(obj, "role", path, required=False)
                  or "intended_recipient"),
    )


def _attachment(value: object, base: Path) -> Attachment:
    path = "conversation"
    obj = _object(value, path)
    _known(obj, path, {"filename", "sha256", "path", "content_base64"})
    file_path = _string(obj, "path", path, required=False)
    encoded = _string(obj, "content_base64", path, required=False)
    if (file_path is None) == (encoded is None):
        raise InvalidReportInput(path, "give exactly one of path and content_base64")
    if encoded is not None:
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidReportInput(f"{path}.content_base64", "is not base64") from None
    else:
        try:
            content = (base / cast(str, file_path)).read_bytes()
        except OSError as exc:
            raise InvalidReportInput(f"{path}.path", f"cannot read it: {exc.strerror}") from None
    return Attachment(filename=_required(obj, "filename", path), content=content,
                      sha256=_required(obj, "sha256", path))


_TOP: Final = {"tenant", "package_id", "confirmation_id", "confirmed_by", "confirmed_at",
               "reporter", "incident_type", "incident_time", "incident_time_description",
               "escalate", "narrative", "service", "reported", "recipients", "conversation"}


def parse_input(document: object, base: Path) -> ReportInput:
    """A ReportInput from a parsed JSON document; ``base`` resolves the conversation path."""
    obj = _object(document, "")
    _known(obj, "", _TOP)
    return ReportInput(
        tenant=_required(obj, "tenant", ""),
        package_id=_required(obj, "package_id", ""),
        confirmation_id=_required(obj, "confirmation_id", ""),
        confirmed_by=_required(obj, "confirmed_by", ""),
        confirmed_at=_time(obj, "confirmed_at", ""),
        reporter=_reporter(obj.get("reporter"), "reporter"),
        incident_type=cast(IncidentType, _string(obj, "incident_type", "", required=False)
                           or ONLINE_ENTICEMENT),
        incident_time=_time(obj, "incident_time", ""),
        incident_time_description=_string(obj, "incident_time_description", "", required=False),
        escalate=_string(obj, "escalate", "", required=False),
        narrative=_string(obj, "narrative", "", required=False),
        service=_required(obj, "service", ""),
        reported=_reported(obj.get("reported"), "reported"),
        recipients=_list(obj, "recipients", "", _recipient, required=True),
        conversation=_attachment(obj.get("conversation"), base),
    )


def load_input(path: Path) -> ReportInput:
    """Read and check the JSON input file at ``path``."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InvalidReportInput("(file)", f"cannot read {path}: {exc.strerror}") from None
    if len(raw) > MAX_INPUT_BYTES:
        raise InvalidReportInput("(file)", f"{path} is larger than {MAX_INPUT_BYTES} bytes")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidReportInput("(document)", f"not valid JSON: {exc}") from None
    return parse_input(document, path.resolve().parent)
