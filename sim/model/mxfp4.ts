import { colsPerRank, rowsPerRank, type TensorGroup } from "./tensors.ts";

/** OCP MX block: one shared E8M0 scale (1 B) per 32 consecutive input elements (vLLM `mxfp4_block = 32`). */
export const MXFP4_BLOCK = 32;

/**
 * Which vLLM MXFP4 MoE backend's shapes to size (`get_mxfp4_backend` in vllm/.../quantization/mxfp4.py):
 * - "triton" (default): Hopper with triton_kernels installed, vLLM's gpt-oss setup; `create_weights` pads the
 *   per-rank intermediate size to a multiple of 64 and leaves the hidden size alone;
 * - "marlin": Ampere (A100), or Hopper without triton_kernels; pads the intermediate size to 128 and the hidden
 *   size to 256 (the Marlin MoE kernel needs n % 256 and k % 128). vLLM 0.10.1 on one H100 PCIe (TP 1, Marlin
 *   named by its marlin_utils_fp4 warning) logged "Model loading took 65.9651 GiB" for gpt-oss-120b
 *   (vllm-project/vllm#23278, 2025-08-20), which these shapes reproduce to 0.1%; a vLLM 0.11.2 single-GPU log
 *   quotes the same figure (blog.huikang.dev/2025/12/28/vllm-logs.html).
 * Until vllm-project/vllm#46549 the Triton backend on Hopper also held a second, padded copy of the scales and fp32
 * expert biases: `mxfp4TritonHopperExtraBytes`. FlashInfer's Blackwell backends (pad both to 256) are not modelled.
 */
export type Mxfp4Backend = "triton" | "marlin";

const PAD: Record<Mxfp4Backend, { intermediate: number; hidden: number }> = {
  triton: { intermediate: 64, hidden: 1 },
  marlin: { intermediate: 128, hidden: 256 },
};

const roundUp = (x: number, m: number) => Math.ceil(x / m) * m;

/**
 * The expert intermediate size one rank holds: gpt-oss's loader gives each rank ⌈(I / 32) / TP⌉ whole scale blocks
 * (`per_rank_intermediate_size_block`), then `Mxfp4MoEMethod.create_weights` pads it for the backend.
 */
export function mxfp4IntermediatePerRank(intermediate: number, tp: number, backend: Mxfp4Backend = "triton"): number {
  const perRank = Math.ceil(Math.ceil(intermediate / MXFP4_BLOCK) / tp) * MXFP4_BLOCK;
  return roundUp(perRank, PAD[backend].intermediate);
}

/**
 * One rank's shape of a routed-expert tensor (TensorGroup.expertAxis set) as vLLM allocates it: w13 (gate/up)
 * `[2·I_pad, H_pad]`, w2 (down) `[H_pad, I_pad]`, biases `[2·I_pad]` and `[H_pad]`.
 */
export function mxfp4RankShape(
  g: TensorGroup,
  sizes: { hidden: number; intermediate: number },
  tp: number,
  backend: Mxfp4Backend = "triton",
): { rows: number; cols: number } {
  const inter = mxfp4IntermediatePerRank(sizes.intermediate, tp, backend);
  const hidden = roundUp(sizes.hidden, PAD[backend].hidden);
  switch (g.expertAxis) {
    case "rows":
      return { rows: (g.rows / sizes.intermediate) * inter, cols: g.cols === 1 ? 1 : hidden };
    case "cols":
      return { rows: hidden, cols: inter };
    case "none":
      return { rows: hidden, cols: 1 };
    default:
      return { rows: rowsPerRank(g, tp), cols: colsPerRank(g, tp) };
  }
}

/** triton_kernels `HopperMXScaleLayout`: SWIZZLE_ALIGN_M = 2 · num_warps · 2 · 8 with num_warps = 8. */
const HOPPER_SCALE_ALIGN_ROWS = 2 * 8 * 2 * 8;

/**
 * Bytes vLLM's Triton MXFP4 backend on Hopper holds per rank beyond the tensors `mxfp4RankShape` sizes, in releases
 * before vllm-project/vllm#46549 (merged 2026-06-24, "Free unused MXFP4 scales in OAI Triton Backend"). This is why
 * vLLM 0.14.1 logged "Model loading took 64.38 GiB" for gpt-oss-120b on one H100 ("Using Triton backend", TP 1;
 * vllm-project/vllm#33155) where the checkpoint's shapes give 60.77 GiB:
 * - `Mxfp4MoEMethod.process_weights_after_loading` (TRITON branch) passes w13/w2 scales through `_swizzle_mxfp4`
 *   into the kernel's PrecisionConfig, then deletes the old w13_weight/w2_weight but not w13_weight_scale/
 *   w2_weight_scale: the scales are held twice. The swizzled copy is padded: triton_kernels'
 *   `HopperMXScaleLayout.swizzle_data` (num_warps 8, vLLM's non-batched default) rounds the non-block axis (2·I for
 *   w13, H for w2) up to 2·8·2·8 = 256 and the block count up to even.
 * - the same branch casts the expert biases to fp32: 2 B more per element than the bf16 ones already counted.
 * The values' swizzle (`HopperMXValueLayout`) replaces the deleted original and pads rows to 16 and bytes to 32,
 * which gpt-oss meets at TP 1, 2, 4 and 8, so it is not counted here.
 * @param expertCount MoE layers × experts (the `count` of a routed-expert TensorGroup).
 */
export function mxfp4TritonHopperExtraBytes(
  sizes: { hidden: number; intermediate: number },
  expertCount: number,
  tp: number,
): { scaleCopies: number; fp32Biases: number } {
  const inter = mxfp4IntermediatePerRank(sizes.intermediate, tp, "triton");
  const swizzled = (rows: number, blocks: number) => roundUp(rows, HOPPER_SCALE_ALIGN_ROWS) * roundUp(blocks, 2);
  const perExpert =
    swizzled(2 * inter, Math.ceil(sizes.hidden / MXFP4_BLOCK)) + swizzled(sizes.hidden, Math.ceil(inter / MXFP4_BLOCK));
  return { scaleCopies: perExpert * expertCount, fp32Biases: (2 * inter + sizes.hidden) * 2 * expertCount };
}
