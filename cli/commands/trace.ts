import { createWriteStream, type WriteStream } from "node:fs";
import { Option, type Command } from "commander";
import { UserError } from "../../sim/errors.ts";
import { Rng, toNativeLine, type TraceReport } from "../../sim/traces/index.ts";
import { parseLengthDist } from "../../sim/traces/length-dist.ts";
import { TraceStats, type TraceSummary } from "../../sim/traces/stats.ts";
import { synthesize, type SynthSpec } from "../../sim/traces/synth.ts";
import { action, parseFloatFlag, parseIntFlag, printJson, progressBar } from "../common.ts";
import { addTraceFlags, openTrace, parseBurstiness, parseRate, traceOptionsFromFlags, type TraceFlags } from "../io/trace-file.ts";

/** `vramscope trace inspect|convert|synth`: look at a trace, rewrite it as native JSONL, or generate one. */
export function register(program: Command): void {
  const trace = program.command("trace").description("inspect, convert and synthesise request traces");

  addTraceFlags(
    trace
      .command("inspect")
      .description("request count, duration, rate over time, length percentiles, prefix reuse of a trace")
      .argument("<file>", "trace file (.gz ok) or embedded sample name, e.g. azure-2023-conv")
      .option("--bucket <seconds>", "width of the rate-over-time buckets", parseFloatFlag("--bucket"))
      .option("--json", "print one JSON object"),
  ).action(
    action(async (file: string, flags: TraceFlags & { json?: boolean; bucket?: number }) => {
      if (flags.bucket !== undefined && !(flags.bucket > 0))
        throw new UserError(`--bucket: expected a positive number of seconds, got ${flags.bucket}`, { field: "--bucket" });
      const bar = fileProgress("reading", flags.json);
      const { requests, report } = openTrace(file, traceOptionsFromFlags(flags), bar);
      const stats = new TraceStats();
      try {
        for await (const r of requests) stats.add(r);
      } finally {
        bar.stop();
      }
      const summary = stats.summary(report, flags.bucket);
      if (flags.json) printJson(summary);
      else process.stdout.write(formatSummary(file, summary, report));
    }),
  );

  addTraceFlags(
    trace
      .command("convert")
      .description("rewrite a trace in the native JSONL format (streamed)")
      .argument("<file>", "trace file (.gz ok) or embedded sample name")
      .addOption(new Option("--to <format>", "output format").choices(["native"]).default("native"))
      .requiredOption("-o, --output <path>", "output file (.jsonl)")
      .option("--json", "print the read report as JSON"),
  ).action(
    action(async (file: string, flags: TraceFlags & { json?: boolean; output: string }) => {
      const bar = fileProgress("converting", flags.json);
      const { requests, report } = openTrace(file, traceOptionsFromFlags(flags), bar);
      const out = createWriteStream(flags.output);
      try {
        for await (const r of requests) await write(out, toNativeLine(r) + "\n");
      } finally {
        bar.stop();
        await close(out);
      }
      if (flags.json) printJson(report);
      else process.stderr.write(reportLine(report, flags.output));
    }),
  );

  trace
    .command("synth")
    .description("generate a synthetic workload (vLLM benchmark arrivals, length distributions, shared prefixes, sessions)")
    .requiredOption("-o, --output <path>", "output file (.jsonl, native format)")
    .option("--num-prompts <n>", "number of requests", parseIntFlag("--num-prompts"), 1000)
    // commander prints a default with JSON.stringify, which turns Infinity into "null": say "inf", as vLLM does.
    .addOption(new Option("--request-rate <r>", "requests per second (inf = all at t = 0)").argParser(parseRate).default(Infinity, "inf"))
    .option("--burstiness <b>", "Gamma shape of inter-arrival gaps (1 = Poisson, < 1 burstier, inf = constant)", parseBurstiness, 1)
    .option("--seed <n>", "random seed", parseIntFlag("--seed"), 0)
    .option("--input-len <spec>", "new prompt tokens per request: N, uniform:MIN:MAX, lognormal:MEDIAN:SIGMA[:MAX]", "1024")
    .option("--output-len <spec>", "output tokens per request (same forms)", "128")
    .option("--lengths-from <trace>", "draw (prompt, output) pairs from this trace instead (empirical)")
    .option("--strict", "fail on the first bad line of --lengths-from")
    .option("--prefix-len <n>", "tokens of a system prompt shared across sessions", parseIntFlag("--prefix-len"), 0)
    .option("--num-prefixes <n>", "distinct shared system prompts", parseIntFlag("--num-prefixes"), 1)
    .option("--turns <n>", "requests per multi-turn session", parseIntFlag("--turns"), 1)
    .option("--turn-gap <seconds>", "mean think time between a session's turns", parseFloatFlag("--turn-gap"))
    .option("--priority-weights <w,...>", "weights of priority classes 0,1,… (0 served first)")
    .option("--hash-block-tokens <n>", "tokens per synthetic hash id", parseIntFlag("--hash-block-tokens"), 16)
    .option("--json", "print a summary as JSON")
    .action(
      action(async (flags: SynthFlags) => {
        const spec: SynthSpec = {
          numRequests: flags.numPrompts,
          requestRate: flags.requestRate,
          burstiness: flags.burstiness,
          seed: flags.seed,
          promptLen: parseLengthDist(flags.inputLen, "--input-len"),
          outputLen: parseLengthDist(flags.outputLen, "--output-len"),
          systemPromptTokens: flags.prefixLen,
          numSystemPrompts: flags.numPrefixes,
          turns: flags.turns,
          hashBlockTokens: flags.hashBlockTokens,
        };
        if (flags.turnGap !== undefined) spec.turnGapSeconds = flags.turnGap;
        if (flags.priorityWeights !== undefined) spec.priorityWeights = parseWeights(flags.priorityWeights);
        if (flags.lengthsFrom !== undefined) spec.pairs = await samplePairs(flags.lengthsFrom, flags.seed, flags.strict ?? false);
        const reqs = synthesize(spec);
        const out = createWriteStream(flags.output);
        const stats = new TraceStats();
        try {
          for (const r of reqs) {
            stats.add(r);
            await write(out, toNativeLine(r) + "\n");
          }
        } finally {
          await close(out);
        }
        const summary = stats.summary({ format: "native", rows: reqs.length, accepted: reqs.length, skipped: 0, issues: [] });
        if (flags.json) printJson({ output: flags.output, ...summary });
        else process.stderr.write(`wrote ${reqs.length} requests to ${flags.output} (${summary.durationSeconds.toFixed(3)} s)\n`);
      }),
    );
}

interface SynthFlags {
  output: string;
  numPrompts: number;
  requestRate: number;
  burstiness: number;
  seed: number;
  inputLen: string;
  outputLen: string;
  lengthsFrom?: string;
  strict?: boolean;
  prefixLen: number;
  numPrefixes: number;
  turns: number;
  turnGap?: number;
  priorityWeights?: string;
  hashBlockTokens: number;
  json?: boolean;
}

/** A progress bar in MiB of the file read, created on the first chunk (silent for --json or a non-TTY stderr). */
function fileProgress(label: string, quiet = false): { onBytes(n: number, total: number): void; stop(): void } {
  let bar: ReturnType<typeof progressBar> | undefined;
  const MiB = 1024 * 1024;
  return {
    onBytes(n, total) {
      bar ??= progressBar(`${label} (MiB)`, Math.max(1, Math.ceil(total / MiB)), quiet);
      bar.update(Math.ceil(n / MiB));
    },
    stop() {
      bar?.stop();
    },
  };
}

/** Reservoir size for --lengths-from: enough for a faithful histogram, bounded for a 27M-row trace. */
const MAX_LENGTH_PAIRS = 200_000;

/** (prompt, output) pairs of a trace, streamed; a seeded uniform reservoir sample when the trace is larger. */
async function samplePairs(path: string, seed: number, strict: boolean): Promise<[number, number][]> {
  const { requests } = openTrace(path, { strict });
  const rng = new Rng(seed ^ 0x5eed);
  const pairs: [number, number][] = [];
  let seen = 0;
  for await (const r of requests) {
    seen++;
    if (pairs.length < MAX_LENGTH_PAIRS) pairs.push([r.promptTokens, r.outputTokens]);
    else {
      const j = rng.int(0, seen - 1);
      if (j < MAX_LENGTH_PAIRS) pairs[j] = [r.promptTokens, r.outputTokens];
    }
  }
  return pairs;
}

function parseWeights(text: string): number[] {
  const w = text.split(",").map((s) => Number(s.trim()));
  if (w.some((x) => !Number.isFinite(x) || x < 0))
    throw new UserError(`--priority-weights: expected comma-separated non-negative numbers, got "${text}"`, { field: "--priority-weights" });
  return w;
}

function write(out: WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(new UserError(`cannot write ${out.path}: ${e.message}`));
    out.once("error", onError);
    if (out.write(text)) {
      out.off("error", onError);
      resolve();
    } else
      out.once("drain", () => {
        out.off("error", onError);
        resolve();
      });
  });
}

function close(out: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    out.once("error", (e) => reject(new UserError(`cannot write ${out.path}: ${e.message}`)));
    out.end(() => resolve());
  });
}

function reportLine(r: TraceReport, output: string): string {
  let s = `wrote ${r.accepted} requests (${r.format}, ${r.rows} rows) to ${output}`;
  if (r.skipped) s += `; skipped ${r.skipped} bad lines (first: ${r.issues[0]?.location}: ${r.issues[0]?.message})`;
  if (r.dropped) s += `; dropped ${r.dropped} failed requests`;
  if (r.filtered) s += `; filtered ${r.filtered}`;
  return s + "\n";
}

function fmtLen(l: TraceSummary["promptTokens"]): string {
  return `sum ${l.sum}  mean ${l.mean.toFixed(1)}  p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  max ${l.max}`;
}

function formatSummary(file: string, s: TraceSummary, report: TraceReport): string {
  const lines = [
    `${file}: ${s.format}`,
    `requests        ${s.requests} (${report.rows} rows read)`,
    `duration        ${s.durationSeconds.toFixed(3)} s (first ${s.firstArrival.toFixed(3)} s, last ${s.lastArrival.toFixed(3)} s), mean ${s.meanRate.toFixed(3)} req/s`,
    `prompt tokens   ${fmtLen(s.promptTokens)}`,
    `output tokens   ${fmtLen(s.outputTokens)}`,
  ];
  if (s.prefixReuseRatio !== null)
    lines.push(`prefix reuse    ${(100 * s.prefixReuseRatio).toFixed(1)}% of ${s.hashBlocks.total} hash blocks seen earlier`);
  if (s.sessions) lines.push(`sessions        ${s.sessions}`);
  if (s.droppedRows) lines.push(`dropped         ${s.droppedRows} failed requests (0 response tokens)`);
  if (s.filteredRows) lines.push(`filtered        ${s.filteredRows} rows (model filter / time window / max requests)`);
  if (s.overMaxModelLen) lines.push(`too long        ${s.overMaxModelLen} requests exceed --max-model-len (vLLM would reject them)`);
  if (!s.sorted) lines.push(`order           some timestamps went backwards: those rows were skipped`);
  lines.push(`skipped lines   ${s.skippedLines.count}`);
  for (const r of s.skippedLines.reasons) lines.push(`  ${r.location}: ${r.message}`);
  const max = Math.max(1, ...s.rateOverTime.counts);
  lines.push(`rate over time  (${s.rateOverTime.bucketSeconds} s buckets: requests, req/s)`);
  s.rateOverTime.counts.forEach((c, i) => {
    const t0 = i * s.rateOverTime.bucketSeconds;
    const rate = c / s.rateOverTime.bucketSeconds;
    lines.push(
      `  ${String(t0).padStart(8)} s ${String(c).padStart(7)} ${rate.toPrecision(3).padStart(9)}  ${"#".repeat(Math.round((40 * c) / max))}`,
    );
  });
  return lines.join("\n") + "\n";
}

