/**
 * Buffering events and sending them in batches, by size or by age.
 *
 * A batcher sends when it holds `maxEvents` events or its oldest event has
 * waited `maxDelayMs`, and on flush() and close(). Each event gets its event_id
 * when added (add() returns it), so every retry of its batch repeats the id and
 * the pipeline processes it once. When a send fails after the client's retries:
 * a refusal (4xx other than 429) removes the events and hands them to onError;
 * an unreachable or overloaded API (network error, 429, 5xx) puts them back at
 * the front of the buffer for the next flush, and onError is told too.
 * flush() and close() throw the error; the timer hands it to onError (or
 * writes it to the console when there is none).
 */
import { ApiError, WardstreamError } from "./errors.js";
import { retryableStatus } from "./retry.js";
import type { ContractEvent, IngestResult, PreparedEvent } from "./types.js";

export type BatchErrorHandler = (events: PreparedEvent[], error: Error) => void;

export interface BatcherOptions {
  maxEvents?: number;
  maxDelayMs?: number;
  onError?: BatchErrorHandler;
}

const kept = (error: unknown): boolean =>
  error instanceof WardstreamError && (!(error instanceof ApiError) || retryableStatus(error.status));

export class Batcher {
  private buffer: PreparedEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly maxEvents: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly prepare: (event: ContractEvent) => PreparedEvent,
    private readonly send: (events: PreparedEvent[]) => Promise<IngestResult>,
    private readonly options: BatcherOptions = {},
  ) {
    this.maxEvents = options.maxEvents ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 1000;
    if (this.maxEvents < 1 || this.maxDelayMs <= 0) {
      throw new RangeError("maxEvents must be >= 1 and maxDelayMs > 0");
    }
  }

  /** Buffer one event (sending the batch when full); its event_id. */
  async add(event: ContractEvent): Promise<string> {
    if (this.closed) throw new WardstreamError("the batcher is closed");
    const prepared = this.prepare(event);
    this.buffer.push(prepared);
    if (this.buffer.length >= this.maxEvents) {
      await this.flush();
    } else {
      this.timer ??= setTimeout(() => this.onTimer(), this.maxDelayMs);
    }
    return prepared.event_id;
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** Send everything buffered now (batches are sent one at a time, in order). */
  flush(): Promise<IngestResult> {
    const run = this.sending.then(() => this.sendBuffered(), () => this.sendBuffered());
    this.sending = run.catch(() => undefined);
    return run;
  }

  /** Stop the timer and send what is left (throws if that fails). */
  async close(): Promise<void> {
    this.closed = true;
    this.clearTimer();
    await this.flush();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private onTimer(): void {
    this.timer = undefined;
    this.flush().catch((error: unknown) => {
      if (this.options.onError === undefined) console.warn(`wardstream batch not sent: ${String(error)}`);
    });
  }

  private async sendBuffered(): Promise<IngestResult> {
    this.clearTimer();
    const events = this.buffer;
    this.buffer = [];
    if (events.length === 0) return { accepted: [], count: 0 };
    try {
      return await this.send(events);
    } catch (error) {
      if (kept(error)) {
        this.buffer = [...events, ...this.buffer];
        if (!this.closed) this.timer ??= setTimeout(() => this.onTimer(), this.maxDelayMs);
      }
      this.options.onError?.(events, error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }
}
