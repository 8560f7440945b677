import type { GpuSpec } from "../hardware/types.ts";
import type { ModelSpec } from "../model/types.ts";
import type { KvBudget, MemorySnapshot, ReplaySummary } from "../serving/types.ts";
import type { TraceRequest } from "../traces/types.ts";
import type { FrozenSharding } from "./inference.ts";
import type { Bytes } from "./timeline.ts";
import type { RolloutEngineConfig } from "./types.ts";

/**
 * The two engines the RL model stands on, behind narrow interfaces: the training model sizes each trained role's
 * update, the serving simulator runs the rollout batch. `memory.ts` takes them as parameters so the composition
 * does not depend on how either engine is configured; `engines.ts` binds them to `sim/training` and
 * `sim/serving`.
 */
export interface TrainingProfileInput {
  spec: ModelSpec;
  /** "score": a value head (h × 1) replaces the LM head — PPO's critic. */
  head: "lm" | "score";
  microBatchSize: number;
  seqLen: number;
  numGpus: number;
  gpu: GpuSpec;
  /** Training flags as `vramscope train` takes them (ZeRO stage, TP, checkpointing, precision, optimizer, offload…). */
  flags: Record<string, unknown>;
}

export interface TrainingProfile {
  /** Per GPU between updates (params, optimizer states, master weights; gradients freed). */
  resident: Bytes;
  /** The role's whole per-GPU footprint after each event of one update. */
  steps: { label: string; bytes: Bytes }[];
  peakBytes: number;
  /** CPU RAM the trainer's offloaded states take per GPU (optimizer/param offload), for the report. */
  cpuBytes: number;
  /** How frozen copies prepared by the same engine are split (ZeRO-3/FSDP over DP, TP). */
  sharding: FrozenSharding;
  /** Parameters of one layer per GPU as gathered under ZeRO-3 (0 when params are not sharded). */
  gatheredLayerBytes: number;
}

export type TrainingAdapter = (input: TrainingProfileInput) => TrainingProfile;

export interface RolloutRunInput {
  spec: ModelSpec;
  gpu: GpuSpec;
  engine: RolloutEngineConfig;
  maxModelLen: number;
  /** Bytes other roles hold on the engine's GPU when it measures its budget (0 on a separate group). */
  residentBytes: number;
  requests: TraceRequest[];
  seed: number;
}

export interface RolloutRun {
  budget: KvBudget;
  summary: ReplaySummary;
  /** Engine memory after every step. */
  snapshots: MemorySnapshot[];
}

export type RolloutAdapter = (input: RolloutRunInput) => RolloutRun;

export interface RlEngines {
  training: TrainingAdapter;
  rollout: RolloutAdapter;
}
