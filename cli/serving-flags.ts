import { Option, type Command } from "commander";
import type { ServingConfigInput } from "../sim/serving/config.ts";
import type { KvCacheDtype, Quantization, WeightDtype } from "../sim/model/types.ts";
import { parseSize, parseDuration } from "../sim/units.ts";
import { QUANTIZATIONS } from "../sim/model/weights.ts";
import { loadModelArg } from "./io/model-arg.ts";
import { parseFloatFlag, parseIntFlag } from "./common.ts";

/** The serving flags, named as vLLM names them, shared by `capacity`, `replay` and `sweep`. */
export interface ServingFlags {
  model?: string;
  gpu?: string;
  gpuTotalMemory?: string;
  gpuMemoryUtilization?: number;
  tensorParallelSize?: number;
  maxModelLen?: number;
  kvCacheDtype?: string;
  blockSize?: number;
  dtype?: string;
  quantization?: string;
  maxNumSeqs?: number;
  maxNumBatchedTokens?: number;
  enablePrefixCaching?: boolean;
  enableChunkedPrefill?: boolean;
  longPrefillTokenThreshold?: number;
  schedulingPolicy?: string;
  kvCacheMemory?: string;
  numGpuBlocksOverride?: number;
  stepTime?: string;
  freeQueueOrder?: string;
  seed?: number;
}

export function addServingFlags(cmd: Command, opts: { scheduling?: boolean } = {}): Command {
  cmd
    .option("--model <name|config.json>", "model preset (HF repo id) or a path to a HF config.json", "meta-llama/Llama-3.1-8B-Instruct")
    .option("--gpu <name>", "GPU preset", "H100-SXM-80GB")
    .option("--gpu-total-memory <size>", "override the preset's memory (e.g. 80GiB)")
    .option("--gpu-memory-utilization <f>", "fraction of GPU memory this instance may use", parseFloatFlag("--gpu-memory-utilization"), 0.9)
    .option("--tensor-parallel-size <n>", "tensor-parallel ranks", parseIntFlag("--tensor-parallel-size"), 1)
    .option("--max-model-len <n>", "context length (default: the model's max_position_embeddings)", parseIntFlag("--max-model-len"))
    .addOption(new Option("--kv-cache-dtype <dtype>", "KV cache dtype").choices(["auto", "fp8", "fp8_e4m3", "fp8_e5m2", "bfloat16", "float16", "float32"]).default("auto"))
    .option("--block-size <n>", "tokens per KV block", parseIntFlag("--block-size"), 16)
    .addOption(new Option("--dtype <dtype>", "weight dtype (default: the model's)").choices(["auto", "bfloat16", "float16", "float32", "half", "bf16", "fp16", "fp8", "int8", "int4"]))
    .addOption(new Option("--quantization <q>", "weight quantization (default: the checkpoint's quantization_config, else none)").choices(QUANTIZATIONS))
    .option("--max-num-batched-tokens <n>", "token budget per step (default: vLLM serve's for the GPU)", parseIntFlag("--max-num-batched-tokens"))
    .option("--kv-cache-memory <size>", "KV cache bytes per GPU, bypassing the profile arithmetic (vLLM --kv-cache-memory)")
    .option("--num-gpu-blocks-override <n>", "force the number of KV blocks", parseIntFlag("--num-gpu-blocks-override"));
  if (opts.scheduling !== false)
    cmd
      .option("--max-num-seqs <n>", "max running requests (default: vLLM serve's for the GPU)", parseIntFlag("--max-num-seqs"))
      .option("--enable-prefix-caching", "prefix caching (default on)")
      .option("--no-enable-prefix-caching", "disable prefix caching")
      .option("--enable-chunked-prefill", "chunked prefill (default on)")
      .option("--no-enable-chunked-prefill", "disable chunked prefill")
      .option("--long-prefill-token-threshold <n>", "cap prefill chunk size (0 = off)", parseIntFlag("--long-prefill-token-threshold"))
      .addOption(new Option("--scheduling-policy <p>", "waiting-queue policy").choices(["fcfs", "priority"]).default("fcfs"))
      .addOption(new Option("--free-queue-order <o>", "where freed blocks go: append (vLLM 2025) or split (fresh blocks first)").choices(["append", "split"]).default("append"))
      .option("--step-time <s>", "constant engine step time (e.g. 10ms) instead of the cost model")
      .option("--seed <n>", "random seed", parseIntFlag("--seed"), 0);
  else cmd.option("--max-num-seqs <n>", "max running requests (sizes the sampler's profile run)", parseIntFlag("--max-num-seqs"));
  return cmd;
}

export function servingInputFromFlags(f: ServingFlags): ServingConfigInput {
  const input: ServingConfigInput = {
    model: f.model ? loadModelArg(f.model) : undefined,
    gpu: f.gpu,
    gpuMemoryUtilization: f.gpuMemoryUtilization,
    tensorParallelSize: f.tensorParallelSize,
    maxModelLen: f.maxModelLen,
    kvCacheDtype: f.kvCacheDtype as KvCacheDtype | undefined,
    blockSize: f.blockSize,
    dtype: f.dtype === "auto" ? undefined : (f.dtype as WeightDtype | undefined),
    quantization: f.quantization as Quantization | undefined,
    maxNumSeqs: f.maxNumSeqs,
    maxNumBatchedTokens: f.maxNumBatchedTokens,
    enablePrefixCaching: f.enablePrefixCaching,
    enableChunkedPrefill: f.enableChunkedPrefill,
    longPrefillTokenThreshold: f.longPrefillTokenThreshold,
    schedulingPolicy: f.schedulingPolicy as "fcfs" | "priority" | undefined,
    freeQueueOrder: f.freeQueueOrder as "append" | "split" | undefined,
    numGpuBlocksOverride: f.numGpuBlocksOverride,
    seed: f.seed,
  };
  if (f.gpuTotalMemory !== undefined) input.gpuTotalMemoryBytes = parseSize(f.gpuTotalMemory, "--gpu-total-memory");
  if (f.kvCacheMemory !== undefined) input.kvCacheMemoryBytes = parseSize(f.kvCacheMemory, "--kv-cache-memory");
  if (f.stepTime !== undefined) input.stepTimeS = parseDuration(f.stepTime, "--step-time");
  return input;
}
