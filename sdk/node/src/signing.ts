/**
 * Verifying webhook deliveries (`Wardstream-Signature`), with node:crypto only.
 *
 * A delivery carries `Wardstream-Signature: t=<unix seconds>,v1=<hex>`: the hex is
 * HMAC-SHA256 keyed with the endpoint's secret (its UTF-8 bytes, `whsec_`
 * included) over `"<t>."` followed by the raw body. Verify the raw bytes before
 * parsing JSON; signatures are compared in constant time and a timestamp more
 * than `toleranceSeconds` from the receiver's clock is refused.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

import { SignatureError } from "./errors.js";

export const SIGNATURE_HEADER = "Wardstream-Signature";
export const DELIVERY_HEADER = "Wardstream-Delivery";
export const EVENT_HEADER = "Wardstream-Event";
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type RawBody = string | Uint8Array;

export interface VerifyOptions {
  toleranceSeconds?: number;
  /** The receiver's clock in Unix seconds (default: now). */
  now?: number;
}

function bytesOf(body: RawBody): Buffer {
  return typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
}

function mac(secret: string, timestamp: number, body: RawBody): string {
  return createHmac("sha256", Buffer.from(secret, "utf8"))
    .update(Buffer.from(`${timestamp}.`, "ascii"))
    .update(bytesOf(body))
    .digest("hex");
}

/** A `Wardstream-Signature` value for `body` (for tests and local tools). */
export function sign(secret: string, body: RawBody, timestamp: number): string {
  return `t=${timestamp},v1=${mac(secret, timestamp, body)}`;
}

/** Check `header` against the raw `body`; the signed timestamp, or a SignatureError. */
export function verifySignature(
  secret: string,
  body: RawBody,
  header: string | null | undefined,
  options: VerifyOptions = {},
): number {
  if (!header) throw new SignatureError(`no ${SIGNATURE_HEADER} header`);
  let timestamp: number | undefined;
  const presented: string[] = [];
  for (const part of header.split(",")) {
    const trimmed = part.trim();
    const at = trimmed.indexOf("=");
    if (at < 0) throw new SignatureError("malformed signature header: expected t=...,v1=...");
    const name = trimmed.slice(0, at);
    const value = trimmed.slice(at + 1);
    if (name === "t") {
      if (!/^[0-9]{1,12}$/.test(value)) {
        throw new SignatureError("the signature timestamp is not Unix seconds");
      }
      timestamp = Number(value);
    } else if (name === "v1") {
      presented.push(value.trim().toLowerCase());
    }
  }
  if (timestamp === undefined) throw new SignatureError("the signature header has no timestamp (t=)");
  if (presented.length === 0) throw new SignatureError("the signature header has no v1= signature");
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = options.now ?? Date.now() / 1000;
  if (Math.abs(now - timestamp) > tolerance) {
    throw new SignatureError(`the signature timestamp is more than ${tolerance}s from now`);
  }
  const expected = Buffer.from(mac(secret, timestamp, body), "utf8");
  let matched = false;
  for (const candidate of presented) {
    // every candidate compared, no early exit; unequal lengths compare against themselves
    const given = Buffer.from(candidate, "utf8");
    const same = given.length === expected.length;
    matched = (same ? timingSafeEqual(given, expected) : !timingSafeEqual(expected, expected)) || matched;
  }
  if (!matched) throw new SignatureError("the signature does not match the body");
  return timestamp;
}

/** True when verifySignature accepts the delivery. */
export function isValidSignature(
  secret: string,
  body: RawBody,
  header: string | null | undefined,
  options: VerifyOptions = {},
): boolean {
  try {
    verifySignature(secret, body, header, options);
    return true;
  } catch (error) {
    if (error instanceof SignatureError) return false;
    throw error;
  }
}
