import { closestNames, UserError } from "../errors.ts";
import type { LocalTensor } from "./stage-params.ts";
import { OPTIMIZERS, type OptimizerName } from "./types.ts";

/**
 * bitsandbytes keeps tensors smaller than this in 32-bit state (`min_8bit_size=4096` of its 8-bit optimizers), so
 * norms and biases cost 8 B/param even under adam-8bit.
 */
export const BNB_MIN_8BIT_SIZE = 4096;
/**
 * bitsandbytes' blockwise 8-bit states keep one fp32 absmax per block of this many elements per state
 * (`blocksize=256` in its blockwise optimizer update) — a 1.6% overhead on the 2 B/param.
 */
export const BNB_BLOCK_SIZE = 256;

export function parseOptimizer(name: string): OptimizerName {
  if ((OPTIMIZERS as readonly string[]).includes(name)) return name as OptimizerName;
  throw new UserError(
    `--optimizer: unknown optimizer "${name}"; choose one of ${OPTIMIZERS.join(", ")} (did you mean ${closestNames(name, OPTIMIZERS)[0]}?)`,
    { field: "--optimizer" },
  );
}

/**
 * Optimizer-state bytes for a set of parameters on one device (before ZeRO sharding).
 * - adamw: m and v, `stateBytes` each (8 B/param in fp32);
 * - adam-8bit: m and v quantized to 1 B each plus fp32 block absmax; small tensors stay 32-bit (bitsandbytes);
 * - sgd: no state; sgd-momentum and lion: one momentum buffer;
 * - adafactor: the factored second moment — a row and a column vector per matrix, the full v for vectors (Shazeer &
 *   Stern 2018; HF `Adafactor` with `beta1=None` keeps no first moment, `momentum` adds one full buffer).
 * `tensors` null (a bare parameter count) works for every optimizer whose state does not depend on shapes.
 */
export function optimizerStateBytes(
  optimizer: OptimizerName,
  params: number,
  tensors: LocalTensor[] | null,
  stateBytes: number,
  adafactorMomentum = false,
): number {
  switch (optimizer) {
    case "adamw":
      return 2 * stateBytes * params;
    case "sgd":
      return 0;
    case "sgd-momentum":
    case "lion":
      return stateBytes * params;
    case "adam-8bit": {
      if (tensors === null) return params * (2 + (2 * 4) / BNB_BLOCK_SIZE);
      let bytes = 0;
      for (const t of tensors) {
        const n = t.rows * t.cols;
        bytes += t.count * (n < BNB_MIN_8BIT_SIZE ? 8 * n : n * 2 + 2 * 4 * Math.ceil(n / BNB_BLOCK_SIZE));
      }
      return bytes;
    }
    case "adafactor": {
      if (tensors === null)
        throw new UserError("--optimizer adafactor: the factored state depends on tensor shapes; give --model, not --params", {
          field: "--optimizer",
        });
      let elems = 0;
      for (const t of tensors) elems += t.count * (t.cols > 1 ? t.rows + t.cols : t.rows);
      return stateBytes * (elems + (adafactorMomentum ? params : 0));
    }
  }
}

/**
 * The step's temporary on the GPU, bytes: PyTorch's foreach AdamW materialises `sqrt(v)` for the whole parameter
 * group (`torch._foreach_sqrt`), Lion a sign-update buffer, Adafactor the update tensor — about one state-sized
 * fp32 buffer. Fused kernels (and bitsandbytes' 8-bit step) update in place.
 */
export function optimizerTransientBytes(optimizer: OptimizerName, impl: "foreach" | "fused", params: number, stateBytes: number): number {
  if (impl === "fused") return 0;
  switch (optimizer) {
    case "adamw":
    case "lion":
    case "adafactor":
      return stateBytes * params;
    default:
      return 0;
  }
}
