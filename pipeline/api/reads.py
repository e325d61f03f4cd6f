"""Read endpoints (``read`` scope): a user's score and history, the review queue, a pair.

- ``GET /v1/actors/{actor}/score``: newest score, tier, explanation and drivers;
- ``GET /v1/actors/{actor}/history?limit=&before=``: score moves, newest first;
- ``GET /v1/queue?limit=&after=``: open review items, highest score first, then oldest;
- ``GET /v1/pairs/{a}/{b}/analysis``: the pair's behaviour, recomputed from its
  stored events with the detection core (``pipeline.pair_analysis``);
- ``GET /v1/alerts/{alert_id}``: one alert, its explanation and the id of the
  evidence package preserved for it.

A user is named by pseudonym (``u_...``) or by the platform's own user id,
which is resolved through the calling tenant's identity map (an erased user's
raw id no longer resolves). Every query is filtered on the key's tenant, so
another tenant's user is answered 404 exactly like an unknown one.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import psycopg
from fastapi import APIRouter, Request

from pipeline.api import read_params
from pipeline.api.auth import Authenticator
from pipeline.api.db import Database
from pipeline.api.errors import ApiError
from pipeline.api.read_params import BadParameter
from pipeline.detect.text.model import StageModel, load_model
from pipeline.pair_analysis import PairAnalysis, analyse_pair
from pipeline.pseudonym import Pseudonymizer
from pipeline.score.config import load_config
from pipeline.settings import Settings
from pipeline.storage.score_reads import (
    QueueCursor,
    StoredAlert,
    StoredScore,
    alert_of,
    latest_score,
    open_queue,
    pair_events,
    score_history,
    user_id_of,
)
from pipeline.storage.scores import DriverRecord

SCOPE = "read"
MAX_PAIR_EVENTS = 20_000
_REGISTER_NOTE = ("register_shift needs the sender's own baseline and is not part of a "
                  "pair's analysis; points are before decay and before other sources")


def _bad(exc: BadParameter) -> ApiError:
    return ApiError(400, "invalid_parameter", exc.message, field=exc.field,
                    errors=[{"field": exc.field, "rule": exc.rule, "message": exc.message}])


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _iso_us(micros: int | None) -> str | None:
    return None if micros is None else _iso(read_params.from_micros(micros))


def _drivers(drivers: tuple[DriverRecord, ...]) -> list[dict[str, Any]]:
    return [{"signal": d.signal, "contribution": d.contribution, "explanation": d.explanation}
            for d in drivers]


def _score_body(s: StoredScore) -> dict[str, Any]:
    return {
        "score_id": s.score_id, "score": s.score, "tier": s.tier,
        "previous_tier": s.previous_tier, "max_score": s.max_score,
        "explanation": s.explanation, "drivers": _drivers(s.drivers),
        "scored_at": _iso(s.scored_at), "event_id": s.event_id,
        "first_alert_at": _iso(s.first_alert_at),
    }


def analysis_body(result: PairAnalysis, truncated: bool) -> dict[str, Any]:
    return {
        "pair": [result.a, result.b], "events": result.events, "truncated": truncated,
        "first_contact_at": _iso_us(result.first_contact_at_us),
        "first_shared_at": _iso_us(result.first_shared_at_us),
        "first_private_at": _iso_us(result.first_private_at_us),
        "first_private_from": result.first_private_from,
        "last_at": _iso_us(result.last_at_us),
        "directions": [
            {"from": d.sender, "to": d.recipient, "signalled": d.signalled,
             "points": d.points, "signals": [asdict(t) for t in d.terms],
             "figures": d.figures}
            for d in result.directions
        ],
        "note": _REGISTER_NOTE,
    }


class PairAnalyser:
    """A pair's analysis from its stored events (shared by the reads and the
    compatibility API); the text model is loaded on first use."""

    def __init__(self, settings: Settings) -> None:
        self._config = load_config(settings.score_config_file)
        self._loaded: StageModel | None = None

    def _model(self) -> StageModel:
        if self._loaded is None:
            self._loaded = load_model()
        return self._loaded

    def __call__(self, conn: psycopg.Connection, tenant_id: str, a: str,
                 b: str) -> dict[str, Any] | None:
        """The analysis body of the pair a-b, or None when no event reached the pair."""
        events, truncated = pair_events(conn, tenant_id, a, b, MAX_PAIR_EVENTS)
        result = analyse_pair(a, b, events, self._model(), self._config)
        return None if result.events == 0 else analysis_body(result, truncated)


class _Resolver:
    """Pseudonym of a user named in a path, for one tenant."""

    def __init__(self, settings: Settings) -> None:
        configured = settings.pseudonym_master_key is not None
        self._pseudonyms = Pseudonymizer(settings.master_key()) if configured else None

    def __call__(self, conn: psycopg.Connection, tenant_id: str, given: str) -> str | None:
        if read_params.PSEUDONYM.fullmatch(given):
            return given
        if self._pseudonyms is None:
            return None
        pseudonym = self._pseudonyms.pseudonym(tenant_id, "user", given)
        return pseudonym if user_id_of(conn, tenant_id, pseudonym) is not None else None


def read_routes(auth: Authenticator, settings: Settings,
                analyser: PairAnalyser | None = None) -> APIRouter:
    router = APIRouter()
    db = Database(settings.pg_dsn.get_secret_value(), "score store")
    resolve = _Resolver(settings)
    analyse_stored = analyser if analyser is not None else PairAnalyser(settings)

    def unknown(field: str) -> ApiError:
        return ApiError(404, "not_found", "no such user among this tenant's scored users",
                        field=field)

    @router.get("/v1/actors/{actor}/score")
    async def actor_score(actor: str, request: Request) -> dict[str, Any]:
        identity = await auth.require(request, SCOPE)
        try:
            given = read_params.user_ref(actor, "actor")
        except BadParameter as exc:
            raise _bad(exc) from None

        def read(conn: psycopg.Connection) -> tuple[StoredScore, str | None] | None:
            pseudonym = resolve(conn, identity.tenant_id, given)
            found = None if pseudonym is None else latest_score(conn, identity.tenant_id,
                                                                pseudonym)
            if found is None:
                return None
            return found, user_id_of(conn, identity.tenant_id, found.actor)

        result = await db.run(read)
        if result is None:
            raise unknown("actor")
        stored, user_id = result
        return {"actor": stored.actor, "user_id": user_id, **_score_body(stored),
                "updated_at": _iso(stored.updated_at)}

    @router.get("/v1/actors/{actor}/history")
    async def actor_history(actor: str, request: Request, limit: str | None = None,
                            before: str | None = None) -> dict[str, Any]:
        identity = await auth.require(request, SCOPE)
        try:
            given = read_params.user_ref(actor, "actor")
            count = read_params.limit(limit)
            cursor = read_params.history_before(before)
        except BadParameter as exc:
            raise _bad(exc) from None

        def read(conn: psycopg.Connection) -> tuple[str, list[StoredScore]] | None:
            pseudonym = resolve(conn, identity.tenant_id, given)
            if pseudonym is None or latest_score(conn, identity.tenant_id, pseudonym) is None:
                return None
            return pseudonym, score_history(conn, identity.tenant_id, pseudonym, count, cursor)

        result = await db.run(read)
        if result is None:
            raise unknown("actor")
        pseudonym, rows = result
        last = rows[-1] if len(rows) == count else None
        return {
            "actor": pseudonym, "items": [_score_body(r) for r in rows],
            "next_before": (None if last is None
                            else read_params.history_cursor(last.scored_at, last.score_id)),
        }

    @router.get("/v1/queue")
    async def queue(request: Request, limit: str | None = None,
                    after: str | None = None) -> dict[str, Any]:
        identity = await auth.require(request, SCOPE)
        try:
            count = read_params.limit(limit)
            start = read_params.queue_after(after)
        except BadParameter as exc:
            raise _bad(exc) from None
        cursor = None if start is None else QueueCursor(*start)
        items = await db.run(lambda conn: open_queue(conn, identity.tenant_id, count, cursor))
        last = items[-1] if len(items) == count else None
        return {
            "items": [
                {"item_id": i.item_id, "actor": i.actor, "user_id": i.user_id,
                 "score": i.score, "tier": i.tier, "explanation": i.explanation,
                 "drivers": _drivers(i.drivers), "alert_count": i.alert_count,
                 "first_alert_id": i.first_alert_id, "latest_alert_id": i.latest_alert_id,
                 "opened_at": _iso(i.opened_at), "raised_at": _iso(i.raised_at),
                 "current_score": i.current_score, "current_tier": i.current_tier}
                for i in items
            ],
            "next_after": (None if last is None else
                           read_params.queue_cursor(last.score, last.opened_at, last.item_id)),
        }

    @router.get("/v1/alerts/{alert_id}")
    async def alert(alert_id: str, request: Request) -> dict[str, Any]:
        identity = await auth.require(request, SCOPE)
        try:
            wanted = read_params.record_id(alert_id, "alert_id")
        except BadParameter as exc:
            raise _bad(exc) from None

        def read(conn: psycopg.Connection) -> tuple[StoredAlert, str | None] | None:
            found = alert_of(conn, identity.tenant_id, wanted)
            return None if found is None else (found, user_id_of(conn, identity.tenant_id,
                                                                 found.actor))

        result = await db.run(read)
        if result is None:
            raise ApiError(404, "not_found", "no such alert for this tenant", field="alert_id")
        found, user_id = result
        return {"alert_id": found.alert_id, "actor": found.actor, "user_id": user_id,
                "tier": found.tier, "score": found.score, "raised_at": _iso(found.raised_at),
                "event_id": found.event_id, "explanation": found.explanation,
                "drivers": _drivers(found.drivers),
                "evidence_package_id": found.evidence_package_id}

    @router.get("/v1/pairs/{a}/{b}/analysis")
    async def pair_analysis(a: str, b: str, request: Request) -> dict[str, Any]:
        identity = await auth.require(request, SCOPE)
        try:
            first = read_params.user_ref(a, "a")
            second = read_params.user_ref(b, "b")
        except BadParameter as exc:
            raise _bad(exc) from None
        tenant = identity.tenant_id

        def analyse(conn: psycopg.Connection) -> dict[str, Any]:
            pa, pb = resolve(conn, tenant, first), resolve(conn, tenant, second)
            for field, pseudonym in (("a", pa), ("b", pb)):
                if pseudonym is None:
                    raise ApiError(404, "not_found", "no such user among this tenant's users",
                                   field=field)
            if pa == pb or pa is None or pb is None:
                raise ApiError(400, "invalid_parameter", "a and b name the same user",
                               field="b")
            body = analyse_stored(conn, tenant, pa, pb)
            if body is None:
                raise ApiError(404, "not_found", "no stored events between these two users",
                               field="b")
            return body

        return await db.run(analyse)

    return router
