"""Statements of reasons (EU DSA Art. 17 and 24(5)) from wardstream's review decisions.

A reviewer's decision that restricted someone (``confirmed_grooming``,
``confirmed_other_harm``) becomes one statement in the shape the DSA
Transparency Database's ``POST /api/v1/statements`` takes; ``cleared`` and
``escalated`` restrict nobody and have none. The field names and values are
the database's (``dsa_schema``); which value each wardstream decision maps to
is our choice, written down in :class:`SorPolicy` and docs/exports.md.

No personal data: the statement carries the decision's kind, the tier, an
alert count and dates, never a user id, a pseudonym, a reviewer, an IP or any
message text. ``puid`` is an opaque digest of the tenant and the review item.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final

from pipeline.exports import dsa_schema
from pipeline.exports.errors import InvalidStatement

GROOMING_LEGAL_GROUND: Final = (
    "Directive 2011/93/EU, Article 6 (solicitation of children for sexual purposes), "
    "as transposed into the law of the Member State concerned")
GROOMING_EXPLANATION: Final = (
    "A trust and safety reviewer examined the account's contact with one or more minors "
    "and confirmed a pattern of approach, trust building, isolation and sexualisation "
    "consistent with the solicitation of a child for sexual purposes.")
OTHER_HARM_GROUND: Final = "Terms of service: safety of minors"
OTHER_HARM_EXPLANATION: Final = (
    "A trust and safety reviewer examined the account's contact with one or more minors "
    "and confirmed conduct harmful to minors that the terms of service prohibit.")


@dataclass(frozen=True)
class ClosedDecision:
    """One review item closed by a reviewer: what was decided and when (no one's identity)."""

    item_id: int
    decision: str
    tier: str
    alert_count: int
    first_alert_at: datetime
    decided_at: datetime


@dataclass(frozen=True)
class DecisionMapping:
    """What a wardstream decision means in the database's terms (our mapping)."""

    ground: str
    ground_text: str
    explanation: str
    finding: str
    decision_account: str | None = None
    decision_provision: str | None = None
    decision_visibility: tuple[str, ...] = ()
    category: str = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    keywords: tuple[str, ...] = ()


DEFAULT_MAPPINGS: Final[Mapping[str, DecisionMapping]] = MappingProxyType({
    "confirmed_grooming": DecisionMapping(
        ground="DECISION_GROUND_ILLEGAL_CONTENT", ground_text=GROOMING_LEGAL_GROUND,
        explanation=GROOMING_EXPLANATION, finding="a pattern consistent with grooming",
        decision_account="DECISION_ACCOUNT_SUSPENDED",
        keywords=("KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",)),
    "confirmed_other_harm": DecisionMapping(
        ground="DECISION_GROUND_INCOMPATIBLE_CONTENT", ground_text=OTHER_HARM_GROUND,
        explanation=OTHER_HARM_EXPLANATION, finding="other conduct harmful to minors",
        decision_account="DECISION_ACCOUNT_SUSPENDED"),
})


@dataclass(frozen=True)
class SorPolicy:
    """The platform's choices behind its statements; defaults in docs/exports.md.

    ``automated_decision`` is never ``AUTOMATED_DECISION_FULLY``: in wardstream a
    person decides every restriction (DESIGN.md principle 6).
    """

    mappings: Mapping[str, DecisionMapping] = field(default_factory=lambda: DEFAULT_MAPPINGS)
    territorial_scope: tuple[str, ...] = dsa_schema.EEA_COUNTRIES
    account_type: str = "ACCOUNT_TYPE_PRIVATE"
    content_type: tuple[str, ...] = ("CONTENT_TYPE_TEXT",)
    source_type: str = "SOURCE_VOLUNTARY"
    automated_decision: str = "AUTOMATED_DECISION_NOT_AUTOMATED"
    reference_url: str | None = None

    def __post_init__(self) -> None:
        if self.automated_decision == "AUTOMATED_DECISION_FULLY":
            raise InvalidStatement("automated_decision",
                                   "wardstream never decides alone: a reviewer decides")


def puid(tenant: str, item_id: int) -> str:
    """The statement's platform unique id: opaque, stable, free of any user's id."""
    material = "\x00".join(("wardstream/dsa-puid/v1", tenant, str(item_id)))
    return "ws-" + hashlib.sha256(material.encode()).hexdigest()[:40]


def decision_facts(decision: ClosedDecision, mapping: DecisionMapping) -> str:
    alerts = "1 alert" if decision.alert_count == 1 else f"{decision.alert_count} alerts"
    return (
        f"Automated behavioural analysis of the account's contact pattern over time raised "
        f"{alerts} (risk tier {decision.tier}) and placed the account in the review queue. "
        f"A human reviewer examined the case and confirmed {mapping.finding}. "
        f"The restriction followed that human decision; no restriction is applied "
        f"automatically.")


def statement_of_reasons(decision: ClosedDecision, tenant: str,
                         policy: SorPolicy) -> dict[str, Any] | None:
    """The statement for ``decision``, or None when it restricted nothing."""
    mapping = policy.mappings.get(decision.decision)
    if mapping is None:
        return None
    sor: dict[str, Any] = {}
    if mapping.decision_visibility:
        sor["decision_visibility"] = list(mapping.decision_visibility)
    if mapping.decision_provision:
        sor["decision_provision"] = mapping.decision_provision
    if mapping.decision_account:
        sor["decision_account"] = mapping.decision_account
    sor["account_type"] = policy.account_type
    sor["decision_ground"] = mapping.ground
    if mapping.ground == "DECISION_GROUND_ILLEGAL_CONTENT":
        sor["illegal_content_legal_ground"] = mapping.ground_text
        sor["illegal_content_explanation"] = mapping.explanation
    else:
        sor["incompatible_content_ground"] = mapping.ground_text
        sor["incompatible_content_explanation"] = mapping.explanation
    if policy.reference_url:
        sor["decision_ground_reference_url"] = policy.reference_url
    sor["content_type"] = list(policy.content_type)
    sor["category"] = mapping.category
    if mapping.keywords:
        sor["category_specification"] = list(mapping.keywords)
    sor["territorial_scope"] = sorted(policy.territorial_scope)
    sor["content_date"] = decision.first_alert_at.date().isoformat()
    sor["application_date"] = decision.decided_at.date().isoformat()
    sor["decision_facts"] = decision_facts(decision, mapping)
    sor["source_type"] = policy.source_type
    sor["automated_detection"] = "Yes"
    sor["automated_decision"] = policy.automated_decision
    sor["puid"] = puid(tenant, decision.item_id)
    dsa_schema.check(sor)
    return sor


def statements(decisions: Iterable[ClosedDecision], tenant: str,
               policy: SorPolicy) -> list[dict[str, Any]]:
    """Every restricting decision's statement, in the order given."""
    built = (statement_of_reasons(d, tenant, policy) for d in decisions)
    return [sor for sor in built if sor is not None]


def batches(sors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bodies for ``POST /api/v1/statements``: at most 100 statements each."""
    size = dsa_schema.MAX_PER_CALL
    return [{"statements": sors[i:i + size]} for i in range(0, len(sors), size)]
