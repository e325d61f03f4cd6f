"""docs/openapi.json is the document the API serves (regenerate with
``python -m pipeline.api.openapi --write``)."""

from __future__ import annotations

from pipeline.api.openapi import DOC_PATH, document, render


def test_checked_in_openapi_document_matches_the_served_one() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render(document()), (
        "docs/openapi.json is stale: run python -m pipeline.api.openapi --write")


def test_platform_paths_are_documented_with_their_bodies() -> None:
    paths = document()["paths"]
    for path, method in [("/v1/decisions", "post"), ("/api/v1/events/message", "post"),
                         ("/api/v1/reports/generate", "post"), ("/v1/events", "post")]:
        body = paths[path][method]["requestBody"]["content"]["application/json"]["schema"]
        assert body, path
    assert "get" in paths["/api/v1/sessions/{session_id}/analysis"]
    decision = paths["/v1/decisions"]["post"]["requestBody"]["content"]["application/json"]
    assert decision["schema"]["properties"]["decision"]["enum"] == [
        "confirmed_grooming", "confirmed_other_harm", "cleared", "escalated"]
