"""Errors of the exports package, each naming the field or option it is about."""

from __future__ import annotations

from pipeline.errors import FieldRuleError, WardstreamError


class ExportError(WardstreamError):
    """Root of the exports package's errors."""


class InvalidExportRequest(ExportError, FieldRuleError, ValueError):
    """An export request broke a rule (``field`` and ``rule`` say which).

    The caller fixes the request (dates as YYYY-MM-DD, from <= to, a bounded
    period); nothing was read or logged.
    """


class InvalidStatement(ExportError):
    """A statement of reasons we built breaks the DSA database's documented rules.

    A bug or a bad policy value (docs/exports.md); the export is refused rather
    than handing the platform a statement the database would reject.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class InvalidRiskAssessment(ExportError):
    """The OSA risk assessment file is malformed; the message names the key. Fix the file."""
