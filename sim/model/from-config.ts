import { UserError } from "../errors.ts";
import { checkpointQuantization } from "./quant-config.ts";
import type { ModelSpec } from "./types.ts";

/**
 * HF `config.json` → ModelSpec. Presets and a user's `--model path/config.json` go through this one path, so a
 * preset is only ever a stored config. Two families of field names exist in the wild: Llama-style
 * (`hidden_size`, `num_hidden_layers`, ...) and GPT-2-style (`n_embd`, `n_layer`, ...). Architecture quirks that
 * change the parameter count or the KV cache (MoE, MLA, sliding windows, biases, extra norms) are decided here from
 * `model_type` and the fields present, mirroring what transformers' modeling code for that type builds.
 *
 * A missing or malformed required field throws UserError naming the field and the model.
 */
export function modelFromConfig(name: string, config: Record<string, unknown>): ModelSpec {
  if (config === null || typeof config !== "object" || Array.isArray(config))
    throw new UserError(`${name}: a model config must be a JSON object`);
  // Multimodal wrappers (Gemma-3, Llava, Qwen2-VL...) keep the language model's shapes under text_config.
  const text = config.text_config;
  if (config.hidden_size === undefined && config.n_embd === undefined && text && typeof text === "object") {
    const merged = { ...(text as Record<string, unknown>) };
    if (merged.model_type === undefined && typeof config.model_type === "string") merged.model_type = config.model_type;
    if (merged.torch_dtype === undefined && config.torch_dtype !== undefined) merged.torch_dtype = config.torch_dtype;
    // vLLM reads quantization_config from the top level first, then text_config's.
    if (config.quantization_config !== undefined) merged.quantization_config = config.quantization_config;
    return modelFromConfig(name, merged);
  }
  const f = new Fields(name, config);
  const spec = "n_embd" in config ? gpt2Style(name, f) : llamaStyle(name, f);
  const quantization = checkpointQuantization(name, config.quantization_config);
  if (quantization !== undefined) spec.quantization = quantization;
  return spec;
}

/** Reads typed fields, throwing a UserError that names the field when one is missing or of the wrong kind. */
class Fields {
  constructor(
    readonly model: string,
    readonly c: Record<string, unknown>,
  ) {}

  has(key: string): boolean {
    return this.c[key] !== undefined && this.c[key] !== null;
  }

  /** A positive integer field; `def` is used when absent (undefined → required). */
  int(key: string, def?: number): number {
    const v = this.c[key];
    if (v === undefined || v === null) {
      if (def !== undefined) return def;
      throw new UserError(`${this.model}: config field "${key}" is missing`, { field: key });
    }
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0)
      throw new UserError(`${this.model}: config field "${key}" must be a positive integer, got ${JSON.stringify(v)}`, {
        field: key,
      });
    return v;
  }

  /** A non-negative integer field (0 allowed, e.g. first_k_dense_replace). */
  count(key: string, def: number): number {
    const v = this.c[key];
    if (v === undefined || v === null) return def;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0)
      throw new UserError(`${this.model}: config field "${key}" must be a non-negative integer, got ${JSON.stringify(v)}`, {
        field: key,
      });
    return v;
  }

  prob(key: string, def: number): number {
    const v = this.c[key];
    if (v === undefined || v === null) return def;
    if (typeof v !== "number" || !(v >= 0 && v < 1))
      throw new UserError(`${this.model}: config field "${key}" must be a probability in [0, 1), got ${JSON.stringify(v)}`, {
        field: key,
      });
    return v;
  }

  bool(key: string, def: boolean): boolean {
    const v = this.c[key];
    if (v === undefined || v === null) return def;
    if (typeof v !== "boolean")
      throw new UserError(`${this.model}: config field "${key}" must be true or false, got ${JSON.stringify(v)}`, {
        field: key,
      });
    return v;
  }

  str(key: string, def: string): string {
    const v = this.c[key];
    if (v === undefined || v === null) return def;
    if (typeof v !== "string")
      throw new UserError(`${this.model}: config field "${key}" must be a string, got ${JSON.stringify(v)}`, { field: key });
    return v;
  }

  strings(key: string): string[] | undefined {
    const v = this.c[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string"))
      throw new UserError(`${this.model}: config field "${key}" must be a list of strings`, { field: key });
    return v as string[];
  }
}

/** GPT-2: LayerNorm with bias, learned positions, biases on every linear, GeLU 4h MLP, tied lm_head. */
function gpt2Style(name: string, f: Fields): ModelSpec {
  const hidden = f.int("n_embd");
  const heads = f.int("n_head");
  if (hidden % heads !== 0)
    throw new UserError(`${name}: config field "n_embd" (${hidden}) must be divisible by "n_head" (${heads})`, {
      field: "n_embd",
    });
  const positions = f.int("n_positions", f.int("n_ctx", 1024));
  return {
    name,
    modelType: f.str("model_type", "gpt2"),
    hiddenSize: hidden,
    numLayers: f.int("n_layer"),
    numAttentionHeads: heads,
    numKvHeads: heads,
    headDim: hidden / heads,
    intermediateSize: f.int("n_inner", 4 * hidden),
    vocabSize: f.int("vocab_size"),
    maxPositionEmbeddings: positions,
    tieWordEmbeddings: f.bool("tie_word_embeddings", true),
    gatedMlp: false,
    hiddenAct: f.str("activation_function", "gelu_new"),
    qkvBias: true,
    linearBias: true,
    attentionOutputBias: true,
    mlpBias: true,
    normType: "layernorm",
    positionEmbeddings: positions,
    dropout: f.prob("resid_pdrop", 0.1),
    torchDtype: f.str("torch_dtype", "float32"),
  };
}

/** Model types whose HF config defaults `tie_word_embeddings` to true (PretrainedConfig's default is overridden). */
const TIED_BY_DEFAULT = new Set(["gemma", "gemma2", "gemma3", "gemma3_text", "gpt2"]);
/** Qwen2-family attention has q/k/v biases hard-coded (no config field). */
const QKV_BIAS_TYPES = new Set(["qwen2", "qwen2_moe", "qwen2_vl", "qwen2_5_vl"]);

function llamaStyle(name: string, f: Fields): ModelSpec {
  const modelType = f.str("model_type", "llama");
  const hidden = f.int("hidden_size");
  const layers = f.int("num_hidden_layers");
  const heads = f.int("num_attention_heads");
  const kvHeads = f.int("num_key_value_heads", heads);
  if (heads % kvHeads !== 0)
    throw new UserError(
      `${name}: config field "num_key_value_heads" (${kvHeads}) must divide "num_attention_heads" (${heads})`,
      { field: "num_key_value_heads" },
    );
  let headDim: number;
  if (f.has("head_dim")) headDim = f.int("head_dim");
  else if (hidden % heads === 0) headDim = hidden / heads;
  else
    throw new UserError(`${name}: config field "head_dim" is missing and hidden_size is not divisible by heads`, {
      field: "head_dim",
    });

  const attentionBias = f.bool("attention_bias", modelType === "gpt_oss");
  const spec: ModelSpec = {
    name,
    modelType,
    hiddenSize: hidden,
    numLayers: layers,
    numAttentionHeads: heads,
    numKvHeads: kvHeads,
    headDim,
    intermediateSize: f.int("intermediate_size"),
    vocabSize: f.int("vocab_size"),
    maxPositionEmbeddings: f.int("max_position_embeddings"),
    tieWordEmbeddings: f.bool("tie_word_embeddings", TIED_BY_DEFAULT.has(modelType)),
    gatedMlp: true,
    hiddenAct: f.str("hidden_act", f.str("hidden_activation", "silu")),
    qkvBias: attentionBias || QKV_BIAS_TYPES.has(modelType),
    linearBias: false,
    normType: "rmsnorm",
    positionEmbeddings: 0,
    dropout: f.prob("attention_dropout", 0),
    torchDtype: f.str("torch_dtype", f.str("dtype", "bfloat16")),
  };
  if (attentionBias) spec.attentionOutputBias = true;
  if (f.bool("mlp_bias", false)) spec.mlpBias = true;
  if (modelType.startsWith("qwen3") || modelType.startsWith("gemma3")) spec.qkNorm = true;
  if (modelType.startsWith("gemma2") || modelType.startsWith("gemma3")) spec.sandwichNorms = true;
  if (modelType === "gpt_oss") spec.attentionSinks = true;

  const moe = readMoe(f, modelType);
  if (moe) spec.moe = moe;
  if (f.has("kv_lora_rank")) {
    spec.mla = {
      kvLoraRank: f.int("kv_lora_rank"),
      qLoraRank: f.has("q_lora_rank") ? f.int("q_lora_rank") : null,
      qkNopeHeadDim: f.int("qk_nope_head_dim"),
      qkRopeHeadDim: f.int("qk_rope_head_dim"),
      vHeadDim: f.int("v_head_dim"),
    };
    spec.headDim = spec.mla.qkNopeHeadDim + spec.mla.qkRopeHeadDim;
  }
  const mtp = f.count("num_nextn_predict_layers", 0);
  if (mtp > 0) spec.numMtpLayers = mtp;
  applySlidingWindow(spec, f);
  return spec;
}

/** Mixtral/gpt-oss (`num_local_experts`), Qwen-MoE (`num_experts`), DeepSeek (`n_routed_experts`). */
function readMoe(f: Fields, modelType: string): ModelSpec["moe"] | undefined {
  const key = ["num_local_experts", "n_routed_experts", "num_experts"].find((k) => f.has(k));
  if (!key) return undefined;
  const numExperts = f.int(key);
  const shared = f.count("shared_expert_intermediate_size", 0);
  const moe: NonNullable<ModelSpec["moe"]> = {
    numExperts,
    numExpertsPerTok: f.int("num_experts_per_tok"),
    moeIntermediateSize: f.int("moe_intermediate_size", f.int("intermediate_size")),
    numSharedExperts: f.count("n_shared_experts", shared > 0 ? 1 : 0),
    firstKDense: f.count("first_k_dense_replace", 0),
  };
  if (shared > 0) {
    moe.sharedExpertIntermediateSize = shared;
    moe.sharedExpertGate = true;
  }
  // DeepSeek-V3's noaux_tc routing keeps a learned per-expert bias (e_score_correction_bias) in the checkpoint.
  const topk = f.str("topk_method", modelType === "deepseek_v3" ? "noaux_tc" : "");
  if (modelType === "gpt_oss" || topk === "noaux_tc") moe.routerBias = true;
  if (modelType === "gpt_oss") moe.expertBias = true;
  return moe;
}

/**
 * Which layers use a sliding window, as transformers builds them:
 * - `layer_types` given (gpt-oss, newer configs): taken as is;
 * - Gemma-2: even layers sliding, odd full; Gemma-3: every `sliding_window_pattern`-th layer (default 6) full;
 * - Qwen2-style `use_sliding_window`: false → no window; true → layers ≥ `max_window_layers` sliding;
 * - otherwise a numeric `sliding_window` (Mistral-7B-v0.1, Phi-3) applies to every layer.
 */
function applySlidingWindow(spec: ModelSpec, f: Fields): void {
  const types = f.strings("layer_types");
  if (types) {
    if (types.length !== spec.numLayers)
      throw new UserError(
        `${spec.name}: config field "layer_types" has ${types.length} entries for ${spec.numLayers} layers`,
        { field: "layer_types" },
      );
    for (const t of types)
      if (t !== "full_attention" && t !== "sliding_attention")
        throw new UserError(`${spec.name}: config field "layer_types" has unsupported layer type "${t}"`, {
          field: "layer_types",
        });
    if (types.includes("sliding_attention")) {
      spec.slidingWindow = f.int("sliding_window");
      spec.layerTypes = types;
    }
    return;
  }
  if (!f.has("sliding_window") || f.bool("use_sliding_window", true) === false) return;
  const window = f.int("sliding_window");
  const t = spec.modelType;
  if (t.startsWith("gemma2")) {
    spec.slidingWindow = window;
    spec.layerTypes = range(spec.numLayers).map((i) => ((i + 1) % 2 ? "sliding_attention" : "full_attention"));
  } else if (t.startsWith("gemma3")) {
    const pattern = f.int("sliding_window_pattern", 6);
    spec.slidingWindow = window;
    spec.layerTypes = range(spec.numLayers).map((i) => ((i + 1) % pattern ? "sliding_attention" : "full_attention"));
  } else if (f.has("use_sliding_window")) {
    const first = f.count("max_window_layers", spec.numLayers);
    if (first >= spec.numLayers) return;
    spec.slidingWindow = window;
    spec.layerTypes = range(spec.numLayers).map((i) => (i >= first ? "sliding_attention" : "full_attention"));
  } else {
    spec.slidingWindow = window;
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
