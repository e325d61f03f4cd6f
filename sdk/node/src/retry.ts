/**
 * When and how long to wait before retrying a request.
 *
 * Retried: network errors and timeouts, 429 (after its Retry-After) and 500,
 * 502, 503, 504. Never retried: any other status. Waits grow exponentially with
 * full jitter and are capped; a Retry-After longer than the cap is cut to it.
 * Retrying is safe: events carry their event_id and decisions one Idempotency-Key.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 };
const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);

export function retryableStatus(status: number): boolean {
  return RETRY_STATUSES.has(status);
}

/** Milliseconds to wait after failed attempt `attempt` (1-based). */
export function retryDelay(policy: RetryPolicy, attempt: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(retryAfterMs, 0), policy.maxDelayMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.random() * ceiling;
}

/** Retry-After (delta-seconds or an HTTP date) in milliseconds; undefined when absent or bad. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^[0-9]+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
