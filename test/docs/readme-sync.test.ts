/**
 * README.md is the intro plus the sections kept in docs/readme/*.md (one per area, edited beside the code). A section
 * edited in one place and not the other would leave the README describing old behaviour: each section's text must
 * appear in README.md verbatim (image lines aside — the README shows the screenshot once, at the top).
 */
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url);
const readme = readFileSync(new URL("README.md", root), "utf8");
const sections = readdirSync(new URL("docs/readme/", root)).filter((f) => f.endsWith(".md"));

describe("README.md and docs/readme/*.md", () => {
  it("has a section file per area", () => {
    expect(sections.length).toBeGreaterThanOrEqual(8);
  });
  for (const f of sections) {
    it(`contains docs/readme/${f} verbatim`, () => {
      const text = readFileSync(new URL(`docs/readme/${f}`, root), "utf8")
        .split("\n")
        .filter((l) => !l.startsWith("!["))
        .join("\n")
        .trim();
      // Compare paragraph by paragraph so a failure names the paragraph that drifted.
      for (const para of text.split(/\n\s*\n/)) expect(readme.includes(para.trim()), `README.md lacks this paragraph of ${f}:\n${para.slice(0, 300)}`).toBe(true);
    });
  }
});
