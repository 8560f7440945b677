/**
 * Replay throughput: simulated requests and engine steps per wall-clock second on 10k- and 100k-request synthetic
 * traces (target: 100k requests in ≤ 3 s), and on a hybrid model (gpt-oss-120b: a sliding-window and a full KV-cache
 * group per request, kv-cache-coordinator.ts) for comparison. Run: node --import tsx bench/replay.ts [sizes...]
 */
import { pathToFileURL } from "node:url";
import { resolveServingConfig } from "../sim/serving/config.ts";
import { ServingEngine } from "../sim/serving/engine.ts";
import { BENCH_CONFIG, benchTrace } from "./workload.ts";

export interface ReplayBenchRow {
  model: string;
  requests: number;
  seconds: number;
  requestsPerS: number;
  steps: number;
  stepsPerS: number;
  simulatedSeconds: number;
  preemptions: number;
}

export function runReplay(n: number, model: string = BENCH_CONFIG.model): ReplayBenchRow {
  const trace = benchTrace(n);
  const config = resolveServingConfig({ ...BENCH_CONFIG, model });
  const t0 = performance.now();
  const engine = new ServingEngine(config, { keepRecords: false });
  engine.addRequests(trace);
  engine.endTrace();
  const s = engine.runToEnd();
  const seconds = (performance.now() - t0) / 1000;
  return {
    model,
    requests: n,
    seconds,
    requestsPerS: n / seconds,
    steps: s.engineSteps,
    stepsPerS: s.engineSteps / seconds,
    simulatedSeconds: s.simulatedSeconds,
    preemptions: s.preemptions,
  };
}

export function formatReplay(r: ReplayBenchRow): string {
  const f = (x: number) => Math.round(x).toLocaleString("en-US");
  return (
    `replay ${f(r.requests)} requests${r.model === BENCH_CONFIG.model ? "" : ` on ${r.model}`}: ${r.seconds.toFixed(2)} s wall — ${f(r.requestsPerS)} req/s, ${f(r.stepsPerS)} steps/s ` +
    `(${f(r.steps)} steps, ${r.simulatedSeconds.toFixed(0)} s simulated, ${r.preemptions} preemptions)`
  );
}

export async function run(sizes = [10_000, 100_000]): Promise<ReplayBenchRow[]> {
  const rows: ReplayBenchRow[] = [];
  for (const n of sizes) {
    const r = runReplay(n);
    process.stdout.write(formatReplay(r) + "\n");
    rows.push(r);
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await run(process.argv.length > 2 ? process.argv.slice(2).map(Number) : undefined);
}
