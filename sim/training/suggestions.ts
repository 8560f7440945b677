import { isUserError } from "../errors.ts";
import { computeTrainingMemory } from "./accounting.ts";
import type { Suggestion, TrainingConfig } from "./types.ts";

/**
 * The article's rule-of-thumb list, computed instead of guessed: each single change is applied to the config and
 * re-run through the accounting. Changes that make no sense for the layout (FSDP with one GPU, TP that does not
 * divide the heads...) are left out — the accounting's own validation decides. Those that fit come first, then by
 * peak.
 */
export function suggestChanges(config: TrainingConfig, capacityBytes: number): Suggestion[] {
  const tp = config.tp ?? 1;
  const pp = config.pp ?? 1;
  const gpus = config.numGpus ?? 1;
  const zero = config.zeroStage ?? 0;
  const ckpt = config.activationCheckpointing ?? "none";
  const b = config.microBatchSize ?? 1;
  const m = config.numMicroBatches ?? pp;
  const tries: [string, Partial<TrainingConfig>][] = [];
  if (zero < 3 && pp === 1 && gpus / tp > 1) tries.push(["--fsdp (ZeRO-3)", { zeroStage: 3 }]);
  if (ckpt === "none") tries.push(["--activation-checkpointing selective", { activationCheckpointing: "selective" }]);
  if (ckpt !== "full") tries.push(["--activation-checkpointing full", { activationCheckpointing: "full" }]);
  tries.push([`--tp ${tp * 2}`, { tp: tp * 2 }]);
  tries.push([`--pp ${pp * 2}`, { pp: pp * 2, numMicroBatches: Math.max(m, pp * 2) }]);
  if (b > 1) {
    const nb = Math.floor(b / 2);
    tries.push([`--micro-batch-size ${nb} (--micro-batches ${m * 2}, same global batch)`, { microBatchSize: nb, numMicroBatches: m * 2 }]);
  }
  if ((config.optimizer ?? "adamw") === "adamw") tries.push(["--optimizer adam-8bit", { optimizer: "adam-8bit" }]);
  if (zero >= 1 && !config.offloadOptimizer) tries.push(["--offload-optimizer", { offloadOptimizer: true }]);
  if (config.model && (config.loss ?? "standard") === "standard") tries.push(["--loss fused (fused linear cross-entropy)", { loss: "fused" }]);
  const out: Suggestion[] = [];
  for (const [change, patch] of tries) {
    try {
      const r = computeTrainingMemory({ ...config, ...patch }, { suggest: false });
      out.push({ change, peakBytes: r.peakBytes, fits: r.peakBytes <= capacityBytes });
    } catch (e) {
      if (!isUserError(e)) throw e;
    }
  }
  out.sort((x, y) => Number(y.fits) - Number(x.fits) || x.peakBytes - y.peakBytes);
  return out;
}
