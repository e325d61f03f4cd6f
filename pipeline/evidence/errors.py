"""Errors of evidence preservation, each naming the field or package it is about."""

from __future__ import annotations

from pipeline.errors import FieldRuleError, WardstreamError


class EvidenceError(WardstreamError):
    """Root of the evidence module's errors."""


class InvalidEvidenceRequest(EvidenceError, FieldRuleError, ValueError):
    """A request about a package broke a rule (``field`` and ``rule`` say which).

    The caller fixes the request; nothing was read, logged or changed.
    """


class PackageNotFound(EvidenceError):
    """No package with this id among the tenant's packages (or it was destroyed).

    Check the id and the API key's tenant; a destroyed package leaves only its
    tombstone in ``evidence.destructions`` and its audit record.
    """

    def __init__(self, package_id: str) -> None:
        self.package_id = package_id
        super().__init__(f"no evidence package {package_id!r} for this tenant")
