/** Errors the client throws: one root, each carrying what the caller needs to act. */

/** Root of every error this package throws. */
export class WardstreamError extends Error {
  override name = "WardstreamError";
}

/** One problem in a refused request: the field as the caller wrote it, and the rule. */
export interface FieldProblem {
  field?: string;
  rule?: string;
  message?: string;
  index?: number;
  event_id?: string | null;
}

/**
 * The API answered with an error status (after any retries). A 4xx other than
 * 429 is the caller's to fix (`field` names it); a 429 or 5xx here means the
 * retries ran out: send the same events again later (their ids make it safe).
 */
export class ApiError extends WardstreamError {
  override name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly field: string | undefined = undefined,
    readonly errors: FieldProblem[] = [],
    readonly retryAfter: number | undefined = undefined,
  ) {
    super(`HTTP ${status} ${code}: ${detail}${field ? ` (field ${field})` : ""}`);
  }
}

/** 404: no such user, pair or item among this tenant's. */
export class NotFound extends ApiError {
  override name = "NotFound";
}

/** The API could not be reached (connection refused, timeout) after every retry. */
export class TransportError extends WardstreamError {
  override name = "TransportError";
}

/** A webhook signature is missing, malformed, stale or does not match the body. */
export class SignatureError extends WardstreamError {
  override name = "SignatureError";
}

/** The stage model for privacy mode is missing or not a usable export. */
export class ModelError extends WardstreamError {
  override name = "ModelError";
}
