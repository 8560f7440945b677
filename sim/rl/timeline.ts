import type { MemorySnapshot } from "../serving/types.ts";
import type { RoleName } from "./algorithms.ts";
import type { Component, RlPhaseName, RlTimelineEvent, RolloutSleepLevel } from "./types.ts";

/**
 * One RL iteration on one GPU of a group, as a sequence of events with the GPU's memory by role and component
 * after each: generate → score → train → sync. The same builder serves both placements: colocate is one group
 * holding every role and the rollout engine, separate is one group per role (an idle role keeps its resident state).
 *
 * Invariants (checked on every event): INV-RL-1 `byRole` and `byComponent` both sum to `total`; INV-RL-2 no
 * component is negative. The iteration is steady-state: it starts and ends in the same state (engine weights
 * synced, KV not yet woken), so a run of many iterations repeats these events.
 */
export type Bytes = Partial<Record<Component, number>>;

export interface TrainedRoleProfile {
  role: RoleName;
  /** Per GPU between updates: params, optimizer, master weights (grads are freed after `optimizer.step`). */
  resident: Bytes;
  /** The role's whole footprint after each event of its update (the training model's step timeline). */
  steps: { label: string; bytes: Bytes }[];
  /** A no-grad forward of this trained model in the score phase (PPO: actor's old log-probs, critic's values). */
  scoreForward?: { label: string; bytes: Bytes };
  /** Extra bytes while its weights are pushed to the rollout engine (ZeRO-3/FSDP: one gathered layer). */
  syncGatherBytes: number;
  /** Whether this role's weights go to the rollout engine (the policy). */
  syncsToRollout: boolean;
}

export interface FrozenRoleProfile {
  role: RoleName;
  weightsBytes: number;
  /** The forward transient: gathered layer, activations, logits. */
  forward: Bytes;
  label: string;
}

export interface RolloutProfile {
  weightsBytes: number;
  activationBytes: number;
  nonTorchBytes: number;
  kvCacheBytes: number;
  /** The engine's memory after each step, as the serving simulator reported it. */
  snapshots: MemorySnapshot[];
}

export interface GroupPlan {
  name: string;
  trained: TrainedRoleProfile[];
  frozen: FrozenRoleProfile[];
  rollout: RolloutProfile | null;
  /** This group's per-GPU share of the rollout buffer: written after generate, completed after score. */
  buffer: { afterGenerate: number; afterScore: number } | null;
  /** False for off-line algorithms (DPO): the batch is loaded from a dataset, not generated. */
  online: boolean;
  sleepLevel: RolloutSleepLevel;
  /** Trained roles' states moved to CPU for the generate phase. */
  offloadTrainStatesDuringRollout: boolean;
  /** Frozen roles' weights on CPU except during their forward. */
  offloadFrozenRoles: boolean;
  /** At most this many engine-step events are kept (evenly spaced, always keeping the KV peak and the last step). */
  maxStepEvents: number;
}

const ROLLOUT: RoleName = "rollout-engine";
const BUFFER = "rollout-buffer";

export function buildGroupTimeline(plan: GroupPlan, startIndex = 0): RlTimelineEvent[] {
  const state = new Map<string, Bytes>();
  const events: RlTimelineEvent[] = [];
  // Whole bytes only, so INV-RL-1 is exact (the engines report fractional bytes, e.g. util × total).
  const set = (role: string, bytes: Bytes) => {
    const whole: Bytes = {};
    for (const [c, v] of Object.entries(bytes) as [Component, number][]) whole[c] = Math.round(v);
    state.set(role, whole);
  };
  const emit = (phase: RlPhaseName, label: string, role?: RoleName | typeof BUFFER) => {
    const byRole: Record<string, number> = {};
    const byComponent: Bytes = {};
    let total = 0;
    for (const [r, bytes] of state) {
      let sum = 0;
      for (const [c, v] of Object.entries(bytes) as [Component, number][]) {
        if (v < 0) throw new Error(`INV-RL-2 violated: ${r}.${c} = ${v} at "${label}"`);
        if (v === 0) continue;
        sum += v;
        byComponent[c] = (byComponent[c] ?? 0) + v;
      }
      byRole[r] = sum;
      total += sum;
    }
    const compSum = Object.values(byComponent).reduce((s, v) => s + (v ?? 0), 0);
    if (compSum !== total) throw new Error(`INV-RL-1 violated at "${label}": components ${compSum} ≠ roles ${total}`);
    events.push({ index: startIndex + events.length, phase, group: plan.name, label, role, byRole, byComponent, total });
  };

  // Steady state at the start of an iteration: trained and frozen roles resident, the engine holding synced
  // weights (sleep level 0: also its whole KV reservation, never released).
  for (const t of plan.trained) set(t.role, t.resident);
  for (const f of plan.frozen) set(f.role, { params: plan.offloadFrozenRoles ? 0 : f.weightsBytes });
  const ro = plan.rollout;
  const engineAsleep: Bytes = ro ? { rolloutWeights: ro.weightsBytes, rolloutNonTorch: ro.nonTorchBytes } : {};
  const engineAwake: Bytes = ro
    ? { rolloutWeights: ro.weightsBytes, rolloutActivations: ro.activationBytes, rolloutNonTorch: ro.nonTorchBytes, kvFree: ro.kvCacheBytes }
    : {};
  if (ro) set(ROLLOUT, plan.sleepLevel === 0 ? engineAwake : engineAsleep);

  // generate
  if (ro) {
    if (plan.offloadTrainStatesDuringRollout && plan.trained.length > 0) {
      for (const t of plan.trained) set(t.role, {});
      emit("generate", "offload trainer states to CPU");
    }
    if (plan.sleepLevel !== 0) {
      set(ROLLOUT, engineAwake);
      emit("generate", "wake rollout engine: KV cache allocated", ROLLOUT);
    }
    for (const s of pickSteps(ro.snapshots, plan.maxStepEvents)) {
      set(ROLLOUT, {
        rolloutWeights: ro.weightsBytes,
        rolloutActivations: ro.activationBytes,
        rolloutNonTorch: ro.nonTorchBytes,
        kvUsed: s.snap.kvUsedBytes,
        kvCachedFree: s.snap.kvCachedFreeBytes,
        kvFree: s.snap.kvFreeBytes,
      });
      emit("generate", `engine step ${s.index + 1}/${ro.snapshots.length}: ${s.snap.numRunning} running, ${s.snap.numWaiting} waiting`, ROLLOUT);
    }
  }
  if (plan.buffer) {
    set(BUFFER, { buffer: plan.buffer.afterGenerate });
    if (plan.online) emit("generate", "rollout buffer: sequences, masks, positions", BUFFER);
    else emit("score", "batch loaded: chosen + rejected sequences, masks, positions", BUFFER);
  }
  if (ro && plan.sleepLevel !== 0) {
    set(ROLLOUT, { rolloutNonTorch: ro.nonTorchBytes });
    emit("generate", `rollout engine sleeps (level ${plan.sleepLevel}: ${plan.sleepLevel === 1 ? "weights to CPU" : "weights discarded"}, KV freed)`, ROLLOUT);
  }
  if (ro && plan.offloadTrainStatesDuringRollout && plan.trained.length > 0) {
    for (const t of plan.trained) set(t.role, t.resident);
    emit("generate", "reload trainer states from CPU");
  }

  // score
  for (const t of plan.trained) {
    if (!t.scoreForward) continue;
    set(t.role, add(t.resident, t.scoreForward.bytes));
    emit("score", t.scoreForward.label, t.role);
    set(t.role, t.resident);
  }
  for (const f of plan.frozen) {
    set(f.role, add({ params: f.weightsBytes }, f.forward));
    emit("score", f.label, f.role);
    set(f.role, { params: plan.offloadFrozenRoles ? 0 : f.weightsBytes });
    emit("score", `${f.role} forward done${plan.offloadFrozenRoles ? ", weights back to CPU" : ""}`, f.role);
  }
  if (plan.buffer && plan.buffer.afterScore !== plan.buffer.afterGenerate) {
    set(BUFFER, { buffer: plan.buffer.afterScore });
    emit("score", plan.online ? "rollout buffer: log-probs, rewards, advantages" : "batch: reference log-probs kept", BUFFER);
  }

  // train
  for (const t of plan.trained) {
    for (const s of t.steps) {
      set(t.role, s.bytes);
      emit("train", `${t.role}: ${s.label}`, t.role);
    }
    set(t.role, t.resident);
    emit("train", `${t.role}: update done, gradients freed`, t.role);
  }
  if (plan.buffer) {
    state.delete(BUFFER);
    emit("train", "rollout buffer released", BUFFER);
  }

  // sync
  const policy = plan.trained.find((t) => t.syncsToRollout);
  if (ro && plan.sleepLevel !== 0) {
    set(ROLLOUT, engineAsleep);
    emit("sync", plan.sleepLevel === 1 ? "wake rollout weights (from CPU)" : "wake rollout weights (allocated empty)", ROLLOUT);
  }
  if (policy && policy.syncGatherBytes > 0) {
    set(policy.role, add(policy.resident, { params: policy.syncGatherBytes }));
    emit("sync", `${policy.role}: gather a layer's full weights to push to the rollout engine`, policy.role);
    set(policy.role, policy.resident);
  }
  if (policy || ro) emit("sync", "weights synced to the rollout engine", ro ? ROLLOUT : policy?.role);
  return events;
}

function add(a: Bytes, b: Bytes): Bytes {
  const out: Bytes = { ...a };
  for (const [k, v] of Object.entries(b) as [Component, number][]) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Evenly spaced engine steps, always including the step with the most KV in use and the last one. */
function pickSteps(snaps: MemorySnapshot[], max: number): { index: number; snap: MemorySnapshot }[] {
  if (snaps.length === 0) return [];
  const keep = new Set<number>();
  let peak = 0;
  for (let i = 0; i < snaps.length; i++) if (snaps[i].kvUsedBytes > snaps[peak].kvUsedBytes) peak = i;
  keep.add(peak);
  keep.add(snaps.length - 1);
  const stride = Math.max(1, Math.ceil(snaps.length / Math.max(1, max - 2)));
  for (let i = 0; i < snaps.length; i += stride) keep.add(i);
  return [...keep].sort((a, b) => a - b).map((index) => ({ index, snap: snaps[index] }));
}
