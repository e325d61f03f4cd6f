/**
 * Text normalisation, step for step the pipeline's (pipeline/detect/text/normalise.py):
 * Unicode compatibility folding and case folding; zero-width characters and
 * accents removed; apostrophes dropped; letters spaced or dotted apart joined;
 * leetspeak undone inside words that contain a letter; runs of three or more of
 * one letter squeezed to one. The result is lower-case words separated by single
 * spaces. Python's case folding and combining classes come from ./unicode.ts, and
 * characters that Python's Unicode version does not know yet are treated as it
 * treats them: no compatibility or case mapping, not a letter (they only split words).
 */
import { CASEFOLD, COMBINING, UNASSIGNED } from "./unicode.js";

const FOLDS: ReadonlyMap<number, string> = new Map(
  CASEFOLD.map(([cp, folded]) => [cp, String.fromCodePoint(...folded)]),
);
const INVISIBLE = /[\u200b\u200c\u200d\u2060\ufeff\u00ad]/g;
const APOSTROPHES = /['\u2019`\u00b4]/g;
const WORD = "[\\p{L}\\p{N}_@$]";
const DOTTED = new RegExp(`(?<!${WORD})(?:${WORD}[.\\-_*\\u00b7]){2,}${WORD}(?!${WORD})`, "gu");
const DOT_SEPARATORS = /[.\-_*\u00b7]/g;
const PIECES = /[a-z0-9@$]+/g;
const LEETABLE = /[0-9@$]/;
const LETTER = /[a-z]/;
const RUNS = /([a-z])\1{2,}/g;
const LEET: Readonly<Record<string, string>> = {
  "1": "i", "3": "e", "4": "a", "0": "o", "5": "s", "7": "t", "@": "a", "$": "s",
};
const SHORTHAND = new Set("uriaykncb24");
const MIN_SPACED_RUN = 3;

function inRanges(ranges: ReadonlyArray<readonly [number, number]>, cp: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const range = ranges[mid];
    if (range === undefined) return false;
    if (cp < range[0]) hi = mid - 1;
    else if (cp > range[1]) lo = mid + 1;
    else return true;
  }
  return false;
}

function caseFold(text: string): string {
  let out = "";
  for (const ch of text) {
    out += FOLDS.get(ch.codePointAt(0) ?? 0) ?? ch.toLowerCase();
  }
  return out;
}

// Stands for a character Python does not know: not a word character, not a separator.
const UNKNOWN = "\u0000";

/** NFKC per run of known characters (an unknown one is a starter, so runs are
 * independent), case folding, and unknown characters replaced by UNKNOWN. */
function compatibilityFold(text: string): string {
  let out = "";
  let run = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp > 0x7f && inRanges(UNASSIGNED, cp)) {
      out += caseFold(run.normalize("NFKC")) + UNKNOWN;
      run = "";
    } else {
      run += ch;
    }
  }
  return out + caseFold(run.normalize("NFKC"));
}

function fold(text: string): string {
  const folded = compatibilityFold(text).replace(INVISIBLE, "");
  if (/^[\x00-\x7f]*$/.test(folded)) return folded;
  let out = "";
  for (const ch of folded.normalize("NFKD")) {
    if (!inRanges(COMBINING, ch.codePointAt(0) ?? 0)) out += ch;
  }
  return out;
}

function joinSpaced(pieces: string[]): string[] {
  const joined: string[] = [];
  let run: string[] = [];
  const flush = (): void => {
    const spaced = run.length >= MIN_SPACED_RUN && !run.every((p) => SHORTHAND.has(p));
    if (spaced) joined.push(run.join(""));
    else joined.push(...run);
    run = [];
  };
  for (const piece of pieces) {
    if (piece.length === 1) {
      run.push(piece);
      continue;
    }
    if (run.length > 0) flush();
    joined.push(piece);
  }
  if (run.length > 0) flush();
  return joined;
}

function unleet(word: string): string {
  if (!LETTER.test(word)) return word;
  return word.replace(/[0-9@$]/g, (c) => LEET[c] ?? c);
}

/** The normalised form of `text` (the same string the pipeline makes). */
export function normalise(text: string): string {
  let folded = fold(text).replace(APOSTROPHES, "");
  if (/[.\-_*\u00b7]/.test(folded)) {
    folded = folded.replace(DOTTED, (match) => match.replace(DOT_SEPARATORS, ""));
  }
  let pieces: string[] = folded.match(PIECES) ?? [];
  if (pieces.some((p) => p.length === 1)) pieces = joinSpaced(pieces);
  if (LEETABLE.test(folded)) pieces = pieces.map(unleet);
  return pieces.join(" ").replace(RUNS, "$1");
}
