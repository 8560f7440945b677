import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { bundled } from "../server/runs/bundle.ts";
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

export async function startSweepWorker(url: URL): Promise<Worker> {
  // one plain-JS bundle of the worker (see server/runs/bundle.ts): start-up ≈0.1 s instead of ≈1.5 s under tsx
  const file = await bundled(url);
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
