"""The DSA Transparency Database's statement of reasons: field names and enumerations.

Copied from the database's public API documentation (API v2, "Statement
Attributes", https://transparency.dsa.ec.europa.eu/page/api-documentation) and
the enumeration constants of its public source (digital-services-act/
transparency-database, ``App\\Models\\Statement``, ``EuropeanCountriesService``).
Only the values this module names are allowed in what we export; ``check``
enforces the documented rules a statement must meet before anyone submits it.
Nothing here is our own choice: the mapping from wardstream decisions lives in
``pipeline.exports.dsa``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from pipeline.exports.errors import InvalidStatement

DECISION_VISIBILITIES: Final = frozenset({
    "DECISION_VISIBILITY_CONTENT_REMOVED", "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED", "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED", "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER",
})
DECISION_MONETARIES: Final = frozenset({
    "DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION", "DECISION_MONETARY_OTHER",
})
DECISION_PROVISIONS: Final = frozenset({
    "DECISION_PROVISION_PARTIAL_SUSPENSION", "DECISION_PROVISION_TOTAL_SUSPENSION",
    "DECISION_PROVISION_PARTIAL_TERMINATION", "DECISION_PROVISION_TOTAL_TERMINATION",
})
DECISION_ACCOUNTS: Final = frozenset({"DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"})
ACCOUNT_TYPES: Final = frozenset({"ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"})
DECISION_GROUNDS: Final = frozenset({
    "DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT",
})
CONTENT_TYPES: Final = frozenset({
    "CONTENT_TYPE_APP", "CONTENT_TYPE_AUDIO", "CONTENT_TYPE_IMAGE", "CONTENT_TYPE_PRODUCT",
    "CONTENT_TYPE_SYNTHETIC_MEDIA", "CONTENT_TYPE_TEXT", "CONTENT_TYPE_VIDEO",
    "CONTENT_TYPE_OTHER",
})
CATEGORIES: Final = frozenset({
    "STATEMENT_CATEGORY_ANIMAL_WELFARE", "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE", "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", "STATEMENT_CATEGORY_VIOLENCE",
})
# The documented keyword list is long; these are the ones a child-safety export may use.
KEYWORDS: Final = frozenset({
    "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS", "KEYWORD_HUMAN_EXPLOITATION",
    "KEYWORD_CYBER_STALKING", "KEYWORD_CYBER_HARASSMENT",
})
SOURCE_TYPES: Final = frozenset({
    "SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION",
    "SOURCE_VOLUNTARY",
})
AUTOMATED_DETECTIONS: Final = frozenset({"Yes", "No"})
AUTOMATED_DECISIONS: Final = frozenset({
    "AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY",
    "AUTOMATED_DECISION_NOT_AUTOMATED",
})
YES_NO: Final = frozenset({"Yes", "No"})
EEA_COUNTRIES: Final = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
)
# The multiple endpoint (POST /api/v1/statements) takes at most this many per call.
MAX_PER_CALL: Final = 100

_ENUMS: Final[Mapping[str, frozenset[str]]] = {
    "decision_monetary": DECISION_MONETARIES, "decision_provision": DECISION_PROVISIONS,
    "decision_account": DECISION_ACCOUNTS, "account_type": ACCOUNT_TYPES,
    "decision_ground": DECISION_GROUNDS, "category": CATEGORIES, "source_type": SOURCE_TYPES,
    "automated_detection": AUTOMATED_DETECTIONS, "automated_decision": AUTOMATED_DECISIONS,
    "incompatible_content_illegal": YES_NO,
}
_LIST_ENUMS: Final[Mapping[str, frozenset[str]]] = {
    "decision_visibility": DECISION_VISIBILITIES, "content_type": CONTENT_TYPES,
    "category_addition": CATEGORIES, "category_specification": KEYWORDS,
    "territorial_scope": frozenset(EEA_COUNTRIES),
}
_TEXT_LIMITS: Final[Mapping[str, int]] = {
    "decision_facts": 5000, "illegal_content_legal_ground": 500,
    "illegal_content_explanation": 2000, "incompatible_content_ground": 500,
    "incompatible_content_explanation": 2000, "decision_visibility_other": 500,
    "decision_monetary_other": 500, "content_type_other": 500, "puid": 500,
    "decision_ground_reference_url": 500,
}
_DATES: Final[Mapping[str, date]] = {
    "content_date": date(2000, 1, 1), "application_date": date(2020, 1, 1),
    "end_date_account_restriction": date(2020, 1, 1),
    "end_date_monetary_restriction": date(2020, 1, 1),
    "end_date_service_restriction": date(2020, 1, 1),
    "end_date_visibility_restriction": date(2020, 1, 1),
}
FIELDS: Final = frozenset({*_ENUMS, *_LIST_ENUMS, *_TEXT_LIMITS, *_DATES})
_REQUIRED: Final = ("decision_ground", "content_type", "category", "decision_facts",
                    "territorial_scope", "content_date", "application_date", "source_type",
                    "automated_detection", "automated_decision", "puid")
_PUID_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,500}$")
_DATE_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check(statement: Mapping[str, Any]) -> None:
    """InvalidStatement naming the first field that breaks a documented rule."""
    unknown = set(statement) - FIELDS
    if unknown:
        raise InvalidStatement(sorted(unknown)[0], "is not a documented attribute")
    for name in _REQUIRED:
        if statement.get(name) in (None, "", []):
            raise InvalidStatement(name, "is required")
    if not any(statement.get(name) for name in ("decision_visibility", "decision_monetary",
                                                 "decision_provision", "decision_account")):
        raise InvalidStatement("decision_visibility", "one restriction field is required")
    for name, allowed in _ENUMS.items():
        if name in statement and statement[name] not in allowed:
            raise InvalidStatement(name, f"{statement[name]!r} is not a documented value")
    for name, allowed in _LIST_ENUMS.items():
        values = statement.get(name)
        if values is None:
            continue
        if not isinstance(values, list) or not values or not set(values) <= allowed:
            raise InvalidStatement(name, "must be a non-empty list of documented values")
    for name, limit in _TEXT_LIMITS.items():
        value = statement.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            raise InvalidStatement(name, f"must be text of at most {limit} characters")
    if not _PUID_RE.match(statement["puid"]):
        raise InvalidStatement("puid", "only a-z, A-Z, 0-9, '-' and '_'")
    _check_dates(statement)
    _check_grounds(statement)


def _check_dates(statement: Mapping[str, Any]) -> None:
    for name, earliest in _DATES.items():
        value = statement.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not _DATE_RE.match(value):
            raise InvalidStatement(name, "must be YYYY-MM-DD")
        if date.fromisoformat(value) < earliest:
            raise InvalidStatement(name, f"must be on or after {earliest}")
        if name.startswith("end_date") and value < statement["application_date"]:
            raise InvalidStatement(name, "must not be before application_date")


def _check_grounds(statement: Mapping[str, Any]) -> None:
    if statement["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT":
        needed = ("illegal_content_legal_ground", "illegal_content_explanation")
    else:
        needed = ("incompatible_content_ground", "incompatible_content_explanation")
    for name in needed:
        if not statement.get(name):
            raise InvalidStatement(name, f"is required with {statement['decision_ground']}")
