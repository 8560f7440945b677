import { describe, expect, it } from "vitest";
import { isUserError } from "../../sim/errors.ts";
import { listGpus, resolveGpu, withTotalMemory } from "../../sim/hardware/registry.ts";
import gpus from "../../sim/hardware/gpus.json" with { type: "json" };
import { parseSize } from "../../sim/units.ts";

describe("GPU presets", () => {
  it("lists gpus.json's keys", () => {
    expect(listGpus()).toEqual(Object.keys(gpus.gpus));
  });
  it("H100-SXM-80GB in bytes and per-second units", () => {
    const g = resolveGpu("h100-sxm-80gb");
    expect(g.name).toBe("H100-SXM-80GB");
    // 79.19 GiB × 2^30 = 85,029,615,042.56 → 85,029,615,043 B (torch total_memory 81,089 MiB ≈ 79.19 GiB).
    expect(g.memoryBytes).toBe(85_029_615_043);
    expect(g.hbmBandwidth).toBe(3.35e12);
    expect(g.bf16Flops).toBe(989e12);
    expect(g.fp8Flops).toBe(1979e12);
    expect(g.interconnectBandwidth).toBe(900e9);
  });
  it("GPUs without fp8 tensor cores report null; PCIe-only cards fall back to a PCIe figure", () => {
    const a100 = resolveGpu("A100-SXM-80GB");
    expect(a100.fp8Flops).toBeNull();
    expect(resolveGpu("L40S-48GB").interconnectBandwidth).toBe(32e9);
  });
  it("RTX-3090 memory is the vLLM log's 23.58 GiB", () => {
    expect(resolveGpu("RTX-3090-24GB").memoryBytes / 2 ** 30).toBeCloseTo(23.58, 6);
  });
  it("unknown GPU lists close names", () => {
    try {
      resolveGpu("H100");
      expect.unreachable();
    } catch (e) {
      expect(isUserError(e)).toBe(true);
      expect((e as Error).message).toMatch(/^unknown GPU H100; did you mean H100-/);
      expect((e as Error).message).toContain("H100-SXM-80GB");
    }
  });
  it("withTotalMemory overrides memory only (--gpu-total-memory 24GiB)", () => {
    const g = withTotalMemory(resolveGpu("H100-SXM-80GB"), parseSize("24GiB"));
    expect(g.memoryBytes).toBe(25_769_803_776);
    expect(g.hbmBandwidth).toBe(3.35e12);
    expect(() => withTotalMemory(g, 0)).toThrow(/--gpu-total-memory/);
  });
  it("passes a GpuSpec through", () => {
    const g = resolveGpu("L4-24GB");
    expect(resolveGpu(g)).toBe(g);
  });
});
