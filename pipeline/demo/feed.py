"""Playing the simulated platform into wardstream through both doors."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.demo.services import DemoError

HTTP_BATCH = 500


def post_events(base_url: str, api_key: str, events: Sequence[dict[str, Any]]) -> int:
    """POST events in batches to the HTTP door; return how many were accepted.

    The API refuses a batch that repeats an event id (a client bug), so each
    batch carries an id once; a platform's retries come in separate requests.
    """
    accepted = 0
    for start in range(0, len(events), HTTP_BATCH):
        batch = {e["event_id"]: e for e in events[start:start + HTTP_BATCH]}
        body = json.dumps(list(batch.values())).encode()
        request = urllib.request.Request(  # noqa: S310 - base_url is our own http API
            f"{base_url}/v1/events", data=body, method="POST",
            headers={"Authorization": f"Bearer {api_key}",
                     "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - as above
                accepted += int(json.loads(response.read())["count"])
        except urllib.error.HTTPError as exc:
            raise DemoError(f"the API answered {exc.code}: {exc.read()[:300]!r}") from exc
    return accepted


def write_lines(path: Path, events: Sequence[dict[str, Any]], extra: Sequence[bytes]) -> None:
    with path.open("wb") as handle:
        for event in events:
            handle.write(json.dumps(event, separators=(",", ":")).encode() + b"\n")
        for line in extra:
            handle.write(line + b"\n")


def malformed_lines(tenant_id: str) -> list[bytes]:
    """Three records a careless or hostile sender might produce, to show dead letters."""
    return [
        b'{"event_id": "broken-1", "tenant_id": "' + tenant_id.encode() + b'", "type": ',
        json.dumps({"event_id": "broken-2", "tenant_id": tenant_id, "type": "message",
                    "occurred_at": "2026-03-02T10:00:00", "actor_id": "x",
                    "conversation_id": "c", "recipient_ids": ["y"],
                    "channel": "private"}).encode(),
        json.dumps({"event_id": "broken-3", "tenant_id": "no-such-tenant", "type": "session",
                    "occurred_at": "2026-03-02T10:00:00Z", "actor_id": "x",
                    "action": "login"}).encode(),
    ]
