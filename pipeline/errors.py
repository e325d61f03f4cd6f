"""The project's exception hierarchy.

Every error wardstream raises on purpose derives from :class:`WardstreamError`.
Each docstring says what an operator should do when they see it.
"""

from __future__ import annotations

from dataclasses import dataclass


class WardstreamError(Exception):
    """Root of every deliberate wardstream error."""


@dataclass(frozen=True)
class FieldError:
    """One broken rule of one field.

    ``field`` is a path into the record (``recipient_ids[3]``, ``cohort.region``,
    ``(record)`` for the record as a whole); ``rule`` is a short stable code a
    program can match on; ``message`` is the sentence a person reads.
    """

    field: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


class FieldRuleError(WardstreamError):
    """A request broke one rule of one field; subclasses say whose request it was.

    ``str()`` is ``"<field>: <message>"``; :meth:`as_dict` is the JSON error body's
    field part.
    """

    def __init__(self, field: str, rule: str, message: str) -> None:
        self.field = field
        self.rule = rule
        self.message = message
        super().__init__(f"{field}: {message}")

    def as_dict(self) -> dict[str, str]:
        return FieldError(self.field, self.rule, self.message).as_dict()


class InvalidRecord(WardstreamError):
    """A record broke the event contract (shared/spec/events.md).

    Nothing to do on our side: the record goes to the dead-letter topic (or the
    HTTP caller gets a 4xx) with these errors, and the sender fixes it.
    """

    def __init__(self, errors: list[FieldError] | tuple[FieldError, ...]) -> None:
        if not errors:
            raise ValueError("InvalidRecord needs at least one FieldError")
        self.errors: tuple[FieldError, ...] = tuple(errors)
        first = self.errors[0]
        more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(f"{first.field}: {first.message}{more}")

    @property
    def first(self) -> FieldError:
        return self.errors[0]


class ConfigError(WardstreamError):
    """A configuration file or environment variable is wrong.

    The message names the file or variable and the key; fix it and restart.
    """


class SchemaError(WardstreamError):
    """An Avro schema or the local schema map is missing or inconsistent.

    This is a deployment fault (a schema file was edited or removed); restore
    ``schemas/`` from the release.
    """


class UnknownTenant(WardstreamError):
    """An event or API key names a tenant that is not registered.

    Register it with ``wardstream tenants add TENANT`` first.
    """
