import { modelTensors, type TensorGroup } from "./tensors.ts";
import type { ModelSpec, ParamCount } from "./types.ts";

/**
 * Parameter count by part, as HF's `model.num_parameters()` reports it: tied embeddings counted once, learned
 * position embeddings inside `embedding`, MLA's low-rank norms and Qwen3's q/k norms inside `norms`, routers and
 * shared experts inside `mlp`. DeepSeek's multi-token-prediction layers (`num_nextn_predict_layers`) are NOT counted:
 * HF's "671B" is the main model, the MTP module adds ~14B on top (DeepSeek-V3 README).
 *
 * `active` is the parameters one token touches: everything except the routed experts it is not sent to
 * (MoE layers count top-k + shared experts); for a dense model it equals `total`.
 */
export function countParams(spec: ModelSpec): ParamCount {
  const parts = { embedding: 0, lmHead: 0, attention: 0, mlp: 0, norms: 0 };
  let inactive = 0;
  const moe = spec.moe;
  for (const g of modelTensors(spec)) {
    const n = g.rows * g.cols * g.count;
    parts[g.part] += n;
    if (moe && isRoutedExpert(g)) inactive += n * (1 - moe.numExpertsPerTok / moe.numExperts);
  }
  const total = parts.embedding + parts.lmHead + parts.attention + parts.mlp + parts.norms;
  const finalNorm = spec.hiddenSize * (spec.normType === "layernorm" ? 2 : 1);
  return {
    ...parts,
    perLayer: (parts.attention + parts.mlp + parts.norms - finalNorm) / spec.numLayers,
    total,
    active: Math.round(total - inactive),
  };
}

function isRoutedExpert(g: TensorGroup): boolean {
  return g.name.startsWith("experts.");
}
