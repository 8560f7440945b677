/**
 * Trace parsing throughput and memory: writes a 1M-row Azure-2024-format CSV (and its gzip) to /tmp, streams each
 * through openTrace, and prints rows/s and peak RSS. The point is the promise that a 27M-row Azure 2024
 * file replays with memory bounded by live requests: peak RSS must not grow with the file.
 * Run: node --import tsx bench/traces.ts [rows]
 */
import { createWriteStream, existsSync, statSync } from "node:fs";
import { once } from "node:events";
import { createGzip } from "node:zlib";
import { pipeline } from "node:stream/promises";
import { createReadStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { openTrace } from "../cli/io/trace-file.ts";
import { Rng } from "../sim/traces/rng.ts";

export interface TraceBenchResult {
  rows: number;
  /** rowsPerSecond is wall-clock; cpuSeconds lets a loaded machine's figure be read fairly. */
  csv: { seconds: number; cpuSeconds: number; rowsPerSecond: number; bytes: number };
  gzip: { seconds: number; cpuSeconds: number; rowsPerSecond: number; bytes: number };
  peakRssMiB: number;
}

/** Writes `rows` Azure 2024-style rows (6-digit fractions, +00:00, some rows without a fraction), streamed. */
async function generate(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  const rng = new Rng(42);
  out.write("TIMESTAMP,ContextTokens,GeneratedTokens\n");
  let us = Date.UTC(2024, 4, 10) * 1000; // microseconds since epoch (exact in a double up to 2^53)
  let buf = "";
  for (let i = 0; i < rows; i++) {
    us += 1 + Math.floor(rng.exponential(600_000)); // ~1.7 req/s
    if (i % 50 === 0) us = Math.ceil(us / 1e6) * 1e6; // a whole second: written without a fraction
    const d = new Date(Math.floor(us / 1000));
    const frac = String(us % 1_000_000).padStart(6, "0");
    const ts = d.toISOString().slice(0, 19).replace("T", " ") + (i % 50 === 0 ? "" : "." + frac) + "+00:00";
    buf += `${ts},${1 + rng.int(0, 8000)},${1 + rng.int(0, 600)}\n`;
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await once(out, "drain");
      buf = "";
    }
  }
  out.end(buf);
  await once(out, "finish");
}

async function timeParse(path: string): Promise<{ seconds: number; cpuSeconds: number; rows: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const { requests, report } = openTrace(path);
  let n = 0;
  for await (const _ of requests) n++;
  if (report.skipped !== 0) throw new Error(`benchmark file has ${report.skipped} bad rows: ${report.issues[0]?.message}`);
  const c = process.cpuUsage(c0);
  return { seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6, rows: n };
}

export async function run(rows = 1_000_000): Promise<TraceBenchResult> {
  const csv = join(tmpdir(), `vramscope-bench-azure-v2-${rows}.csv`);
  const gz = csv + ".gz";
  if (!existsSync(csv)) await generate(csv, rows);
  if (!existsSync(gz)) await pipeline(createReadStream(csv), createGzip(), createWriteStream(gz));
  const a = await timeParse(csv);
  const b = await timeParse(gz);
  if (a.rows !== rows || b.rows !== rows) throw new Error(`expected ${rows} rows, parsed ${a.rows} / ${b.rows}`);
  const result: TraceBenchResult = {
    rows,
    csv: { seconds: a.seconds, cpuSeconds: a.cpuSeconds, rowsPerSecond: rows / a.seconds, bytes: statSync(csv).size },
    gzip: { seconds: b.seconds, cpuSeconds: b.cpuSeconds, rowsPerSecond: rows / b.seconds, bytes: statSync(gz).size },
    peakRssMiB: process.resourceUsage().maxRSS / 1024, // maxRSS is in KiB
  };
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const rows = process.argv[2] ? Number(process.argv[2]) : 1_000_000;
  const r = await run(rows);
  process.stdout.write(
    `traces: ${r.rows} Azure rows — csv ${Math.round(r.csv.rowsPerSecond).toLocaleString("en-US")} rows/s ` +
      `(${r.csv.seconds.toFixed(2)} s wall, ${r.csv.cpuSeconds.toFixed(2)} s CPU), gzip ${Math.round(r.gzip.rowsPerSecond).toLocaleString("en-US")} rows/s ` +
      `(${r.gzip.seconds.toFixed(2)} s wall, ${r.gzip.cpuSeconds.toFixed(2)} s CPU), peak RSS ${r.peakRssMiB.toFixed(0)} MiB\n`,
  );
}
