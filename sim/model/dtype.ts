import { closestNames, UserError } from "../errors.ts";

/**
 * Bytes per element of a dtype name as vLLM's `--dtype` / `--kv-cache-dtype` / HF `torch_dtype` spell them.
 * int4 is half a byte (two weights per byte, as AWQ/GPTQ pack eight into an int32).
 */
const DTYPE_BYTES: Record<string, number> = {
  float32: 4, float: 4, fp32: 4,
  bfloat16: 2, bf16: 2, float16: 2, half: 2, fp16: 2,
  fp8: 1, fp8_e4m3: 1, fp8_e5m2: 1, float8_e4m3fn: 1, int8: 1, uint8: 1,
  int4: 0.5,
};

/** The spellings suggested when a dtype is unknown. */
const CANONICAL = ["float32", "bfloat16", "float16", "fp8", "int8", "int4"];

export function dtypeBytes(dtype: string): number {
  const b = DTYPE_BYTES[dtype.toLowerCase()];
  if (b === undefined)
    throw new UserError(
      `unknown dtype "${dtype}"; did you mean ${closestNames(dtype, CANONICAL).join(", ")}?`,
      { field: "--dtype" },
    );
  return b;
}
