import { UserError } from "../errors.ts";
import { checkBounds, paramDef, parseParamValue, type ParamDef, type ParamValue } from "./params.ts";

/**
 * `--vary name=START:END:STEP` or `--vary name=a,b,c`, expanded to the list of values the sweep visits.
 *
 * Ranges include END, and are float-safe: the i-th value is START + i·STEP rounded to the decimals that START and
 * STEP are written with, so `0.5:0.95:0.05` gives exactly 0.5, 0.55, …, 0.95 (ten values) and never
 * 0.6000000000000001 or a missing 0.95. A range whose END is not on the grid stops at the last value ≤ END.
 */
export interface VaryParam {
  /** The flag name, e.g. "gpu-memory-utilization". */
  name: string;
  values: ParamValue[];
}

/** Beyond this a typo (a STEP of 0.0001 for 0.001) is more likely than intent. */
export const MAX_VALUES_PER_PARAM = 10_000;
export const MAX_POINTS = 1_000_000;

export function parseVary(text: string): VaryParam {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new UserError(`--vary: expected NAME=START:END:STEP or NAME=a,b,c, got "${text}"`, { field: "--vary" });
  const def = paramDef(text.slice(0, eq));
  const rhs = text.slice(eq + 1).trim();
  if (rhs === "") throw new UserError(`--vary ${def.flag}: no values given`, { field: "--vary" });
  const values = rhs.includes(":") && !rhs.includes(",") ? expandRange(def, rhs) : rhs.split(",").map((v) => parseParamValue(def, v));
  const seen = new Set<string>();
  for (const v of values) {
    const k = String(v);
    if (seen.has(k)) throw new UserError(`--vary ${def.flag}: value ${k} is listed twice`, { field: "--vary" });
    seen.add(k);
  }
  return { name: def.flag, values };
}

/** Parses every `--vary`, rejecting a parameter given twice (the product would be ambiguous). */
export function parseVaryList(texts: readonly string[]): VaryParam[] {
  const out: VaryParam[] = [];
  for (const t of texts) {
    const p = parseVary(t);
    if (out.some((q) => q.name === p.name))
      throw new UserError(`--vary ${p.name} is given twice; list all its values in one --vary`, { field: "--vary" });
    out.push(p);
  }
  const n = productSize(out);
  if (n > MAX_POINTS) throw new UserError(`--vary: ${n} points is more than ${MAX_POINTS}; narrow the ranges`, { field: "--vary" });
  return out;
}

function expandRange(def: ParamDef, rhs: string): number[] {
  const parts = rhs.split(":");
  const field = "--vary";
  const where = `--vary ${def.flag}`;
  if (parts.length !== 3) throw new UserError(`${where}: a range is START:END:STEP, got "${rhs}"`, { field });
  if (def.kind === "string" || def.kind === "bool")
    throw new UserError(`${where}: takes a list (a,b,c), not a range`, { field });
  // Parse each part with the parameter's own unit rules, but without bounds (STEP may be below the minimum).
  const num = (s: string): number => {
    const loose: ParamDef = { ...def, min: undefined, max: undefined, kind: def.kind === "int" ? "float" : def.kind };
    return parseParamValue(loose, s, field) as number;
  };
  const [start, end, step] = parts.map(num);
  if (!(step > 0)) throw new UserError(`${where}: STEP must be positive, got "${parts[2]}"`, { field });
  if (end < start) throw new UserError(`${where}: END ${parts[1]} is below START ${parts[0]}`, { field });
  const decimals = def.kind === "float" ? Math.max(decimalsOf(parts[0]), decimalsOf(parts[2])) : 0;
  const count = Math.floor((end - start) / step + 1e-9) + 1;
  if (count > MAX_VALUES_PER_PARAM)
    throw new UserError(`${where}: ${count} values is more than ${MAX_VALUES_PER_PARAM}; use a larger STEP`, { field });
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    const raw = start + i * step;
    const v = def.kind === "float" ? Number(raw.toFixed(Math.min(decimals, 15))) : Math.round(raw);
    checkBounds(def, v, where, field);
    values.push(v);
  }
  return values;
}

/** Digits after the decimal point as written ("0.05" → 2, "1e-3" → 3, "5" → 0). */
export function decimalsOf(text: string): number {
  const m = /^\s*[+-]?(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?\s*$/i.exec(text);
  if (!m) return 0;
  const frac = m[2]?.length ?? 0;
  const exp = m[3] ? Number(m[3]) : 0;
  return Math.max(0, frac - exp);
}

export function productSize(vary: readonly VaryParam[]): number {
  return vary.reduce((n, p) => n * p.values.length, 1);
}

/**
 * The parameters of point `index` of the cartesian product, the last `--vary` varying fastest (so the order
 * matches reading the flags left to right as nested loops).
 */
export function pointParams(vary: readonly VaryParam[], index: number): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  let rest = index;
  for (let k = vary.length - 1; k >= 0; k--) {
    const n = vary[k].values.length;
    out[vary[k].name] = vary[k].values[rest % n];
    rest = Math.floor(rest / n);
  }
  // Keep the flags' order in the object for readable JSON.
  const ordered: Record<string, ParamValue> = {};
  for (const p of vary) ordered[p.name] = out[p.name];
  return ordered;
}

/** All points, in product order. */
export function cartesianProduct(vary: readonly VaryParam[]): Record<string, ParamValue>[] {
  const n = productSize(vary);
  const out: Record<string, ParamValue>[] = [];
  for (let i = 0; i < n; i++) out.push(pointParams(vary, i));
  return out;
}
