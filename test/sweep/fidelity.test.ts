import { describe, expect, it } from "vitest";
import { printedTolerance, publishedFigures } from "../fixtures/published.ts";

/**
 * Every published figure in docs/fidelity.md, asserted within the tolerance the report prints (the same table
 * scripts/fidelity.ts renders). The article's known slips (tolerance ∞) are listed, not matched.
 */
describe("fidelity table", () => {
  const rows = publishedFigures();

  it("covers every source the report promises", () => {
    const sections = new Set(rows.map((r) => r.section.replace(/ \(.*$/, "")));
    for (const s of ["vLLM logged KV capacity", "Step time", "ZeRO paper", "DeepSpeed memory estimator", "Korthikanti et al. 2022, GPT-3 175B layer", "HF Transformers “Model training anatomy”", "The article"])
      expect([...sections].some((x) => x.startsWith(s))).toBe(true);
  });

  for (const r of rows.filter((x) => Number.isFinite(x.tolerance)))
    it(`${r.section}: ${r.item} — published ${r.publishedText}, within ${(r.tolerance * 100).toFixed(1)}%`, () => {
      const got = r.compute();
      expect(Math.abs(got / r.published - 1)).toBeLessThanOrEqual(r.tolerance);
    });

  it("printed-digit tolerance: half a unit of the last digit", () => {
    // "0.12" → 0.005 / 0.12 = 4.17 %; "120" → 0.5 / 120 = 0.42 %.
    expect(printedTolerance("0.12")).toBeCloseTo(0.041667, 5);
    expect(printedTolerance("120")).toBeCloseTo(0.0041667, 6);
  });
});
