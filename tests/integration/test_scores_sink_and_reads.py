"""Scores and alerts in PostgreSQL (idempotent, one open review item per user) and the
read endpoints on them: score, history, queue, a pair's analysis; tenant isolation."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest

from pipeline.avro import ALERT_SCHEMA_ID, SCORE_SCHEMA_ID, load_schema_map
from pipeline.core import Engine
from pipeline.detect.routing import pair_key
from pipeline.detect.scenario import Scenario, at, grooming_sequence
from pipeline.detect.signals import PairSignal
from pipeline.model import IdentityEntry
from pipeline.pseudonym import Pseudonymizer
from pipeline.score.features import pair_terms
from pipeline.settings import Settings
from pipeline.storage.scores import AlertRecord, ScoreBatch, ScoreRecord, write_scores
from pipeline.storage.sink import SinkBatch, write_batch
from pipeline.storage.tenants import add_tenant, create_key
from pipeline.topology import load_topology
from tests.integration.conftest import MASTER_KEY, Process, Tenant, wait_until
from tests.integration.helpers import produce

pytestmark = pytest.mark.integration

DAY_US = 86_400_000_000
T0 = 1_772_000_000_000_000  # 2026-02-25, event time
PSEUDONYMS = Pseudonymizer(MASTER_KEY.encode())


def user(tenant_id: str, raw: str) -> str:
    return PSEUDONYMS.pseudonym(tenant_id, "user", raw)


def score(tenant_id: str, actor: str, at_us: int, value: float, tier: str = "watch",
          score_id: str | None = None) -> dict[str, Any]:
    return {
        "score_id": score_id or secrets.token_hex(16), "tenant_id": tenant_id, "actor": actor,
        "score": value, "tier": tier, "previous_tier": "trusted", "at_us": at_us,
        "event_id": f"e-{at_us}", "max_score": value, "first_alert_at_us": None,
        "explanation": f"night messages worth {value}",
        "drivers": [{"signal": "night", "contribution": value,
                     "explanation": f"night messages worth {value}"}],
    }


def alert(tenant_id: str, actor: str, at_us: int, value: float,
          alert_id: str | None = None) -> dict[str, Any]:
    return {
        "alert_id": alert_id or secrets.token_hex(16), "tenant_id": tenant_id, "actor": actor,
        "tier": "restrict", "score": value, "raised_at_us": at_us, "event_id": f"e-{at_us}",
        "explanation": f"alert at {value}",
        "drivers": [{"signal": "stages", "contribution": value, "explanation": "stages seen"}],
    }


def write(db: psycopg.Connection, scores: Sequence[dict[str, Any]] = (),
          alerts: Sequence[dict[str, Any]] = ()) -> None:
    write_scores(db, ScoreBatch(scores=[ScoreRecord.from_record(s) for s in scores],
                                alerts=[AlertRecord.from_record(a) for a in alerts]))


def known_user(db: psycopg.Connection, tenant_id: str, raw: str) -> str:
    pseudonym = user(tenant_id, raw)
    write_batch(db, SinkBatch(identities=[IdentityEntry(tenant_id, "user", pseudonym, raw,
                                                         pseudonym, T0)]))
    return pseudonym


def one(db: psycopg.Connection, sql: str, *params: Any) -> Any:
    row = db.execute(sql, params).fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else row


@pytest.fixture
def reader(db: psycopg.Connection, tenant: Tenant) -> str:
    return create_key(db, tenant.tenant_id, ["read"])


def get(api: str, key: str | None, path: str, **params: str) -> httpx.Response:
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    return httpx.get(f"{api}{path}", params=params, headers=headers, timeout=60)


# --- storage ------------------------------------------------------------------------------


def test_scores_are_written_once_and_latest_follows_event_time(
    db: psycopg.Connection, tenant: Tenant,
) -> None:
    actor = user(tenant.tenant_id, "alice")
    first = score(tenant.tenant_id, actor, T0, 20.0)
    second = score(tenant.tenant_id, actor, T0 + DAY_US, 35.5, tier="watch")
    late = score(tenant.tenant_id, actor, T0 - DAY_US, 90.0, tier="critical")
    write(db, [first, second])
    write(db, [first, second])  # the same records again after a crash
    write(db, [late])  # older by event time: history only
    assert one(db, "SELECT count(*) FROM score_history WHERE tenant_id = %s",
               tenant.tenant_id) == 3
    latest = one(db, "SELECT score_id, score, drivers FROM scores_latest"
                 " WHERE tenant_id = %s AND actor = %s", tenant.tenant_id, actor)
    assert latest[:2] == (second["score_id"], 35.5)
    assert latest[2] == second["drivers"]


def test_one_open_item_per_user_raised_by_later_alerts_never_by_replays(
    db: psycopg.Connection, tenant: Tenant,
) -> None:
    actor = user(tenant.tenant_id, "bob")
    first = alert(tenant.tenant_id, actor, T0, 62.0)
    later = alert(tenant.tenant_id, actor, T0 + DAY_US, 81.5)
    write(db, alerts=[first])
    write(db, alerts=[later, first])  # a replay of the first after the second
    items = db.execute(
        "SELECT status, score, alert_count, first_alert_id, latest_alert_id, explanation,"
        " opened_at, raised_at FROM review_queue WHERE tenant_id = %s", (tenant.tenant_id,)
    ).fetchall()
    assert len(items) == 1
    status, value, count, first_id, latest_id, explanation, opened, raised = items[0]
    assert (status, value, count) == ("open", 81.5, 2)
    assert (first_id, latest_id) == (first["alert_id"], later["alert_id"])
    assert explanation == later["explanation"]
    assert opened < raised
    assert one(db, "SELECT count(*) FROM alerts WHERE tenant_id = %s", tenant.tenant_id) == 2

    # A second open item for the same user is refused by the database itself.
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute(
            "INSERT INTO review_queue (tenant_id, actor, score, tier, explanation, drivers,"
            " first_alert_id, latest_alert_id, opened_at, raised_at)"
            " SELECT tenant_id, actor, score, tier, explanation, drivers, first_alert_id,"
            " latest_alert_id, opened_at, raised_at FROM review_queue WHERE tenant_id = %s",
            (tenant.tenant_id,))

    # A reviewer closes it; replays do not reopen it, a new alert opens a new item.
    db.execute("UPDATE review_queue SET status = 'closed', closed_at = now(), decision ="
               " 'cleared' WHERE tenant_id = %s", (tenant.tenant_id,))
    write(db, alerts=[first, later])
    assert one(db, "SELECT count(*) FROM review_queue WHERE tenant_id = %s AND status = 'open'",
               tenant.tenant_id) == 0
    write(db, alerts=[alert(tenant.tenant_id, actor, T0 + 5 * DAY_US, 70.0)])
    statuses = db.execute("SELECT status, alert_count FROM review_queue WHERE tenant_id = %s"
                          " ORDER BY item_id", (tenant.tenant_id,)).fetchall()
    assert statuses == [("closed", 2), ("open", 1)]


# --- HTTP reads ---------------------------------------------------------------------------


def test_score_and_history_by_pseudonym_or_platform_id(
    api: str, db: psycopg.Connection, tenant: Tenant, reader: str,
) -> None:
    actor = known_user(db, tenant.tenant_id, "carol #7")
    records = [score(tenant.tenant_id, actor, T0 + i * DAY_US, 10.0 + i) for i in range(5)]
    write(db, records)

    by_pseudonym = get(api, reader, f"/v1/actors/{actor}/score")
    assert by_pseudonym.status_code == 200, by_pseudonym.text
    body = by_pseudonym.json()
    assert (body["actor"], body["user_id"], body["score"]) == (actor, "carol #7", 14.0)
    assert body["explanation"] == records[-1]["explanation"]
    assert body["drivers"] == records[-1]["drivers"]
    assert body["updated_at"] and body["scored_at"].startswith(
        datetime.fromtimestamp((T0 + 4 * DAY_US) / 1e6, UTC).date().isoformat())
    by_raw = get(api, reader, "/v1/actors/carol%20%237/score")
    assert by_raw.status_code == 200 and by_raw.json() == body

    seen: list[float] = []
    cursor: str | None = None
    for _ in range(4):
        params = {"limit": "2"} | ({"before": cursor} if cursor else {})
        page = get(api, reader, f"/v1/actors/{actor}/history", **params).json()
        seen += [item["score"] for item in page["items"]]
        cursor = page["next_before"]
        if cursor is None:
            break
    assert seen == [14.0, 13.0, 12.0, 11.0, 10.0]
    older = get(api, reader, f"/v1/actors/{actor}/history",
                before=datetime.fromtimestamp((T0 + 2 * DAY_US) / 1e6, UTC).isoformat())
    assert [i["score"] for i in older.json()["items"]] == [11.0, 10.0]

    unknown = get(api, reader, f"/v1/actors/{user(tenant.tenant_id, 'nobody')}/score")
    assert unknown.status_code == 404
    assert unknown.json()["field"] == "actor"
    assert get(api, reader, "/v1/actors/nobody-at-all/history").status_code == 404


def test_queue_is_ordered_by_score_then_age_and_pages(
    api: str, db: psycopg.Connection, tenant: Tenant, reader: str,
) -> None:
    t = tenant.tenant_id
    plan = [("old-high", 0, 80.0), ("new-high", 3, 80.0), ("mid", 1, 65.0), ("top", 5, 95.0),
            ("low", 2, 55.0)]
    actors = {name: known_user(db, t, name) for name, _, _ in plan}
    write(db, alerts=[alert(t, actors[name], T0 + day * DAY_US, value)
                      for name, day, value in plan])
    write(db, scores=[score(t, actors["low"], T0 + 6 * DAY_US, 58.0)])

    full = get(api, reader, "/v1/queue").json()
    assert [i["user_id"] for i in full["items"]] == ["top", "old-high", "new-high", "mid", "low"]
    assert full["next_after"] is None
    low = full["items"][-1]
    assert (low["current_score"], low["explanation"]) == (58.0, "alert at 55.0")

    walked: list[str] = []
    after: str | None = None
    while True:
        page = get(api, reader, "/v1/queue", limit="2", **({"after": after} if after else {}))
        assert page.status_code == 200, page.text
        walked += [i["user_id"] for i in page.json()["items"]]
        after = page.json()["next_after"]
        if after is None:
            break
    assert walked == [i["user_id"] for i in full["items"]]


def test_pair_analysis_recomputes_the_pair_from_stored_events(
    api: str, db: psycopg.Connection, tenant: Tenant, reader: str,
) -> None:
    sc = Scenario(tenant=tenant.tenant_id)
    for name, band in (("g1", "18_plus"), ("k1", "13_15"), ("k2", "16_17")):
        sc.profile(name, band, timezone="UTC")
    grooming_sequence(sc, "g1", "k1", days=8)
    for day in range(3):
        sc.message("k1", "k2", at(day, 19), "see you at school")
    events = sc.normalized()
    write_batch(db, SinkBatch(events=events))
    engine = Engine()
    engine.run(events)
    g1, k1 = sc.pseudonym("g1"), sc.pseudonym("k1")
    key = pair_key(g1, k1)

    answer = get(api, reader, f"/v1/pairs/{k1}/{g1}/analysis")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["pair"] == list(key)
    state = engine.pairs[key]
    assert [d["figures"]["messages"] for d in body["directions"]] == state.msgs
    groomer = body["directions"][key.index(g1)]
    source = engine.risks[g1].sources["p:" + k1]
    assert isinstance(source, PairSignal)
    expected = {t.name for t in pair_terms(source, engine.config) if t.points > 0}
    assert groomer["signalled"] and {s["signal"] for s in groomer["signals"]} == expected
    assert all(s["explanation"] for s in groomer["signals"])

    # A pair that never talked, and a user of no one's: 404 naming the side.
    assert get(api, reader, f"/v1/pairs/{g1}/{sc.pseudonym('k2')}/analysis").status_code == 404
    missing = get(api, reader, f"/v1/pairs/{g1}/someone-else/analysis")
    assert (missing.status_code, missing.json()["field"]) == (404, "b")
    same = get(api, reader, f"/v1/pairs/{g1}/{g1}/analysis")
    assert (same.status_code, same.json()["field"]) == (400, "b")


def test_another_tenant_sees_nothing(
    api: str, db: psycopg.Connection, tenant: Tenant, reader: str,
) -> None:
    actor = known_user(db, tenant.tenant_id, "dave")
    write(db, [score(tenant.tenant_id, actor, T0, 50.0)],
          [alert(tenant.tenant_id, actor, T0, 50.0)])
    assert get(api, reader, f"/v1/actors/{actor}/score").status_code == 200
    other = f"t-{secrets.token_hex(4)}"
    add_tenant(db, other, "integration test, other")
    other_key = create_key(db, other, ["read"])
    for path in (f"/v1/actors/{actor}/score", f"/v1/actors/{actor}/history",
                 "/v1/actors/dave/score"):
        answer = get(api, other_key, path)
        assert answer.status_code == 404, (path, answer.text)
        assert "dave" not in answer.text and "50.0" not in answer.text
    assert get(api, other_key, "/v1/queue").json()["items"] == []


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/v1/actors/{actor}/history", {"limit": "-1"}, "limit"),
    ("/v1/actors/{actor}/history", {"limit": "0"}, "limit"),
    ("/v1/actors/{actor}/history", {"limit": "lots"}, "limit"),
    ("/v1/actors/{actor}/history", {"limit": "99999999999999999999"}, "limit"),
    ("/v1/actors/{actor}/history", {"before": "last tuesday"}, "before"),
    ("/v1/actors/{actor}/history", {"before": "2026-03-01T10:00:00"}, "before"),
    ("/v1/queue", {"limit": "201"}, "limit"),
    ("/v1/queue", {"after": "'; DROP TABLE review_queue; --"}, "after"),
    ("/v1/actors/" + "x" * 300 + "/score", {}, "actor"),
    ("/v1/actors/bad%0Aid/score", {}, "actor"),
    ("/v1/pairs/{actor}/" + "y" * 300 + "/analysis", {}, "b"),
])
def test_hostile_parameters_get_400_naming_the_field(
    api: str, db: psycopg.Connection, tenant: Tenant, reader: str, path: str,
    params: dict[str, str], field: str,
) -> None:
    actor = user(tenant.tenant_id, "erin")
    write(db, [score(tenant.tenant_id, actor, T0, 12.0)])
    answer = get(api, reader, path.format(actor=actor), **params)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert (body["error"], body["field"]) == ("invalid_parameter", field)
    assert body["message"]


def test_reads_need_a_key_with_the_read_scope(api: str, tenant: Tenant) -> None:
    assert get(api, None, "/v1/queue").status_code == 401
    assert get(api, tenant.api_key, "/v1/queue").status_code == 403  # ingest only


# --- through Kafka ------------------------------------------------------------------------


def test_records_on_the_topics_reach_the_tables_once(
    settings: Settings, db: psycopg.Connection, tenant: Tenant,
    worker_factory: Callable[[], Process],
) -> None:
    topology = load_topology(settings.topology_file)
    scores_topic = topology.port("sink_scores", "reads", "scores")
    alerts_topic = topology.port("sink_scores", "reads", "alerts")
    schemas = load_schema_map()
    t = tenant.tenant_id
    actors = [user(t, f"k-{i}") for i in range(3)]
    scores = [score(t, a, T0 + i * DAY_US, 30.0 + i) for a in actors for i in range(3)]
    alerts = [alert(t, a, T0 + DAY_US, 70.0 + n) for n, a in enumerate(actors)]
    framed_scores: list[tuple[bytes | None, bytes]] = [
        (f"{t}/{s['actor']}".encode(), schemas.encode(SCORE_SCHEMA_ID, s)) for s in scores]
    framed_alerts: list[tuple[bytes | None, bytes]] = [
        (f"{t}/{a['actor']}".encode(), schemas.encode(ALERT_SCHEMA_ID, a)) for a in alerts]
    garbage = b"\x00\x00\x00\x00\x09not a score " + t.encode()
    # Hand-made records of a tenant nobody registered: dead letters, and the rest lands.
    stranger = f"nobody-{t}"
    strays = [(b"stray", schemas.encode(SCORE_SCHEMA_ID, {**scores[0], "tenant_id": stranger})),
              (b"stray", schemas.encode(ALERT_SCHEMA_ID, {**alerts[0], "tenant_id": stranger}))]
    # Everything twice, as after a producer retry or a risk agent restart.
    produce(settings.kafka_bootstrap, scores_topic,
            [strays[0], *framed_scores, *framed_scores, (b"junk", garbage)])
    produce(settings.kafka_bootstrap, alerts_topic, [*framed_alerts, strays[1], *framed_alerts])
    worker = worker_factory().start()

    def stored() -> tuple[int, int, int, int] | None:
        counts = (
            one(db, "SELECT count(*) FROM score_history WHERE tenant_id = %s", t),
            one(db, "SELECT count(*) FROM scores_latest WHERE tenant_id = %s", t),
            one(db, "SELECT count(*) FROM alerts WHERE tenant_id = %s", t),
            one(db, "SELECT count(*) FROM review_queue WHERE tenant_id = %s", t),
        )
        return counts if counts == (9, 3, 3, 3) else None

    wait_until(lambda: worker.running() and stored(), 180, "scores and alerts in PostgreSQL")
    assert one(db, "SELECT count(*) FROM dead_letters WHERE original = %s", garbage) == 1
    stray_letters = db.execute("SELECT field, rule FROM dead_letters WHERE original = ANY(%s)",
                               ([value for _, value in strays],)).fetchall()
    assert stray_letters == [("tenant_id", "unknown_tenant")] * 2
    latest: dict[str, float] = dict(db.execute(
        "SELECT actor, score FROM scores_latest WHERE tenant_id = %s", (t,)).fetchall())
    assert latest == dict.fromkeys(actors, 32.0)
    queue = [r[0] for r in db.execute(
        "SELECT actor FROM review_queue WHERE tenant_id = %s AND status = 'open'"
        " ORDER BY score DESC", (t,)).fetchall()]
    assert queue == actors[::-1]
    # Each tier crossing and each alert is one audit leaf, written in the rows'
    # transaction, although every record arrived twice.
    leaves = db.execute("SELECT kind, record_id FROM audit_leaves WHERE tenant_id = %s",
                        (t,)).fetchall()
    assert sorted(leaves) == sorted(
        [("alert", f"alert:{a['alert_id']}") for a in alerts]
        + [("tier_change", f"tier:{s['score_id']}") for s in scores])
