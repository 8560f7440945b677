import { createReadStream, existsSync, openSync, readSync, readdirSync, closeSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { UserError, closestNames } from "../../sim/errors.ts";
import { Option, type Command } from "commander";
import {
  TRACE_FORMATS,
  isTraceFormat,
  lineBatchesFromChunks,
  newReport,
  parseTimeWindow,
  readTraceBatches,
  type TraceOptions,
  type TraceReport,
  type TraceRequest,
} from "../../sim/traces/index.ts";
import { parseFloatFlag, parseIntFlag } from "../common.ts";

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
export function openTrace(
  path: string,
  opts: TraceOptions = {},
  progress?: { onBytes(bytesRead: number, totalBytes: number): void },
): { requests: AsyncGenerator<TraceRequest>; report: TraceReport; bytes: number } {
  const resolved = resolveTracePath(path);
  const gzip = isGzipFile(resolved) || /\.gz$/i.test(resolved);
  const fileName = opts.fileName ?? (resolved.startsWith(EMBEDDED_TRACES_DIR) ? join("traces", basename(resolved)) : path);
  const report = newReport(opts.format ?? "native");
  const bytes = statSync(resolved).size;
  const stream = createReadStream(resolved, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>;
  const source = progress ? countBytes(stream, (n) => progress.onBytes(n, bytes)) : stream;
  const batches = lineBatchesFromChunks(source, gzip, fileName);
  return { requests: readTraceBatches(batches, { ...opts, fileName }, report), report, bytes };
}

/** Passes chunks through, reporting the running byte count (compressed bytes for .gz: what the file size measures). */
async function* countBytes(chunks: AsyncIterable<Uint8Array>, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  let n = 0;
  for await (const c of chunks) {
    n += c.length;
    onBytes(n);
    yield c;
  }
}

/** Reads a whole trace into an array (small files, tests, `trace inspect` of samples). */
export async function loadTrace(path: string, opts: TraceOptions = {}): Promise<{ requests: TraceRequest[]; report: TraceReport }> {
  const { requests, report } = openTrace(path, opts);
  const out: TraceRequest[] = [];
  for await (const r of requests) out.push(r);
  return { requests: out, report };
}

/** The trace-shaping flags shared by `trace inspect`, `trace convert` and anything that replays a trace. */
export interface TraceFlags {
  format?: string;
  strict?: boolean;
  filterModel?: string;
  timeWindow?: string;
  maxRequests?: number;
  rateScale?: number;
  maxModelLen?: number;
  requestRate?: number;
  burstiness?: number;
  seed?: number;
}

/** Adds the shaping flags (vLLM's names where vLLM has them: --request-rate, --burstiness, --seed, --max-model-len). */
export function addTraceFlags(cmd: Command, opts: { maxModelLen?: boolean; seed?: boolean } = {}): Command {
  cmd
    .addOption(new Option("--format <name>", "trace format (default: detected)").choices([...TRACE_FORMATS]))
    .option("--strict", "fail on the first bad line instead of skipping it")
    .option("--filter-model <name>", "keep only rows of this model (BurstGPT: ChatGPT, GPT-4)")
    .option("--time-window <start:end>", "keep arrivals in [START, END) seconds from the first request; re-based to START")
    .option("--max-requests <n>", "stop after N requests", parseIntFlag("--max-requests"))
    .option("--rate-scale <x>", "divide arrival times by X (2 = twice as fast)", parseFloatFlag("--rate-scale"))
    .option("--request-rate <r>", "req/s of synthetic arrivals for formats without timestamps (default inf)", parseRate)
    .option("--burstiness <b>", "Gamma shape of synthetic arrivals (1 = Poisson, inf = constant gaps)", parseBurstiness);
  if (opts.maxModelLen !== false)
    cmd.option("--max-model-len <n>", "count requests longer than this (vLLM would reject them)", parseIntFlag("--max-model-len"));
  if (opts.seed !== false) cmd.option("--seed <n>", "seed of synthetic arrivals", parseIntFlag("--seed"));
  return cmd;
}

export function parseBurstiness(v: string): number {
  if (/^\s*inf(inity)?\s*$/i.test(v)) return Infinity;
  const n = Number(v);
  if (v.trim() === "" || !(n > 0) || !Number.isFinite(n))
    throw new UserError(`--burstiness: expected a positive number or inf, got "${v}"`, { field: "--burstiness" });
  return n;
}

export function parseRate(v: string): number {
  if (/^\s*inf(inity)?\s*$/i.test(v)) return Infinity;
  const n = Number(v);
  if (v.trim() === "" || !(n > 0) || !Number.isFinite(n))
    throw new UserError(`--request-rate: expected a positive number or inf, got "${v}"`, { field: "--request-rate" });
  return n;
}

export function traceOptionsFromFlags(f: TraceFlags): TraceOptions {
  const o: TraceOptions = {};
  if (f.format !== undefined) {
    if (!isTraceFormat(f.format))
      throw new UserError(`--format: unknown format "${f.format}" (did you mean ${closestNames(f.format, TRACE_FORMATS).join(", ")}?)`, { field: "--format" });
    o.format = f.format;
  }
  if (f.strict) o.strict = true;
  if (f.filterModel !== undefined) o.filterModel = f.filterModel;
  if (f.timeWindow !== undefined) o.timeWindow = parseTimeWindow(f.timeWindow);
  if (f.maxRequests !== undefined) o.maxRequests = f.maxRequests;
  if (f.rateScale !== undefined) o.rateScale = f.rateScale;
  if (f.maxModelLen !== undefined) o.maxModelLen = f.maxModelLen;
  if (f.requestRate !== undefined) o.requestRate = f.requestRate;
  if (f.burstiness !== undefined) o.burstiness = f.burstiness;
  if (f.seed !== undefined) o.seed = f.seed;
  return o;
}
