import { availableParallelism } from "node:os";
import { createHash } from "node:crypto";
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { UserError } from "../sim/errors.ts";
import { assembleResult } from "../sim/sweep/merge.ts";
import { runSweepSequential } from "../sim/sweep/run.ts";
import { shardIndices, type Shard } from "../sim/sweep/shard.ts";
import { productSize } from "../sim/sweep/spec.ts";
import type { PointResult, SweepResult, SweepSpec } from "../sim/sweep/types.ts";
import type { TraceRequest } from "../sim/traces/types.ts";

/**
 * Runs a sweep's points on worker threads (one engine per point, points handed out one at a time so a slow point
 * does not hold back a batch). The result is identical to `runSweepSequential` — points are deterministic and
 * re-sorted by index — so the pool is an optimisation, never a semantic choice. `workers: 0` runs in-process.
 */
export interface PoolOptions {
  /** Worker threads; default all cores (`os.availableParallelism()`), capped at the number of points. */
  workers?: number;
  shard?: Shard | null;
  onProgress?: (done: number, total: number) => void;
}

/**
 * A worker thread running a TypeScript module. Node 20 ignores `--import` in a Worker's `execArgv` (the preload never
 * runs, and the .ts entry fails with ERR_UNKNOWN_FILE_EXTENSION), so the worker starts from a one-line bootstrap
 * that registers tsx's loader through its API — as bin/vramscope.mjs does for the CLI — and then imports the module.
 */
export function startTsWorker(url: URL): Worker {
  const api = import.meta.resolve("tsx/esm/api");
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(code, { eval: true });
}

/**
 * The worker module bundled to one plain-JS file with esbuild (tsx's own transpiler, already installed with it), so
 * each worker loads ~110 KB of JavaScript instead of having tsx transpile the engine's modules again: measured on
 * this 2-core box, worker start-up falls from ≈1.5 s to ≈0.1 s, which is most of a short sweep's wall time. The
 * bundle is built once per process; when esbuild cannot be loaded the tsx bootstrap above is used instead.
 */
let bundled: Promise<string | null> | null = null;

async function bundleWorker(url: URL): Promise<string | null> {
  try {
    const esbuild = (await import("esbuild")) as typeof import("esbuild");
    const out = await esbuild.build({
      entryPoints: [fileURLToPath(url)],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      write: false,
      logLevel: "silent",
    });
    // Named by content: one file per version of the sources, reused by later runs instead of piling up in /tmp.
    const text = out.outputFiles[0].text;
    const file = join(tmpdir(), `vramscope-sweep-worker-${createHash("sha256").update(text).digest("hex").slice(0, 16)}.mjs`);
    if (!existsSync(file)) {
      const partial = `${file}.${process.pid}.tmp`;
      writeFileSync(partial, text);
      renameSync(partial, file);
    }
    return file;
  } catch {
    return null;
  }
}

export async function startSweepWorker(url: URL): Promise<Worker> {
  bundled ??= bundleWorker(url);
  const file = await bundled;
  // execArgv: [] so the worker does not inherit `--import tsx` from a parent started with it: plain JS needs no loader.
  return file ? new Worker(file, { execArgv: [] }) : startTsWorker(url);
}

export function defaultWorkers(): number {
  return availableParallelism();
}

export async function runSweepParallel(spec: SweepSpec, requests: readonly TraceRequest[], opts: PoolOptions = {}): Promise<SweepResult> {
  const total = productSize(spec.vary);
  const indices = shardIndices(total, opts.shard);
  const n = Math.min(opts.workers ?? defaultWorkers(), indices.length);
  if (n <= 0) return runSweepSequential(spec, requests, { shard: opts.shard, onProgress: opts.onProgress });

  const points: PointResult[] = [];
  let next = 0;
  const url = new URL("./sweep-worker.ts", import.meta.url);
  const workers: Worker[] = await Promise.all(Array.from({ length: n }, () => startSweepWorker(url)));
  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (e: Error) => {
        if (failed) return;
        failed = true;
        reject(e);
      };
      const dispatch = (w: Worker) => {
        if (next < indices.length) w.postMessage({ type: "run", index: indices[next++] });
      };
      for (const w of workers) {
        w.on("message", (msg: { type: string; point?: PointResult; index?: number; message?: string; user?: boolean }) => {
          if (msg.type === "ready") dispatch(w);
          else if (msg.type === "result") {
            points.push(msg.point!);
            opts.onProgress?.(points.length, indices.length);
            if (points.length === indices.length) resolve();
            else dispatch(w);
          } else if (msg.type === "error") {
            fail(msg.user ? new UserError(msg.message!) : new Error(`sweep point #${msg.index} failed in a worker: ${msg.message}`));
          }
        });
        w.on("error", fail);
        w.on("exit", (code) => {
          if (code !== 0 && points.length < indices.length) fail(new Error(`sweep worker exited with code ${code}`));
        });
        w.postMessage({ type: "init", spec, requests });
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return assembleResult(spec, total, opts.shard ?? null, points);
}
