import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { bundled } from "../../server/runs/bundle.ts";

describe("worker bundles", () => {
  it("bundles a TypeScript module to one plain-JS file in the temp folder, once", async () => {
    const src = new URL("./fixtures/failing-sim.ts", import.meta.url);
    const file = await bundled(src);
    expect(file).not.toBeNull();
    const path = fileURLToPath(file!);
    expect(path.startsWith(tmpdir())).toBe(true);
    expect(path).toMatch(/vramscope-failing-sim-[0-9a-f]{16}\.mjs$/);
    expect(existsSync(path)).toBe(true);
    expect(await bundled(src)).toBe(file); // memoised per process
    const mod = (await import(file!.href)) as typeof import("./fixtures/failing-sim.ts");
    const sim = mod.createSimulation({ mode: "throw" });
    expect(sim.step()).toBe(true);
    expect(sim.step()).toBe(true);
    expect(() => sim.step()).toThrow("simulated engine bug at step 3");
  });
});
