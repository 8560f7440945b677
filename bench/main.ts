/**
 * `npm run bench`: prints figures and ratios, asserts nothing (speed targets are reported beside each figure, never
 * tested). `--quick` shrinks every size tenfold for a smoke run.
 */
import { availableParallelism, cpus } from "node:os";
import { run as browser } from "./browser.ts";
import { run as replay, runReplay, formatReplay } from "./replay.ts";
import { run as rss } from "./rss.ts";
import { run as seek } from "./seek.ts";
import { run as sweep } from "./sweep.ts";
import { run as traces } from "./traces.ts";
import { run as workerBoot } from "./worker-boot.ts";

const quick = process.argv.includes("--quick");
const k = quick ? 10 : 1;
process.stdout.write(
  `vramscope bench — node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? "?"})${quick ? ", --quick sizes" : ""}\n\n`,
);

const rep = await replay([10_000 / k, 100_000 / k]);
const big = rep[rep.length - 1];
process.stdout.write(`  target: 100k requests ≤ 3 s → ${big.requests === 100_000 ? `${big.seconds.toFixed(2)} s` : "(quick run)"}\n`);
// The hybrid allocator (two KV-cache groups, window drops) on the same workload: what sliding-window models cost.
const hybrid = runReplay(10_000 / k, "openai/gpt-oss-120b");
const perStep = (r: { seconds: number; steps: number }) => r.seconds / r.steps;
process.stdout.write(`${formatReplay(hybrid)}\n  ×${(perStep(hybrid) / perStep(rep[0])).toFixed(2)} the time per engine step of the full-attention replay\n\n`);
await rss(1_000_000 / k);
process.stdout.write("\n");
await sweep(10_000 / k);
await workerBoot();
process.stdout.write("\n");
await seek(20_000 / k);
process.stdout.write("\n");
const t = await traces(1_000_000 / k);
process.stdout.write(
  `trace parse: ${t.rows.toLocaleString("en-US")} Azure rows — csv ${Math.round(t.csv.rowsPerSecond).toLocaleString("en-US")} rows/s, ` +
    `gzip ${Math.round(t.gzip.rowsPerSecond).toLocaleString("en-US")} rows/s\n\n`,
);
await browser();
