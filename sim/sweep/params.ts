import { closestNames, UserError } from "../errors.ts";
import { parseDuration, parseSize } from "../units.ts";

/**
 * The parameters a sweep can vary, by their vLLM flag names (what users type after `--vary`), and the serving
 * config field each one sets. A table rather than ad-hoc parsing so `--vary` accepts exactly the flags `replay`
 * accepts, with the same value rules, and an unknown name gets "did you mean".
 *
 * `rate-scale` is not a vLLM flag: it divides the trace's arrival times (2 = twice the load), the question "how
 * much traffic does this configuration hold" being the other half of sizing.
 */
export type ParamKind = "float" | "int" | "string" | "bool" | "size" | "duration";

export interface ParamDef {
  /** Flag name without dashes, e.g. "gpu-memory-utilization". */
  flag: string;
  /** ServingConfig input field it sets, or "rateScale" (applied to the trace). */
  field: string;
  kind: ParamKind;
  /** Inclusive numeric bounds checked on every value. */
  min?: number;
  max?: number;
  /** For string params: the accepted values (case-sensitive), when closed. */
  choices?: readonly string[];
}

export const PARAM_DEFS: readonly ParamDef[] = [
  { flag: "gpu-memory-utilization", field: "gpuMemoryUtilization", kind: "float", min: 0.01, max: 1 },
  { flag: "max-num-seqs", field: "maxNumSeqs", kind: "int", min: 1 },
  { flag: "max-num-batched-tokens", field: "maxNumBatchedTokens", kind: "int", min: 1 },
  { flag: "max-model-len", field: "maxModelLen", kind: "int", min: 1 },
  { flag: "block-size", field: "blockSize", kind: "int", min: 1 },
  { flag: "tensor-parallel-size", field: "tensorParallelSize", kind: "int", min: 1 },
  { flag: "gpu", field: "gpu", kind: "string" },
  { flag: "model", field: "model", kind: "string" },
  { flag: "dtype", field: "dtype", kind: "string", choices: ["float32", "bfloat16", "float16", "fp8", "int8", "int4"] },
  {
    flag: "quantization",
    field: "quantization",
    kind: "string",
    choices: ["none", "fp8", "int8", "int4-awq", "gptq", "gptq-int8", "mxfp4"],
  },
  {
    flag: "kv-cache-dtype",
    field: "kvCacheDtype",
    kind: "string",
    choices: ["auto", "fp8", "fp8_e4m3", "fp8_e5m2", "bfloat16", "float16", "float32"],
  },
  { flag: "enable-prefix-caching", field: "enablePrefixCaching", kind: "bool" },
  { flag: "enable-chunked-prefill", field: "enableChunkedPrefill", kind: "bool" },
  { flag: "long-prefill-token-threshold", field: "longPrefillTokenThreshold", kind: "int", min: 0 },
  { flag: "scheduling-policy", field: "schedulingPolicy", kind: "string", choices: ["fcfs", "priority"] },
  { flag: "kv-cache-memory", field: "kvCacheMemoryBytes", kind: "size", min: 1 },
  { flag: "num-gpu-blocks-override", field: "numGpuBlocksOverride", kind: "int", min: 1 },
  { flag: "gpu-total-memory", field: "gpuTotalMemoryBytes", kind: "size", min: 1 },
  { flag: "step-time", field: "stepTimeS", kind: "duration", min: 0 },
  { flag: "rate-scale", field: "rateScale", kind: "float", min: 1e-9 },
];

/** Parameters that set how much GPU memory a point reserves: the x-axis of the preemption curve. */
export const MEMORY_PARAMS: readonly string[] = [
  "gpu-memory-utilization",
  "kv-cache-memory",
  "num-gpu-blocks-override",
  "gpu-total-memory",
];

export type ParamValue = number | string | boolean;

export function paramDef(name: string, field = "--vary"): ParamDef {
  const key = name.trim().replace(/^--/, "");
  const def = PARAM_DEFS.find((d) => d.flag === key);
  if (!def) {
    const near = suggestFlags(key, PARAM_DEFS.map((d) => d.flag));
    throw new UserError(`${field}: unknown parameter "${name}"; did you mean ${near.join(", ")}?`, { field });
  }
  return def;
}

/**
 * Flag suggestions: abbreviations first ("gpu-mem-util": each dash-separated part a prefix of the flag's part), then
 * the edit-distance ranking of `closestNames`.
 */
export function suggestFlags(key: string, flags: readonly string[]): string[] {
  const parts = key.toLowerCase().split("-");
  const abbrev = flags.filter((f) => {
    const fp = f.split("-");
    return fp.length === parts.length && parts.every((p, i) => p.length > 0 && fp[i].startsWith(p));
  });
  const rest = closestNames(key, flags.filter((f) => !abbrev.includes(f)));
  return [...abbrev, ...rest].slice(0, 3);
}

/** Converts one textual value of a parameter, checking its kind and bounds. */
export function parseParamValue(def: ParamDef, text: string, field = "--vary"): ParamValue {
  const t = text.trim();
  const where = `${field} ${def.flag}`;
  let v: ParamValue;
  switch (def.kind) {
    case "string":
      if (t === "") throw new UserError(`${where}: empty value`, { field });
      if (def.choices && !def.choices.includes(t))
        throw new UserError(`${where}: "${t}" is not one of ${def.choices.join(", ")}`, { field });
      return t;
    case "bool":
      if (/^(true|1|yes|on)$/i.test(t)) return true;
      if (/^(false|0|no|off)$/i.test(t)) return false;
      throw new UserError(`${where}: expected true or false, got "${t}"`, { field });
    case "size":
      v = parseSize(t, where);
      break;
    case "duration":
      v = parseDuration(t, where);
      break;
    case "int":
      if (!/^[+-]?\d+$/.test(t)) throw new UserError(`${where}: expected an integer, got "${t}"`, { field });
      v = Number(t);
      break;
    case "float": {
      const n = Number(t);
      if (t === "" || !Number.isFinite(n)) throw new UserError(`${where}: expected a number, got "${t}"`, { field });
      v = n;
      break;
    }
  }
  checkBounds(def, v as number, where, field);
  return v;
}

export function checkBounds(def: ParamDef, v: number, where: string, field: string): void {
  if (def.kind === "int" && !Number.isInteger(v))
    throw new UserError(`${where}: expected an integer, got ${v}`, { field });
  if (def.min !== undefined && v < def.min) throw new UserError(`${where}: ${v} is below ${def.min}`, { field });
  if (def.max !== undefined && v > def.max) throw new UserError(`${where}: ${v} is above ${def.max}`, { field });
}
