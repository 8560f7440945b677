import { createWriteStream, type WriteStream } from "node:fs";
import type { Command } from "commander";
import { resolveServingConfig } from "../../sim/serving/config.ts";
import { ServingEngine, type EngineOptions } from "../../sim/serving/engine.ts";
import type { ReplaySummary, ServingConfig } from "../../sim/serving/types.ts";
import type { TraceRequest } from "../../sim/traces/types.ts";
import { formatGiB } from "../../sim/units.ts";
import { action, printJson, progressBar } from "../common.ts";
import { addTraceFlags, DEFAULT_TRACE, openTrace, traceOptionsFromFlags, type TraceFlags } from "../io/trace-file.ts";
import { addExportOptions, wantsRecording, writeExports, type ExportFlags } from "../exports.ts";
import { createRecorder } from "../../sim/export/recording.ts";
import { finishRecording } from "../../sim/export/record-run.ts";
import { addServingFlags, servingInputFromFlags, type ServingFlags } from "../serving-flags.ts";

type ReplayFlags = ServingFlags & TraceFlags & ExportFlags & { json?: boolean; requestsOut?: string; quiet?: boolean };

const BATCH = 4096;

/**
 * Streams a trace file through the engine in batches, so memory follows live requests, not the file. Shared with
 * anything else that replays a file (sweeps call it per point).
 */
export async function replayFile(
  path: string,
  config: ServingConfig,
  flags: TraceFlags,
  opts: EngineOptions & { onProgress?: (done: number, pushed: number) => void } = {},
): Promise<{ engine: ServingEngine; summary: ReplaySummary; skippedLines: number }> {
  const engine = new ServingEngine(config, opts);
  const { requests, report } = openTrace(path, { ...traceOptionsFromFlags(flags), maxModelLen: config.maxModelLen });
  let batch: TraceRequest[] = [];
  let pushed = 0;
  for await (const r of requests) {
    batch.push(r);
    if (batch.length >= BATCH) {
      engine.addRequests(batch);
      pushed += batch.length;
      batch = [];
      engine.drain();
      opts.onProgress?.(engine.summary().completed, pushed);
    }
  }
  engine.addRequests(batch);
  engine.endTrace();
  const summary = engine.runToEnd();
  return { engine, summary, skippedLines: report.skipped };
}

export function register(program: Command): void {
  const cmd = program
    .command("replay")
    .description("replay a request trace through the simulated vLLM engine")
    .argument("[trace]", "trace file (any supported format, .gz ok) or embedded sample name", DEFAULT_TRACE)
    .option("--json", "print one JSON object")
    .option("--requests-out <file>", "write one JSON line per request")
    .option("--quiet", "no progress bar");
  addServingFlags(cmd);
  addTraceFlags(cmd, { maxModelLen: false, seed: false });
  addExportOptions(cmd);
  cmd.action(
    action(async (trace: string, flags: ReplayFlags) => {
      const config = resolveServingConfig(servingInputFromFlags(flags));
      let out: WriteStream | null = null;
      if (flags.requestsOut) out = createWriteStream(flags.requestsOut);
      const bar = progressBar("replay", 1, flags.quiet || flags.json);
      const t0 = performance.now();
      const recorder = wantsRecording(flags) ? createRecorder() : null;
      const { engine, summary, skippedLines } = await replayFile(trace, config, flags, {
        keepRecords: recorder !== null,
        onEvent: recorder?.onEvent,
        onRequestDone: out
          ? (r) =>
              out!.write(
                JSON.stringify({
                  id: r.id,
                  arrival: r.arrival,
                  firstTokenTime: r.firstTokenTime,
                  finishTime: r.finishTime,
                  preemptions: r.preemptions,
                  cachedTokens: r.cachedTokens,
                  promptTokens: r.promptTokens,
                  outputTokens: r.outputTokens,
                  rejected: r.rejected,
                }) + "\n",
              )
          : undefined,
        // a streamed file's length is unknown up front: the total is the requests read so far
        onProgress: (done, pushed) => {
          bar.setTotal(pushed);
          bar.update(done);
        },
      });
      bar.stop();
      if (out) await new Promise<void>((res) => out!.end(res));
      const wallS = (performance.now() - t0) / 1000;
      if (recorder) await writeExports(flags, finishRecording(recorder, engine));
      if (flags.json) {
        printJson({ ...summary, skippedLines, budget: engine.budget, wallSeconds: wallS });
        return;
      }
      printReport(config, engine, summary, skippedLines, wallS);
    }),
  );
}

function printReport(config: ServingConfig, engine: ServingEngine, s: ReplaySummary, skipped: number, wallS: number): void {
  const b = engine.budget;
  const ms = (x: number) => `${(x * 1000).toFixed(1)} ms`;
  const w = (line: string) => process.stdout.write(line + "\n");
  w(`${config.model.name} on ${config.gpu.name}${config.tensorParallelSize > 1 ? ` × TP${config.tensorParallelSize}` : ""}, gpu_memory_utilization ${config.gpuMemoryUtilization}`);
  w(`  KV cache ${formatGiB(b.kvCacheBytes)} = ${b.numGpuBlocks.toLocaleString("en-US")} blocks × ${b.blockSize} tokens (${b.kvCacheTokens.toLocaleString("en-US")} tokens)`);
  w(`  max_num_seqs ${config.maxNumSeqs}, max_num_batched_tokens ${config.maxNumBatchedTokens}, prefix caching ${config.enablePrefixCaching ? "on" : "off"}`);
  w(`requests   ${s.requests} (${s.completed} completed, ${s.rejected} rejected${skipped ? `, ${skipped} trace lines skipped` : ""})`);
  w(`simulated  ${s.simulatedSeconds.toFixed(1)} s in ${s.engineSteps.toLocaleString("en-US")} engine steps (${wallS.toFixed(2)} s wall)`);
  w(`throughput ${s.throughput.requestsPerS.toFixed(2)} req/s, ${s.throughput.inputTokensPerS.toFixed(0)} input tok/s, ${s.throughput.outputTokensPerS.toFixed(0)} output tok/s`);
  w(`             p50        p90        p99        mean`);
  for (const [name, p] of [["TTFT", s.ttft], ["TPOT", s.tpot], ["e2e", s.e2e], ["queue", s.queueTime]] as const)
    w(`  ${name.padEnd(6)} ${ms(p.p50).padStart(10)} ${ms(p.p90).padStart(10)} ${ms(p.p99).padStart(10)} ${ms(p.mean).padStart(10)}`);
  w(`preemptions ${s.preemptions} (${s.recomputedTokens.toLocaleString("en-US")} tokens recomputed)`);
  w(`prefix cache hit rate ${(s.prefixCacheHitRate * 100).toFixed(1)}% (${s.prefixCacheHitTokens.toLocaleString("en-US")} of ${s.prefixCacheQueries.toLocaleString("en-US")} tokens)`);
  w(`KV usage peak ${(s.peakKvUsage * 100).toFixed(1)}%, mean ${(s.meanKvUsage * 100).toFixed(1)}%; peak running ${s.peakRunning}, peak waiting ${s.peakWaiting}`);
  w(`step times are a roofline estimate calibrated on published vLLM timings (docs/fidelity.md)`);
}
