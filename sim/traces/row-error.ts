/**
 * A bad data row. Parsers throw it with the column/field and what was expected vs found; the reader adds file:line
 * and either skips the row (counted in the report) or, with `strict`, turns it into a UserError.
 */
export class RowError extends Error {
  readonly field?: string;
  constructor(message: string, field?: string) {
    super(field ? `${field}: ${message}` : message);
    this.name = "RowError";
    this.field = field;
  }
}

/** Shows a found value in a message, shortened so a garbage line cannot flood the terminal. */
export function shown(v: unknown): string {
  const s = typeof v === "string" ? JSON.stringify(v) : v === undefined ? "nothing" : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? s.slice(0, 57) + "..." : s;
}

/** A token count: a non-negative integer (text or JSON number); `min` 1 for prompts and outputs. */
export function tokenCount(v: unknown, field: string, min = 1): number {
  let n: number;
  if (typeof v === "string") {
    const fast = plainDigits(v);
    if (fast >= min) return fast;
  }
  if (typeof v === "number") n = v;
  else if (typeof v === "string" && /^\s*[+-]?\d+(\.0*)?\s*$/.test(v)) n = Number(v);
  else throw new RowError(`expected an integer token count, found ${shown(v)}`, field);
  if (!Number.isSafeInteger(n)) throw new RowError(`expected an integer token count, found ${shown(v)}`, field);
  if (n < min)
    throw new RowError(`expected ${min === 1 ? "a positive" : `an integer ≥ ${min}`} token count, found ${shown(v)}`, field);
  return n;
}

/** The value of a string of 1–15 ASCII digits, else −1 (the common case of tokenCount, without a regex). */
function plainDigits(s: string): number {
  const n = s.length;
  if (n === 0 || n > 15) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** A finite non-negative number of seconds (or ms) from JSON or text. */
export function timeValue(v: unknown, field: string): number {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new RowError(`expected a number, found ${shown(v)}`, field);
  if (n < 0) throw new RowError(`expected a non-negative time, found ${shown(v)}`, field);
  return n;
}

/** Prefix-block ids: an array of non-negative safe integers. */
export function hashIdList(v: unknown, field: string): number[] {
  if (!Array.isArray(v)) throw new RowError(`expected an array of integer block ids, found ${shown(v)}`, field);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== "number" || !Number.isSafeInteger(x) || x < 0)
      throw new RowError(`element ${i}: expected a non-negative integer block id, found ${shown(x)}`, field);
  }
  return v as number[];
}
