import type { ModelSpec } from "./types.ts";

/** Which ParamCount bucket a tensor belongs to. */
export type TensorPart = "embedding" | "lmHead" | "attention" | "mlp" | "norms";

/**
 * How vLLM shards a tensor over tensor-parallel ranks:
 * - `column`: ColumnParallelLinear/QKV/MergedColumn — output rows split by TP (weight, its bias, per-channel scales);
 * - `row`: RowParallelLinear — input columns split by TP (its bias stays whole on every rank);
 * - `kvHeads`: the k/v part of a QKVParallelLinear — split by KV head, replicated when TP > num_kv_heads;
 * - `vocab`: VocabParallelEmbedding / ParallelLMHead — vocab padded to a multiple of 64, then split by TP;
 * - `replicated`: norms, routers, MLA's low-rank down-projections, learned position embeddings.
 */
export type TensorSplit = "column" | "row" | "kvHeads" | "vocab" | "replicated";

/**
 * One kind of tensor in the model, `count` times over (layers × experts). A weight matrix is `rows × cols` with
 * rows = output features and cols = input features (torch Linear layout); vectors (norm weights, biases) have
 * cols = 1. Parameter counting and weight sizing both walk this one list, so they cannot disagree.
 */
export interface TensorGroup {
  name: string;
  part: TensorPart;
  /** A linear layer's weight matrix: what weight-only quantization (fp8/int8/AWQ/GPTQ) replaces. */
  quantizable: boolean;
  rows: number;
  cols: number;
  count: number;
  split: TensorSplit;
  /** For `kvHeads`: the number of KV heads the rows are made of (rows = heads × headDim). */
  heads?: number;
  /**
   * Set only on routed-expert tensors (what vLLM's FusedMoE holds as w13/w2 and their biases), naming the axis that
   * is the expert intermediate size: "rows" for gate/up (and the gate_up bias), "cols" for down_proj, "none" for the
   * down bias. MXFP4 quantizes exactly these matrices and pads that axis per rank (weights.ts); shared experts,
   * dense MLPs and routers are plain linears in vLLM and carry no tag.
   */
  expertAxis?: ExpertAxis;
}

export type ExpertAxis = "rows" | "cols" | "none";

/** vLLM's DEFAULT_VOCAB_PADDING_SIZE (vocab_parallel_embedding.py): vocab rows are padded to a multiple of 64. */
export const VOCAB_PADDING = 64;

/** Enumerates every parameter tensor of the model (main model only: DeepSeek's MTP layers are not included). */
export function modelTensors(spec: ModelSpec): TensorGroup[] {
  const h = spec.hiddenSize;
  const L = spec.numLayers;
  const out: TensorGroup[] = [];
  const add = (g: Omit<TensorGroup, "quantizable"> & { quantizable?: boolean }) => {
    if (g.count > 0 && g.rows > 0 && g.cols > 0) out.push({ quantizable: false, ...g });
  };
  const linear = (name: string, part: TensorPart, rows: number, cols: number, count: number, split: TensorSplit, heads?: number) =>
    add({ name, part, rows, cols, count, split, quantizable: true, heads });
  const vector = (name: string, part: TensorPart, rows: number, count: number, split: TensorSplit, heads?: number) =>
    add({ name, part, rows, cols: 1, count, split, heads });
  /** Tags the tensors added by `fn` as routed-expert tensors with the given intermediate axis. */
  const expert = (axis: ExpertAxis, fn: () => void) => {
    const from = out.length;
    fn();
    for (const g of out.slice(from)) g.expertAxis = axis;
  };

  // Embeddings
  add({ name: "embed_tokens", part: "embedding", rows: spec.vocabSize, cols: h, count: 1, split: "vocab" });
  if (spec.positionEmbeddings > 0)
    add({ name: "embed_positions", part: "embedding", rows: spec.positionEmbeddings, cols: h, count: 1, split: "replicated" });
  if (!spec.tieWordEmbeddings)
    add({ name: "lm_head", part: "lmHead", rows: spec.vocabSize, cols: h, count: 1, split: "vocab" });

  // Attention
  const qDim = spec.numAttentionHeads * spec.headDim;
  const kvDim = spec.numKvHeads * spec.headDim;
  if (spec.mla) {
    const m = spec.mla;
    const nH = spec.numAttentionHeads;
    if (m.qLoraRank !== null) {
      linear("q_a_proj", "attention", m.qLoraRank, h, L, "replicated");
      vector("q_a_layernorm", "norms", m.qLoraRank, L, "replicated");
      linear("q_b_proj", "attention", nH * (m.qkNopeHeadDim + m.qkRopeHeadDim), m.qLoraRank, L, "column");
    } else {
      linear("q_proj", "attention", nH * (m.qkNopeHeadDim + m.qkRopeHeadDim), h, L, "column");
    }
    linear("kv_a_proj_with_mqa", "attention", m.kvLoraRank + m.qkRopeHeadDim, h, L, "replicated");
    vector("kv_a_layernorm", "norms", m.kvLoraRank, L, "replicated");
    linear("kv_b_proj", "attention", nH * (m.qkNopeHeadDim + m.vHeadDim), m.kvLoraRank, L, "column");
    linear("o_proj", "attention", h, nH * m.vHeadDim, L, "row");
  } else {
    linear("q_proj", "attention", qDim, h, L, "column");
    linear("k_proj", "attention", kvDim, h, L, "kvHeads", spec.numKvHeads);
    linear("v_proj", "attention", kvDim, h, L, "kvHeads", spec.numKvHeads);
    linear("o_proj", "attention", h, qDim, L, "row");
    if (spec.qkvBias) {
      vector("q_proj.bias", "attention", qDim, L, "column");
      vector("k_proj.bias", "attention", kvDim, L, "kvHeads", spec.numKvHeads);
      vector("v_proj.bias", "attention", kvDim, L, "kvHeads", spec.numKvHeads);
    }
    if (spec.attentionOutputBias || spec.linearBias) vector("o_proj.bias", "attention", h, L, "replicated");
    if (spec.qkNorm) {
      vector("q_norm", "norms", spec.headDim, L, "replicated");
      vector("k_norm", "norms", spec.headDim, L, "replicated");
    }
  }
  if (spec.attentionSinks) vector("sinks", "attention", spec.numAttentionHeads, L, "column");

  // MLP: dense layers, then MoE layers
  const moe = spec.moe;
  const denseLayers = moe ? Math.min(moe.firstKDense, L) : L;
  const mlpBias = spec.mlpBias || spec.linearBias;
  const mlp = (prefix: string, inter: number, count: number, routed = false) => {
    const tag = (axis: ExpertAxis, fn: () => void) => (routed ? expert(axis, fn) : fn());
    tag("rows", () => {
      if (spec.gatedMlp) {
        linear(`${prefix}gate_proj`, "mlp", inter, h, count, "column");
        linear(`${prefix}up_proj`, "mlp", inter, h, count, "column");
      } else {
        linear(`${prefix}fc_in`, "mlp", inter, h, count, "column");
      }
    });
    tag("cols", () => linear(`${prefix}down_proj`, "mlp", h, inter, count, "row"));
  };
  mlp("", spec.intermediateSize, denseLayers);
  if (mlpBias) {
    vector("mlp.up.bias", "mlp", spec.gatedMlp ? 2 * spec.intermediateSize : spec.intermediateSize, denseLayers, "column");
    vector("mlp.down.bias", "mlp", h, denseLayers, "replicated");
  }
  if (moe) {
    const moeLayers = L - denseLayers;
    const E = moe.numExperts;
    mlp("experts.", moe.moeIntermediateSize, moeLayers * E, true);
    if (moe.expertBias) {
      expert("rows", () => vector("experts.gate_up.bias", "mlp", 2 * moe.moeIntermediateSize, moeLayers * E, "column"));
      expert("none", () => vector("experts.down.bias", "mlp", h, moeLayers * E, "replicated"));
    }
    add({ name: "router", part: "mlp", rows: E, cols: h, count: moeLayers, split: "replicated" });
    if (moe.routerBias) vector("router.bias", "mlp", E, moeLayers, "replicated");
    const sharedInter = moe.sharedExpertIntermediateSize ?? moe.numSharedExperts * moe.moeIntermediateSize;
    if (sharedInter > 0) mlp("shared_experts.", sharedInter, moeLayers);
    if (moe.sharedExpertGate) add({ name: "shared_expert_gate", part: "mlp", rows: 1, cols: h, count: moeLayers, split: "replicated" });
  }

  // Norms: 2 per layer (input, post-attention), 4 with Gemma's sandwich norms; LayerNorm adds a bias to each.
  const normsPerLayer = spec.sandwichNorms ? 4 : 2;
  const normVectors = spec.normType === "layernorm" ? 2 : 1;
  vector("layer_norms", "norms", h, L * normsPerLayer * normVectors, "replicated");
  vector("final_norm", "norms", h, normVectors, "replicated");
  return out;
}

/** Rows of a tensor held by one of `tp` ranks (see TensorSplit). */
export function rowsPerRank(g: TensorGroup, tp: number): number {
  switch (g.split) {
    case "column":
      return Math.ceil(g.rows / tp);
    case "kvHeads": {
      const heads = g.heads ?? 1;
      return (g.rows / heads) * Math.max(1, Math.ceil(heads / tp));
    }
    case "vocab":
      return Math.ceil((Math.ceil(g.rows / VOCAB_PADDING) * VOCAB_PADDING) / tp);
    default:
      return g.rows;
  }
}

/** Columns (input features) of a tensor held by one rank: only row-parallel linears split them. */
export function colsPerRank(g: TensorGroup, tp: number): number {
  return g.split === "row" && g.cols > 1 ? Math.ceil(g.cols / tp) : g.cols;
}
