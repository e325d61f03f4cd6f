/** wardstream client for Node 20+: events, decisions, reads, webhook verification, privacy mode. */
export { Batcher, type BatchErrorHandler, type BatcherOptions } from "./batcher.js";
export { Client, newEventId, type ClientOptions, type DecisionInput } from "./client.js";
export {
  ApiError,
  ModelError,
  NotFound,
  SignatureError,
  TransportError,
  WardstreamError,
  type FieldProblem,
} from "./errors.js";
export { normalise } from "./normalise.js";
export { StageExtractor, contentSha256, crc32, featureKeys, privateMessage, type StageModelDocument } from "./privacy.js";
export { DEFAULT_RETRY, parseRetryAfter, retryDelay, retryableStatus, type RetryPolicy } from "./retry.js";
export {
  DEFAULT_TOLERANCE_SECONDS,
  DELIVERY_HEADER,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  isValidSignature,
  sign,
  verifySignature,
  type RawBody,
  type VerifyOptions,
} from "./signing.js";
export type * from "./types.js";
