import { colsPerRank, modelTensors, rowsPerRank, type TensorGroup } from "../model/tensors.ts";
import type { ModelSpec } from "../model/types.ts";

/** A parameter tensor as one TP rank holds it; `count` copies (may be fractional: a stage's share of the layers). */
export interface LocalTensor {
  name: string;
  rows: number;
  cols: number;
  count: number;
}

/** What one device of a pipeline stage holds, per TP rank, before ZeRO sharding. */
export interface StageParams {
  stage: number;
  /** Global indices of the decoder layers on this device, per model chunk (interleaved: v chunks). */
  chunkLayers: number[][];
  /** Parameters on this device (per TP rank). */
  params: number;
  /** Parameters of one decoder layer on one TP rank (the FSDP unit; the mean for MoE models with dense layers). */
  layerParams: number;
  /** Embeddings / final norm / LM head on this device (FSDP's root unit). */
  rootParams: number;
  hasEmbedding: boolean;
  hasHead: boolean;
  /** Shapes, for optimizers whose state depends on them (Adafactor, 8-bit Adam); null for a bare parameter count. */
  tensors: LocalTensor[] | null;
}

const ROOT_TENSORS = new Set(["embed_tokens", "embed_positions", "lm_head", "final_norm"]);

/**
 * Decoder layers per model chunk. Pipeline stages take consecutive layers; with interleaving (v chunks per device)
 * chunk c of stage i holds virtual stage c·p + i (Megatron's interleaved layout). When L is not divisible by p the
 * later stages take the extra layers: the first stage already holds the most micro-batches in flight.
 */
export function partitionLayers(numLayers: number, pp: number, v: number): number[][][] {
  const virtual = pp * v;
  const base = Math.floor(numLayers / virtual);
  const extra = numLayers % virtual;
  const sizes = Array.from({ length: virtual }, (_, k) => base + (k >= virtual - extra ? 1 : 0));
  const ranges: number[][] = [];
  let next = 0;
  for (const n of sizes) {
    ranges.push(Array.from({ length: n }, (_, j) => next + j));
    next += n;
  }
  return Array.from({ length: pp }, (_, i) => Array.from({ length: v }, (_, c) => ranges[c * pp + i]));
}

function localSize(g: TensorGroup, tp: number): { rows: number; cols: number } {
  // Training frameworks split the vocabulary exactly by tp (no vLLM 64-row padding) — Megatron pads to 128·tp,
  // HF does not pad at all; the exact split keeps tp = 1 equal to HF's num_parameters().
  const rows = g.split === "vocab" ? Math.ceil(g.rows / tp) : rowsPerRank(g, tp);
  return { rows, cols: colsPerRank(g, tp) };
}

/**
 * Splits a model's parameters over pipeline stages and tensor-parallel ranks. With tied embeddings and pp > 1 the
 * last stage keeps its own copy of the embedding for the LM head (Megatron's shared word embeddings, whose
 * gradients are all-reduced between the first and last stage).
 */
export function stageParamsOfModel(spec: ModelSpec, tp: number, pp: number, v: number): StageParams[] {
  const L = spec.numLayers;
  const groups = modelTensors(spec);
  const layerTensors: LocalTensor[] = [];
  const root = new Map<string, LocalTensor>();
  let layerTotal = 0;
  for (const g of groups) {
    const { rows, cols } = localSize(g, tp);
    const t: LocalTensor = { name: g.name, rows, cols, count: g.count };
    if (ROOT_TENSORS.has(g.name)) root.set(g.name, t);
    else {
      layerTensors.push(t);
      layerTotal += rows * cols * g.count;
    }
  }
  const layerParams = layerTotal / L;
  const size = (t: LocalTensor | undefined) => (t ? t.rows * t.cols * t.count : 0);
  const parts = partitionLayers(L, pp, v);
  return parts.map((chunkLayers, stage) => {
    const n = chunkLayers.reduce((a, c) => a + c.length, 0);
    const hasEmbedding = stage === 0;
    const hasHead = stage === pp - 1;
    const tensors: LocalTensor[] = layerTensors.map((t) => ({ ...t, count: (t.count * n) / L }));
    const rootHere: LocalTensor[] = [];
    if (hasEmbedding) {
      for (const k of ["embed_tokens", "embed_positions"]) if (root.has(k)) rootHere.push(root.get(k)!);
    }
    if (hasHead) {
      if (root.has("final_norm")) rootHere.push(root.get("final_norm")!);
      if (root.has("lm_head")) rootHere.push(root.get("lm_head")!);
      else if (!hasEmbedding) rootHere.push({ ...root.get("embed_tokens")!, name: "lm_head (tied copy)" });
    }
    const rootParams = rootHere.reduce((a, t) => a + size(t), 0);
    return {
      stage,
      chunkLayers,
      params: layerParams * n + rootParams,
      layerParams,
      rootParams,
      hasEmbedding,
      hasHead,
      tensors: [...tensors, ...rootHere],
    };
  });
}

/**
 * A bare parameter count: split evenly over tp · pp. Each stage is one pseudo-layer holding all its parameters
 * (so gradients appear in one piece in the backward); there are no activations and no FSDP unit unless given.
 */
export function stageParamsOfCount(numParams: number, tp: number, pp: number, v: number): StageParams[] {
  return Array.from({ length: pp }, (_, stage) => ({
    stage,
    chunkLayers: Array.from({ length: v }, (_, c) => (c === 0 ? [stage] : [])),
    params: numParams / (tp * pp),
    layerParams: numParams / (tp * pp),
    rootParams: 0,
    hasEmbedding: stage === 0,
    hasHead: stage === pp - 1,
    tensors: null,
  }));
}
