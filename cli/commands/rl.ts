import type { Command } from "commander";
import { isUserError, UserError } from "../../sim/errors.ts";
import { resolveGpu, withTotalMemory } from "../../sim/hardware/registry.ts";
import type { ModelSpec } from "../../sim/model/types.ts";
import { parseAlgorithm, type RlAlgorithm } from "../../sim/rl/algorithms.ts";
import { defaultRolloutUtilization, DEFAULT_ROLLOUT_MEMORY_ACCOUNTING, RL_DEFAULT_ZERO_STAGE } from "../../sim/rl/defaults.ts";
import { simulateRl } from "../../sim/rl/index.ts";
import type { RlConfig, RlReport, RolloutSleepLevel } from "../../sim/rl/types.ts";
import { parseLengthDist } from "../../sim/traces/length-dist.ts";
import { LOSS_IMPLS, OPTIMIZERS, PRECISIONS } from "../../sim/training/types.ts";
import { formatGiB, parseSize } from "../../sim/units.ts";
import { action, choiceOption, parseFloatFlag, parseIntFlag, printJson } from "../common.ts";
import { loadModelArg } from "../io/model-arg.ts";
import { addExportOptions, wantsRecording, writeExports, type ExportFlags } from "../exports.ts";
import { rlRecording } from "../../sim/export/timelines.ts";

/**
 * `vramscope rl`: one RL iteration's per-GPU memory (generate → score → train → sync) for PPO, DPO, GRPO or
 * Constitutional AI, with the rollout engine replayed on the serving simulator. Training flags mirror `train`'s.
 */
export function register(program: Command): void {
  const cmd = program
    .command("rl")
    .description("RL fine-tuning memory per GPU: PPO, DPO, GRPO, Constitutional AI as a generate/score/train/sync timeline")
    .requiredOption("--algo <name>", "ppo | dpo | grpo | cai")
    .requiredOption("--model <name|config.json>", "policy / actor / generator model")
    .option("--critic-model <name|config.json>", "PPO critic, CAI critics (default: --model)")
    .option("--reward-model <name|config.json>", "PPO reward model (default: --model); for GRPO, a learned reward model instead of rule-based rewards")
    .requiredOption("--gpu <name>", "GPU preset, e.g. H100-SXM-80GB")
    .option("--gpu-total-memory <size>", "override the GPU's memory, e.g. 80GiB")
    .option("--gpus <n>", "GPUs the roles share (colocate) or GPUs per role group (separate)", parseIntFlag("--gpus"), 1)
    .addOption(choiceOption("--placement <p>", "colocate (time-shared) or separate GPU groups per role", ["colocate", "separate"], "colocate"))
    .option("--rollout-gpu-memory-utilization <f>", `vLLM gpu_memory_utilization of the rollout engine (default ${defaultRolloutUtilization("colocate")} colocate as TRL, ${defaultRolloutUtilization("separate")} separate)`, parseFloatFlag("--rollout-gpu-memory-utilization"))
    .option("--rollout-tensor-parallel-size <n>", "rollout engine TP", parseIntFlag("--rollout-tensor-parallel-size"), 1)
    .option("--rollout-gpus <n>", "separate placement: GPUs of the rollout group (default --gpus)", parseIntFlag("--rollout-gpus"))
    .addOption(choiceOption("--rollout-sleep-level <l>", "vLLM sleep between generate phases: 0 none, 1 weights to CPU, 2 weights discarded", ["0", "1", "2"], "1"))
    .addOption(choiceOption("--rollout-memory-accounting <a>", "instance: util × total is the engine's own budget beside the trainer (vLLM ≥ 0.8.5); shared: the colocated trainer's memory comes out of util × total (vLLM 0.7–0.8)", ["instance", "shared"], DEFAULT_ROLLOUT_MEMORY_ACCOUNTING))
    .option("--rollout-max-num-seqs <n>", "rollout engine --max-num-seqs", parseIntFlag("--rollout-max-num-seqs"))
    .option("--rollout-max-num-batched-tokens <n>", "rollout engine --max-num-batched-tokens", parseIntFlag("--rollout-max-num-batched-tokens"))
    .option("--rollout-block-size <n>", "rollout engine --block-size", parseIntFlag("--rollout-block-size"))
    .option("--no-rollout-prefix-caching", "disable prefix caching in the rollout engine")
    .option("--rollout-step-time <s>", "constant seconds per engine step instead of the cost model", parseFloatFlag("--rollout-step-time"))
    .option("--num-generations <g>", "completions per prompt (GRPO's G; default 8 for GRPO, 1 otherwise)", parseIntFlag("--num-generations"))
    .option("--beta <b>", "KL coefficient: GRPO holds a reference model only when β > 0", parseFloatFlag("--beta"), 0)
    .option("--precompute-ref-log-probs", "DPO: reference log-probs computed before training (no reference in memory)", false)
    .option("--num-critics <k>", "CAI: frozen critic models", parseIntFlag("--num-critics"), 2)
    .addOption(choiceOption("--revision <r>", "CAI: revision model trained separately or shared with the generator", ["separate", "shared"], "separate"))
    .option("--prompt-len <p>", "prompt tokens", parseIntFlag("--prompt-len"), 512)
    .option("--response-len <r>", "response tokens (max_tokens; the update pads to it)", parseIntFlag("--response-len"), 512)
    .option("--response-len-dist <spec>", "generated lengths: N, uniform:MIN:MAX or lognormal:MEDIAN:SIGMA, capped at --response-len (default: all run to --response-len)")
    .option("--rollout-batch-size <b>", "prompts per iteration (DPO: preference pairs)", parseIntFlag("--rollout-batch-size"), 64)
    .option("--offload-train-states", "move trained roles' states to CPU while generating (OpenRLHF --deepspeed_enable_sleep)", false)
    .option("--offload-frozen", "keep reference/reward/critic weights on CPU outside their forward (OpenRLHF --ref_reward_offload)", false)
    // Training flags, as `vramscope train` takes them.
    .option("--micro-batch-size <b>", "sequences per training micro-batch", parseIntFlag("--micro-batch-size"), 1)
    .option("--micro-batches <m>", "gradient-accumulation micro-batches per update", parseIntFlag("--micro-batches"))
    .addOption(choiceOption("--zero-stage <s>", `ZeRO stage of the trained roles (3 = FSDP full shard; default ${RL_DEFAULT_ZERO_STAGE} over 2+ data-parallel ranks, as verl and OpenRLHF run RL, 0 on one)`, ["0", "1", "2", "3"]))
    .option("--fsdp", "alias of --zero-stage 3", false)
    .option("--tp <t>", "training tensor parallelism", parseIntFlag("--tp"))
    .option("--sp", "sequence parallelism", false)
    .option("--activation-checkpointing <mode>", "none | full | selective | every-k:N (default full: TRL and verl enable it for RL)")
    .option("--flash-attention", "flash attention (default)")
    .option("--no-flash-attention", "materialise attention scores")
    .addOption(choiceOption("--precision <p>", "article 14 | zero 16 | hf-mixed 18 | fp32 16 | bf16 8 B/param (default zero)", PRECISIONS))
    .option("--param-dtype <d>", "parameter dtype")
    .option("--grad-dtype <d>", "gradient dtype")
    .addOption(choiceOption("--master-weights <m>", "fp32 | none", ["fp32", "none"]))
    .addOption(choiceOption("--optimizer <o>", "optimizer (default adamw)", OPTIMIZERS))
    .option("--offload-optimizer", "ZeRO-Offload of optimizer states", false)
    .option("--offload-params", "ZeRO-3 parameter offload", false)
    .option("--allocator-reserve <f>", "allocator fragmentation reserve fraction", parseFloatFlag("--allocator-reserve"))
    .addOption(choiceOption("--loss <impl>", "cross-entropy: standard (fp32 upcast) | chunked | fused", LOSS_IMPLS))
    .option("--cuda-context <size>", "CUDA context + kernels per trained role's process (default 1343MB)")
    .option("--seed <n>", "seed", parseIntFlag("--seed"), 0)
    .option("--timeline", "include every event of the iteration", false)
    .option("--json", "print JSON", false);
  addExportOptions(cmd);
  cmd.action(
      action(async (opts: Record<string, unknown>) => {
        const config = rlConfigFromOptions(opts);
        const report = simulateRl(config);
        if (wantsRecording(opts as ExportFlags)) await writeExports(opts as ExportFlags, rlRecording(report.timeline));
        if (opts.json) printJson(opts.timeline ? report : { ...report, timeline: undefined });
        else process.stdout.write(formatReport(report, Boolean(opts.timeline)));
      }),
    );
}

function modelFlag(arg: string, flag: string): ModelSpec {
  try {
    return loadModelArg(arg);
  } catch (e) {
    if (isUserError(e) && flag !== "--model") throw new UserError(e.message.replace(/^--model\b/, flag).replace(/^unknown model/, `${flag}: unknown model`), { field: flag });
    if (isUserError(e) && flag === "--model" && !e.message.startsWith("--model")) throw new UserError(`--model: ${e.message}`, { field: flag });
    throw e;
  }
}

export function rlConfigFromOptions(o: Record<string, unknown>): RlConfig {
  const algorithm: RlAlgorithm = parseAlgorithm(String(o.algo));
  const model = modelFlag(String(o.model), "--model");
  let gpu = resolveGpu(String(o.gpu));
  if (o.gpuTotalMemory !== undefined) gpu = withTotalMemory(gpu, parseSize(String(o.gpuTotalMemory), "--gpu-total-memory"));
  const placement = o.placement as "colocate" | "separate";
  const extra: Record<string, unknown> = {};
  const zero = o.fsdp ? 3 : o.zeroStage !== undefined ? Number(o.zeroStage) : undefined;
  if (zero !== undefined) extra.zeroStage = zero;
  const map: [string, string][] = [
    ["tp", "tp"], ["microBatches", "numMicroBatches"], ["precision", "precision"], ["paramDtype", "paramDtype"],
    ["gradDtype", "gradDtype"], ["masterWeights", "masterWeights"], ["optimizer", "optimizer"],
    ["allocatorReserve", "allocatorReserve"], ["loss", "loss"], ["flashAttention", "flashAttention"],
  ];
  for (const [k, field] of map) if (o[k] !== undefined) extra[field] = o[k];
  extra.activationCheckpointing = o.activationCheckpointing ?? "full";
  if (o.sp) extra.sequenceParallel = true;
  if (o.cudaContext !== undefined) extra.cudaContextBytes = parseSize(String(o.cudaContext), "--cuda-context");
  if (o.offloadOptimizer) extra.offloadOptimizer = true;
  if (o.offloadParams) extra.offloadParams = true;
  return {
    algorithm,
    model,
    criticModel: o.criticModel !== undefined ? modelFlag(String(o.criticModel), "--critic-model") : undefined,
    rewardModel: o.rewardModel !== undefined ? modelFlag(String(o.rewardModel), "--reward-model") : undefined,
    gpu,
    numGpus: o.gpus as number,
    placement,
    rollout: {
      gpuMemoryUtilization: (o.rolloutGpuMemoryUtilization as number | undefined) ?? defaultRolloutUtilization(placement),
      tensorParallelSize: o.rolloutTensorParallelSize as number,
      sleepLevel: Number(o.rolloutSleepLevel) as RolloutSleepLevel,
      accounting: o.rolloutMemoryAccounting as "shared" | "instance",
      numGpus: o.rolloutGpus as number | undefined,
      maxNumSeqs: o.rolloutMaxNumSeqs as number | undefined,
      maxNumBatchedTokens: o.rolloutMaxNumBatchedTokens as number | undefined,
      blockSize: o.rolloutBlockSize as number | undefined,
      enablePrefixCaching: o.rolloutPrefixCaching !== false,
      stepTimeS: o.rolloutStepTime as number | undefined,
    },
    numGenerations: (o.numGenerations as number | undefined) ?? (algorithm === "grpo" ? 8 : 1),
    beta: o.beta as number,
    precomputeRefLogProbs: Boolean(o.precomputeRefLogProbs),
    numCritics: o.numCritics as number,
    revision: o.revision as "separate" | "shared",
    grpoRewardModel: algorithm === "grpo" && o.rewardModel !== undefined,
    promptLen: o.promptLen as number,
    responseLen: o.responseLen as number,
    responseLenDist: o.responseLenDist !== undefined ? parseLengthDist(String(o.responseLenDist), "--response-len-dist") : undefined,
    rolloutBatchSize: o.rolloutBatchSize as number,
    training: { microBatchSize: o.microBatchSize as number, extra },
    offloadTrainStatesDuringRollout: Boolean(o.offloadTrainStates),
    offloadFrozenRoles: Boolean(o.offloadFrozen),
    seed: o.seed as number,
  };
}

const g = (b: number) => formatGiB(b).padStart(11);

export function formatReport(r: RlReport, withTimeline: boolean): string {
  const out: string[] = [];
  out.push(`${r.algorithm.toUpperCase()} on ${r.numGpusTotal} × ${r.gpu} (${formatGiB(r.gpuMemoryBytes)} each), ${r.placement}`);
  out.push("");
  out.push("role             kind       group            peak/GPU   resident/GPU   model");
  for (const role of r.roles)
    out.push(`${role.name.padEnd(16)} ${role.kind.padEnd(10)} ${role.group.padEnd(14)} ${g(role.bytesPerGpu)} ${g(role.residentBytesPerGpu)}   ${role.model}`);
  out.push("");
  out.push("phase      peak/GPU");
  for (const p of r.phases) out.push(`${p.name.padEnd(8)} ${g(p.peakBytesPerGpu)}`);
  if (r.groups.length > 1) {
    out.push("");
    out.push("group            GPUs    peak/GPU  phase     fits");
    for (const gr of r.groups)
      out.push(`${gr.name.padEnd(16)} ${String(gr.numGpus).padStart(4)} ${g(gr.peakBytesPerGpu)}  ${gr.peakPhase.padEnd(9)} ${gr.fits ? "yes" : "OOM"}`);
  }
  out.push("");
  out.push(`peak per GPU: ${formatGiB(r.peakBytesPerGpu)} in ${r.peakPhase} ("${r.peakEvent}")`);
  out.push(r.fits ? `fits: yes (${formatGiB(r.gpuMemoryBytes - r.peakBytesPerGpu)} free at the peak)` : `fits: NO — OOM by ${formatGiB(r.oomByBytes)}`);
  out.push(`rollout buffer: ${formatGiB(r.rolloutBuffer.totalBytes)} in all, ${formatGiB(r.rolloutBuffer.bytesPerGpu)} per GPU`);
  if (r.rollout) {
    const s = r.rollout.summary;
    out.push(
      `rollout engine: ${r.rollout.numReplicas} replica(s), ${r.rollout.requestsPerReplica} sequences each; KV ${formatGiB(r.rollout.kvCacheBytes)} = ${r.rollout.kvCacheTokens} tokens; ` +
        `${s.preemptions} preemptions, ${s.recomputedTokens} tokens recomputed, prefix-cache hit rate ${(s.prefixCacheHitRate * 100).toFixed(1)}%, ${s.simulatedSeconds.toFixed(2)} s simulated`,
    );
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  if (withTimeline) {
    out.push("");
    out.push("  #  phase     group           total/GPU  event");
    // Runs of events with the same phase, group and total (engine steps with a preallocated KV cache) print once.
    for (let i = 0; i < r.timeline.length; i++) {
      const e = r.timeline[i];
      let j = i;
      while (j + 1 < r.timeline.length && sameLine(r.timeline[j + 1], e)) j++;
      const more = j > i ? ` … ${r.timeline[j].label} (${j - i + 1} events)` : "";
      out.push(`${String(e.index).padStart(3)}  ${e.phase.padEnd(9)} ${e.group.padEnd(14)} ${g(e.total)}  ${e.label}${more}`);
      i = j;
    }
  }
  return out.join("\n") + "\n";
}

function sameLine(a: RlReport["timeline"][number], b: RlReport["timeline"][number]): boolean {
  return a.phase === b.phase && a.group === b.group && a.total === b.total && a.label.startsWith("engine step") && b.label.startsWith("engine step");
}
