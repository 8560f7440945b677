import type { EngineEvent, KvBudget, MemorySnapshot, ReplaySummary, RequestRecord, ServingConfig } from "../../sim/serving/types.ts";
import type { Recording } from "../../sim/export/recording.ts";

/**
 * A hand-made two-request run with a constant 10 ms step, worked out by hand:
 * step 0 [0, 10 ms]: req 0 and req 1 (both arrive at 0, 32 prompt tokens, 3 output tokens) admitted and prefilled;
 *   first tokens at 10 ms.
 * step 1 [10, 20 ms]: both decode (second tokens).
 * step 2 [20, 30 ms]: req 1 preempted at 20 ms (34 computed tokens lost); req 0 decodes its third token → finished at 30 ms.
 * step 3 [30, 40 ms]: req 1 resumed at 30 ms, recomputes and emits its third token → finished at 40 ms.
 */
const MiB = 2 ** 20;

function snap(t: number, used: number, running: number, waiting: number): MemorySnapshot {
  const total = 10;
  return {
    t,
    weightsBytes: 1000 * MiB,
    activationBytes: 100 * MiB,
    nonTorchBytes: 50 * MiB,
    kvUsedBytes: used * MiB,
    kvCachedFreeBytes: 0,
    kvFreeBytes: (total - used) * MiB,
    numUsedBlocks: used,
    numCachedFreeBlocks: 0,
    numFreeBlocks: total - used,
    kvUsage: used / total,
    numRunning: running,
    numWaiting: waiting,
  };
}

const step = (i: number, pre: number, dec: number, running: number, waiting: number, scheduled: [number, number, number][]): EngineEvent => ({
  type: "step",
  t: i * 0.01,
  end: (i + 1) * 0.01,
  stepIndex: i,
  numScheduledTokens: pre + dec,
  numPrefillTokens: pre,
  numDecodeTokens: dec,
  numRunning: running,
  numWaiting: waiting,
  scheduled,
});

export const events: EngineEvent[] = [
  { type: "arrival", t: 0, reqId: 0, promptTokens: 32, outputTokens: 3 },
  { type: "arrival", t: 0, reqId: 1, promptTokens: 32, outputTokens: 3 },
  { type: "admitted", t: 0, reqId: 0, cachedTokens: 0, resumed: false },
  { type: "admitted", t: 0, reqId: 1, cachedTokens: 0, resumed: false },
  { type: "memory", t: 0, snapshot: snap(0, 4, 2, 0) },
  step(0, 64, 0, 2, 0, [[0, 32, 1], [1, 32, 1]]),
  { type: "first_token", t: 0.01, reqId: 0 },
  { type: "first_token", t: 0.01, reqId: 1 },
  { type: "memory", t: 0.01, snapshot: snap(0.01, 6, 2, 0) },
  step(1, 0, 2, 2, 0, [[0, 1, 0], [1, 1, 0]]),
  { type: "preempted", t: 0.02, reqId: 1, lostTokens: 34 },
  { type: "memory", t: 0.02, snapshot: snap(0.02, 3, 1, 1) },
  step(2, 0, 1, 1, 1, [[0, 1, 0]]),
  { type: "finished", t: 0.03, reqId: 0 },
  { type: "admitted", t: 0.03, reqId: 1, cachedTokens: 0, resumed: true },
  { type: "memory", t: 0.03, snapshot: snap(0.03, 3, 1, 0) },
  step(3, 34, 0, 1, 0, [[1, 34, 1]]),
  { type: "finished", t: 0.04, reqId: 1 },
  { type: "memory", t: 0.04, snapshot: snap(0.04, 0, 0, 0) },
];

export const records: RequestRecord[] = [
  { id: 0, arrival: 0, promptTokens: 32, outputTokens: 3, firstScheduledTime: 0, firstTokenTime: 0.01, finishTime: 0.03, preemptions: 0, cachedTokens: 0, rejected: false },
  { id: 1, arrival: 0, promptTokens: 32, outputTokens: 3, firstScheduledTime: 0, firstTokenTime: 0.01, finishTime: 0.04, preemptions: 1, cachedTokens: 0, rejected: false },
];

const pct = (p50: number, p99: number) => ({ p50, p90: p99, p99, mean: p50 });

export const summary: ReplaySummary = {
  requests: 2,
  completed: 2,
  rejected: 0,
  preemptions: 1,
  recomputedTokens: 34,
  prefixCacheQueries: 64,
  prefixCacheHitTokens: 0,
  prefixCacheHitRate: 0,
  ttft: pct(0.01, 0.01),
  tpot: pct(0.01, 0.015),
  e2e: pct(0.03, 0.04),
  queueTime: pct(0, 0),
  throughput: { requestsPerS: 50, inputTokensPerS: 1600, outputTokensPerS: 150 },
  simulatedSeconds: 0.04,
  engineSteps: 4,
  peakKvUsage: 0.6,
  meanKvUsage: 0.3,
  numGpuBlocks: 10,
  peakRunning: 2,
  peakWaiting: 1,
};

export const config = {
  model: { name: "test/tiny" },
  gpu: { name: "TEST-GPU" },
  tensorParallelSize: 1,
  dtype: "bfloat16",
  quantization: "none",
  kvCacheDtype: "auto",
  gpuMemoryUtilization: 0.9,
  maxModelLen: 128,
  blockSize: 16,
  maxNumSeqs: 4,
  maxNumBatchedTokens: 256,
  enablePrefixCaching: true,
  enableChunkedPrefill: true,
  longPrefillTokenThreshold: 0,
  schedulingPolicy: "fcfs",
  freeQueueOrder: "append",
  stepTimeS: 0.01,
  seed: 0,
} as unknown as ServingConfig;

export const budget = { numGpuBlocks: 10, blockSize: 16 } as unknown as KvBudget;

export function handRecording(): Recording {
  return {
    kind: "serving",
    label: "hand-made",
    config,
    budget,
    events: events.filter((e) => e.type !== "memory"),
    snapshots: events.flatMap((e) => (e.type === "memory" ? [e.snapshot] : [])),
    records,
    summary,
  };
}
