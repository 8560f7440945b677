/**
 * The shapes of a decoder-only transformer, normalised from an HF config.json (Llama-style `hidden_size`/
 * `num_hidden_layers` or GPT-2-style `n_embd`/`n_layer`). Every memory figure in the product derives from these.
 */
export interface ModelSpec {
  /** Preset key (HF repo id) or the config file's path. */
  name: string;
  modelType: string;
  hiddenSize: number;
  numLayers: number;
  numAttentionHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /** SwiGLU/GeGLU (gate+up+down) vs a plain 2-matrix MLP (GPT-2's GeLU 4h). */
  gatedMlp: boolean;
  hiddenAct: string;
  /** q/k/v projections carry a bias (Qwen2, GPT-2). */
  qkvBias: boolean;
  /** GPT-2-style: biases on every linear, LayerNorm with bias, learned position embeddings. */
  linearBias: boolean;
  normType: "rmsnorm" | "layernorm";
  /** Learned absolute position embeddings (GPT-2), 0 when rotary. */
  positionEmbeddings: number;
  /** Dropout probability used in training (GPT-2 0.1, Llama 0). */
  dropout: number;
  /** Torch dtype the weights ship in ("bfloat16", "float16", "float32"). */
  torchDtype: string;
  moe?: {
    numExperts: number;
    numExpertsPerTok: number;
    moeIntermediateSize: number;
    numSharedExperts: number;
    /** Leading dense (non-MoE) layers (DeepSeek first_k_dense_replace). */
    firstKDense: number;
    /** Optional (added by models): Qwen2-MoE's shared expert width when it differs from moeIntermediateSize. */
    sharedExpertIntermediateSize?: number;
    /** Optional: Qwen2-MoE's sigmoid gate on the shared expert (a hidden→1 linear). */
    sharedExpertGate?: boolean;
    /** Optional: router (gate) linear has a bias per expert (gpt-oss; DeepSeek-V3's e_score_correction_bias). */
    routerBias?: boolean;
    /** Optional: expert linears carry biases (gpt-oss). */
    expertBias?: boolean;
  };
  /** DeepSeek multi-head latent attention. */
  mla?: {
    kvLoraRank: number;
    qLoraRank: number | null;
    qkNopeHeadDim: number;
    qkRopeHeadDim: number;
    vHeadDim: number;
  };
  /** Optional: o_proj has a bias too (config `attention_bias`: Llama-style, gpt-oss). */
  attentionOutputBias?: boolean;
  /** Optional: MLP linears carry biases (config `mlp_bias`). */
  mlpBias?: boolean;
  /** Optional: per-head RMSNorm on q and k (Qwen3, Gemma-3): 2 × headDim weights per layer. */
  qkNorm?: boolean;
  /** Optional: Gemma-2/3 "sandwich" norms: 4 RMSNorms per layer instead of 2. */
  sandwichNorms?: boolean;
  /** Optional: gpt-oss learned attention sinks, one scalar per query head per layer. */
  attentionSinks?: boolean;
  /** Optional: DeepSeek multi-token-prediction layers shipped beside the main model (not counted in params). */
  numMtpLayers?: number;
  /** Sliding-window size in tokens, when some or all layers use one. */
  slidingWindow?: number;
  /** Per layer: "full_attention" | "sliding_attention". Absent → all full (or all sliding when only slidingWindow set, Mistral). */
  layerTypes?: string[];
  /**
   * Optional (added by models): the quantization the checkpoint ships in (config.json `quantization_config`), which
   * vLLM loads it with when `--quantization` is not given. Absent → an unquantized checkpoint.
   */
  quantization?: Quantization;
}

export type WeightDtype = "float32" | "bfloat16" | "float16" | "fp8" | "int8" | "int4";
export type Quantization = "none" | "fp8" | "int8" | "int4-awq" | "gptq" | "gptq-int8" | "mxfp4";
export type KvCacheDtype = "auto" | "fp8" | "fp8_e4m3" | "fp8_e5m2" | "bfloat16" | "float16" | "float32";

/** Parameter count by part; `total` is what HF's `num_parameters()` reports (tied embeddings counted once). */
export interface ParamCount {
  embedding: number;
  lmHead: number;
  attention: number;
  mlp: number;
  norms: number;
  /** Per-layer total (dense layers; for MoE, the average over layers). */
  perLayer: number;
  total: number;
  /** Parameters touched per token (MoE: routed top-k + shared; dense: total). */
  active: number;
}

/** What one attention layer group stores per token, per TP rank. */
export interface KvLayout {
  /** Bytes of KV per token per attention layer on one rank (K+V; MLA: the latent only). */
  bytesPerTokenPerLayer: number;
  /** Layers that hold a KV cache (full + sliding). */
  numAttentionLayers: number;
  numFullAttentionLayers: number;
  numSlidingLayers: number;
  slidingWindow?: number;
  kvHeadsPerRank: number;
  headSize: number;
  dtypeBytes: number;
  /** Bytes per token summed over all attention layers on one rank. */
  bytesPerToken: number;
  /** The naive MHA figure users compute (2 · layers · hidden · dtype), to show when it differs (vllm #22291). */
  naiveMhaBytesPerToken: number;
  isMla: boolean;
}
