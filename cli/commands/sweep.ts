import { existsSync, readFileSync } from "node:fs";
import type { Command } from "commander";
import { UserError } from "../../sim/errors.ts";
import { resolveGpu } from "../../sim/hardware/registry.ts";
import { resolveServingConfig } from "../../sim/serving/config.ts";
import { fitCostModel, parseCalibrationText, type CalibrationFit } from "../../sim/sweep/calibrate.ts";
import { sweepCsv, sweepText } from "../../sim/sweep/format.ts";
import { mergeSweepResults } from "../../sim/sweep/merge.ts";
import { parsePrices } from "../../sim/sweep/prices.ts";
import { parseShard } from "../../sim/sweep/shard.ts";
import { parseVaryList, productSize } from "../../sim/sweep/spec.ts";
import type { Slo, SweepResult, SweepSpec } from "../../sim/sweep/types.ts";
import { parseDuration } from "../../sim/units.ts";
import { action, parseIntFlag, printJson, progressBar } from "../common.ts";
import { addTraceFlags, DEFAULT_TRACE, loadTrace, traceOptionsFromFlags, type TraceFlags } from "../io/trace-file.ts";
import { addServingFlags, servingInputFromFlags, type ServingFlags } from "../serving-flags.ts";
import { defaultWorkers, runSweepParallel } from "../sweep-pool.ts";

type SweepFlags = ServingFlags &
  TraceFlags & {
    vary: string[];
    sloTtftP99?: string;
    sloTpotP99?: string;
    gpuHourPrice: string[];
    json?: boolean;
    csv?: boolean;
    workers?: number;
    shard?: string;
    calibrate?: string;
    quiet?: boolean;
  };

const collect = (v: string, prev: string[]) => [...prev, v];

function readText(path: string, flag: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${flag} ${path}: cannot read (${code === "ENOENT" ? "no such file" : (e as Error).message})`, { field: flag, location: path });
  }
}

/** The base config input as JSON: presets stay names (a config.json model is kept whole), undefined fields dropped. */
function baseInput(flags: SweepFlags): Record<string, unknown> {
  const input = servingInputFromFlags(flags) as Record<string, unknown>;
  // loadModelArg's rule: a .json or an existing file is a config (kept whole); anything else a preset name.
  if (flags.model && !flags.model.endsWith(".json") && !existsSync(flags.model)) input.model = flags.model;
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
}

function output(result: SweepResult, flags: { json?: boolean; csv?: boolean }, extra: Record<string, unknown> = {}): void {
  if (flags.json) printJson({ ...result, ...extra });
  else if (flags.csv) process.stdout.write(sweepCsv(result));
  else process.stdout.write(sweepText(result));
}

function calibrationText(fit: CalibrationFit): string {
  const lines = [
    `calibrated step-time model: bandwidthEfficiency ${fit.params.bandwidthEfficiency.toFixed(4)}, stepOverheadS ${(fit.params.stepOverheadS * 1e3).toFixed(3)} ms (rms error ${(fit.rmsError * 100).toFixed(1)}%)`,
    ...fit.residuals.map(
      (r) =>
        `  ${r.source}: batch ${r.batch}, context ${r.context}: measured ${(r.measuredS * 1e3).toFixed(2)} ms, model ${(r.predictedS * 1e3).toFixed(2)} ms (${r.error >= 0 ? "+" : ""}${(r.error * 100).toFixed(1)}%)`,
    ),
    ...fit.notes.map((n) => `  note: ${n}`),
  ];
  return lines.join("\n") + "\n";
}

export function register(program: Command): void {
  const cmd = program
    .command("sweep")
    .description("replay a trace over a grid of serving configs and recommend the cheapest one meeting the SLOs")
    .argument("[trace]", "trace file (any supported format) or embedded sample name", DEFAULT_TRACE)
    .option("--vary <name=START:END:STEP|a,b,c>", "a parameter to sweep, by its flag name; END included; repeatable", collect, [])
    .option("--slo-ttft-p99 <duration>", "TTFT p99 objective (e.g. 2s)")
    .option("--slo-tpot-p99 <duration>", "TPOT p99 objective (e.g. 100ms)")
    .option("--gpu-hour-price <gpu=USD>", "price of one GPU-hour, for cost per million output tokens; repeatable", collect, [])
    .option("--json", "print points and the recommendation as JSON")
    .option("--csv", "print the points as CSV")
    .option("--workers <n>", "worker threads (default: all cores; 0 = in-process)", parseIntFlag("--workers"))
    .option("--shard <i/n>", "run only points with index ≡ i (mod n), 0-based; join shards with `sweep merge`")
    .option("--calibrate <file>", "fit the step-time model to measured (batch, context, step time) points first")
    .option("--quiet", "no progress bar");
  addServingFlags(cmd);
  addTraceFlags(cmd, { maxModelLen: false, seed: false });
  cmd.action(
    action(async (trace: string, flags: SweepFlags) => {
      if (flags.json && flags.csv) throw new UserError("--json and --csv: choose one", { field: "--csv" });
      const vary = parseVaryList(flags.vary);
      const slo: Slo = {};
      if (flags.sloTtftP99 !== undefined) slo.ttftP99 = parseDuration(flags.sloTtftP99, "--slo-ttft-p99");
      if (flags.sloTpotP99 !== undefined) slo.tpotP99 = parseDuration(flags.sloTpotP99, "--slo-tpot-p99");
      const prices = parsePrices(flags.gpuHourPrice, (g) => resolveGpu(g).name);
      const shard = flags.shard !== undefined ? parseShard(flags.shard) : null;
      if (flags.workers !== undefined && flags.workers < 0) throw new UserError("--workers must be ≥ 0", { field: "--workers" });
      const base = baseInput(flags);
      // Fail fast on a bad base flag, before reading the trace.
      const baseConfig = resolveServingConfig(base);
      let calibration: CalibrationFit | undefined;
      if (flags.calibrate) {
        calibration = fitCostModel(baseConfig, parseCalibrationText(readText(flags.calibrate, "--calibrate"), flags.calibrate));
        base.costModel = { ...(base.costModel as object | undefined), ...calibration.params };
        if (!flags.json) process.stderr.write(calibrationText(calibration));
        if (vary.some((v) => v.name === "gpu" || v.name === "model"))
          process.stderr.write("  note: the calibration was measured for the base --model/--gpu; it is applied to every point\n");
      }
      const { requests, report } = await loadTrace(trace, traceOptionsFromFlags(flags));
      if (requests.length === 0) throw new UserError(`${trace}: no requests to replay (${report.skipped} lines skipped)`, { field: "trace" });
      const spec: SweepSpec = { base, vary, slo, prices, trace };
      const total = productSize(vary);
      const bar = progressBar("sweep", shard ? Math.ceil((total - shard.index) / shard.count) : total, flags.quiet || flags.json || flags.csv);
      const result = await runSweepParallel(spec, requests, {
        workers: flags.workers ?? defaultWorkers(),
        shard,
        onProgress: (done) => bar.update(done),
      });
      bar.stop();
      output(result, flags, calibration ? { calibration } : {});
    }),
  );

  cmd
    .command("merge")
    .description("join the --json outputs of a sharded sweep (--shard i/n) and recompute the recommendation")
    .argument("<files...>", "shard result files (vramscope sweep --shard i/n --json > shard-i.json)")
    .option("--json", "print the merged result as JSON")
    .option("--csv", "print the points as CSV")
    .option("--allow-partial", "merge even when some points are missing")
    .action(
      action(async (files: string[], _opts: unknown, command: Command) => {
        // --json/--csv are also the parent's options, which commander gives precedence: read both levels.
        const flags = command.optsWithGlobals() as { json?: boolean; csv?: boolean; allowPartial?: boolean };
        const results = files.map((f) => {
          try {
            return JSON.parse(readText(f, "sweep merge")) as SweepResult;
          } catch (e) {
            if (e instanceof SyntaxError) throw new UserError(`sweep merge: ${f} is not valid JSON (${e.message})`, { location: f });
            throw e;
          }
        });
        output(mergeSweepResults(results, files, flags.allowPartial), flags);
      }),
    );
}
