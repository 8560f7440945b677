import { createReadStream, existsSync, openSync, readSync, readdirSync, closeSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { UserError, closestNames } from "../../sim/errors.ts";
import { linesFromChunks, newReport, readTrace, type TraceOptions, type TraceReport, type TraceRequest } from "../../sim/traces/index.ts";

/** The repo's embedded samples (traces/), addressable by name without the extension: `azure-2023-conv`. */
export const EMBEDDED_TRACES_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "traces");

/** The default replay workload: the Azure 2023 conversation trace (CC-BY 4.0, see traces/ATTRIBUTION.md). */
export const DEFAULT_TRACE = join(EMBEDDED_TRACES_DIR, "azure-2023-conv.csv");

const EMBEDDED_EXTS = [".csv", ".jsonl", ".json", ".jsonl.gz", ".csv.gz", ".json.gz"];

/**
 * Resolves a trace argument: an existing path, else the name of an embedded sample (`azure-2023-code`,
 * `mooncake-synthetic`). Unknown → UserError with the closest sample names.
 */
export function resolveTracePath(pathOrName: string): string {
  if (existsSync(pathOrName)) {
    if (statSync(pathOrName).isDirectory()) throw new UserError(`trace: ${pathOrName} is a directory, not a trace file`, { field: "trace" });
    return pathOrName;
  }
  for (const ext of ["", ...EMBEDDED_EXTS]) {
    const p = join(EMBEDDED_TRACES_DIR, pathOrName + ext);
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  const names = embeddedTraceNames();
  throw new UserError(
    `trace file not found: ${pathOrName}` + (names.length ? ` (embedded samples: did you mean ${closestNames(pathOrName, names).join(", ")}?)` : ""),
    { field: "trace" },
  );
}

export function embeddedTraceNames(): string[] {
  try {
    return readdirSync(EMBEDDED_TRACES_DIR)
      .filter((f) => /\.(csv|jsonl|json)(\.gz)?$/.test(f))
      .map((f) => f.replace(/\.(csv|jsonl|json)(\.gz)?$/, ""));
  } catch {
    return [];
  }
}

/** gzip by magic bytes (1f 8b), whatever the name says. */
export function isGzipFile(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const b = Buffer.alloc(2);
    const n = readSync(fd, b, 0, 2, 0);
    return n === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens a trace file as a stream of requests (fs.createReadStream, 1 MiB chunks; gzip detected by magic bytes),
 * never reading it whole into memory. `report` is filled in as `requests` is consumed and complete once it is done.
 * Messages name the file as the user gave it (embedded samples as traces/NAME).
 */
export function openTrace(path: string, opts: TraceOptions = {}): { requests: AsyncGenerator<TraceRequest>; report: TraceReport } {
  const resolved = resolveTracePath(path);
  const gzip = isGzipFile(resolved) || /\.gz$/i.test(resolved);
  const fileName = opts.fileName ?? (resolved.startsWith(EMBEDDED_TRACES_DIR) ? join("traces", basename(resolved)) : path);
  const report = newReport(opts.format ?? "native");
  const stream = createReadStream(resolved, { highWaterMark: 1 << 20 });
  const lines = linesFromChunks(stream as AsyncIterable<Uint8Array>, gzip, fileName);
  return { requests: readTrace(lines, { ...opts, fileName }, report), report };
}

/** Reads a whole trace into an array (small files, tests, `trace inspect` of samples). */
export async function loadTrace(path: string, opts: TraceOptions = {}): Promise<{ requests: TraceRequest[]; report: TraceReport }> {
  const { requests, report } = openTrace(path, opts);
  const out: TraceRequest[] = [];
  for await (const r of requests) out.push(r);
  return { requests: out, report };
}
