import type { AnyRecording } from "./recording.ts";

/**
 * The JSON summary export: what the run was (model, GPU, the flags that shape memory), the startup budget and the
 * replay report — the same object `vramscope replay --json` prints, plus the config, so a saved file is
 * self-describing. For training/RL timelines: the peak sample and the timeline's own summary.
 */
export function toJsonSummary(rec: AnyRecording): Record<string, unknown> {
  if (rec.kind === "serving") {
    const c = rec.config;
    return {
      kind: "serving",
      label: rec.label,
      config: {
        model: c.model.name,
        gpu: c.gpu.name,
        tensorParallelSize: c.tensorParallelSize,
        dtype: c.dtype,
        quantization: c.quantization,
        kvCacheDtype: c.kvCacheDtype,
        gpuMemoryUtilization: c.gpuMemoryUtilization,
        maxModelLen: c.maxModelLen,
        blockSize: c.blockSize,
        maxNumSeqs: c.maxNumSeqs,
        maxNumBatchedTokens: c.maxNumBatchedTokens,
        enablePrefixCaching: c.enablePrefixCaching,
        enableChunkedPrefill: c.enableChunkedPrefill,
        schedulingPolicy: c.schedulingPolicy,
        seed: c.seed,
      },
      budget: rec.budget,
      summary: rec.summary,
    };
  }
  let peak = -1;
  let peakIndex = -1;
  rec.samples.forEach((s, i) => {
    const total = Object.values(s.components).reduce((a, b) => a + b, 0);
    if (total > peak) {
      peak = total;
      peakIndex = i;
    }
  });
  return {
    kind: "timeline",
    label: rec.label,
    samples: rec.samples.length,
    peakBytes: peak < 0 ? 0 : peak,
    peakSample: peakIndex < 0 ? null : rec.samples[peakIndex],
    ...(rec.summary ? { summary: rec.summary } : {}),
  };
}
