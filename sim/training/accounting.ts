import { resolveTrainingConfig } from "./config.ts";
import { optimizerStateBytes } from "./optimizer.ts";
import { buildStageModels, type StageModel } from "./stage-model.ts";
import { suggestChanges } from "./suggestions.ts";
import { momentTerms, restingMoment, type Moment } from "./terms.ts";
import type { DeviceReport, MemoryTerms, ResolvedTrainingConfig, TrainingConfig, TrainingReport } from "./types.ts";

interface Candidate {
  at: string;
  m: Moment;
}

/**
 * The candidate peak moments of one device's step, in closed form per pipeline op: the end of each forward
 * (all its layers' activations, one FSDP unit gathered), the loss (logits + the larger of its forward/backward
 * spikes), the start and the end of each checkpoint group's backward (recomputed activations, the gradient growing
 * linearly in between, so one of the two ends is the group's maximum), the embedding/head backward and the
 * optimizer step. The timeline walks the same step event by event; its maximum must be one of these (tested).
 */
function candidates(sm: StageModel): Candidate[] {
  const base: Moment = restingMoment(sm);
  const out: Candidate[] = [{ at: "step start", m: base }];
  let emit = true;
  const at = (label: string, d: Partial<Moment>) => {
    if (emit) out.push({ at: label, m: { ...base, ...d } });
  };
  // An op starting from the same (kind, chunk, A, G, first backward) state as an earlier one repeats its moments
  // exactly (1F1B's steady state): only the first is kept, so the count stays small for m in the hundreds.
  const seen = new Set<string>();
  const unitBytes = sm.unitGathered * sm.unitsInFlight;
  const done = new Set<number>();
  let A = 0;
  let G = 0;
  for (const op of sm.ops) {
    const c = sm.chunks[op.chunk];
    const key = `${op.kind}${op.chunk}|${A}|${G}|${done.has(op.chunk)}`;
    emit = !seen.has(key);
    seen.add(key);
    const mb = `micro-batch ${op.microBatch + 1}`;
    const root = c.hasEmbedding ? sm.rootGathered : 0;
    if (op.kind === "F") {
      const layersStored = c.groups.reduce((a, g) => a + g.stored, 0);
      const nLayers = c.layers.length;
      const afterLayers = A + c.embeddingActivations + layersStored;
      at(`forward start, ${mb}`, { activations: A + c.embeddingActivations, grads: G, gatheredParams: root });
      if (nLayers > 0)
        at(`forward layer ${c.layers[nLayers - 1]}, ${mb}`, { activations: afterLayers, grads: G, gatheredParams: root + unitBytes });
      const full = afterLayers + c.headActivations;
      at(`forward end, ${mb}`, { activations: full, grads: G, gatheredParams: root });
      if (c.hasHead && sm.loss && sm.loss.logits > 0)
        at(`loss, ${mb}`, {
          activations: full,
          grads: G,
          gatheredParams: root,
          logits: sm.loss.logits + Math.max(sm.loss.forwardExtra, sm.loss.backwardExtra),
        });
      A = full;
    } else {
      const first = !done.has(op.chunk);
      let unsh = 0;
      if (c.hasHead && (sm.gradHead > 0 || sm.headGradTransient > 0 || c.headActivations > 0)) {
        if (first) G += sm.gradHead;
        unsh += sm.headGradTransient;
        at(`LM head backward, ${mb}`, { activations: A, grads: G, gatheredParams: root, unshardedGrads: unsh });
        A -= c.headActivations;
      }
      for (let gi = c.groups.length - 1; gi >= 0; gi--) {
        const g = c.groups[gi];
        const k = g.layers.length;
        A += g.recompute;
        const gl = first ? sm.gradPerLayer : 0;
        const common = { gatheredParams: root + unitBytes, unshardedGrads: unsh + sm.unitGrad };
        at(`backward layer ${g.layers[k - 1]}, ${mb}`, { ...common, activations: A, grads: G + gl });
        if (k > 1) at(`backward layer ${g.layers[0]}, ${mb}`, { ...common, activations: A - (k - 1) * sm.layerFull, grads: G + k * gl });
        A -= k * sm.layerFull;
        G += k * gl;
      }
      if (c.hasEmbedding && (sm.gradEmbedding > 0 || sm.embeddingGradTransient > 0 || c.embeddingActivations > 0)) {
        if (first) G += sm.gradEmbedding;
        unsh += sm.embeddingGradTransient;
        at(`embedding backward, ${mb}`, { activations: A, grads: G, gatheredParams: root, unshardedGrads: unsh });
        A -= c.embeddingActivations;
      }
      done.add(op.chunk);
    }
  }
  emit = true;
  at("optimizer step", { grads: G, optimizerTransient: sm.optimizerTransient });
  return out;
}

function deviceReport(sm: StageModel, cfg: ResolvedTrainingConfig): DeviceReport {
  const cands = candidates(sm);
  const r = sm.reserveFraction;
  const maxTerms: Omit<MemoryTerms, "total"> = { params: 0, grads: 0, optimizer: 0, masterWeights: 0, activations: 0, logits: 0, overhead: 0 };
  let best = cands[0];
  let bestTotal = -Infinity;
  for (const c of cands) {
    // momentTerms inlined: this loop runs over every candidate of every stage (tens of thousands for big pipelines).
    const m = c.m;
    const states = m.params + m.grads + m.optimizer + m.masterWeights + m.activations + m.logits;
    const transient = m.commBuckets + m.gatheredParams + m.unshardedGrads + m.optimizerTransient;
    const overhead = m.cudaContext + transient + r * (states + transient);
    const total = states + overhead;
    if (m.params > maxTerms.params) maxTerms.params = m.params;
    if (m.grads > maxTerms.grads) maxTerms.grads = m.grads;
    if (m.optimizer > maxTerms.optimizer) maxTerms.optimizer = m.optimizer;
    if (m.masterWeights > maxTerms.masterWeights) maxTerms.masterWeights = m.masterWeights;
    if (m.activations > maxTerms.activations) maxTerms.activations = m.activations;
    if (m.logits > maxTerms.logits) maxTerms.logits = m.logits;
    if (overhead > maxTerms.overhead) maxTerms.overhead = overhead;
    if (total > bestTotal) {
      bestTotal = total;
      best = c;
    }
  }
  const bestTerms = momentTerms(best.m, r);
  const t = bestTerms.terms;
  const perMb = sm.chunks.reduce((a, c) => a + c.storedPerMicroBatch, 0);
  const layers = sm.chunks.reduce((a, c) => a + c.layers.length, 0);
  const report: DeviceReport = {
    stage: sm.stage,
    numLayers: cfg.model ? layers : 0,
    stageParams: sm.params.params,
    paramsBytes: t.params,
    gradsBytes: t.grads,
    optimizerBytes: t.optimizer,
    masterWeightsBytes: t.masterWeights,
    activationsBytes: t.activations,
    logitsBytes: t.logits,
    overheadBytes: t.overhead,
    peakBytes: t.total,
    peakAt: best.at,
    overhead: bestTerms.overhead,
    maxTerms,
    inFlightMicroBatches: inFlight(sm),
    activationsPerMicroBatch: perMb,
    cpuBytes: sm.cpuBytes,
  };
  if (cfg.gpu) report.fits = t.total <= cfg.gpu.memoryBytes;
  return report;
}

/** Micro-batches whose activations are held at once, in micro-batch equivalents (interleaved: chunks / v). */
function inFlight(sm: StageModel): number {
  let n = 0;
  let max = 0;
  for (const op of sm.ops) {
    n += op.kind === "F" ? 1 : -1;
    max = Math.max(max, n);
  }
  return max / sm.chunks.length;
}

/**
 * Per-device training memory: every term separately, for every pipeline stage, at each device's peak moment
 * (INV-T1: the terms of a device sum to its `peakBytes`). With a GPU, the verdict and — when it does not fit —
 * each single change from the rule-of-thumb list re-run through this same accounting.
 */
export function computeTrainingMemory(config: TrainingConfig, opts: { suggest?: boolean } = {}): TrainingReport {
  const cfg = resolveTrainingConfig(config);
  const models = buildStageModels(cfg);
  const devices = models.map((sm) => deviceReport(sm, cfg));
  let peakDevice = 0;
  devices.forEach((d, i) => {
    if (d.peakBytes > devices[peakDevice].peakBytes) peakDevice = i;
  });
  const peakBytes = devices[peakDevice].peakBytes;
  const bpp = {
    params: cfg.paramBytes,
    grads: cfg.gradBytes,
    optimizer: stateBytesPerParam(cfg, models[0]),
    masterWeights: cfg.masterBytes,
    total: 0,
  };
  bpp.total = bpp.params + bpp.grads + bpp.optimizer + bpp.masterWeights;
  const report: TrainingReport = {
    config: cfg,
    devices,
    peakDevice,
    peakBytes,
    suggestions: [],
    bytesPerParam: bpp,
    notes: notesFor(cfg),
  };
  if (cfg.gpu) {
    report.gpuMemoryBytes = cfg.gpu.memoryBytes;
    report.fits = peakBytes <= cfg.gpu.memoryBytes;
    if (!report.fits) {
      report.oomByBytes = peakBytes - cfg.gpu.memoryBytes;
      if (opts.suggest !== false) report.suggestions = suggestChanges(config, cfg.gpu.memoryBytes);
    }
  }
  return report;
}

/** Optimizer-state bytes per parameter before sharding (shape-dependent for adam-8bit and adafactor: stage 0's). */
function stateBytesPerParam(cfg: ResolvedTrainingConfig, sm: StageModel): number {
  const n = sm.params.params;
  return n > 0 ? optimizerStateBytes(cfg.optimizer, n, sm.params.tensors, cfg.optimizerStateBytes, cfg.adafactorMomentum) / n : 0;
}

function notesFor(cfg: ResolvedTrainingConfig): string[] {
  const notes: string[] = [];
  if (!cfg.model) notes.push("bare parameter count: activations, logits and FSDP units need a model (--model); only model states are counted");
  if (cfg.dp > 1 && cfg.zeroStage === 0 && !cfg.ddpGradientAsBucketView)
    notes.push("DDP buckets hold a second copy of the gradients (gradient_as_bucket_view=False, PyTorch's default)");
  if (cfg.offloadOptimizer || cfg.offloadParams) notes.push("offloaded states are in cpuBytes (per GPU rank; multiply by GPUs per node for a node's RAM)");
  if (cfg.model && !cfg.flashAttention) notes.push("attention scores materialised: a·s² per layer (no flash attention)");
  if (cfg.model?.moe)
    notes.push("MoE: balanced routing assumed (top-k experts per token); no expert parallelism — an FSDP unit is a whole layer with all its experts");
  if (cfg.masterBytes > 0 && cfg.paramBytes === 4) notes.push("fp32 master weights beside fp32 parameters are redundant");
  return notes;
}
