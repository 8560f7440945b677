import type { Command } from "commander";
import { computeKvBudget } from "../../sim/serving/budget.ts";
import { resolveServingConfig } from "../../sim/serving/config.ts";
import { formatGiB } from "../../sim/units.ts";
import { action, printJson } from "../common.ts";
import { addServingFlags, servingInputFromFlags, type ServingFlags } from "../serving-flags.ts";

export function register(program: Command): void {
  const cmd = program
    .command("capacity")
    .description("vLLM's startup memory arithmetic: weights, activation peak, non-torch, KV blocks and the log lines")
    .option("--json", "print one JSON object");
  addServingFlags(cmd, { scheduling: false });
  cmd.action(
    action((flags: ServingFlags & { json?: boolean }) => {
      const config = resolveServingConfig(servingInputFromFlags(flags));
      const b = computeKvBudget(config);
      if (flags.json) {
        printJson({
          model: config.model.name,
          gpu: config.gpu.name,
          tensorParallelSize: config.tensorParallelSize,
          gpuMemoryUtilization: config.gpuMemoryUtilization,
          maxModelLen: b.maxModelLen,
          maxNumBatchedTokens: config.maxNumBatchedTokens,
          maxNumSeqs: config.maxNumSeqs,
          blockSize: b.blockSize,
          totalBytes: b.totalBytes,
          requestedBytes: b.requestedBytes,
          weightsBytes: b.weightsBytes,
          activationPeakBytes: b.activationPeakBytes,
          nonTorchBytes: b.nonTorchBytes,
          kvCacheBytes: b.kvCacheBytes,
          kvBytesPerToken: b.kvBytesPerToken,
          blockBytes: b.blockBytes,
          numGpuBlocks: b.numGpuBlocks,
          kvCacheTokens: b.kvCacheTokens,
          maxConcurrency: b.maxConcurrency,
          kvCacheGroups: b.kvCacheGroups,
          cudaGraphBytes: b.cudaGraphBytes,
          logLines: b.logLines,
          notes: b.notes,
        });
        return;
      }
      const row = (k: string, v: string) => process.stdout.write(`  ${k.padEnd(34)} ${v}\n`);
      process.stdout.write(`${config.model.name} on ${config.gpu.name}${config.tensorParallelSize > 1 ? ` × TP${config.tensorParallelSize}` : ""} (per GPU)\n`);
      row("total GPU memory", formatGiB(b.totalBytes));
      row(`× gpu_memory_utilization ${config.gpuMemoryUtilization}`, formatGiB(b.requestedBytes));
      // The checkpoint's quantization applies when --quantization is not given (gpt-oss: mxfp4): say which one sized it.
      row(`− model weights${config.quantization === "none" ? "" : ` (${config.quantization})`}`, formatGiB(b.weightsBytes));
      row(`− activation peak (${config.maxNumBatchedTokens} tok)`, formatGiB(b.activationPeakBytes));
      row("− non-torch memory", formatGiB(b.nonTorchBytes));
      row("= KV cache", formatGiB(b.kvCacheBytes));
      row("KV per token (all layers)", `${b.kvBytesPerToken.toLocaleString("en-US")} B`);
      row("blocks", `${b.numGpuBlocks.toLocaleString("en-US")} × ${b.blockSize} tokens`);
      process.stdout.write(`vLLM would log:\n`);
      for (const l of b.logLines) process.stdout.write(`  ${l}\n`);
      for (const n of b.notes) process.stdout.write(`note: ${n}\n`);
    }),
  );
}
