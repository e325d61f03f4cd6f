/**
 * Client for the wardstream HTTP API (fetch-based, Node 20+).
 *
 * Sends contract events (POST /v1/events, one or a batch), posts reviewers'
 * decisions (POST /v1/decisions), reads scores, score history, the review queue
 * and pair analyses. Every request is retried on network errors, timeouts, 429
 * and 5xx (./retry.ts); retries are safe because each event carries its
 * event_id (assigned here once, before the first attempt, when missing) and
 * each decision one Idempotency-Key for all its attempts. With `privacy: true`
 * a message's `content` never leaves the process: it is replaced by
 * `content_sha256` and `content_signals` computed locally (./privacy.ts).
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleepMs } from "node:timers/promises";

import { Batcher, type BatcherOptions } from "./batcher.js";
import { ApiError, NotFound, TransportError, type FieldProblem } from "./errors.js";
import { StageExtractor, privateMessage } from "./privacy.js";
import { DEFAULT_RETRY, parseRetryAfter, retryDelay, retryableStatus, type RetryPolicy } from "./retry.js";
import type {
  ActorScore,
  ContractEvent,
  Decision,
  DecisionResult,
  IngestResult,
  PairAnalysis,
  PreparedEvent,
  QueuePage,
  ScoreHistory,
} from "./types.js";

export const USER_AGENT = "wardstream-client-node/0.1.0";

export interface ClientOptions {
  /** The API's base URL, e.g. https://wardstream.example.com */
  baseUrl: string;
  /** wsk_<key id>_<secret> */
  apiKey: string;
  /** Filled into events that do not name a tenant. */
  tenantId?: string;
  /** Send content_signals and content_sha256 instead of message text. */
  privacy?: boolean;
  extractor?: StageExtractor;
  retry?: Partial<RetryPolicy>;
  /** Per attempt (default 30 s). */
  timeoutMs?: number;
  /** sendEvents splits into requests of at most this many events (1..1000, default 500). */
  maxBatch?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<unknown>;
}

export interface DecisionInput {
  subject: string;
  decision: Decision;
  reviewer: string;
  alertId?: string;
  note?: string;
  /** RFC 3339 with an offset, or Unix seconds/milliseconds (default: now). */
  occurredAt?: string | number;
  /** One key for every attempt (default: a fresh UUID per call). */
  idempotencyKey?: string;
}

interface RequestInit2 {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
}

export function newEventId(): string {
  return `sdk-${randomUUID().replaceAll("-", "")}`;
}

const segment = (value: string): string => encodeURIComponent(value);

export class Client {
  private readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly maxBatch: number;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<unknown>;
  private readonly extractor: StageExtractor | undefined;

  constructor(private readonly options: ClientOptions) {
    if (!options.apiKey) throw new TypeError("apiKey is required (wsk_<key id>_<secret>)");
    this.maxBatch = options.maxBatch ?? 500;
    if (!(this.maxBatch >= 1 && this.maxBatch <= 1000)) throw new RangeError("maxBatch must be 1..1000");
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.headers = {
      Authorization: `Bearer ${options.apiKey}`,
      Accept: "application/json",
      "User-Agent": USER_AGENT,
    };
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    if (this.retry.maxAttempts < 1) throw new RangeError("retry.maxAttempts must be at least 1");
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.fetchImpl = options.fetch ?? fetch;
    this.sleep = options.sleep ?? sleepMs;
    this.extractor = options.privacy ? (options.extractor ?? StageExtractor.bundled()) : undefined;
  }

  /** The event as it would be sent: ids filled in, privacy applied. */
  prepare(event: ContractEvent): PreparedEvent {
    let out: ContractEvent = { ...event };
    if (!out.event_id) out.event_id = newEventId();
    if (this.options.tenantId !== undefined && out.tenant_id === undefined) out.tenant_id = this.options.tenantId;
    if (this.extractor !== undefined) out = privateMessage(out, this.extractor);
    return out as PreparedEvent;
  }

  /** Send one contract event; resolves once the broker acknowledged it. */
  async sendEvent(event: ContractEvent): Promise<IngestResult> {
    return this.sendPrepared([this.prepare(event)]);
  }

  /** Send events in requests of at most maxBatch; each request is accepted or refused whole. */
  async sendEvents(events: Iterable<ContractEvent>): Promise<IngestResult> {
    return this.sendPrepared([...events].map((e) => this.prepare(e)));
  }

  /** Send events already passed through prepare() (the batcher's path). */
  async sendPrepared(events: PreparedEvent[]): Promise<IngestResult> {
    const accepted: string[] = [];
    for (let i = 0; i < events.length; i += this.maxBatch) {
      const answer = (await this.request("POST", "/v1/events", {
        body: events.slice(i, i + this.maxBatch),
      })) as IngestResult;
      accepted.push(...answer.accepted);
    }
    return { accepted, count: accepted.length };
  }

  /** A buffer sending by size (maxEvents) or age (maxDelayMs); see ./batcher.ts. */
  batcher(options: BatcherOptions = {}): Batcher {
    return new Batcher((e) => this.prepare(e), (events) => this.sendPrepared(events), options);
  }

  /** Post a reviewer's decision; one Idempotency-Key for every attempt. */
  async postDecision(input: DecisionInput): Promise<DecisionResult> {
    const body: Record<string, unknown> = {
      subject: input.subject,
      decision: input.decision,
      reviewer: input.reviewer,
    };
    if (input.alertId !== undefined) body.alert_id = input.alertId;
    if (input.note !== undefined) body.note = input.note;
    if (input.occurredAt !== undefined) body.occurred_at = input.occurredAt;
    const key = input.idempotencyKey ?? randomUUID();
    return (await this.request("POST", "/v1/decisions", {
      body,
      headers: { "Idempotency-Key": key },
    })) as DecisionResult;
  }

  /** The user's newest score (`actor`: your user id or a u_ pseudonym). */
  async actorScore(actor: string): Promise<ActorScore> {
    return (await this.request("GET", `/v1/actors/${segment(actor)}/score`)) as ActorScore;
  }

  async actorHistory(actor: string, page: { limit?: number; before?: string } = {}): Promise<ScoreHistory> {
    return (await this.request("GET", `/v1/actors/${segment(actor)}/history`, { query: page })) as ScoreHistory;
  }

  async queue(page: { limit?: number; after?: string } = {}): Promise<QueuePage> {
    return (await this.request("GET", "/v1/queue", { query: page })) as QueuePage;
  }

  async pairAnalysis(a: string, b: string): Promise<PairAnalysis> {
    return (await this.request("GET", `/v1/pairs/${segment(a)}/${segment(b)}/analysis`)) as PairAnalysis;
  }

  private async request(method: string, path: string, init: RequestInit2 = {}): Promise<unknown> {
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(init.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { ...this.headers, ...init.headers };
    let body: string | undefined;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers["Content-Type"] = "application/json";
    }
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetchImpl(url, {
          method,
          headers,
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        if (attempt >= this.retry.maxAttempts) {
          throw new TransportError(`${url.href}: ${describe(error)} (after ${attempt} attempts)`, { cause: error });
        }
        await this.sleep(retryDelay(this.retry, attempt));
        continue;
      }
      if (response.ok) {
        const text = await response.text();
        return text ? (JSON.parse(text) as unknown) : {};
      }
      const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
      if (retryableStatus(response.status) && attempt < this.retry.maxAttempts) {
        await response.body?.cancel();
        await this.sleep(retryDelay(this.retry, attempt, retryAfter));
        continue;
      }
      throw await apiError(response, retryAfter);
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return `${error.name}: ${error.message}${cause}`;
  }
  return String(error);
}

async function apiError(response: Response, retryAfterMs: number | undefined): Promise<ApiError> {
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === "object" && !Array.isArray(value)) parsed = value as Record<string, unknown>;
  } catch {
    parsed = { error: "http_error", message: text.slice(0, 200) || response.statusText };
  }
  const Kind = response.status === 404 ? NotFound : ApiError;
  return new Kind(
    response.status,
    typeof parsed.error === "string" ? parsed.error : "http_error",
    typeof parsed.message === "string" ? parsed.message : "",
    typeof parsed.field === "string" ? parsed.field : undefined,
    Array.isArray(parsed.errors) ? (parsed.errors as FieldProblem[]) : [],
    retryAfterMs === undefined ? undefined : retryAfterMs / 1000,
  );
}
