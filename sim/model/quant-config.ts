import { UserError } from "../errors.ts";
import type { ModelSpec, Quantization } from "./types.ts";

/** config.json `quant_method` values this simulator sizes, and the `--quantization` each one is. */
const BY_METHOD: Record<string, (bits: number | undefined, name: string) => Quantization> = {
  mxfp4: () => "mxfp4",
  fp8: () => "fp8",
  awq: (bits, name) => (bits === undefined || bits === 4 ? "int4-awq" : badBits(name, "awq", bits, "4")),
  gptq: (bits, name) => (bits === 4 ? "gptq" : bits === 8 ? "gptq-int8" : badBits(name, "gptq", bits, "4 or 8")),
};

/**
 * The quantization a checkpoint ships in, from its config.json `quantization_config` (vLLM
 * `ModelConfig._parse_quant_hf_config`: the `quant_method` field, lower-cased). Returns undefined for an unquantized
 * checkpoint. GPTQ's `bits` picks gptq (4) or gptq-int8 (8); AWQ is 4-bit only in vLLM. A method this simulator does
 * not size (compressed-tensors, bitsandbytes, modelopt…) is a UserError naming the field rather than a silent bf16
 * figure that would be off by 2–4×.
 */
export function checkpointQuantization(name: string, quantConfig: unknown): Quantization | undefined {
  if (quantConfig === undefined || quantConfig === null) return undefined;
  if (typeof quantConfig !== "object" || Array.isArray(quantConfig))
    throw new UserError(`${name}: config field "quantization_config" must be an object`, { field: "quantization_config" });
  const q = quantConfig as Record<string, unknown>;
  const method = q.quant_method;
  if (typeof method !== "string")
    throw new UserError(`${name}: config field "quantization_config.quant_method" is missing or not a string`, {
      field: "quantization_config.quant_method",
    });
  const read = BY_METHOD[method.toLowerCase()];
  if (!read)
    throw new UserError(
      `${name}: config field "quantization_config.quant_method" is "${method}", which vramscope does not size (known: ${Object.keys(BY_METHOD).join(", ")})`,
      { field: "quantization_config.quant_method" },
    );
  const bits = q.bits;
  if (bits !== undefined && (typeof bits !== "number" || !Number.isInteger(bits)))
    throw new UserError(`${name}: config field "quantization_config.bits" must be an integer, got ${JSON.stringify(bits)}`, {
      field: "quantization_config.bits",
    });
  return read(bits as number | undefined, name);
}

function badBits(name: string, method: string, bits: number | undefined, allowed: string): never {
  throw new UserError(
    `${name}: config field "quantization_config.bits" is ${bits ?? "missing"}; vLLM's ${method} supports ${allowed} bits`,
    { field: "quantization_config.bits" },
  );
}

/**
 * The `--quantization` a server runs with, as vLLM's `ModelConfig._verify_quantization` decides it: not given → the
 * checkpoint's; given and the checkpoint is quantized differently → vLLM raises ("Quantization method specified in
 * the model config (…) does not match the quantization method specified in the `quantization` argument (…)"), so
 * this is a UserError naming --quantization. "none" counts as a value: vLLM cannot load quantized weights as
 * unquantized ones. On an unquantized checkpoint any method is accepted (vLLM's online fp8, or a what-if).
 */
export function servingQuantization(model: ModelSpec, requested: Quantization | undefined): Quantization {
  const ckpt = model.quantization;
  if (requested === undefined) return ckpt ?? "none";
  if (ckpt !== undefined && requested !== ckpt)
    throw new UserError(
      `--quantization ${requested} does not match the checkpoint of ${model.name}, which its config.json quantization_config says is ${ckpt}; vLLM refuses a mismatch — omit --quantization or pass ${ckpt}`,
      { field: "--quantization" },
    );
  return requested;
}
