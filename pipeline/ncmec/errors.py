"""Errors of NCMEC reporting, each saying what an operator does about it."""

from __future__ import annotations

from pipeline.errors import WardstreamError


class NcmecError(WardstreamError):
    """Root of the NCMEC reporting errors."""


class InvalidReportInput(NcmecError, ValueError):
    """The report input (a JSON file or a package mapping) breaks a rule.

    Fix the named field in the input and run the command again; nothing was sent.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class ReportXmlInvalid(NcmecError):
    """The XML we built does not validate against the XSD in schemas/ncmec/.

    A bug in the builder or a schema change; nothing was sent. ``problems``
    holds the validator's lines (element, line number, rule).
    """

    def __init__(self, document: str, problems: list[str]) -> None:
        self.document = document
        self.problems = tuple(problems)
        first = problems[0] if problems else "invalid"
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{document} does not validate: {first}{more}")


class NcmecRejected(NcmecError):
    """NCMEC answered with a non-zero responseCode: the request itself was refused.

    Not retried. Read ``code`` and ``description`` (docs/ncmec.md lists the
    codes); a 4xxx code means the report must be fixed, a 2xxx/3xxx code that
    the credentials are wrong or lack the right.
    """

    def __init__(self, endpoint: str, code: int, description: str) -> None:
        self.endpoint = endpoint
        self.code = code
        self.description = description
        super().__init__(f"NCMEC refused {endpoint}: responseCode {code} ({description})")


class NcmecUnavailable(NcmecError):
    """NCMEC did not answer usefully (5xx, timeouts) after every retry.

    Run the same ``wardstream ncmec submit`` again later: the stored state
    resumes where it stopped and never files the report twice.
    """

    def __init__(self, endpoint: str, attempts: int, last_error: str) -> None:
        self.endpoint = endpoint
        self.attempts = attempts
        self.last_error = last_error
        super().__init__(f"NCMEC {endpoint} failed {attempts} times; last: {last_error}")


class AmbiguousSubmit(NcmecError):
    """A submit was sent but no answer came back: NCMEC may or may not hold the report.

    The row is now ``needs_reconciliation``. Look the report up with NCMEC,
    then run ``wardstream ncmec reconcile`` with ``--report-id N`` (it was
    filed) or ``--not-filed``. Resubmitting blindly could file it twice.
    """

    def __init__(self, report_key: str, reason: str) -> None:
        self.report_key = report_key
        self.reason = reason
        super().__init__(
            f"report {report_key}: submit outcome unknown ({reason}); it needs "
            "reconciliation: wardstream ncmec reconcile --key KEY --report-id N | --not-filed")


class NeedsReconciliation(NcmecError):
    """The report is waiting for an operator to say whether NCMEC holds it.

    See :class:`AmbiguousSubmit`; ``wardstream ncmec reconcile`` resolves it.
    """

    def __init__(self, report_key: str) -> None:
        self.report_key = report_key
        super().__init__(
            f"report {report_key} needs reconciliation before anything else is sent: "
            "wardstream ncmec reconcile --key KEY --report-id N | --not-filed")


class ReportBusy(NcmecError):
    """Another process is working on this report right now; wait for it to end."""


class InputChanged(NcmecError):
    """The input now builds a different XML from the one already submitted.

    A report at NCMEC cannot be edited here. Keep the original input, or
    confirm the package again (a new confirmation is a new report).
    """


class ReportFinal(NcmecError):
    """The report is finished or retracted (or failed); nothing more is sent for it."""
