import { closestNames, UserError } from "../errors.ts";
import { dtypeBytes } from "./dtype.ts";
import { MXFP4_BLOCK, mxfp4RankShape, type Mxfp4Backend } from "./mxfp4.ts";
import { colsPerRank, modelTensors, rowsPerRank, type TensorGroup, type TensorPart } from "./tensors.ts";
import type { ModelSpec, Quantization, WeightDtype } from "./types.ts";

export { dtypeBytes };
export { mxfp4IntermediatePerRank, type Mxfp4Backend } from "./mxfp4.ts";

/** The `--quantization` values this simulator sizes (vLLM method names where they exist). */
export const QUANTIZATIONS: readonly Quantization[] = ["none", "fp8", "int8", "int4-awq", "gptq", "gptq-int8", "mxfp4"];

/** GPTQ/AWQ group size: one scale (and zero point) per 128 input channels of each output channel. */
export const QUANT_GROUP_SIZE = 128;

export interface WeightBytes {
  /** The whole model's weights as stored in the checkpoint (no vocab padding, nothing replicated). */
  totalBytes: number;
  /** What one tensor-parallel rank loads: split tensors divided by TP, replicated ones whole, vocab padded to 64. */
  perRankBytes: number;
  /** Per-rank bytes by part (embedding, lmHead, attention, mlp, norms, quantScales); sums to perRankBytes. */
  breakdown: Record<string, number>;
  /** Whole-model bytes by the same parts; sums to totalBytes. */
  totalBreakdown: Record<string, number>;
}

/**
 * Bytes of weights for `--dtype` and `--quantization`, whole and per TP rank.
 *
 * Conventions (each mirrors the vLLM linear method named):
 * - Only linear-layer weight matrices are quantized (attention and MLP projections, MoE experts, shared experts);
 *   embeddings, lm_head, norms, biases, MoE routers and position embeddings stay in `dtype` (vLLM builds them with
 *   no quant method). "none" keeps every tensor in `dtype`.
 * - fp8 (Fp8LinearMethod, online dynamic): 1 B per weight + one fp32 scale per matrix (per-tensor; 4 B).
 * - int8 (compressed-tensors W8A8, channelwise): 1 B per weight + one fp32 scale per output channel.
 * - int4-awq (AWQLinearMethod): 0.5 B per weight (8 per int32) + per group of 128 inputs and per output channel an
 *   fp16 scale (2 B) and a packed 4-bit zero point (qzeros: 8 per int32, so 0.5 B).
 * - gptq (4-bit, GPTQLinearMethod): as AWQ, plus `g_idx`, one int32 per input channel.
 * - gptq-int8: 1 B per weight + per group fp16 scale + 8-bit zero (4 per int32, 1 B) + g_idx.
 * - mxfp4 (Mxfp4Config / Mxfp4MoEMethod): only routed-expert matrices (FusedMoE w13/w2) are quantized — vLLM's
 *   Mxfp4Config gives every other linear UnquantizedLinearMethod, which is also what gpt-oss's
 *   `modules_to_not_convert` lists (attention, router, embeddings, lm_head) — at 0.5 B per weight (two E2M1 values
 *   per uint8) + 1 B E8M0 scale per 32 input elements. Per rank the intermediate axis is padded
 *   as the chosen backend pads it (mxfp4.ts; `mxfp4Backend`, default "triton"), biases with it; the checkpoint
 *   total is unpadded. On a dense model nothing changes (vLLM has no MXFP4 linear method).
 * Under TP, scales follow the matrix they belong to (column-parallel splits output channels, row-parallel splits the
 * groups along the input); fp8's per-tensor scale is whole on every rank. See tensors.ts for which tensor splits how.
 */
export function weightBytes(
  spec: ModelSpec,
  opts: { dtype: WeightDtype; quantization: Quantization; tensorParallelSize: number; mxfp4Backend?: Mxfp4Backend },
): WeightBytes {
  const tp = opts.tensorParallelSize;
  if (!Number.isInteger(tp) || tp < 1)
    throw new UserError(`--tensor-parallel-size must be a positive integer, got ${tp}`, { field: "--tensor-parallel-size" });
  if (!QUANTIZATIONS.includes(opts.quantization))
    throw new UserError(
      `unknown --quantization "${opts.quantization}"; did you mean ${closestNames(opts.quantization, QUANTIZATIONS).join(", ")}?`,
      { field: "--quantization" },
    );
  const elem = dtypeBytes(opts.dtype);
  const breakdown = emptyParts();
  const totalBreakdown = emptyParts();
  const mx = opts.quantization === "mxfp4";
  const sizes = { hidden: spec.hiddenSize, intermediate: spec.moe?.moeIntermediateSize ?? 0 };
  for (const g of modelTensors(spec)) {
    const whole = tensorBytes(g, g.rows, g.cols, elem, opts.quantization);
    const { rows, cols } =
      mx && g.expertAxis ? mxfp4RankShape(g, sizes, tp, opts.mxfp4Backend) : { rows: rowsPerRank(g, tp), cols: colsPerRank(g, tp) };
    const rank = tensorBytes(g, rows, cols, elem, opts.quantization);
    totalBreakdown[g.part] += whole.data * g.count;
    totalBreakdown.quantScales += whole.scales * g.count;
    breakdown[g.part] += rank.data * g.count;
    breakdown.quantScales += rank.scales * g.count;
  }
  return {
    totalBytes: sum(totalBreakdown),
    perRankBytes: sum(breakdown),
    breakdown,
    totalBreakdown,
  };
}

/** Bytes of one copy of a tensor shaped rows × cols: the data, and the quantization metadata beside it. */
function tensorBytes(
  g: TensorGroup,
  rows: number,
  cols: number,
  elem: number,
  q: Quantization,
): { data: number; scales: number } {
  if (!g.quantizable || q === "none" || (q === "mxfp4" && !g.expertAxis)) return { data: rows * cols * elem, scales: 0 };
  const n = rows * cols;
  const groups = Math.ceil(cols / QUANT_GROUP_SIZE);
  switch (q) {
    case "fp8":
      return { data: n, scales: 4 };
    case "int8":
      return { data: n, scales: rows * 4 };
    case "int4-awq":
      return { data: n / 2, scales: groups * rows * 2 + groups * Math.ceil(rows / 8) * 4 };
    case "gptq":
      return { data: n / 2, scales: groups * rows * 2 + groups * Math.ceil(rows / 8) * 4 + cols * 4 };
    case "gptq-int8":
      return { data: n, scales: groups * rows * 2 + groups * Math.ceil(rows / 4) * 4 + cols * 4 };
    case "mxfp4":
      return { data: n / 2, scales: rows * Math.ceil(cols / MXFP4_BLOCK) };
  }
}

function emptyParts(): Record<TensorPart | "quantScales", number> {
  return { embedding: 0, lmHead: 0, attention: 0, mlp: 0, norms: 0, quantScales: 0 };
}

function sum(r: Record<string, number>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}
