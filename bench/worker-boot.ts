/**
 * Sweep worker start-up, the before/after of bundling the worker (cli/sweep-pool.ts): time from `new Worker` to its
 * "ready" reply, through tsx's loader (transpiling the engine's modules in the worker) vs the esbuild bundle.
 * Run: node --import tsx bench/worker-boot.ts
 */
import { pathToFileURL } from "node:url";
import type { Worker } from "node:worker_threads";
import { startSweepWorker, startTsWorker } from "../cli/sweep-pool.ts";

async function boot(make: () => Promise<Worker> | Worker): Promise<number> {
  const t0 = performance.now();
  const w = await make();
  await new Promise<void>((resolve, reject) => {
    w.on("message", (m: { type: string }) => m.type === "ready" && resolve());
    w.on("error", reject);
    w.postMessage({ type: "init", spec: { base: {}, vary: [], slo: {}, prices: {} }, requests: [] });
  });
  const ms = performance.now() - t0;
  await w.terminate();
  return ms;
}

export async function run(rounds = 3): Promise<{ tsxMs: number; bundleMs: number }> {
  const url = new URL("../cli/sweep-worker.ts", import.meta.url);
  const tsx: number[] = [];
  const bundle: number[] = [];
  await boot(() => startSweepWorker(url)); // builds the bundle once, as a pool does
  for (let i = 0; i < rounds; i++) {
    tsx.push(await boot(() => startTsWorker(url)));
    bundle.push(await boot(() => startSweepWorker(url)));
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const r = { tsxMs: med(tsx), bundleMs: med(bundle) };
  process.stdout.write(`sweep worker start-up (median of ${rounds}): tsx loader ${r.tsxMs.toFixed(0)} ms, esbuild bundle ${r.bundleMs.toFixed(0)} ms\n`);
  return r;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await run();
