import { Option, type Command } from "commander";
import { resolveGpu } from "../../sim/hardware/registry.ts";
import { UserError } from "../../sim/errors.ts";
import { computeTrainingMemory, trainingTimeline } from "../../sim/training/index.ts";
import {
  LOSS_IMPLS,
  OPTIMIZERS,
  PIPELINE_SCHEDULES,
  PRECISIONS,
  type DeviceReport,
  type TrainingConfig,
  type TrainingReport,
} from "../../sim/training/types.ts";
import { formatGiB, parseSize } from "../../sim/units.ts";
import { loadModelArg } from "../io/model-arg.ts";
import { addExportOptions, wantsRecording, writeExports, type ExportFlags } from "../exports.ts";
import { trainingRecording } from "../../sim/export/timelines.ts";
import { action, choiceOption, parseFloatFlag, parseIntFlag, printJson } from "../common.ts";

interface TrainFlags {
  model?: string;
  params?: number;
  gpu?: string;
  gpus: number;
  microBatchSize: number;
  seqLen: number;
  zeroStage?: number;
  fsdp?: boolean;
  tp: number;
  pp: number;
  microBatches?: number;
  pipelineSchedule: "1f1b" | "interleaved";
  virtualStages?: number;
  sp?: boolean;
  activationCheckpointing: string;
  flashAttention: boolean;
  precision: string;
  paramDtype?: string;
  gradDtype?: string;
  masterWeights?: "fp32" | "none";
  optimizer: string;
  offloadOptimizer?: boolean;
  offloadParams?: boolean;
  allocatorReserve?: number;
  cudaContext?: string;
  loss: string;
  timeline?: boolean;
  stage?: number;
  json?: boolean;
}

/** `--allocator-reserve 5%` or `0.05`. */
function parseFraction(v: string): number {
  const pct = v.trim().endsWith("%");
  const n = Number(pct ? v.trim().slice(0, -1) : v);
  if (v.trim() === "" || !Number.isFinite(n))
    throw new UserError(`--allocator-reserve: expected a fraction such as 0.05 or 5%, got "${v}"`, { field: "--allocator-reserve" });
  return pct ? n / 100 : n;
}

export function configFromFlags(f: TrainFlags): TrainingConfig {
  if (!f.model && f.params === undefined) throw new UserError("give --model M or --params N (a bare parameter count such as 7.5e9)", { field: "--model" });
  if (f.model && f.params !== undefined) throw new UserError("give either --model or --params, not both", { field: "--params" });
  if (f.fsdp && f.zeroStage !== undefined && f.zeroStage !== 3)
    throw new UserError(`--fsdp is ZeRO-3; it contradicts --zero-stage ${f.zeroStage}`, { field: "--fsdp" });
  const zeroStage = f.fsdp ? 3 : (f.zeroStage ?? 0);
  if (![0, 1, 2, 3].includes(zeroStage)) throw new UserError(`--zero-stage must be 0, 1, 2 or 3, got ${zeroStage}`, { field: "--zero-stage" });
  return {
    model: f.model ? loadModelArg(f.model) : undefined,
    numParams: f.params,
    gpu: f.gpu ? resolveGpu(f.gpu) : undefined,
    numGpus: f.gpus,
    microBatchSize: f.microBatchSize,
    seqLen: f.seqLen,
    numMicroBatches: f.microBatches,
    zeroStage: zeroStage as 0 | 1 | 2 | 3,
    tp: f.tp,
    pp: f.pp,
    pipelineSchedule: f.pipelineSchedule,
    virtualStages: f.virtualStages,
    sequenceParallel: f.sp ?? false,
    activationCheckpointing: f.activationCheckpointing as TrainingConfig["activationCheckpointing"],
    flashAttention: f.flashAttention,
    precision: f.precision as TrainingConfig["precision"],
    paramDtype: f.paramDtype,
    gradDtype: f.gradDtype,
    masterWeights: f.masterWeights,
    optimizer: f.optimizer as TrainingConfig["optimizer"],
    offloadOptimizer: f.offloadOptimizer ?? false,
    offloadParams: f.offloadParams ?? false,
    allocatorReserve: f.allocatorReserve,
    cudaContextBytes: f.cudaContext === undefined ? undefined : parseSize(f.cudaContext, "--cuda-context"),
    loss: f.loss as TrainingConfig["loss"],
  };
}

function deviceJson(d: DeviceReport) {
  return {
    stage: d.stage,
    numLayers: d.numLayers,
    paramsBytes: d.paramsBytes,
    gradsBytes: d.gradsBytes,
    optimizerBytes: d.optimizerBytes,
    masterWeightsBytes: d.masterWeightsBytes,
    activationsBytes: d.activationsBytes,
    logitsBytes: d.logitsBytes,
    overheadBytes: d.overheadBytes,
    peakBytes: d.peakBytes,
    fits: d.fits ?? null,
    peakAt: d.peakAt,
    overhead: d.overhead,
    maxTerms: d.maxTerms,
    inFlightMicroBatches: d.inFlightMicroBatches,
    activationsPerMicroBatch: d.activationsPerMicroBatch,
    cpuBytes: d.cpuBytes,
  };
}

function reportJson(r: TrainingReport) {
  const { model, gpu, ...cfg } = r.config;
  const peak = r.devices[r.peakDevice];
  return {
    model: model?.name ?? null,
    gpu: gpu?.name ?? null,
    ...deviceJson(peak),
    fits: r.fits ?? null,
    gpuMemoryBytes: r.gpuMemoryBytes ?? null,
    oomByBytes: r.oomByBytes ?? null,
    peakDevice: r.peakDevice,
    devices: r.devices.map(deviceJson),
    suggestions: r.suggestions,
    bytesPerParam: r.bytesPerParam,
    config: cfg,
    notes: r.notes,
  };
}

function printTable(r: TrainingReport): void {
  const c = r.config;
  const w = (s: string) => process.stdout.write(s + "\n");
  const layout = [`DP ${c.dp}`, `TP ${c.tp}${c.sequenceParallel ? "+SP" : ""}`, `PP ${c.pp}${c.pp > 1 ? ` (${c.pipelineSchedule}, ${c.numMicroBatches} micro-batches)` : ""}`];
  w(`${c.model?.name ?? `${c.numParams.toExponential(3)} parameters`} — ${c.numGpus} GPU(s): ${layout.join(" × ")}, ZeRO-${c.zeroStage}`);
  w(
    `precision ${c.precision}: ${r.bytesPerParam.params} + ${r.bytesPerParam.grads} + ${r.bytesPerParam.optimizer} (${c.optimizer}) + ${r.bytesPerParam.masterWeights} (master) B/param; ` +
      `micro-batch ${c.microBatchSize} × ${c.seqLen} tokens, checkpointing ${c.checkpointing.kind}${c.checkpointing.kind === "every-k" ? `:${c.checkpointing.k}` : ""}, flash attention ${c.flashAttention ? "on" : "off"}`,
  );
  const cols = ["stage", "params", "grads", "optimizer", "master", "activations", "logits", "overhead", "peak", "CPU"];
  w(cols.map((h, i) => (i === 0 ? h.padEnd(6) : h.padStart(12))).join(""));
  const g = (b: number) => formatGiB(b).padStart(12);
  for (const d of r.devices) {
    w(
      String(d.stage).padEnd(6) +
        [d.paramsBytes, d.gradsBytes, d.optimizerBytes, d.masterWeightsBytes, d.activationsBytes, d.logitsBytes, d.overheadBytes, d.peakBytes, d.cpuBytes]
          .map(g)
          .join("") +
        `   at ${d.peakAt}`,
    );
    const m = d.maxTerms;
    w("  max " + [m.params, m.grads, m.optimizer, m.masterWeights, m.activations, m.logits, m.overhead].map(g).join("") + "   (each term's own maximum)");
  }
  const d = r.devices[r.peakDevice];
  const o = d.overhead;
  w(
    `overhead of stage ${d.stage}: CUDA context ${formatGiB(o.cudaContext)}, comm buckets ${formatGiB(o.commBuckets)}, gathered params ${formatGiB(o.gatheredParams)}, ` +
      `unsharded grads ${formatGiB(o.unshardedGrads)}, optimizer temporary ${formatGiB(o.optimizerTransient)}, allocator reserve ${formatGiB(o.allocatorReserve)}`,
  );
  if (r.gpuMemoryBytes !== undefined) {
    if (r.fits) w(`fits: peak ${formatGiB(r.peakBytes)} of ${formatGiB(r.gpuMemoryBytes)} (${c.gpu?.name})`);
    else {
      w(`OOM by ${formatGiB(r.oomByBytes ?? 0)}: peak ${formatGiB(r.peakBytes)} > ${formatGiB(r.gpuMemoryBytes)} (${c.gpu?.name})`);
      for (const s of r.suggestions) w(`  ${s.fits ? "fits" : "    "}  ${s.change.padEnd(52)} peak ${formatGiB(s.peakBytes)}`);
    }
  }
  for (const n of r.notes) w(`note: ${n}`);
}

export function register(program: Command): void {
  const cmd = program
    .command("train")
    .description("training memory per GPU: model states, activations, logits and overheads under DP/ZeRO/FSDP, TP, SP and PP")
    .option("--model <name|config.json>", "model preset or a path to an HF config.json")
    .option("--params <n>", "a bare parameter count instead of a model, e.g. 7.5e9 (model states only)", parseFloatFlag("--params"))
    .option("--gpu <name>", "GPU preset for the verdict (fits / OOM and what would fit)")
    .option("--gpus <n>", "world size", parseIntFlag("--gpus"), 1)
    .option("--micro-batch-size <n>", "sequences per micro-batch", parseIntFlag("--micro-batch-size"), 1)
    .option("--seq-len <n>", "tokens per sequence", parseIntFlag("--seq-len"), 2048)
    .option("--zero-stage <n>", "0 (DDP), 1, 2, 3 (= FSDP)", parseIntFlag("--zero-stage"))
    .option("--fsdp", "fully sharded data parallel (alias of --zero-stage 3)")
    .option("--tp <n>", "tensor-parallel size", parseIntFlag("--tp"), 1)
    .option("--pp <n>", "pipeline stages", parseIntFlag("--pp"), 1)
    .option("--micro-batches <n>", "micro-batches per step (gradient accumulation; the pipeline's m, default pp)", parseIntFlag("--micro-batches"))
    .addOption(choiceOption("--pipeline-schedule <s>", "pipeline schedule", PIPELINE_SCHEDULES, "1f1b"))
    .option("--virtual-stages <n>", "model chunks per GPU for the interleaved schedule (default 2)", parseIntFlag("--virtual-stages"))
    .option("--sp", "sequence parallelism over the TP group")
    .option("--activation-checkpointing <mode>", "none | full | selective | every-k:N", "none")
    .option("--flash-attention", "no materialised a·s² attention scores", true)
    .option("--no-flash-attention", "eager attention: softmax scores stored per layer")
    .addOption(choiceOption("--precision <preset>", "article 14 | zero 16 | hf-mixed 18 | fp32 16 | bf16 8 B/param", PRECISIONS, "zero"))
    .option("--param-dtype <dtype>", "override the preset's parameter dtype (bf16, fp16, fp32)")
    .option("--grad-dtype <dtype>", "override the preset's gradient dtype")
    .addOption(new Option("--master-weights <m>", "fp32 master copy of the weights or none").choices(["fp32", "none"]))
    .addOption(choiceOption("--optimizer <name>", "optimizer", OPTIMIZERS, "adamw"))
    .option("--offload-optimizer", "optimizer states, master weights and fp32 gradients in CPU RAM (ZeRO-Offload)")
    .option("--offload-params", "parameter shards in CPU RAM (needs ZeRO-3)")
    .option("--allocator-reserve <f>", "caching-allocator reserve on top of allocated memory, e.g. 0.05 or 5% (default 5%)", parseFraction)
    .option("--cuda-context <size>", "CUDA context + kernels (default 1343MB, HF's measurement)")
    .addOption(choiceOption("--loss <impl>", "cross-entropy: standard (fp32 upcast) | chunked | fused", LOSS_IMPLS, "standard"))
    .option("--timeline", "also print the step timeline of the peak device (or --stage)")
    .option("--stage <n>", "pipeline stage for --timeline", parseIntFlag("--stage"))
    .option("--json", "print one JSON object");
  addExportOptions(cmd);
  cmd.action(
      action(async (flags: TrainFlags & ExportFlags) => {
        const config = configFromFlags(flags);
        const report = computeTrainingMemory(config);
        if (flags.stage !== undefined && (flags.stage < 0 || flags.stage >= report.devices.length))
          throw new UserError(`--stage ${flags.stage}: the pipeline has stages 0–${report.devices.length - 1}`, { field: "--stage" });
        const timeline =
          flags.timeline || wantsRecording(flags) ? trainingTimeline(config, { stage: flags.stage ?? report.peakDevice }) : undefined;
        if (timeline && wantsRecording(flags)) await writeExports(flags, trainingRecording(timeline));
        if (flags.json) {
          printJson({ ...reportJson(report), ...(timeline && flags.timeline ? { timeline } : {}) });
          return;
        }
        printTable(report);
        if (timeline && flags.timeline) {
          process.stdout.write(`\nstep timeline, stage ${timeline.stage} (${timeline.events.length} events, peak at #${timeline.peakIndex}):\n`);
          for (const e of timeline.events)
            process.stdout.write(
              `${String(e.t).padStart(5)} ${e.phase.padEnd(9)} ${formatGiB(e.bytes.total).padStart(12)}  ${e.label}${e.microBatch ? ` [mb ${e.microBatch}]` : ""}${e.t === timeline.peakIndex ? "   ← peak" : ""}\n`,
            );
        }
      }),
    );
}
