"""Statements of reasons: the mapping of review decisions onto the DSA database's fields."""

from __future__ import annotations

import ipaddress
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from pipeline.exports import dsa, dsa_schema
from pipeline.exports.errors import InvalidStatement

T_ALERT = datetime(2026, 3, 1, 21, 30, tzinfo=UTC)
T_DECIDED = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def decided(decision: str, item_id: int = 41, alerts: int = 3) -> dsa.ClosedDecision:
    return dsa.ClosedDecision(item_id, decision, "restrict", alerts, T_ALERT, T_DECIDED)


def sor_of(decision: str, **policy: Any) -> dict[str, Any]:
    built = dsa.statement_of_reasons(decided(decision), "acme", dsa.SorPolicy(**policy))
    assert built is not None
    return built


def test_confirmed_grooming_is_an_illegal_content_account_suspension() -> None:
    sor = sor_of("confirmed_grooming")
    assert sor["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert sor["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert "Directive 2011/93/EU, Article 6" in sor["illegal_content_legal_ground"]
    assert sor["illegal_content_explanation"]
    assert sor["category"] == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    assert sor["category_specification"] == ["KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS"]
    assert sor["account_type"] == "ACCOUNT_TYPE_PRIVATE"
    assert sor["content_type"] == ["CONTENT_TYPE_TEXT"]
    assert sor["source_type"] == "SOURCE_VOLUNTARY"
    assert sor["automated_detection"] == "Yes"
    assert sor["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert sor["content_date"] == "2026-03-01"
    assert sor["application_date"] == "2026-03-03"
    assert sor["territorial_scope"] == sorted(dsa_schema.EEA_COUNTRIES)
    assert "3 alerts" in sor["decision_facts"] and "human reviewer" in sor["decision_facts"]
    assert "incompatible_content_ground" not in sor


def test_other_harm_is_incompatible_content() -> None:
    sor = sor_of("confirmed_other_harm")
    assert sor["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert sor["incompatible_content_ground"] and sor["incompatible_content_explanation"]
    assert "illegal_content_legal_ground" not in sor
    assert "category_specification" not in sor


@pytest.mark.parametrize("decision", ["cleared", "escalated", "something_new"])
def test_decisions_that_restrict_nothing_have_no_statement(decision: str) -> None:
    assert dsa.statement_of_reasons(decided(decision), "acme", dsa.SorPolicy()) is None


def test_every_value_comes_from_the_documented_sets() -> None:
    documented = {
        "decision_account": dsa_schema.DECISION_ACCOUNTS,
        "account_type": dsa_schema.ACCOUNT_TYPES, "decision_ground": dsa_schema.DECISION_GROUNDS,
        "category": dsa_schema.CATEGORIES, "source_type": dsa_schema.SOURCE_TYPES,
        "automated_detection": {"Yes", "No"},
        "automated_decision": dsa_schema.AUTOMATED_DECISIONS,
    }
    lists = {"content_type": dsa_schema.CONTENT_TYPES,
             "category_specification": dsa_schema.KEYWORDS,
             "territorial_scope": set(dsa_schema.EEA_COUNTRIES)}
    for decision in ("confirmed_grooming", "confirmed_other_harm"):
        sor = sor_of(decision)
        assert set(sor) <= dsa_schema.FIELDS
        for name, allowed in documented.items():
            assert sor[name] in allowed, name
        for name, allowed_set in lists.items():
            assert set(sor.get(name, [])) <= allowed_set, name


def test_the_documented_sets_are_the_documentation_s() -> None:
    # Pinned against the API documentation (v2): a changed set must be a deliberate edit.
    automated = {"AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY",
                 "AUTOMATED_DECISION_NOT_AUTOMATED"}
    grounds = {"DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"}
    assert automated == dsa_schema.AUTOMATED_DECISIONS
    assert grounds == dsa_schema.DECISION_GROUNDS
    assert {"SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_VOLUNTARY"} <= \
        dsa_schema.SOURCE_TYPES
    assert len(dsa_schema.EEA_COUNTRIES) == 30 and "GR" in dsa_schema.EEA_COUNTRIES
    assert "STATEMENT_CATEGORY_PROTECTION_OF_MINORS" in dsa_schema.CATEGORIES


def test_never_fully_automated() -> None:
    with pytest.raises(InvalidStatement, match="automated_decision"):
        dsa.SorPolicy(automated_decision="AUTOMATED_DECISION_FULLY")
    assert sor_of("confirmed_grooming", automated_decision="AUTOMATED_DECISION_PARTIALLY")[
        "automated_decision"] == "AUTOMATED_DECISION_PARTIALLY"


def test_puid_is_opaque_stable_and_unique_per_item() -> None:
    a = dsa.puid("acme", 41)
    assert a == dsa.puid("acme", 41)
    assert a != dsa.puid("acme", 42) != dsa.puid("other", 41)
    assert re.fullmatch(r"ws-[0-9a-f]{40}", a)


def test_no_personal_data_in_statements() -> None:
    sors = dsa.statements([decided("confirmed_grooming", i) for i in range(1, 6)]
                          + [decided("cleared", 9)], "acme", dsa.SorPolicy())
    assert len(sors) == 5
    text = json.dumps(sors)
    assert not re.search(r"\b[a-z]_[a-z2-7]{26}\b", text), "a pseudonym leaked"
    assert "@" not in text
    for token in re.findall(r"[0-9a-fA-F:.]{7,}", text):
        with pytest.raises(ValueError):
            ipaddress.ip_address(token)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("automated_decision", "Yes", "not a documented value"),
    ("territorial_scope", ["US"], "documented values"),
    ("application_date", "2019-12-31", "on or after 2020-01-01"),
    ("content_date", "03/01/2026", "YYYY-MM-DD"),
    ("puid", "has space", "only a-z"),
    ("decision_facts", "x" * 5001, "5000"),
    ("user_id", "123", "not a documented attribute"),
])
def test_check_refuses_what_the_database_would(field: str, value: Any, message: str) -> None:
    sor = sor_of("confirmed_grooming")
    sor[field] = value
    with pytest.raises(InvalidStatement, match=message):
        dsa_schema.check(sor)


def test_check_needs_a_restriction_and_the_ground_s_texts() -> None:
    sor = sor_of("confirmed_grooming")
    del sor["decision_account"]
    with pytest.raises(InvalidStatement, match="restriction"):
        dsa_schema.check(sor)
    sor = sor_of("confirmed_grooming")
    del sor["illegal_content_explanation"]
    with pytest.raises(InvalidStatement, match="illegal_content_explanation"):
        dsa_schema.check(sor)


def test_batches_hold_at_most_100() -> None:
    sors = dsa.statements([decided("confirmed_grooming", i) for i in range(250)], "acme",
                          dsa.SorPolicy())
    bodies = dsa.batches(sors)
    assert [len(b["statements"]) for b in bodies] == [100, 100, 50]


def test_the_builders_import_no_database_or_web_library() -> None:
    import subprocess
    import sys

    pure = ["pipeline.exports.dsa", "pipeline.exports.dsa_schema", "pipeline.exports.figures",
            "pipeline.exports.transparency", "pipeline.exports.osa", "pipeline.exports.render",
            "pipeline.exports.period"]
    code = (
        "import importlib, sys\n"
        f"for m in {pure!r}: importlib.import_module(m)\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('psycopg', 'fastapi', 'starlette', 'httpx', 'faust'))))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""
