"""Events produced straight to Kafka reach PostgreSQL exactly once; bad ones become dead letters."""

from __future__ import annotations

import json
from collections.abc import Callable

import psycopg
import pytest

from pipeline.settings import Settings
from tests.integration.conftest import Process, Tenant, wait_until
from tests.integration.helpers import (
    as_avro_records,
    as_json_records,
    messages,
    produce,
    stored_ids,
)

pytestmark = pytest.mark.integration


def test_json_and_avro_arrive_once_and_bad_records_are_dead_letters(
    settings: Settings, tenant: Tenant, db: psycopg.Connection,
    worker_factory: Callable[[], Process], raw_json_topic: str, raw_avro_topic: str,
) -> None:
    events = messages(tenant.tenant_id, 60)
    json_part, avro_part = events[:40], events[40:]
    tag = tenant.tenant_id.encode()  # makes this run's bad bytes unique in the table
    garbage_avro = b"\x00\x00\x00\x00\x09garbage" + tag
    bad = [
        (b"k1", b"{not json " + tag),
        (b"k2", json.dumps({**events[0], "event_id": "bad-1", "channel": "fax"}).encode()),
        (b"k3", json.dumps({**events[0], "event_id": f"bad-2-{tenant.tenant_id}",
                            "tenant_id": "nobody-xyz"}).encode()),
        (None, b"\xff\xfe\xfd" + tag),
    ]
    produce(settings.kafka_bootstrap, raw_json_topic,
            as_json_records(json_part) + as_json_records(json_part[:10]) + bad)
    produce(settings.kafka_bootstrap, raw_avro_topic,
            [*as_avro_records(avro_part), (b"k5", garbage_avro)])
    worker = worker_factory().start()

    expected = sorted(e["event_id"] for e in events)
    wait_until(lambda: worker.running() and stored_ids(db, tenant.tenant_id) == expected, 120,
               "all 60 events in PostgreSQL")

    originals = [v for _, v in bad] + [garbage_avro]
    query = ("SELECT field, rule, reason, original, tenant_id FROM dead_letters"
             " WHERE original = ANY(%s)")
    letters = wait_until(
        lambda: (rows := db.execute(query, (originals,)).fetchall()) and len(rows) == 5 and rows,
        60, "five dead letters")
    by_original = {bytes(row[3]): row for row in letters}
    assert by_original[b"{not json " + tag][1] == "json"
    assert by_original[bad[1][1]][:2] == ("channel", "enum")
    assert by_original[bad[1][1]][4] == tenant.tenant_id
    assert by_original[bad[2][1]][:2] == ("tenant_id", "unknown_tenant")
    assert by_original[b"\xff\xfe\xfd" + tag][1] == "utf8"
    assert by_original[garbage_avro][1] == "schema_id"

    row = db.execute(
        "SELECT actor, record::text, content FROM events WHERE tenant_id = %s AND event_id = 'm-3'",
        (tenant.tenant_id,)).fetchone()
    assert row is not None
    actor, record, content = row
    assert actor.startswith("u_") and "user-3" not in record
    assert content == "see you at practice 3"
    raw = db.execute(
        "SELECT value FROM identity_map WHERE tenant_id = %s AND kind = 'user' AND pseudonym = %s",
        (tenant.tenant_id, actor)).fetchone()
    assert raw == ("user-3",)


def test_every_compression_codec_a_platform_may_use_is_read(
    settings: Settings, tenant: Tenant, db: psycopg.Connection,
    worker_factory: Callable[[], Process], raw_json_topic: str,
) -> None:
    codecs = ["gzip", "snappy", "lz4", "zstd"]
    events = messages(tenant.tenant_id, 40, prefix="z")
    for index, codec in enumerate(codecs):
        produce(settings.kafka_bootstrap, raw_json_topic,
                as_json_records(events[index * 10:(index + 1) * 10]), compression=codec)
    worker = worker_factory().start()
    expected = sorted(e["event_id"] for e in events)
    wait_until(lambda: worker.running() and stored_ids(db, tenant.tenant_id) == expected, 120,
               "events produced with every codec")
