import { closestNames, UserError } from "../errors.ts";
import { GiB } from "../units.ts";
import gpus from "./gpus.json" with { type: "json" };
import type { GpuSpec } from "./types.ts";

/** One entry of gpus.json, in the file's units (GiB, GB/s, TFLOPS). */
interface GpuEntry {
  memoryGiB: number;
  hbmBandwidthGBs: number;
  bf16Tflops: number;
  fp8Tflops: number | null;
  nvlinkGBs: number | null;
}

/**
 * PCIe bandwidth used as the interconnect of cards without NVLink (PCIe 4.0 x16, 32 GB/s per direction;
 * L40S/L4/RTX cards). An assumption, not a per-card datasheet figure.
 */
export const PCIE_FALLBACK_GBS = 32;

const ENTRIES = gpus.gpus as unknown as Record<string, GpuEntry>;
const KEYS = Object.keys(ENTRIES);
const BY_LOWER = new Map(KEYS.map((k) => [k.toLowerCase(), k]));

/** GPU preset names exactly as in gpus.json. */
export function listGpus(): string[] {
  return [...KEYS];
}

/**
 * A GPU preset by name (case-insensitive) in SI units: memory GiB × 2^30 → bytes (what torch.cuda.mem_get_info
 * reports as total), GB/s × 1e9, TFLOPS × 1e12. A GpuSpec passes through. Unknown names throw UserError listing the
 * closest preset names.
 */
export function resolveGpu(nameOrSpec: string | GpuSpec): GpuSpec {
  if (typeof nameOrSpec !== "string") return nameOrSpec;
  const key = BY_LOWER.get(nameOrSpec.trim().toLowerCase());
  if (key === undefined)
    throw new UserError(`unknown GPU ${nameOrSpec}; did you mean ${closestNames(nameOrSpec, KEYS).join(", ")}?`, {
      field: "--gpu",
    });
  const e = ENTRIES[key];
  return {
    name: key,
    memoryBytes: Math.round(e.memoryGiB * GiB),
    hbmBandwidth: e.hbmBandwidthGBs * 1e9,
    bf16Flops: e.bf16Tflops * 1e12,
    fp8Flops: e.fp8Tflops === null ? null : e.fp8Tflops * 1e12,
    interconnectBandwidth: (e.nvlinkGBs ?? PCIE_FALLBACK_GBS) * 1e9,
  };
}

/** The same GPU with its total memory replaced (`--gpu-total-memory SIZE`). */
export function withTotalMemory(gpu: GpuSpec, bytes: number): GpuSpec {
  if (!Number.isFinite(bytes) || bytes <= 0)
    throw new UserError(`--gpu-total-memory must be a positive size, got ${bytes} bytes`, { field: "--gpu-total-memory" });
  return { ...gpu, memoryBytes: Math.round(bytes) };
}
