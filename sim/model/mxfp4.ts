import { colsPerRank, rowsPerRank, type TensorGroup } from "./tensors.ts";

/** OCP MX block: one shared E8M0 scale (1 B) per 32 consecutive input elements (vLLM `mxfp4_block = 32`). */
export const MXFP4_BLOCK = 32;

/**
 * Which vLLM MXFP4 MoE backend's shapes to size (`get_mxfp4_backend` in vllm/.../quantization/mxfp4.py):
 * - "triton" (default): Hopper with triton_kernels installed, vLLM's gpt-oss setup; `create_weights` pads the
 *   per-rank intermediate size to a multiple of 64 and leaves the hidden size alone;
 * - "marlin": Ampere (A100), or Hopper without triton_kernels; pads the intermediate size to 128 and the hidden
 *   size to 256 (the Marlin MoE kernel needs n % 256 and k % 128). vLLM logged "Model loading took 65.9651 GiB"
 *   for gpt-oss-120b so (vllm-project/vllm#23278), which these shapes reproduce to 0.1%.
 * FlashInfer's Blackwell backends (pad both to 256) are not modelled.
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
