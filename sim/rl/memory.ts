import { isUserError, UserError } from "../errors.ts";
import type { ModelSpec } from "../model/types.ts";
import { sampleLength } from "../traces/length-dist.ts";
import { Rng } from "../traces/rng.ts";
import { formatGiB } from "../units.ts";
import type { RlEngines, TrainingProfile } from "./adapters.ts";
import { generatesRollouts, modelRoles, type RoleModelSource, type RoleName } from "./algorithms.ts";
import { rolloutBufferBytes } from "./buffer.ts";
import { frozenRoleMemory, type FrozenHead } from "./inference.ts";
import { placeGroups, roleRange, runIteration } from "./groups.ts";
import { rolloutRequests } from "./rollout-requests.ts";
import { rlTrainingFlags, zeroStageDefaulted } from "./defaults.ts";
import { describeFixes, rolloutBudgetFixes } from "./fixes.ts";
import type { FrozenRoleProfile, RolloutProfile, TrainedRoleProfile } from "./timeline.ts";
import type { RlConfig, RlReport, RlRoleReport, RlRolloutReport } from "./types.ts";

/**
 * Per-GPU memory of one RL iteration: every role of the algorithm (`algorithms.ts`) sized by the engine that owns
 * it — trained roles by the training model, frozen roles by a forward pass under the trainer's sharding, the
 * rollout engine by actually replaying the rollout batch on the serving simulator — then laid out in time per GPU
 * group (`timeline.ts`). The peak, its phase and the verdict come from that timeline, never from a sum of peaks:
 * colocated roles are time-shared, so their transients do not stack.
 */
export function computeRlMemory(config: RlConfig, engines: RlEngines, options: { suggestFixes?: boolean } = {}): RlReport {
  validate(config);
  const algo = config.algorithm;
  const roles = modelRoles(algo, config);
  const seqLen = config.promptLen + config.responseLen;
  const online = generatesRollouts(algo);
  const numGenerations = online ? config.numGenerations : 2;
  const numSequences = config.rolloutBatchSize * numGenerations;
  // DPO concatenates chosen and rejected into one forward (TRL `concatenated_forward`): twice the sequences.
  const trainMicro = config.training.microBatchSize * (algo === "dpo" ? 2 : 1);
  const notes: string[] = [];

  // Trained roles, through the training model.
  const profiles = new Map<RoleName, TrainingProfile>();
  for (const r of roles.filter((r) => r.kind === "train")) {
    profiles.set(
      r.name,
      engines.training({
        spec: specOf(config, r.modelSource),
        head: r.name === "critic" ? "score" : "lm",
        microBatchSize: trainMicro,
        seqLen,
        numGpus: config.numGpus,
        gpu: config.gpu,
        flags: rlTrainingFlags(config.training.extra, config.numGpus),
      }),
    );
  }
  const policyRole = roles.find((r) => r.kind === "train" && r.modelSource === "policy")!;
  const policyProfile = profiles.get(policyRole.name)!;
  const sharding = policyProfile.sharding;
  if (zeroStageDefaulted(config.training.extra))
    notes.push(
      sharding.zeroStage === 3
        ? `trainer sharding: ZeRO-3 (FSDP full shard) over ${sharding.dataParallel} data-parallel ranks, the RL libraries' default (verl FSDP FULL_SHARD, OpenRLHF --zero_stage 3); --zero-stage sets another`
        : "trainer sharding: none, one data-parallel rank (with more --gpus the default is ZeRO-3, as in verl and OpenRLHF)",
    );
  const fwd = { microBatchSize: trainMicro, seqLen, logitsTokens: algo === "dpo" ? seqLen : config.responseLen };

  const trained: TrainedRoleProfile[] = roles
    .filter((r) => r.kind === "train")
    .map((r) => {
      const p = profiles.get(r.name)!;
      const t: TrainedRoleProfile = {
        role: r.name,
        resident: p.resident,
        steps: p.steps,
        syncGatherBytes: online && r === policyRole ? p.gatheredLayerBytes : 0,
        syncsToRollout: online && r === policyRole,
      };
      // PPO recomputes the actor's old log-probs and the critic's values over the rollout (verl `compute_log_prob`,
      // `compute_values`); GRPO with one update per batch reuses the detached current log-probs (TRL, μ = 1).
      if (algo === "ppo") {
        const head: FrozenHead = r.name === "critic" ? "score" : "lm";
        const m = frozenRoleMemory(specOf(config, r.modelSource), head, p.sharding, fwd);
        t.scoreForward = {
          label: r.name === "critic" ? "critic: values (no-grad forward)" : "actor: old log-probs (no-grad forward)",
          bytes: { params: m.gatheredBytes, activations: m.activationsBytes, logits: m.logitsBytes },
        };
      }
      return t;
    });

  // Frozen roles: weights under the trainer's sharding plus one forward.
  const frozenMem = new Map<RoleName, ReturnType<typeof frozenRoleMemory>>();
  const frozen: FrozenRoleProfile[] = roles
    .filter((r) => r.kind === "inference")
    .map((r) => {
      const spec = specOf(config, r.modelSource);
      const m = frozenRoleMemory(spec, r.name === "reward" ? "score" : "lm", sharding, fwd);
      if (m.weightsBytes > config.gpu.memoryBytes)
        throw new UserError(
          `${flagOf(r.modelSource)}: ${spec.name} (${r.name}) needs ${formatGiB(m.weightsBytes)} per GPU for its weights alone, ` +
            `more than the ${formatGiB(config.gpu.memoryBytes)} of a ${config.gpu.name}; shard it (--zero-stage 3 over more --gpus, --tp) or pick a smaller model`,
          { field: flagOf(r.modelSource) },
        );
      frozenMem.set(r.name, m);
      return {
        role: r.name,
        weightsBytes: m.weightsBytes,
        forward: { params: m.gatheredBytes, activations: m.activationsBytes, logits: m.logitsBytes },
        label: `${r.name}: ${r.name === "reward" ? "reward scores" : r.name === "reference" ? "reference log-probs" : "critique"} (no-grad forward)`,
      };
    });

  // Rollout buffer, split over the trainer's data-parallel ranks.
  const buf = rolloutBufferBytes({
    numSequences,
    promptLen: config.promptLen,
    responseLen: config.responseLen,
    refLogProbs: roles.some((r) => r.name === "reference"),
    values: algo === "ppo",
    online,
  });
  const dp = Math.max(1, sharding.dataParallel);
  const seqTerms = ["input_ids", "attention_mask", "position_ids", "responses"];
  const afterGenerate = Math.ceil(seqTerms.reduce((s, k) => s + (buf.terms[k] ?? 0), 0) / dp);
  const bufferShare = { afterGenerate, afterScore: Math.ceil(buf.total / dp) };

  // The rollout engine: the serving simulator replays one replica's share of the batch.
  let rollout: RlRolloutReport | null = null;
  let rolloutProfile: RolloutProfile | null = null;
  const colocate = config.placement === "colocate";
  const rolloutGpus = colocate ? config.numGpus : (config.rollout.numGpus ?? config.numGpus);
  if (online) {
    const tp = config.rollout.tensorParallelSize;
    if (!Number.isInteger(tp) || tp < 1 || rolloutGpus % tp !== 0)
      throw new UserError(
        `--rollout-tensor-parallel-size: ${tp} must divide the ${rolloutGpus} GPUs of the rollout engine`,
        { field: "--rollout-tensor-parallel-size" },
      );
    const numReplicas = rolloutGpus / tp;
    const requests = rolloutRequests({
      numPrompts: config.rolloutBatchSize,
      numGenerations,
      promptLen: config.promptLen,
      responseLen: config.responseLen,
      numReplicas,
      replica: 0,
      outputTokens: config.responseLenDist ? drawResponseLengths(config, numSequences) : undefined,
    });
    const residentBytes = colocate
      ? (config.offloadTrainStatesDuringRollout ? 0 : trained.reduce((s, t) => s + sumBytes(t.resident), 0)) +
        (config.offloadFrozenRoles ? 0 : frozen.reduce((s, f) => s + f.weightsBytes, 0))
      : 0;
    let run: ReturnType<typeof engines.rollout>;
    try {
      run = engines.rollout({
        spec: config.model,
        gpu: config.gpu,
        engine: config.rollout,
        maxModelLen: seqLen,
        residentBytes,
        requests,
        seed: config.seed,
      });
    } catch (e) {
      if (!isUserError(e) || options.suggestFixes === false || !isKvBudgetError(e)) throw e;
      // The error ends with changes tried on this very configuration, so what it suggests is known to work.
      const quiet = (c: RlConfig) => {
        try {
          return computeRlMemory(c, engines, { suggestFixes: false });
        } catch (err) {
          if (isUserError(err)) return null;
          throw err;
        }
      };
      throw new UserError(e.message + describeFixes(rolloutBudgetFixes(config, residentBytes, quiet)), { field: e.field });
    }
    const s0 = run.snapshots[0];
    const kvBytes = s0 ? s0.kvUsedBytes + s0.kvCachedFreeBytes + s0.kvFreeBytes : run.budget.kvCacheBytes;
    rolloutProfile = {
      weightsBytes: run.budget.weightsBytes,
      activationBytes: run.budget.activationPeakBytes,
      nonTorchBytes: run.budget.nonTorchBytes,
      kvCacheBytes: kvBytes,
      snapshots: run.snapshots,
    };
    rollout = {
      numReplicas,
      requestsPerReplica: requests.length,
      kvCacheBytes: kvBytes,
      numGpuBlocks: run.budget.numGpuBlocks,
      kvCacheTokens: run.budget.kvCacheTokens,
      colocatedResidentBytes: residentBytes,
      summary: run.summary,
      logLines: run.budget.logLines,
    };
    if (run.summary.preemptions > 0)
      notes.push(
        `the rollout engine preempted ${run.summary.preemptions} times (${run.summary.recomputedTokens} tokens recomputed): ` +
          `its KV cache holds ${run.budget.kvCacheTokens} tokens for ${requests.length} sequences of up to ${seqLen}`,
      );
    if (colocate && config.offloadTrainStatesDuringRollout && config.rollout.sleepLevel === 0 && trained.length > 0)
      notes.push(
        "trainer states are offloaded while generating but the engine never sleeps: its KV cache was sized without them, and they come back on top of it for the update",
      );
    if (colocate && config.rollout.accounting === "instance" && residentBytes > 0)
      notes.push(
        `the rollout engine's ${config.rollout.gpuMemoryUtilization} × GPU budget is its own, beside the ${formatGiB(residentBytes)} per GPU the colocated roles hold (vLLM ≥ 0.8.5; --rollout-memory-accounting shared models 0.7–0.8)`,
      );
    if (colocate && config.rollout.accounting === "shared" && residentBytes > 0)
      notes.push(
        `colocated trainer state (${formatGiB(residentBytes)} per GPU) came out of the engine's ${config.rollout.gpuMemoryUtilization} × GPU budget (vLLM v0.7–0.8 profiler)`,
      );
  }

  // GPU groups and their timelines.
  const run = runIteration(
    placeGroups(config, { roles: roles.map((r) => r.name), trained, frozen, rollout: rolloutProfile, buffer: bufferShare, online }, rolloutGpus),
    config.gpu.memoryBytes,
  );
  const { timeline, phases, peak } = run;
  const groups = run.groupReports;
  const gpuBytes = config.gpu.memoryBytes;

  const roleReports: RlRoleReport[] = [];
  for (const r of roles) {
    const p = profiles.get(r.name);
    const cpu = p
      ? p.cpuBytes + (colocate && online && config.offloadTrainStatesDuringRollout ? sumBytes(p.resident) : 0)
      : config.offloadFrozenRoles ? frozenMem.get(r.name)!.weightsBytes : 0;
    roleReports.push({
      name: r.name,
      kind: r.kind,
      model: specOf(config, r.modelSource).name,
      bytesPerGpu: roleRange(run, r.name).max,
      // What the role never gives back over the iteration (an engine asleep keeps only its non-torch residue).
      residentBytesPerGpu: roleRange(run, r.name).min,
      cpuBytesPerGpu: cpu,
      group: roleRange(run, r.name).group,
      why: r.why,
    });
  }
  if (rolloutProfile)
    roleReports.push({
      name: "rollout-engine",
      kind: "rollout",
      model: config.model.name,
      bytesPerGpu: roleRange(run, "rollout-engine").max,
      residentBytesPerGpu: roleRange(run, "rollout-engine").min,
      cpuBytesPerGpu: colocate && config.rollout.sleepLevel === 1 ? rolloutProfile.weightsBytes : 0,
      group: roleRange(run, "rollout-engine").group,
      why: `vLLM engine generating ${numGenerations} completion(s) per prompt at gpu_memory_utilization ${config.rollout.gpuMemoryUtilization}`,
    });

  if (algo === "grpo")
    notes.push(
      config.beta > 0
        ? `β = ${config.beta} > 0: the KL term needs π_ref, so a frozen reference is held (DeepSeekMath's GRPO); the article's "no reference model" holds only for β = 0`
        : "β = 0: no KL term, no reference model (TRL's default since v0.19); GRPO as published (β = 0.04) keeps one",
    );
  if (algo === "dpo" && config.precomputeRefLogProbs)
    notes.push("reference log-probs precomputed before training: no reference model in memory");

  const numGpusTotal = colocate ? config.numGpus : groups.reduce((s, g) => s + g.numGpus, 0);
  return {
    algorithm: algo,
    placement: config.placement,
    gpu: config.gpu.name,
    gpuMemoryBytes: gpuBytes,
    numGpusTotal,
    roles: roleReports,
    phases,
    groups,
    peakBytesPerGpu: peak.total,
    peakPhase: peak.phase,
    peakEvent: peak.label,
    fits: groups.every((g) => g.fits),
    oomByBytes: Math.max(0, peak.total - gpuBytes),
    rolloutBuffer: { totalBytes: buf.total, bytesPerGpu: bufferShare.afterScore, terms: buf.terms },
    rollout,
    notes,
    timeline,
  };
}

function validate(c: RlConfig): void {
  const posInt = (v: number, flag: string) => {
    if (!Number.isInteger(v) || v < 1) throw new UserError(`${flag}: expected a positive integer, got ${v}`, { field: flag });
  };
  posInt(c.numGpus, "--gpus");
  posInt(c.promptLen, "--prompt-len");
  posInt(c.responseLen, "--response-len");
  posInt(c.rolloutBatchSize, "--rollout-batch-size");
  posInt(c.training.microBatchSize, "--micro-batch-size");
  posInt(c.numGenerations, "--num-generations");
  if (c.algorithm === "grpo" && c.numGenerations < 2)
    throw new UserError(
      `--num-generations: GRPO needs at least 2 completions per prompt (its advantage is each reward minus the group's mean, over the group's std); got ${c.numGenerations}`,
      { field: "--num-generations" },
    );
  const len = c.promptLen + c.responseLen;
  if (len > c.model.maxPositionEmbeddings)
    throw new UserError(
      `--response-len: prompt + response = ${c.promptLen} + ${c.responseLen} = ${len} tokens exceeds ${c.model.name}'s max_position_embeddings (${c.model.maxPositionEmbeddings}); vLLM would refuse that max_model_len`,
      { field: "--response-len" },
    );
  const u = c.rollout.gpuMemoryUtilization;
  if (!(u > 0 && u <= 1))
    throw new UserError(`--rollout-gpu-memory-utilization: expected a fraction in (0, 1], got ${u}`, { field: "--rollout-gpu-memory-utilization" });
  if (!(c.beta >= 0)) throw new UserError(`--beta: the KL coefficient must be ≥ 0, got ${c.beta}`, { field: "--beta" });
}

/** The rollout engine got no (or too little) KV cache: the errors a different budget or placement can cure. */
function isKvBudgetError(e: Error & { field?: string }): boolean {
  return e.field === "--rollout-gpu-memory-utilization" || /KV cache/.test(e.message);
}

function specOf(c: RlConfig, source: RoleModelSource): ModelSpec {
  if (source === "critic") return c.criticModel ?? c.model;
  if (source === "reward") return c.rewardModel ?? c.model;
  return c.model;
}

function flagOf(source: RoleModelSource): string {
  return source === "critic" ? "--critic-model" : source === "reward" ? "--reward-model" : "--model";
}

function sumBytes(b: Partial<Record<string, number>>): number {
  return Object.values(b).reduce((s: number, v) => s + (v ?? 0), 0);
}

/** One length per completion of the whole batch, in prompt-major order, from one RNG seeded with `seed`. */
export function drawResponseLengths(c: RlConfig, numSequences: number): number[] {
  const rng = new Rng(c.seed);
  return Array.from({ length: numSequences }, () => Math.min(c.responseLen, sampleLength(c.responseLenDist!, rng)));
}
