/** Number formatting shared by every view: bytes in GiB (the unit vLLM logs), seconds, tokens, percentages. */
import { GiB } from "../../../sim/units.ts";

export { formatBytes } from "../../../sim/units.ts";

export function gib(bytes: number, digits = 2): string {
  return `${(bytes / GiB).toFixed(digits)} GiB`;
}

/** Exact bytes with thousands separators, for hover ("exact bytes"). */
export function exactBytes(bytes: number): string {
  return `${Math.round(bytes).toLocaleString("en-US")} B`;
}

export function seconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return "–";
  if (s === 0) return "0 s";
  if (Math.abs(s) < 1e-3) return `${(s * 1e6).toFixed(0)} µs`;
  if (Math.abs(s) < 1) return `${(s * 1e3).toFixed(1)} ms`;
  if (Math.abs(s) < 120) return `${s.toFixed(2)} s`;
  return `${(s / 60).toFixed(1)} min`;
}

export function int(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "–";
  return Math.round(n).toLocaleString("en-US");
}

export function pct(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  return `${(x * 100).toFixed(digits)}%`;
}

export function num(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  return x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** Escapes text for innerHTML templates (request names, trace errors, config values come from users). */
export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
