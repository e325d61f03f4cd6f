// The Node SDK against the real API. Started by tests/integration/test_sdk_node.py,
// which runs the API, creates a tenant, a key (ingest, read, moderate) and a user
// with scores and an open review item, and passes them in the environment:
//   WARDSTREAM_URL, WARDSTREAM_KEY, WARDSTREAM_TENANT,
//   WARDSTREAM_USER (the platform's id of the seeded user), WARDSTREAM_PSEUDONYM (its u_ id),
//   WARDSTREAM_PRIVACY_EVENT_ID, WARDSTREAM_PRIVACY_TEXT (checked on the raw topic afterwards).
// Without WARDSTREAM_URL the suite is skipped (the pytest runner fails on any skip).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";

import { ApiError, Client, NotFound } from "../dist/index.js";

const env = process.env;
const skip = env.WARDSTREAM_URL ? false : "WARDSTREAM_URL is not set";

const client = (options = {}) =>
  new Client({ baseUrl: env.WARDSTREAM_URL ?? "http://127.0.0.1:9", apiKey: env.WARDSTREAM_KEY ?? "none",
    tenantId: env.WARDSTREAM_TENANT, retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2000 }, ...options });

const message = (content, extra = {}) => ({
  type: "message", occurred_at: new Date().toISOString(), actor_id: "node-sdk-adult",
  conversation_id: "node-conv-1", recipient_ids: ["node-sdk-kid"], channel: "private", content, ...extra,
});

describe("the Node SDK against the API", { skip }, () => {
  test("sends one event and a batch", async () => {
    const one = await client().sendEvent(message("see you at practice tomorrow", { event_id: `node-${randomUUID()}` }));
    assert.equal(one.count, 1);
    const batch = await client({ maxBatch: 2 }).sendEvents([1, 2, 3].map((i) => message(`gg ${i}`)));
    assert.equal(batch.count, 3);
    assert.ok(batch.accepted.every((id) => id.startsWith("sdk-")));
  });

  test("privacy mode sends signals and a hash only", async () => {
    const result = await client({ privacy: true }).sendEvent(
      message(env.WARDSTREAM_PRIVACY_TEXT, { event_id: env.WARDSTREAM_PRIVACY_EVENT_ID }));
    assert.deepEqual(result, { accepted: [env.WARDSTREAM_PRIVACY_EVENT_ID], count: 1 });
  });

  test("a resent event keeps its id (a duplicate the pipeline processes once)", async () => {
    const event = client().prepare(message("lol gg"));
    const first = await client().sendEvent(event);
    const again = await client().sendEvent(event);
    assert.deepEqual(first.accepted, again.accepted);
  });

  test("the batcher sends by size and on close", async () => {
    const batcher = client().batcher({ maxEvents: 2, maxDelayMs: 50 });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await batcher.add(message(`batched ${i}`)));
    await batcher.close();
    assert.equal(batcher.pending, 0);
    assert.equal(new Set(ids).size, 3);
  });

  test("a bad event is refused naming the field, and not retried", async () => {
    await assert.rejects(client().sendEvent(message("x", { channel: "secret" })), (error) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.status, 422);
      assert.equal(error.code, "invalid_events");
      assert.equal(error.errors[0].field, "channel");
      return true;
    });
  });

  test("a wrong key is 401", async () => {
    await assert.rejects(client({ apiKey: "wsk_nope_nope" }).sendEvent(message("x")),
      (error) => error instanceof ApiError && error.status === 401);
  });

  test("reads the seeded user's score, history and the queue", async () => {
    const score = await client().actorScore(env.WARDSTREAM_PSEUDONYM);
    assert.equal(score.actor, env.WARDSTREAM_PSEUDONYM);
    assert.equal(score.user_id, env.WARDSTREAM_USER);
    assert.equal(typeof score.score, "number");
    assert.ok(Array.isArray(score.drivers));
    const byRawId = await client().actorScore(env.WARDSTREAM_USER);
    assert.equal(byRawId.score_id, score.score_id);
    const history = await client().actorHistory(env.WARDSTREAM_PSEUDONYM, { limit: 2 });
    assert.equal(history.items.length, 2);
    assert.ok(history.next_before);
    const older = await client().actorHistory(env.WARDSTREAM_PSEUDONYM, { limit: 2, before: history.next_before });
    assert.ok(older.items.length >= 1);
    const queue = await client().queue({ limit: 10 });
    assert.ok(queue.items.some((item) => item.actor === env.WARDSTREAM_PSEUDONYM));
  });

  test("unknown users and pairs are NotFound", async () => {
    await assert.rejects(client().actorScore("nobody-at-all"), NotFound);
    await assert.rejects(client().pairAnalysis(env.WARDSTREAM_USER, "nobody-at-all"), NotFound);
  });

  test("a decision closes the item, and its retry answers the same", async () => {
    const key = `node-${randomUUID()}`;
    const input = { subject: env.WARDSTREAM_USER, decision: "cleared", reviewer: "mod-node", note: "sdk test", idempotencyKey: key };
    const first = await client().postDecision(input);
    const again = await client().postDecision(input);
    assert.equal(first.queue_item_closed, true);
    assert.deepEqual(again, first);
    const queue = await client().queue({ limit: 10 });
    assert.ok(!queue.items.some((item) => item.actor === env.WARDSTREAM_PSEUDONYM));
  });
});
