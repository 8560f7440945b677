import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderFidelity } from "../../scripts/fidelity.ts";

describe("docs/fidelity.md", () => {
  it("is current: regenerate with `node --import tsx scripts/fidelity.ts` after changing a model or a published figure", () => {
    const onDisk = readFileSync(join(import.meta.dirname, "..", "..", "docs", "fidelity.md"), "utf8");
    expect(onDisk).toBe(renderFidelity());
  });
});
