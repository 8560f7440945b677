import type { StageModel } from "./stage-model.ts";
import type { MemoryTerms, OverheadBreakdown } from "./types.ts";

/** The memory of one device at one moment, before the allocator reserve is added. */
export interface Moment {
  params: number;
  grads: number;
  optimizer: number;
  masterWeights: number;
  activations: number;
  logits: number;
  cudaContext: number;
  commBuckets: number;
  gatheredParams: number;
  unshardedGrads: number;
  optimizerTransient: number;
}

/** What a stage holds between steps: its resident states and buffers, nothing in flight. */
export function restingMoment(sm: StageModel): Moment {
  return {
    params: sm.paramsBytes,
    grads: 0,
    optimizer: sm.optimizerBytes,
    masterWeights: sm.masterBytes,
    activations: 0,
    logits: 0,
    cudaContext: sm.cudaContext,
    commBuckets: sm.commBuckets,
    gatheredParams: 0,
    unshardedGrads: 0,
    optimizerTransient: 0,
  };
}

/**
 * Totals a moment. The caching allocator's reserve is a fraction of everything PyTorch allocates (all but the CUDA
 * context); it is part of `overhead`. INV-T1: the seven terms sum to `total`.
 */
export function momentTerms(m: Moment, reserveFraction: number): { terms: MemoryTerms; overhead: OverheadBreakdown } {
  const allocated =
    m.params + m.grads + m.optimizer + m.masterWeights + m.activations + m.logits + m.commBuckets + m.gatheredParams + m.unshardedGrads + m.optimizerTransient;
  const reserve = reserveFraction * allocated;
  const overhead: OverheadBreakdown = {
    cudaContext: m.cudaContext,
    commBuckets: m.commBuckets,
    gatheredParams: m.gatheredParams,
    unshardedGrads: m.unshardedGrads,
    optimizerTransient: m.optimizerTransient,
    allocatorReserve: reserve,
  };
  const overheadBytes = m.cudaContext + m.commBuckets + m.gatheredParams + m.unshardedGrads + m.optimizerTransient + reserve;
  const terms: MemoryTerms = {
    params: m.params,
    grads: m.grads,
    optimizer: m.optimizer,
    masterWeights: m.masterWeights,
    activations: m.activations,
    logits: m.logits,
    overhead: overheadBytes,
    total: m.params + m.grads + m.optimizer + m.masterWeights + m.activations + m.logits + overheadBytes,
  };
  return { terms, overhead };
}
