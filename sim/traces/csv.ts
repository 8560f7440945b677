import { RowError } from "./row-error.ts";

/**
 * Splits one CSV line (RFC 4180 quoting, comma delimiter). Traces are read line by line so every error can name
 * its file:line; a quoted field spanning lines is therefore not supported (no trace format uses one) and is reported.
 * Hand-written rather than csv-parse because it is called once per row on 27M-row files and must stay allocation-light.
 */
export function splitCsvLine(line: string): string[] {
  if (line.indexOf('"') < 0) return line.split(",");
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line.charCodeAt(i) === 34) {
      let v = "";
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new RowError("unterminated quoted field");
        v += line.slice(i, q);
        if (line.charCodeAt(q + 1) === 34) {
          v += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(v);
      if (i >= line.length) return out;
      if (line.charCodeAt(i) !== 44) throw new RowError(`unexpected text after a quoted field at column ${i + 1}`);
      i++;
    } else {
      const c = line.indexOf(",", i);
      if (c < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, c));
      i = c + 1;
    }
  }
}

/**
 * Maps required column names to positions in a header (case- and space-insensitive), so columns are read by name
 * (BurstGPT v3 inserts columns before the ones v1 has). Returns undefined for a missing required column.
 */
export function columnIndex(header: string[], names: readonly string[]): Map<string, number> {
  const norm = (s: string) => s.trim().toLowerCase().replace(/\s+/g, " ");
  const pos = new Map<string, number>();
  header.forEach((h, i) => pos.set(norm(h), i));
  const out = new Map<string, number>();
  for (const n of names) {
    const i = pos.get(norm(n));
    if (i !== undefined) out.set(n, i);
  }
  return out;
}

/** Describes a header line that is not comma-separated, for the "wrong delimiter" message. */
export function delimiterHint(line: string): string | undefined {
  if (line.includes(",")) return undefined;
  if (line.includes("\t")) return "tab-separated";
  if (line.includes(";")) return "semicolon-separated";
  if (line.includes("|")) return "pipe-separated";
  return undefined;
}
