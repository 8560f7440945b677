/**
 * DeepSpeed's model-state memory estimators, mirrored formula for formula so the product can show them beside
 * its own accounting: `estimate_zero2_model_states_mem_needs` (deepspeed/runtime/zero/stage_1_and_2.py) and
 * `estimate_zero3_model_states_mem_needs` (deepspeed/runtime/zero/stage3.py), documented in DeepSpeed's
 * docs/code-docs/source/memory.rst. DeepSpeed prints bytes / 2^30 labelled "GB"; these return bytes.
 *
 * Where they differ from `computeTrainingMemory`: ZeRO-2 counts the fp16 gradients unpartitioned (4Ψ = params +
 * grads) plus 16Ψ/N (fp32 params, grads, m, v); ZeRO-3 counts 18Ψ/N plus 4 × the largest single module
 * (`largest_layer_params`) gathered with its gradient — the accounting's `hf-mixed` precision with one unit in
 * flight and `fsdpUnitParams` set to that module gives the same GPU figure (tested).
 */
export const DS_ADDITIONAL_BUFFER_FACTOR = 1.5;

export interface DeepspeedEstimate {
  /** Options, as DeepSpeed's table prints them. */
  options: string;
  gpuBytes: number;
  cpuBytes: number;
}

export function deepspeedZero2Estimate(totalParams: number, numGpusPerNode: number, numNodes: number): DeepspeedEstimate[] {
  const totalGpus = numNodes * numGpusPerNode;
  const f = DS_ADDITIONAL_BUFFER_FACTOR;
  return [
    {
      options: "offload_optimizer=cpu",
      gpuBytes: 2 * totalParams,
      cpuBytes: totalParams * Math.max(4 * totalGpus, 16) * f,
    },
    {
      options: "offload_optimizer=none",
      gpuBytes: 4 * totalParams + Math.trunc((16 * totalParams) / totalGpus),
      cpuBytes: totalParams * 4 * numGpusPerNode * f,
    },
  ];
}

export function deepspeedZero3Estimate(
  totalParams: number,
  largestLayerParams: number,
  numGpusPerNode: number,
  numNodes: number,
): DeepspeedEstimate[] {
  const totalGpus = numNodes * numGpusPerNode;
  const gpusFactor = 1 / numNodes;
  const f = DS_ADDITIONAL_BUFFER_FACTOR;
  const largest = 4 * largestLayerParams;
  const out: DeepspeedEstimate[] = [];
  for (const [offloadParam, offloadOpt] of [
    [true, true],
    [false, true],
    [false, false],
  ] as const) {
    for (const zeroInit of [true, false]) {
      let gpu: number;
      let cpu: number;
      if (offloadParam && offloadOpt) {
        gpu = largest;
        cpu = zeroInit ? totalParams * 18 * gpusFactor * f : totalParams * Math.max(4 * numGpusPerNode, 18 * gpusFactor) * f;
      } else if (offloadOpt) {
        gpu = largest + Math.trunc((2 * totalParams) / totalGpus);
        cpu = zeroInit ? totalParams * 16 * gpusFactor * f : totalParams * Math.max(4 * numGpusPerNode, 16 * gpusFactor) * f;
      } else {
        gpu = largest + Math.trunc((18 * totalParams) / totalGpus);
        cpu = zeroInit ? largestLayerParams * 4 * numGpusPerNode * f : totalParams * 4 * numGpusPerNode * f;
      }
      out.push({
        options: `offload_param=${offloadParam ? "cpu " : "none"}, offload_optimizer=${offloadOpt ? "cpu " : "none"}, zero_init=${zeroInit ? 1 : 0}`,
        gpuBytes: gpu,
        cpuBytes: cpu,
      });
    }
  }
  return out;
}
