/** A GPU as vLLM sees it. Sources per preset are kept in gpus.json's `_verified` notes. */
export interface GpuSpec {
  name: string;
  /** Total device memory as torch.cuda.mem_get_info reports it, in bytes (the number vLLM multiplies by util). */
  memoryBytes: number;
  /** HBM bandwidth, bytes/s. */
  hbmBandwidth: number;
  /** Dense bf16 tensor FLOP/s (no sparsity). */
  bf16Flops: number;
  /** Dense fp8 FLOP/s, or null where the GPU has no fp8 tensor cores. */
  fp8Flops: number | null;
  /** Per-GPU interconnect bandwidth (NVLink/Infinity Fabric), bytes/s; PCIe-only cards use their PCIe figure. */
  interconnectBandwidth: number;
}
