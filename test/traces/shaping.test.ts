import { describe, expect, it } from "vitest";
import { parseTimeWindow } from "../../sim/traces/index.ts";
import { load, sum } from "./helpers.ts";

describe("workload shaping", () => {
  it("--time-window 600:1200 keeps [600, 1200) s and re-bases arrivals to START", async () => {
    // python (Decimal arrivals of azure-2023-conv.csv): 3118 rows with 600 ≤ a < 1200; first a−600 = 0.1976360,
    // last a−600 = 599.7487910; token sums 3595428 / 766129.
    const { requests, report } = await load("azure-2023-conv.csv", { timeWindow: [600, 1200] });
    expect(requests.length).toBe(3118);
    expect(requests[0].arrival).toBeCloseTo(0.197636, 9);
    expect(requests.at(-1)!.arrival).toBeCloseTo(599.748791, 9);
    expect(sum(requests, "promptTokens")).toBe(3595428);
    expect(sum(requests, "outputTokens")).toBe(766129);
    expect(report.stoppedEarly).toBe(true); // reading stopped at the first arrival ≥ 1200 s
  });

  it("--rate-scale 2 halves every arrival", async () => {
    const { requests } = await load("azure-2023-conv.csv", { rateScale: 2 });
    expect(requests.length).toBe(19366);
    expect(requests.at(-1)!.arrival).toBe(3501.721937 / 2);
    expect(requests[1].arrival).toBe(4.314579 / 2);
  });

  it("--max-requests stops reading after N", async () => {
    const { requests, report } = await load("azure-2023-code.csv", { maxRequests: 10 });
    expect(requests.length).toBe(10);
    expect(report.stoppedEarly).toBe(true);
    expect(report.rows).toBeLessThan(8819);
  });

  it("--filter-model GPT-4 on BurstGPT v1", async () => {
    // awk -F, 'NR>1 && $4>0 && $2=="GPT-4" {n++; p+=$3; o+=$4; if(!f)f=$1; last=$1} END{print n,p,o,f,last}'
    //   → 77 42012 18288 118 37274 (arrivals re-based to the file's first row, Timestamp 5)
    const { requests, report } = await load("burstgpt-1-first400.csv", { filterModel: "gpt-4" });
    expect(requests.length).toBe(77);
    expect(sum(requests, "promptTokens")).toBe(42012);
    expect(sum(requests, "outputTokens")).toBe(18288);
    expect(requests[0].arrival).toBe(113);
    expect(requests.at(-1)!.arrival).toBe(37269);
    // 400 rows = 77 accepted + 17 failed + 306 other-model rows.
    expect(report.filtered).toBe(306);
    expect(report.rows).toBe(report.accepted + report.skipped + report.dropped! + report.filtered!);
  });

  it("window, scale and max requests compose in that order", async () => {
    const { requests } = await load("azure-2023-conv.csv", { timeWindow: [600, 1200], rateScale: 4, maxRequests: 3118 });
    expect(requests.length).toBe(3118);
    expect(requests.at(-1)!.arrival).toBeCloseTo(599.748791 / 4, 9);
  });

  it("a window past the end of the trace is an error that says where the trace ends", async () => {
    await expect(load("azure-2023-conv.csv", { timeWindow: [5000, 6000] })).rejects.toThrow(
      /azure-2023-conv\.csv: no requests left to replay \(19366 rows read: 19366 outside the filters\); --time-window 5000:6000 selects none \(the last arrival read is at 3501\.721937 s\)/,
    );
  });

  it("parses --time-window text", () => {
    expect(parseTimeWindow("600:1200")).toEqual([600, 1200]);
    expect(parseTimeWindow("10min:1h")).toEqual([600, 3600]);
    expect(parseTimeWindow(":30")).toEqual([0, 30]);
    expect(parseTimeWindow("30:")).toEqual([30, Infinity]);
    expect(() => parseTimeWindow("20:10")).toThrow("--time-window: expected START:END");
    expect(() => parseTimeWindow("abc")).toThrow("--time-window");
  });
});
