"""The reviewer's page: what a report says and what will be sent, in plain Markdown.

Written beside ``report.xml`` by ``wardstream ncmec build``. It is meant to be
read in a few minutes before submitting: who, what, when, which identifiers,
which file with which hashes, and the exact calls that will follow. It holds
the same personal data as the report, so it lives where the report lives.
Deterministic: the same input gives the same page (a snapshot test pins it).
"""

from __future__ import annotations

from pipeline.ncmec.model import ReportInput
from pipeline.ncmec.report_xml import additional_info


def _line(label: str, value: object) -> str:
    return f"- **{label}:** {value if value not in (None, '') else '(not given)'}"


def render(report: ReportInput, xml_sha256_hex: str) -> str:
    reported = report.reported
    attachment = report.conversation
    lines = [
        f"# CyberTipline report {report.report_key}",
        "",
        "Check every line below against the evidence package before submitting.",
        "",
        "## What",
        _line("Incident type", report.incident_type),
        _line("Incident time", report.incident_time.isoformat(timespec="seconds")),
        _line("About the time", report.incident_time_description),
        _line("Escalation requested", report.escalate or "no"),
        _line("Service", report.service),
        "",
        "## Who reports",
        _line("ESP", report.reporter.esp_name),
        _line("Contact", f"{report.reporter.first_name} {report.reporter.last_name} "
              f"<{report.reporter.email}>"),
        _line("Evidence package", report.package_id),
        _line("Confirmation", f"{report.confirmation_id} by {report.confirmed_by} at "
              f"{report.confirmed_at.isoformat(timespec='seconds')}"),
        "",
        "## Reported user",
        _line("Screen name", reported.screen_name),
        _line("ESP user id", reported.esp_user_id),
        _line("Email", reported.email),
        _line("Display name", reported.display_name),
        _line("Profile URL", reported.profile_url),
        _line("Our pseudonym (not sent)", reported.subject),
        _line("Prior CyberTipline reports",
              ", ".join(str(r) for r in reported.prior_report_ids) or "none"),
        "",
    ]
    if reported.ip_events:
        lines += ["| IP address | port | event | time | possible proxy |",
                  "|---|---|---|---|---|"]
        for event in reported.ip_events:
            proxy = "unknown" if event.possible_proxy is None else (
                "yes" if event.possible_proxy else "no")
            lines.append(f"| {event.ip_address} | {event.port or '-'} | {event.event_name} | "
                         f"{event.at.isoformat(timespec='seconds')} | {proxy} |")
    else:
        lines.append("No IP capture events.")
    lines += ["", "## Intended recipients and victims"]
    for recipient in report.recipients:
        age = (str(recipient.age) if recipient.age is not None
               else f"estimated {recipient.estimated_age}" if recipient.estimated_age
               else "unknown")
        lines.append(f"- {recipient.role.replace('_', ' ')}: {recipient.screen_name} "
                     f"(ESP user id {recipient.esp_user_id or 'not given'}, age {age})")
    lines += [
        "",
        "## Evidence file",
        _line("File", f"{attachment.filename} ({len(attachment.content)} bytes)"),
        _line("SHA-256", f"`{attachment.sha256}`"),
        _line("MD5 (NCMEC's upload answer is compared with it)", f"`{attachment.md5}`"),
        "",
        "## Free text sent as additionalInfo",
        "",
    ]
    lines += [f"> {line}" if line else ">" for line in additional_info(report).splitlines()]
    lines += [
        "",
        "## What will be sent",
        f"1. `POST /submit` with report.xml (SHA-256 `{xml_sha256_hex}`): NCMEC answers "
        "a report id.",
        f"2. `POST /upload` of {attachment.filename}, then `POST /fileinfo` with its "
        "original name and SHA-256.",
        "3. `POST /finish`: the report is filed. If anything fails after step 1, "
        "`POST /retract` withdraws the unfinished report.",
        "",
    ]
    return "\n".join(lines)
