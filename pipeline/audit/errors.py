"""Errors of the audit log, each naming the field or the record it is about."""

from __future__ import annotations

from pipeline.errors import WardstreamError


class AuditError(WardstreamError):
    """Root of the audit log's errors."""


class InvalidAuditRecord(AuditError, ValueError):
    """A record offered to the audit log breaks a rule (a bug in the caller).

    Fix the caller: leaves are immutable, so nothing is written until the
    record is valid. Personal details belong in ``personal``, never ``details``.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class MalformedExport(AuditError):
    """An export or proof file is not in the documented shape (docs/audit.md).

    The file is not the output of ``wardstream audit export``/``prove``, or it
    was cut short or edited; ask for a fresh one.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class VerificationFailed(AuditError):
    """The log does not verify: a record or a tree head was changed, removed or forked.

    Treat it as an incident: keep the file, compare with an earlier export and
    with the signed heads others hold.
    """
