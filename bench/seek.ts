/**
 * Backward seeks on a live replay: how long from `seek` to the `state` that reports the rewind, resuming from the
 * worker's checkpoints (server/runs/checkpoints.ts) against re-simulating from t = 0 (checkpoints off). The run
 * first streams forward to 90 % of the trace (four forward seeks, every event streamed), taking checkpoints as a
 * viewed run does.
 * Run: node --import tsx bench/seek.ts [requests]
 */
import { pathToFileURL } from "node:url";
import { connect, createRun, testServer, uploadTrace } from "../test/server/helpers.ts";
import type { ServerMessage, StateMessage } from "../server/protocol.ts";
import { BENCH_CONFIG, benchTrace } from "./workload.ts";

export interface SeekBenchRow {
  checkpoints: boolean;
  /** Simulated seconds sought back to, and wall ms until the rewind was reported. */
  seeks: { t: number; ms: number; resumedFrom: number }[];
}

async function measure(n: number, checkpoints: boolean, targets: number[], streamTo: number): Promise<SeekBenchRow> {
  const server = await testServer({ checkpointEveryMs: checkpoints ? 250 : Number.MAX_SAFE_INTEGER });
  try {
    const text = benchTrace(n).map((r) => JSON.stringify({ arrival: r.arrival, promptTokens: r.promptTokens, outputTokens: r.outputTokens })).join("\n");
    const trace = await uploadTrace(server.url, text + "\n");
    const id = await createRun(server.url, { kind: "replay", start: "paused", config: { trace, model: BENCH_CONFIG.model, maxModelLen: BENCH_CONFIG.maxModelLen } });
    const c = connect(server.url, id, "?detail=requests,steps,memory");
    await c.waitFor((m) => m.type === "state" && m.state === "paused", 30_000);
    // Forward in steps, streaming everything on the way (checkpoints are taken inside long ops too).
    for (let t = streamTo / 4; t <= streamTo + 1e-9; t += streamTo / 4) {
      const from = c.messages.length;
      c.send({ type: "seek", t });
      await c.waitFor((m) => m.type === "state" && c.messages.indexOf(m as never) >= from && m.t > 0, 120_000);
    }
    const seeks: SeekBenchRow["seeks"] = [];
    for (const t of targets) {
      const from = c.messages.length;
      const t0 = performance.now();
      c.send({ type: "seek", t });
      const s = (await c.waitFor((m: ServerMessage) => m.type === "state" && m.rewoundTo !== undefined && c.messages.indexOf(m as never) >= from, 120_000)) as StateMessage;
      seeks.push({ t, ms: performance.now() - t0, resumedFrom: s.resumedFrom ?? 0 });
    }
    c.ws.close();
    return { checkpoints, seeks };
  } finally {
    await server.close();
  }
}

export async function run(n = 20_000): Promise<SeekBenchRow[]> {
  // The workload arrives at 10 req/s: n requests span n / 10 simulated seconds.
  const end = n / 10;
  const targets = [0.85, 0.45, 0.05].map((f) => Math.round(end * f));
  const rows: SeekBenchRow[] = [];
  for (const checkpoints of [true, false]) {
    const r = await measure(n, checkpoints, targets, end * 0.9);
    rows.push(r);
    const list = r.seeks.map((s) => `${s.t} s → ${Math.round(s.ms)} ms${checkpoints ? ` (from ${s.resumedFrom.toFixed(0)} s)` : ""}`).join(", ");
    process.stdout.write(`seek back, ${n.toLocaleString("en-US")}-request replay, ${checkpoints ? "from checkpoints" : "from t = 0"}: ${list}\n`);
  }
  const ratio = rows[1].seeks[0].ms / rows[0].seeks[0].ms;
  process.stdout.write(`  the deepest seek is ×${ratio.toFixed(1)} faster from checkpoints\n`);
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await run(process.argv[2] ? Number(process.argv[2]) : undefined);
}
