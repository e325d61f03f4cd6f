/**
 * Privacy mode: stage signals computed on the platform, so message text never leaves it.
 *
 * StageExtractor reads the exported stage model (stage_model.json, made by
 * `python -m pipeline.detect.text.export` from the pipeline's own model) and
 * computes the eight grooming-stage probabilities the pipeline would compute
 * from the text: the same normalisation, the same CRC-32 hashed word unigrams,
 * bigrams and character trigrams, the same logistic regressions.
 * privateMessage turns a contract `message` event with `content` into one with
 * `content_signals` and `content_sha256` only.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

import { ModelError } from "./errors.js";
import { normalise } from "./normalise.js";
import type { ContractEvent } from "./types.js";

export const MODEL_KIND = "wardstream.stage_model.json";
export const MODEL_FORMAT = 1;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** zlib.crc32(bytes, seed): CRC-32 continued from `seed`. */
export function crc32(bytes: Uint8Array, seed = 0): number {
  let c = (seed ^ 0xffffffff) >>> 0;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const ascii = (text: string): Buffer => Buffer.from(text, "utf8");
const WORD_SEED = crc32(ascii("w"));
const BIGRAM_SEED = crc32(ascii("b"));
const CHAR_SEED = crc32(ascii("c"));

/** Hashed bucket of every word, word bigram and character trigram occurrence. */
export function featureKeys(normalised: string, bucketBits = 17, maxChars = 2000): number[] {
  const mask = 2 ** bucketBits - 1;
  const words = normalised.slice(0, maxChars).split(" ").filter((w) => w.length > 0);
  if (words.length === 0) return [];
  const keys = words.map((w) => (crc32(ascii(w), WORD_SEED) & mask) >>> 0);
  const lefts = ["<s>", ...words];
  const rights = [...words, "</s>"];
  for (let i = 0; i < lefts.length; i++) {
    keys.push((crc32(ascii(`${lefts[i]} ${rights[i]}`), BIGRAM_SEED) & mask) >>> 0);
  }
  const padded = ascii(` ${words.join(" ")} `);
  for (let i = 0; i + 3 <= padded.length; i++) {
    keys.push((crc32(padded.subarray(i, i + 3), CHAR_SEED) & mask) >>> 0);
  }
  return keys;
}

function l2Norm(keys: number[]): number {
  const counts = new Map<number, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  if (counts.size === keys.length) return Math.sqrt(keys.length);
  let sum = 0;
  for (const c of counts.values()) sum += c * c;
  return Math.sqrt(sum);
}

/** The hex SHA-256 of the UTF-8 text (what the pipeline computes from `content`). */
export function contentSha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** The exported model document (sdk/model/stage_model.json). */
export interface StageModelDocument {
  kind: string;
  format: number;
  version: string;
  stages: string[];
  bucket_bits: number;
  features: { hash: string; word_seed: string; bigram_seed: string; char_seed: string; max_chars: number };
  intercepts: number[];
  keys: number[];
  values: number[][];
}

let bundled: StageExtractor | undefined;

/** The eight stage probabilities of a text, from an exported stage model. */
export class StageExtractor {
  readonly stages: readonly string[];
  readonly version: string;
  private readonly intercepts: Float64Array;
  private readonly weights = new Map<number, Float64Array>();
  private readonly bucketBits: number;
  private readonly maxChars: number;

  constructor(document: StageModelDocument) {
    if (document.kind !== MODEL_KIND || document.format !== MODEL_FORMAT) {
      throw new ModelError(`not a ${MODEL_KIND} document of format ${MODEL_FORMAT}`);
    }
    const f = document.features;
    if (f.hash !== "crc32" || f.word_seed !== "w" || f.bigram_seed !== "b" || f.char_seed !== "c") {
      throw new ModelError("the model's feature recipe is not one this client implements");
    }
    const n = document.stages.length;
    if (document.intercepts.length !== n || document.values.length !== n) {
      throw new ModelError("the model's stages, intercepts and values do not line up");
    }
    this.stages = [...document.stages];
    this.version = document.version;
    this.bucketBits = document.bucket_bits;
    this.maxChars = f.max_chars;
    this.intercepts = Float64Array.from(document.intercepts);
    document.keys.forEach((key, i) => {
      const row = new Float64Array(n);
      for (let s = 0; s < n; s++) row[s] = document.values[s]?.[i] ?? 0;
      this.weights.set(key, row);
    });
  }

  static fromFile(path: string | URL): StageExtractor {
    let document: StageModelDocument;
    try {
      document = JSON.parse(readFileSync(path, "utf8")) as StageModelDocument;
    } catch (error) {
      throw new ModelError(`${String(path)}: cannot load the stage model (${String(error)})`);
    }
    return new StageExtractor(document);
  }

  /** The model shipped with this package (the pipeline's seed model). */
  static bundled(): StageExtractor {
    bundled ??= StageExtractor.fromFile(new URL("./stage_model.json", import.meta.url));
    return bundled;
  }

  /** Stage probabilities in `stages` order (all 0 for empty text). */
  probabilities(text: string): number[] {
    const n = this.stages.length;
    if (text.length === 0) return new Array<number>(n).fill(0);
    const keys = featureKeys(normalise(text), this.bucketBits, this.maxChars);
    const sums = new Float64Array(n);
    for (const key of keys) {
      const row = this.weights.get(key);
      if (row === undefined) continue;
      for (let s = 0; s < n; s++) sums[s] = (sums[s] ?? 0) + (row[s] ?? 0);
    }
    const norm = keys.length > 0 ? l2Norm(keys) : 1;
    const out: number[] = [];
    for (let s = 0; s < n; s++) {
      const logit = (this.intercepts[s] ?? 0) + (sums[s] ?? 0) / norm;
      out.push(1 / (1 + Math.exp(-Math.min(Math.max(logit, -30), 30))));
    }
    return out;
  }

  /** `content_signals` for a text: stage name -> probability in [0, 1]. */
  signals(text: string): Record<string, number> {
    const probabilities = this.probabilities(text);
    return Object.fromEntries(this.stages.map((stage, i) => [stage, probabilities[i] ?? 0]));
  }
}

/**
 * A copy of a contract event with `content` replaced by `content_sha256` and
 * `content_signals`. Events without `content` are unchanged; empty text gets a
 * hash and no signals (the pipeline does not score it either); a non-message
 * event with `content` is refused.
 */
export function privateMessage(event: ContractEvent, extractor: StageExtractor): ContractEvent {
  const { content, ...rest } = event;
  if (content === undefined || content === null) return { ...rest };
  if (rest.type !== "message") {
    throw new TypeError("content is only allowed on message events (privacy mode sends no text at all)");
  }
  if (typeof content !== "string") throw new TypeError("content must be a string");
  const out: ContractEvent = { ...rest, content_sha256: contentSha256(content) };
  if (content.length > 0 && out.content_signals === undefined) {
    out.content_signals = extractor.signals(content);
  }
  return out;
}
