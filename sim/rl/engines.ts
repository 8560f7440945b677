import { isUserError, UserError } from "../errors.ts";
import { countParams } from "../model/params.ts";
import { computeKvBudget } from "../serving/budget.ts";
import { resolveServingConfig } from "../serving/config.ts";
import { ServingEngine } from "../serving/engine.ts";
import type { MemorySnapshot, ServingConfig } from "../serving/types.ts";
import { resolveTrainingConfig } from "../training/config.ts";
import { computeTrainingMemory, trainingTimeline } from "../training/index.ts";
import type { MemoryTerms, TrainingConfig } from "../training/types.ts";
import { formatGiB } from "../units.ts";
import type { RlEngines, RolloutAdapter, RolloutRunInput, TrainingAdapter } from "./adapters.ts";
import type { Bytes } from "./timeline.ts";

/**
 * The RL model's adapters bound to the project's two engines.
 *
 * Training: each trained role is one `trainingTimeline` run with the role's model, the rollout's sequence length and
 * the user's training flags. PPO's critic is the same network with a 1-wide value head instead of the LM head: it
 * is given to the training model as the tied-embedding variant (no separate V × h head; the h × 1 head is
 * negligible) with the fused loss (no vocabulary logits).
 *
 * Rollout: one `ServingEngine` replays one replica's share of the batch. Under "shared" accounting the colocated
 * trainer's resident bytes are taken out of the engine's util × total before the KV cache is sized, by handing the
 * engine the reduced figure as `--kv-cache-memory` — the engine's own arithmetic otherwise (weights, activation
 * peak, non-torch, blocks, the one-max-len-request check) is untouched.
 */
export const trainingEngine: TrainingAdapter = (input) => {
  const flags = input.flags as TrainingConfig;
  const score = input.head === "score";
  const cfg: TrainingConfig = {
    ...flags,
    model: score ? { ...input.spec, tieWordEmbeddings: true } : input.spec,
    numGpus: input.numGpus,
    microBatchSize: input.microBatchSize,
    seqLen: input.seqLen,
    // No `gpu`: the verdict (and its re-run suggestions) is the RL report's, over the whole timeline.
    ...(score ? { loss: "fused" as const } : {}),
  };
  const resolved = resolveTrainingConfig(cfg);
  const tl = trainingTimeline(cfg);
  const device = computeTrainingMemory(cfg).devices[tl.stage];
  const steps = tl.events.map((e) => ({ label: e.label, bytes: toBytes(e.bytes) }));
  const gathered = resolved.zeroStage === 3 && resolved.dp > 1 ? Math.round((resolved.paramBytes * countParams(input.spec).perLayer) / resolved.tp) : 0;
  return {
    resident: steps[0].bytes,
    steps: steps.slice(1),
    peakBytes: Math.round(tl.peakBytes),
    cpuBytes: Math.round(device.cpuBytes),
    sharding: { dataParallel: resolved.dp, zeroStage: resolved.zeroStage, tensorParallel: resolved.tp },
    gatheredLayerBytes: gathered,
  };
};

function toBytes(t: MemoryTerms): Bytes {
  return {
    params: Math.round(t.params),
    grads: Math.round(t.grads),
    optimizer: Math.round(t.optimizer),
    masterWeights: Math.round(t.masterWeights),
    activations: Math.round(t.activations),
    logits: Math.round(t.logits),
    overhead: Math.round(t.overhead),
  };
}

/** Serving-engine flags as the `rl` command names them. */
const ROLLOUT_FLAGS: Record<string, string> = {
  "--gpu-memory-utilization": "--rollout-gpu-memory-utilization",
  "--kv-cache-memory": "--rollout-gpu-memory-utilization",
  "--tensor-parallel-size": "--rollout-tensor-parallel-size",
  "--max-num-seqs": "--rollout-max-num-seqs",
  "--max-num-batched-tokens": "--rollout-max-num-batched-tokens",
  "--block-size": "--rollout-block-size",
  "--max-model-len": "--response-len",
  "--step-time": "--rollout-step-time",
};

function asRolloutError(e: unknown): never {
  if (!isUserError(e)) throw e;
  let msg = e.message;
  for (const [from, to] of Object.entries(ROLLOUT_FLAGS)) msg = msg.split(from).join(to);
  const field = e.field ? (ROLLOUT_FLAGS[e.field] ?? e.field) : undefined;
  throw new UserError(`rollout engine: ${msg}`, { field });
}

export const rolloutEngine: RolloutAdapter = (input: RolloutRunInput) => {
  const e = input.engine;
  let config: ServingConfig;
  try {
    config = resolveServingConfig({
      model: input.spec,
      gpu: input.gpu,
      tensorParallelSize: e.tensorParallelSize,
      gpuMemoryUtilization: e.gpuMemoryUtilization,
      maxModelLen: input.maxModelLen,
      maxNumSeqs: e.maxNumSeqs,
      maxNumBatchedTokens: e.maxNumBatchedTokens,
      blockSize: e.blockSize,
      enablePrefixCaching: e.enablePrefixCaching,
      stepTimeS: e.stepTimeS,
      seed: input.seed,
    });
  } catch (err) {
    asRolloutError(err);
  }
  const total = config.gpu.memoryBytes;
  const requested = total * e.gpuMemoryUtilization;
  if (input.residentBytes >= total && e.accounting === "instance")
    throw new UserError(
      `--rollout-gpu-memory-utilization: the colocated roles hold ${formatGiB(input.residentBytes)} per GPU before the rollout engine starts, more than the ${formatGiB(total)} of a ${config.gpu.name}`,
      { field: "--rollout-gpu-memory-utilization" },
    );
  if (input.residentBytes > 0 && e.accounting === "instance" && total - input.residentBytes < requested)
    throw new UserError(
      `--rollout-gpu-memory-utilization: Free memory on device (${formatGiB(total - input.residentBytes)}/${formatGiB(total)}) on startup is less than desired GPU memory utilization (${e.gpuMemoryUtilization}, ${formatGiB(requested)}): the colocated roles hold ${formatGiB(input.residentBytes)} (vLLM ≥ 0.8.5: util × total is the engine's own)`,
      { field: "--rollout-gpu-memory-utilization" },
    );
  if (input.residentBytes > 0 && e.accounting === "shared") {
    let plain;
    try {
      plain = computeKvBudget(config);
    } catch (err) {
      asRolloutError(err);
    }
    const kv = plain.kvCacheBytes - input.residentBytes;
    if (kv <= 0)
      throw new UserError(
        `--rollout-gpu-memory-utilization: no memory left for the rollout KV cache: ${e.gpuMemoryUtilization} × ${formatGiB(total)} = ${formatGiB(requested)} ` +
          `minus the colocated trainer's ${formatGiB(input.residentBytes)}, the engine's weights ${formatGiB(plain.weightsBytes)}, activation peak ${formatGiB(plain.activationPeakBytes)} ` +
          `and non-torch ${formatGiB(plain.nonTorchBytes)} leaves ${formatGiB(kv)} (vLLM 0.7–0.8 "shared" accounting)`,
        { field: "--rollout-gpu-memory-utilization" },
      );
    config = { ...config, kvCacheMemoryBytes: kv };
  }
  let engine: ServingEngine;
  try {
    engine = new ServingEngine(config, { keepRecords: false });
  } catch (err) {
    asRolloutError(err);
  }
  engine.addRequests(input.requests);
  engine.endTrace();
  const snapshots: MemorySnapshot[] = [];
  while (engine.step()) snapshots.push(engine.snapshot());
  return { budget: engine.budget, summary: engine.summary(), snapshots };
};

export const projectEngines: RlEngines = { training: trainingEngine, rollout: rolloutEngine };
