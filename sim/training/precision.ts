import { closestNames, UserError } from "../errors.ts";
import { PRECISIONS, type PrecisionPreset } from "./types.ts";

/**
 * Bytes per element of the dtypes a training recipe uses. Only the formats PyTorch trains in: fp8 training keeps
 * bf16/fp32 copies beside its fp8 casts, which this accounting does not model.
 */
const TRAIN_DTYPE_BYTES: Record<string, number> = {
  fp32: 4, float32: 4, float: 4,
  bf16: 2, bfloat16: 2, fp16: 2, float16: 2, half: 2,
};

export function trainDtypeBytes(dtype: string, flag: string): number {
  const b = TRAIN_DTYPE_BYTES[dtype.toLowerCase()];
  if (b === undefined)
    throw new UserError(
      `${flag}: unknown dtype "${dtype}"; did you mean ${closestNames(dtype, Object.keys(TRAIN_DTYPE_BYTES)).join(", ")}?`,
      { field: flag },
    );
  return b;
}

/** Bytes per parameter (or per element) of each model-state tensor, as a recipe sets them. */
export interface PrecisionBytes {
  param: number;
  grad: number;
  /** 0 when there is no fp32 master copy. */
  master: number;
  /** One 32-bit optimizer state element (Adam's m or v). */
  optimizerState: number;
  /** Activations saved for backward. */
  activation: number;
}

/**
 * The recipes users quote, each with its source:
 * - `article`: bf16 weights 2 + fp32 gradients 4 + Adam 8 = 14 B/param, no master copy (the article's assumption);
 * - `zero`: fp16 weights 2 + fp16 gradients 2 + fp32 master 4 + Adam 8 = 16 (ZeRO paper §3.1, K = 12);
 * - `hf-mixed`: fp32 + fp16 weights 6 + fp32 gradients 4 + Adam 8 = 18 (HF "model training anatomy");
 * - `fp32`: 4 + 4 + Adam 8 = 16, fp32 activations;
 * - `bf16`: pure bf16 (weights, gradients and Adam states 2 B each) = 8, as LLaMA-Factory's pure_bf16.
 */
export const PRESET_BYTES: Record<PrecisionPreset, PrecisionBytes> = {
  article: { param: 2, grad: 4, master: 0, optimizerState: 4, activation: 2 },
  zero: { param: 2, grad: 2, master: 4, optimizerState: 4, activation: 2 },
  "hf-mixed": { param: 2, grad: 4, master: 4, optimizerState: 4, activation: 2 },
  fp32: { param: 4, grad: 4, master: 0, optimizerState: 4, activation: 4 },
  bf16: { param: 2, grad: 2, master: 0, optimizerState: 2, activation: 2 },
};

export function parsePrecision(name: string): PrecisionPreset {
  if ((PRECISIONS as readonly string[]).includes(name)) return name as PrecisionPreset;
  throw new UserError(
    `--precision: unknown preset "${name}"; choose one of ${PRECISIONS.join(", ")} (did you mean ${closestNames(name, PRECISIONS)[0]}?)`,
    { field: "--precision" },
  );
}
