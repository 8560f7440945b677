import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseTraceText, toNativeLine, type TraceRequest } from "../../sim/traces/index.ts";
import { parseAzureTimestamp } from "../../sim/traces/clock.ts";

const pad = (n: number, w: number) => String(n).padStart(w, "0");

/** Formats epoch 100-ns ticks the way the 2023 Azure files do: `YYYY-MM-DD HH:MM:SS.fffffff`. */
function azure2023(ticks: bigint): string {
  const sec = Number(ticks / 10_000_000n);
  const frac = Number(ticks % 10_000_000n);
  const d = new Date(sec * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(frac, 7)}`;
}

describe("properties", () => {
  it("Azure arrivals equal the exact tick difference / 1e7 for any pair within 60 days", () => {
    const start = 17_000_000_000_000_000n; // 2023-11-14 in 100-ns ticks
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 13n }), fc.bigInt({ min: 0n, max: 6n * 10n ** 13n }), (a, gap) => {
        const t0 = start + a, t1 = t0 + gap;
        const text = `TIMESTAMP,ContextTokens,GeneratedTokens\n${azure2023(t0)},1,1\n${azure2023(t1)},1,1\n`;
        const { requests } = parseTraceText(text, { strict: true });
        // Number(gap) is exact (< 2^53) and one division rounds once: the double nearest the exact decimal.
        expect(requests[1].arrival).toBe(Number(gap) / 1e7);
      }),
      { numRuns: 2000 },
    );
  });

  it("the fast and the regex timestamp paths agree (leading space forces the slow one)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n * 10n ** 17n }), fc.constantFrom("", "+00:00", "Z"), (ticks, zone) => {
        const s = azure2023(ticks) + zone;
        expect(parseAzureTimestamp(s)).toEqual(parseAzureTimestamp(" " + s));
      }),
      { numRuns: 2000 },
    );
  });

  it("native JSONL round-trips any sorted list of requests exactly", () => {
    const req = fc.record(
      {
        arrival: fc.double({ min: 0, max: 1e7, noNaN: true }),
        promptTokens: fc.integer({ min: 1, max: 1_000_000 }),
        outputTokens: fc.integer({ min: 1, max: 100_000 }),
        hashIds: fc.array(fc.nat(), { maxLength: 8 }),
        hashBlockTokens: fc.integer({ min: 1, max: 1024 }),
        priority: fc.integer({ min: -5, max: 5 }),
        sessionId: fc.string(),
        model: fc.string(),
        numImages: fc.nat(10),
      },
      { requiredKeys: ["arrival", "promptTokens", "outputTokens"] },
    ).chain((r) =>
      // hashIdsCoverOutput qualifies hashIds: it is written (and means something) only beside them.
      r.hashIds ? fc.boolean().map((cover): TraceRequest => (cover ? { ...r, hashIdsCoverOutput: true } : r)) : fc.constant<TraceRequest>(r),
    );
    fc.assert(
      fc.property(fc.array(req, { minLength: 1, maxLength: 30 }), (reqs) => {
        const sorted = [...reqs].sort((a, b) => a.arrival - b.arrival) as TraceRequest[];
        const text = sorted.map(toNativeLine).join("\n");
        const { requests } = parseTraceText(text, { fileName: "r.jsonl", strict: true });
        expect(requests.map(({ source: _s, ...r }) => r)).toEqual(sorted);
      }),
      { numRuns: 300 },
    );
  });
});
