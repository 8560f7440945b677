/**
 * Child process of bench/rss.ts: streams a native JSONL trace through the engine (the CLI's replayFile: batches of
 * 4096, no per-request records kept) and prints its own peak RSS, so the figure is this replay's alone.
 */
import { replayFile } from "../cli/commands/replay.ts";
import { resolveServingConfig } from "../sim/serving/config.ts";
import { BENCH_CONFIG } from "./workload.ts";

const file = process.argv[2];
const t0 = performance.now();
const { summary } = await replayFile(file, resolveServingConfig(BENCH_CONFIG), {}, { keepRecords: false });
process.stdout.write(
  JSON.stringify({
    requests: summary.requests,
    seconds: (performance.now() - t0) / 1000,
    steps: summary.engineSteps,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  }) + "\n",
);
