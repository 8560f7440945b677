import { describe, expect, it } from "vitest";
import { parseTraceText } from "../../sim/traces/index.ts";

const arrivals = (...ts: string[]) =>
  parseTraceText("TIMESTAMP,ContextTokens,GeneratedTokens\n" + ts.map((t) => `${t},1,1`).join("\n"), { fileName: "a.csv", strict: true })
    .requests.map((r) => r.arrival);

describe("Azure timestamps → exact arrival seconds", () => {
  it("7-digit fractions (2023) keep 100 ns resolution", () => {
    expect(arrivals("2023-11-16 18:17:03.9799600", "2023-11-16 18:17:03.9799601", "2023-11-16 18:17:04.0319600")).toEqual([0, 1e-7, 0.052]);
  });

  it("a week-long span has no float drift: the result is the double nearest the exact decimal", () => {
    // 2024-05-16 23:59:59.999999 − 2024-05-10 00:00:00.000001 = 6 d 23:59:59.999998 = 604799.999998 s exactly.
    expect(arrivals("2024-05-10 00:00:00.000001+00:00", "2024-05-16 23:59:59.999999+00:00")).toEqual([0, 604799.999998]);
    // Naive epoch-seconds doubles get this wrong (documented here so the test shows why the integer path exists):
    const naive = (Date.UTC(2024, 4, 16, 23, 59, 59) / 1000 + 0.999999) - (Date.UTC(2024, 4, 10) / 1000 + 0.000001);
    expect(naive).not.toBe(604799.999998);
  });

  it("+00:00 offsets, other offsets, Z, and rows without a fraction", () => {
    expect(arrivals("2024-05-10 00:00:00+00:00", "2024-05-10 02:00:00.5+02:00", "2024-05-10T00:00:01Z", "2024-05-10 00:00:02")).toEqual([
      0, 0.5, 1, 2,
    ]);
  });

  it("crosses midnight, month ends and leap days", () => {
    // 2024-02-28 23:59:59.5 → 2024-02-29 00:00:00 (+0.5) → 2024-03-01 00:00:00 (+86400.5)
    expect(arrivals("2024-02-28 23:59:59.5", "2024-02-29 00:00:00", "2024-03-01 00:00:00")).toEqual([0, 0.5, 86400.5]);
    expect(() => arrivals("2023-02-28 00:00:00", "2023-02-29 00:00:00")).toThrow('a.csv:3: TIMESTAMP: not a valid date-time: "2023-02-29 00:00:00"');
  });

  it("CRLF line ends and no final newline (the 2023 files)", () => {
    const text = "TIMESTAMP,ContextTokens,GeneratedTokens\r\n2023-11-16 18:17:03.9799600,4808,10\r\n2023-11-16 18:17:04.0319600,3180,8";
    const { requests } = parseTraceText(text, {});
    expect(requests).toEqual([
      { arrival: 0, promptTokens: 4808, outputTokens: 10, source: "<input>:2" },
      { arrival: 0.052, promptTokens: 3180, outputTokens: 8, source: "<input>:3" },
    ]);
  });
});
