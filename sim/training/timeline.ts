import { resolveTrainingConfig } from "./config.ts";
import { buildStageModels, type StageModel } from "./stage-model.ts";
import { momentTerms, restingMoment, type Moment } from "./terms.ts";
import type { TimelineEvent, TimelinePhase, TrainingConfig, TrainingTimeline } from "./types.ts";

/**
 * One optimizer step on one device, event by event, with the memory after each: the FSDP unit gathered and freed
 * around every layer, activations piling up through the forward, the logits spike at the loss, the backward
 * recomputing checkpointed groups, producing gradients and freeing activations layer by layer, the reduce-scatter,
 * the optimizer step's temporary and zero_grad — for every micro-batch in the pipeline schedule's order.
 *
 * The step starts and ends with only resident state (params, optimizer, master weights, context, buckets):
 * gradients are freed by zero_grad(set_to_none=True). INV-T2: no term is ever negative. INV-T3: the last backward
 * leaves no activations, gathered parameters, unsharded gradients or logits behind. The largest `total`
 * equals the accounting's `peakBytes` for the same stage (computed there in closed form; tested).
 */
export function stageTimeline(sm: StageModel, dp: number, zeroStage: number): TimelineEvent[] {
  const events: TimelineEvent[] = [];
  const st: Moment = restingMoment(sm);
  const emit = (phase: TimelinePhase, label: string, extra: { layer?: number; microBatch?: number } = {}) => {
    for (const [k, v] of Object.entries(st))
      if (v < -1e-6) throw new Error(`INV-T2 violated: ${k} = ${v} after "${label}" on stage ${sm.stage}`);
    const { terms } = momentTerms(st, sm.reserveFraction);
    events.push({ type: "train_memory", t: events.length, phase, label, stage: sm.stage, ...extra, bytes: terms });
  };
  emit("setup", "step start: resident parameters, optimizer states, master weights");
  const unitBytes = sm.unitGathered * sm.unitsInFlight;
  const backwardDone = new Set<number>();
  for (const op of sm.ops) {
    const chunk = sm.chunks[op.chunk];
    const mb = op.microBatch + 1;
    const tag = sm.chunks.length > 1 ? ` (chunk ${op.chunk})` : "";
    if (op.kind === "F") {
      if (chunk.hasEmbedding && sm.rootGathered > 0) {
        st.gatheredParams += sm.rootGathered;
        emit("forward", `gather root unit (embeddings, head)`, { microBatch: mb });
      }
      if (chunk.hasEmbedding && chunk.embeddingActivations > 0) {
        st.activations += chunk.embeddingActivations;
        emit("forward", `embedding${tag}`, { microBatch: mb });
      }
      for (const g of chunk.groups) {
        g.layers.forEach((layer, q) => {
          if (unitBytes > 0) {
            st.gatheredParams += unitBytes;
            emit("forward", `all-gather layer ${layer} params (+${sm.unitsInFlight - 1} prefetched)`, { layer, microBatch: mb });
          }
          st.activations += g.forwardAdds[q];
          emit("forward", `forward layer ${layer}${tag}`, { layer, microBatch: mb });
          if (unitBytes > 0) {
            st.gatheredParams -= unitBytes;
            emit("forward", `free layer ${layer} params`, { layer, microBatch: mb });
          }
        });
      }
      if (chunk.hasHead && chunk.headActivations > 0) {
        st.activations += chunk.headActivations;
        emit("forward", `final norm + LM head${tag}`, { microBatch: mb });
      }
      if (chunk.hasHead && sm.loss && sm.loss.logits > 0) {
        const l = sm.loss;
        st.logits = l.logits;
        emit("loss", "logits (b·s·V)", { microBatch: mb });
        st.logits = l.logits + l.forwardExtra;
        emit("loss", "loss forward: fp32 upcast, softmax, log-softmax", { microBatch: mb });
        st.logits = l.logits + l.heldForBackward;
        emit("loss", "loss forward done: log-softmax saved", { microBatch: mb });
        st.logits = l.logits + l.backwardExtra;
        emit("loss", "loss backward: fp32 gradient of the logits", { microBatch: mb });
        st.logits = 0;
        emit("loss", "logits freed", { microBatch: mb });
      }
    } else {
      const first = !backwardDone.has(op.chunk);
      if (chunk.hasHead && (sm.gradHead > 0 || sm.headGradTransient > 0 || chunk.headActivations > 0)) {
        if (first) st.grads += sm.gradHead;
        st.unshardedGrads += sm.headGradTransient;
        emit("backward", `LM head + final norm backward${tag}`, { microBatch: mb });
        st.activations -= chunk.headActivations;
      }
      for (let gi = chunk.groups.length - 1; gi >= 0; gi--) {
        const g = chunk.groups[gi];
        if (g.recompute > 0) {
          st.activations += g.recompute;
          const span = g.layers.length > 1 ? `layers ${g.layers[0]}–${g.layers[g.layers.length - 1]}` : `layer ${g.layers[0]}`;
          emit("backward", `recompute ${span}`, { layer: g.layers[g.layers.length - 1], microBatch: mb });
        }
        for (let q = g.layers.length - 1; q >= 0; q--) {
          const layer = g.layers[q];
          if (unitBytes > 0) {
            st.gatheredParams += unitBytes;
            emit("backward", `all-gather layer ${layer} params`, { layer, microBatch: mb });
          }
          if (first) st.grads += sm.gradPerLayer;
          st.unshardedGrads += sm.unitGrad;
          emit("backward", `backward layer ${layer}${tag}`, { layer, microBatch: mb });
          st.activations -= sm.layerFull;
          st.unshardedGrads -= sm.unitGrad;
          st.gatheredParams -= unitBytes;
          emit(
            zeroStage >= 2 ? "reduce" : "backward",
            zeroStage >= 2 ? `reduce-scatter layer ${layer} grads, free its activations` : `free layer ${layer} activations`,
            { layer, microBatch: mb },
          );
        }
      }
      if (chunk.hasEmbedding && (sm.gradEmbedding > 0 || sm.embeddingGradTransient > 0 || chunk.embeddingActivations > 0)) {
        if (first) st.grads += sm.gradEmbedding;
        st.unshardedGrads += sm.embeddingGradTransient;
        emit("backward", `embedding backward${tag}`, { microBatch: mb });
        st.activations -= chunk.embeddingActivations;
      }
      if (chunk.hasHead) st.unshardedGrads -= sm.headGradTransient;
      if (chunk.hasEmbedding) {
        st.unshardedGrads -= sm.embeddingGradTransient;
        st.gatheredParams -= sm.rootGathered;
      }
      backwardDone.add(op.chunk);
      emit(zeroStage >= 2 ? "reduce" : "backward", `micro-batch ${mb} backward done${tag}`, { microBatch: mb });
    }
  }
  // INV-T3: after every micro-batch's backward nothing transient is left (activations, gathered units, unsharded
  // gradients, logits); float residue from fractional per-rank sizes is cleared.
  for (const k of ["activations", "gatheredParams", "unshardedGrads", "logits"] as const) {
    if (Math.abs(st[k]) > 1e-6 * Math.max(1, sm.layerFull, sm.unitGathered, sm.rootGathered))
      throw new Error(`INV-T3 violated: ${k} = ${st[k]} left after the last backward on stage ${sm.stage}`);
    st[k] = 0;
  }
  if (dp > 1) {
    const what = zeroStage === 0 ? "all-reduce gradient buckets" : zeroStage === 1 ? "reduce-scatter gradients to optimizer shards" : "gradient shards reduced";
    emit("reduce", what);
  }
  st.optimizerTransient = sm.optimizerTransient;
  emit("optimizer", "optimizer step");
  st.optimizerTransient = 0;
  if (dp > 1 && (zeroStage === 1 || zeroStage === 2)) emit("optimizer", "all-gather updated parameter shards");
  st.grads = 0;
  emit("optimizer", "zero_grad(set_to_none=True)");
  return events;
}

/** Every pipeline stage's step timeline (the 1F1B pattern side by side), index = stage. */
export function trainingTimelines(config: TrainingConfig): TrainingTimeline[] {
  const cfg = resolveTrainingConfig(config);
  return buildStageModels(cfg).map((sm) => {
    const events = stageTimeline(sm, cfg.dp, cfg.zeroStage);
    let peakIndex = 0;
    events.forEach((e, i) => {
      if (e.bytes.total > events[peakIndex].bytes.total) peakIndex = i;
    });
    return { stage: sm.stage, events, peakBytes: events[peakIndex].bytes.total, peakIndex };
  });
}

/**
 * The step timeline of one device: `stage` (default: the stage with the highest peak). Accepts the same plain
 * config object as computeTrainingMemory.
 */
export function trainingTimeline(config: TrainingConfig, opts: { stage?: number } = {}): TrainingTimeline {
  const cfg = resolveTrainingConfig(config);
  const models = buildStageModels(cfg);
  const all = models.map((sm) => stageTimeline(sm, cfg.dp, cfg.zeroStage));
  let stage = opts.stage ?? -1;
  if (stage < 0) {
    let best = -1;
    all.forEach((ev, i) => {
      const p = Math.max(...ev.map((e) => e.bytes.total));
      if (p > best) {
        best = p;
        stage = i;
      }
    });
  }
  if (stage >= models.length) stage = models.length - 1;
  const events = all[stage];
  let peakIndex = 0;
  events.forEach((e, i) => {
    if (e.bytes.total > events[peakIndex].bytes.total) peakIndex = i;
  });
  return { stage, events, peakBytes: events[peakIndex].bytes.total, peakIndex };
}
