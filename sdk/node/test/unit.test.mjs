// The Node SDK without services: the shared vectors (privacy mode and webhook
// signatures, computed by the Python pipeline), retries and idempotency against a
// scripted stand-in server, batching.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import {
  ApiError,
  Client,
  NotFound,
  SignatureError,
  StageExtractor,
  TransportError,
  isValidSignature,
  normalise,
  parseRetryAfter,
  privateMessage,
  sign,
  verifySignature,
} from "../dist/index.js";
import { standIn } from "./standin.mjs";

const privacy = JSON.parse(readFileSync(new URL("../../vectors/privacy.json", import.meta.url), "utf8"));
const webhook = JSON.parse(readFileSync(new URL("../../vectors/webhook.json", import.meta.url), "utf8"));
const FAST = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 10 };

const quantise = (p) => (p <= 0 ? 0 : p >= 1 ? 255 : Math.floor(p * 255 + 0.5));
const message = (content, extra = {}) => ({
  tenant_id: "acme", type: "message", occurred_at: "2026-03-01T21:14:05+00:00", actor_id: "u-17",
  conversation_id: "c-9", recipient_ids: ["u-42"], channel: "private",
  ...(content === undefined ? {} : { content }), ...extra,
});

describe("privacy vectors", () => {
  const extractor = StageExtractor.bundled();
  for (const vector of privacy.vectors) {
    test(`extractor matches the pipeline: ${JSON.stringify(vector.text.slice(0, 30))}`, () => {
      assert.equal(normalise(vector.text), vector.normalised);
      const signals = extractor.signals(vector.text);
      assert.deepEqual(Object.keys(signals), privacy.stages);
      for (const [stage, expected] of Object.entries(vector.content_signals)) {
        assert.ok(Math.abs(signals[stage] - expected) <= privacy.tolerance, `${stage}: ${signals[stage]} vs ${expected}`);
      }
      assert.deepEqual(privacy.stages.map((s) => quantise(signals[s])), vector.stage_bytes);
      const sent = privateMessage(message(vector.text), extractor);
      assert.equal(sent.content, undefined);
      assert.equal(sent.content_sha256, vector.content_sha256);
    });
  }

  test("the bundled model is the exported one", () => {
    const bundled = readFileSync(new URL("../dist/stage_model.json", import.meta.url));
    assert.equal(createHash("sha256").update(bundled).digest("hex"), privacy.model_json_sha256);
  });

  test("privateMessage edge cases", () => {
    assert.deepEqual(privateMessage(message(undefined), extractor), message(undefined));
    const empty = privateMessage(message(""), extractor);
    assert.ok(!("content" in empty) && !("content_signals" in empty));
    assert.deepEqual(privateMessage(message("hi", { content_signals: { secrecy: 0.5 } }), extractor).content_signals, { secrecy: 0.5 });
    assert.throws(() => privateMessage({ type: "report", content: "x" }, extractor), TypeError);
  });
});

describe("webhook signatures", () => {
  for (const c of webhook.cases) {
    test(`shared vector: ${c.name}`, () => {
      assert.equal(isValidSignature(webhook.secret, webhook.body, c.header, { now: c.now }), c.valid);
      assert.equal(isValidSignature(webhook.secret, Buffer.from(webhook.body, "utf8"), c.header, { now: c.now }), c.valid);
    });
  }

  test("round trip, tampering, window", () => {
    const t = 1_772_000_000;
    const header = sign("whsec_x", "{}", t);
    assert.equal(verifySignature("whsec_x", "{}", header, { now: t + 1 }), t);
    assert.throws(() => verifySignature("whsec_x", "{ }", header, { now: t }), SignatureError);
    assert.throws(() => verifySignature("whsec_y", "{}", header, { now: t }), /does not match/);
    assert.throws(() => verifySignature("whsec_x", "{}", header, { now: t + 301 }), /from now/);
    assert.equal(verifySignature("whsec_x", "{}", header, { now: t + 900, toleranceSeconds: 1000 }), t);
    assert.throws(() => verifySignature("whsec_x", "{}", undefined), SignatureError);
  });
});

describe("retries and idempotency", () => {
  test("errors and a dropped connection are retried with the same event ids", async () => {
    const api = await standIn(["503", "drop", "429", "500"]);
    try {
      const client = new Client({ baseUrl: api.url, apiKey: "wsk_k_s", retry: { ...FAST, maxAttempts: 5 } });
      const result = await client.sendEvents([message("a"), message("b")]);
      const ids = api.postedIds();
      assert.equal(ids.length, 5);
      for (const attempt of ids) assert.deepEqual(attempt, ids[0]);
      assert.deepEqual(result, { accepted: ids[0], count: 2 });
      assert.equal(api.seen[0].headers.authorization, "Bearer wsk_k_s");
    } finally {
      await api.close();
    }
  });

  test("a refusal is not retried and names the field", async () => {
    const api = await standIn(["422"]);
    try {
      const client = new Client({ baseUrl: api.url, apiKey: "k", retry: FAST });
      await assert.rejects(client.sendEvent(message("x")), (e) => e instanceof ApiError && e.status === 422 && e.field === "event_id");
      assert.equal(api.seen.length, 1);
    } finally {
      await api.close();
    }
  });

  test("retries run out with the last error", async () => {
    const api = await standIn(["503", "503", "503", "503"]);
    try {
      const client = new Client({ baseUrl: api.url, apiKey: "k", retry: FAST });
      await assert.rejects(client.sendEvent(message("x")), (e) => e instanceof ApiError && e.status === 503 && e.retryAfter === 0);
      assert.equal(api.seen.length, 4);
    } finally {
      await api.close();
    }
  });

  test("an unreachable API is a TransportError", async () => {
    const api = await standIn();
    await api.close();
    const client = new Client({ baseUrl: api.url, apiKey: "k", retry: FAST });
    await assert.rejects(client.sendEvent(message("x")), TransportError);
  });

  test("a decision keeps one Idempotency-Key across retries", async () => {
    const api = await standIn(["503", "drop"]);
    try {
      const client = new Client({ baseUrl: api.url, apiKey: "k", retry: FAST });
      const answer = await client.postDecision({ subject: "u-17", decision: "cleared", reviewer: "mod-3", note: "fine" });
      const keys = api.seen.map((s) => s.headers["idempotency-key"]);
      assert.equal(keys.length, 3);
      assert.equal(new Set(keys).size, 1);
      assert.equal(answer.queue_item_closed, true);
      assert.deepEqual(api.seen[0].body, { subject: "u-17", decision: "cleared", reviewer: "mod-3", note: "fine" });
    } finally {
      await api.close();
    }
  });

  test("privacy mode sends no text", async () => {
    const api = await standIn();
    try {
      const client = new Client({ baseUrl: api.url, apiKey: "k", privacy: true, tenantId: "acme" });
      await client.sendEvent({ ...message("add me on another app"), tenant_id: undefined, event_id: "e-1" });
      const [sent] = api.seen[0].body;
      assert.equal(sent.content, undefined);
      assert.ok(!JSON.stringify(sent).includes("add me"));
      assert.deepEqual(Object.keys(sent.content_signals), privacy.stages);
    } finally {
      await api.close();
    }
  });

  test("reads encode path segments and map 404", async () => {
    const api = await standIn(["404"]);
    try {
      const client = new Client({ baseUrl: api.url, apiKey: "k", retry: FAST });
      await assert.rejects(client.actorScore("user/1 2"), NotFound);
      await client.queue({ limit: 5 });
      assert.equal(api.seen[0].path, "/v1/actors/user%2F1%202/score");
      assert.equal(api.seen[1].url, "/v1/queue?limit=5");
    } finally {
      await api.close();
    }
  });

  test("sendEvents splits into requests of maxBatch", async () => {
    const api = await standIn();
    try {
      const client = new Client({ baseUrl: api.url, apiKey: "k", maxBatch: 2 });
      const result = await client.sendEvents([0, 1, 2, 3, 4].map((i) => message(String(i))));
      assert.deepEqual(api.postedIds().map((ids) => ids.length), [2, 2, 1]);
      assert.equal(result.count, 5);
    } finally {
      await api.close();
    }
  });

  test("Retry-After as seconds or an HTTP date", () => {
    const now = Date.UTC(2026, 2, 1, 12, 0, 0);
    assert.equal(parseRetryAfter("7"), 7000);
    assert.equal(parseRetryAfter(new Date(now + 30_000).toUTCString(), now), 30_000);
    assert.equal(parseRetryAfter("soon"), undefined);
    assert.equal(parseRetryAfter(null), undefined);
  });
});

describe("batching", () => {
  test("sends by size and on close", async () => {
    const api = await standIn();
    try {
      const batcher = new Client({ baseUrl: api.url, apiKey: "k", retry: FAST }).batcher({ maxEvents: 3, maxDelayMs: 60_000 });
      const ids = [];
      for (let i = 0; i < 4; i++) ids.push(await batcher.add(message(String(i))));
      assert.deepEqual(api.postedIds(), [ids.slice(0, 3)]);
      assert.equal(batcher.pending, 1);
      await batcher.close();
      assert.deepEqual(api.postedIds(), [ids.slice(0, 3), ids.slice(3)]);
    } finally {
      await api.close();
    }
  });

  test("sends by age", async () => {
    const api = await standIn();
    try {
      const batcher = new Client({ baseUrl: api.url, apiKey: "k", retry: FAST }).batcher({ maxEvents: 100, maxDelayMs: 30 });
      const id = await batcher.add(message("x"));
      const deadline = Date.now() + 5000;
      while (api.postedIds().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(api.postedIds(), [[id]]);
      await batcher.close();
    } finally {
      await api.close();
    }
  });

  test("a failed batch is kept and resent with the same ids", async () => {
    const api = await standIn(["503", "503", "503", "503"]);
    try {
      const failures = [];
      const batcher = new Client({ baseUrl: api.url, apiKey: "k", retry: FAST }).batcher({
        maxEvents: 100, maxDelayMs: 60_000, onError: (events, error) => failures.push([events.map((e) => e.event_id), error]),
      });
      const ids = [await batcher.add(message("a")), await batcher.add(message("b"))];
      await assert.rejects(batcher.flush(), ApiError);
      assert.equal(batcher.pending, 2);
      assert.deepEqual(failures[0][0], ids);
      assert.deepEqual(await batcher.flush(), { accepted: ids, count: 2 });
      await batcher.close();
      for (const attempt of api.postedIds()) assert.deepEqual(attempt, ids);
    } finally {
      await api.close();
    }
  });

  test("a refused batch goes to onError and is not kept", async () => {
    const api = await standIn(["422"]);
    try {
      const refused = [];
      const batcher = new Client({ baseUrl: api.url, apiKey: "k", retry: FAST }).batcher({
        maxEvents: 100, maxDelayMs: 60_000, onError: (events) => refused.push(events),
      });
      await batcher.add(message("x"));
      await assert.rejects(batcher.flush(), ApiError);
      assert.equal(batcher.pending, 0);
      assert.equal(refused.length, 1);
      await batcher.close();
      assert.equal(api.postedIds().length, 1);
    } finally {
      await api.close();
    }
  });
});
