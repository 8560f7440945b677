import { UserError } from "./errors.ts";

export const KiB = 1024;
export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;

const SIZE_UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: KiB, mib: MiB, gib: GiB, tib: 1024 ** 4,
};

/** Parses "80GiB", "1.5 GB", "4096" (bytes). Decimal units are powers of 10, binary units powers of 2. */
export function parseSize(text: string, field = "size"): number {
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) throw new UserError(`${field}: expected a size such as 80GiB or 1.5GB, got "${text}"`, { field });
  const unit = m[2].toLowerCase() || "b";
  const mult = SIZE_UNITS[unit];
  if (mult === undefined)
    throw new UserError(`${field}: unknown unit "${m[2]}" (use B, KB, MB, GB, KiB, MiB or GiB)`, { field });
  const v = Number(m[1]) * mult;
  if (!Number.isFinite(v) || v < 0) throw new UserError(`${field}: size must be non-negative, got "${text}"`, { field });
  return Math.round(v);
}

/** Parses "2s", "150ms", "1.5" (seconds). */
export function parseDuration(text: string, field = "duration"): number {
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*(ms|s|us|µs|min|h)?\s*$/.exec(text);
  if (!m) throw new UserError(`${field}: expected a duration such as 2s or 100ms, got "${text}"`, { field });
  const mult = { ms: 1e-3, s: 1, us: 1e-6, "µs": 1e-6, min: 60, h: 3600 }[m[2] ?? "s"] ?? 1;
  return Number(m[1]) * mult;
}

export function formatGiB(bytes: number, digits = 2): string {
  return `${(bytes / GiB).toFixed(digits)} GiB`;
}

export function formatBytes(bytes: number): string {
  const abs = Math.abs(bytes);
  if (abs >= GiB) return `${(bytes / GiB).toFixed(2)} GiB`;
  if (abs >= MiB) return `${(bytes / MiB).toFixed(2)} MiB`;
  if (abs >= KiB) return `${(bytes / KiB).toFixed(2)} KiB`;
  return `${bytes} B`;
}
