/**
 * Peak RSS of a streamed 1M-request replay (target < 400 MB): writes the benchmark workload as native JSONL to /tmp
 * in chunks (never whole in memory), then replays it in a child process that reports its own maxRSS.
 * Run: node --import tsx bench/rss.ts [requests]
 */
import { execFileSync } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { toNativeLine } from "../sim/traces/native.ts";
import { benchTrace } from "./workload.ts";

export interface RssBenchResult {
  requests: number;
  seconds: number;
  steps: number;
  maxRssMiB: number;
}

/** Chunks of 50k requests, each a separately seeded workload shifted to start where the previous ended. */
async function writeTrace(path: string, n: number): Promise<void> {
  const out = createWriteStream(path);
  let offset = 0;
  for (let done = 0, k = 0; done < n; k++) {
    const chunk = benchTrace(Math.min(50_000, n - done), 1000 + k);
    let buf = "";
    for (const r of chunk) buf += toNativeLine({ ...r, arrival: r.arrival + offset }) + "\n";
    offset += chunk[chunk.length - 1].arrival + 0.05;
    done += chunk.length;
    if (!out.write(buf)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

export async function run(n = 1_000_000): Promise<RssBenchResult> {
  const path = join(tmpdir(), `vramscope-bench-native-v1-${n}.jsonl`);
  if (!existsSync(path)) await writeTrace(path, n);
  const child = fileURLToPath(new URL("./rss-child.ts", import.meta.url));
  const out = execFileSync(process.execPath, ["--import", "tsx", child, path], { encoding: "utf8", maxBuffer: 1 << 20 });
  const r = JSON.parse(out.trim().split("\n").pop()!) as RssBenchResult;
  process.stdout.write(
    `streamed replay of ${r.requests.toLocaleString("en-US")} requests: peak RSS ${r.maxRssMiB.toFixed(0)} MiB ` +
      `(${(r.maxRssMiB * 1.048576).toFixed(0)} MB; target < 400 MB), ${r.seconds.toFixed(1)} s wall\n`,
  );
  return r;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await run(process.argv[2] ? Number(process.argv[2]) : undefined);
}
