import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { loadTrace } from "../../cli/io/trace-file.ts";
import { isUserError } from "../../sim/errors.ts";
import { MAX_KEPT_ISSUES, detectFormat, linesFromChunks, parseTraceText } from "../../sim/traces/index.ts";
import { userErrorOf } from "./helpers.ts";

const AZ = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
const f = { fileName: "t.csv" };

describe("bad input: each case names file:line, the field, what was expected and what was found", () => {
  it("empty file", () => {
    expect(userErrorOf("", f)).toBe("t.csv: empty trace (no lines to read)");
    expect(userErrorOf("\n  \n\r\n", f)).toBe("t.csv: empty trace (no lines to read)");
    expect(() => detectFormat([], "x.csv")).toThrow("x.csv: empty trace");
  });

  it("header only", () => {
    expect(userErrorOf(AZ, f)).toBe("t.csv: no data rows after the header");
    expect(userErrorOf("[]\n", { fileName: "s.json", format: "sharegpt" })).toBe("s.json: no data rows (the JSON document lists no requests)");
  });

  it("wrong delimiter (tab-separated Azure file)", () => {
    const tsv = "TIMESTAMP\tContextTokens\tGeneratedTokens\n2023-11-16 18:17:03.9799600\t4808\t10\n";
    expect(userErrorOf(tsv, f)).toMatch(/^t\.csv:1: cannot detect the trace format .*it looks tab-separated/);
    expect(userErrorOf(tsv, { ...f, format: "azure" })).toMatch(
      /^t\.csv:1: header mismatch: expected columns TIMESTAMP,ContextTokens,GeneratedTokens \(missing TIMESTAMP, ContextTokens, GeneratedTokens\).*looks tab-separated/,
    );
  });

  it("header mismatch when the format is forced", () => {
    const burst = "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n5,ChatGPT,472,18,490,Conversation log\n";
    expect(userErrorOf(burst, { ...f, format: "azure" })).toMatch(
      /^t\.csv:1: header mismatch: expected columns TIMESTAMP,ContextTokens,GeneratedTokens \(missing ContextTokens, GeneratedTokens\), found "Timestamp,Model/,
    );
    expect(userErrorOf(AZ + "2023-11-16 18:17:03.9799600,1,1\n", { ...f, format: "burstgpt" })).toMatch(
      /^t\.csv:1: header mismatch: expected BurstGPT columns .*missing Model, Request tokens, Response tokens/,
    );
  });

  it("unknown content", () => {
    expect(userErrorOf("hello world\n", f)).toMatch(/^t\.csv:1: cannot detect the trace format from line 1 "hello world"/);
    expect(userErrorOf('{"foo": 1}\n', f)).toMatch(/^t\.csv:1: cannot detect the trace format from JSON keys "foo"/);
  });

  const text = AZ + "2023-11-16 18:17:03.0,100,10\n2023-11-16 18:17:04.0,-5,10\n2023-11-16 18:17:05.0,100,2.5\n2023-11-16 18:17:06.0,100\n";

  it("negative, non-integer counts and short rows are skipped with counted issues", () => {
    const { requests, report } = parseTraceText(text, f);
    expect(requests.length).toBe(1);
    expect(report).toMatchObject({ rows: 4, accepted: 1, skipped: 3 });
    expect(report.issues).toEqual([
      { location: "t.csv:3", field: "ContextTokens", message: 'ContextTokens: expected a positive token count, found "-5"' },
      { location: "t.csv:4", field: "GeneratedTokens", message: 'GeneratedTokens: expected an integer token count, found "2.5"' },
      { location: "t.csv:5", field: undefined, message: "expected 3 comma-separated fields, found 2" },
    ]);
  });

  it("--strict fails on the first bad line", () => {
    expect(userErrorOf(text, { ...f, strict: true })).toBe('t.csv:3: ContextTokens: expected a positive token count, found "-5"');
  });

  it("timestamps going backwards: the row is skipped (strict: rejected), never re-sorted", () => {
    const back = AZ + "2023-11-16 18:17:03.5,100,10\n2023-11-16 18:17:05.0,200,10\n2023-11-16 18:17:04.0,300,10\n2023-11-16 18:17:06.0,400,10\n";
    const { requests, report } = parseTraceText(back, f);
    expect(requests.map((r) => r.promptTokens)).toEqual([100, 200, 400]);
    expect(report.sorted).toBe(false);
    expect(report.issues[0]).toEqual({
      location: "t.csv:4",
      field: "timestamp",
      message: "timestamp: goes backwards: 0.5 s after the first request, earlier than the previous row's 1.5 s (rows must be in time order)",
    });
    expect(userErrorOf(back, { ...f, strict: true })).toMatch(/^t\.csv:4: timestamp: goes backwards/);
    const nat = '{"arrival":1,"promptTokens":5,"outputTokens":5}\n{"arrival":0.5,"promptTokens":5,"outputTokens":5}\n';
    expect(userErrorOf(nat, { fileName: "n.jsonl", strict: true })).toMatch(/^n\.jsonl:2: arrival: goes backwards/);
  });

  it("values past max_model_len are counted as vLLM rejections but still yielded", () => {
    // prompt + output: 110, 4096 + 1 = 4097 (> 4096), 4000 + 96 = 4096 (not over).
    const t = AZ + "2023-11-16 18:17:03.0,100,10\n2023-11-16 18:17:04.0,4096,1\n2023-11-16 18:17:05.0,4000,96\n";
    const { requests, report } = parseTraceText(t, { ...f, maxModelLen: 4096 });
    expect(requests.length).toBe(3);
    expect(report.overMaxModelLen).toBe(1);
  });

  it("invalid dates and times", () => {
    const { report } = parseTraceText(AZ + "2023-11-16 18:17:03.0,1,1\n2023-02-30 00:00:00,1,1\n2023-11-16 24:00:00,1,1\n16/11/2023 18:17,1,1\n", f);
    expect(report.issues.map((i) => i.message)).toEqual([
      'TIMESTAMP: not a valid date-time: "2023-02-30 00:00:00"',
      'TIMESTAMP: not a valid date-time: "2023-11-16 24:00:00"',
      'TIMESTAMP: expected a date-time like 2023-11-16 18:17:03.9799600 or 2024-05-10 00:00:00.123456+00:00, found "16/11/2023 18:17"',
    ]);
  });

  it("JSONL: invalid JSON, missing fields (with a suggestion), wrong types", () => {
    const mc =
      '{"timestamp": 0, "input_length": 10, "output_length": 5, "hash_ids": [0]}\n' +
      '{"timestamp": 10, "input_length": 10, "output_length": 5, "hash_ids": [0]\n' +
      '{"timestamp": 20, "input_len": 10, "output_length": 5}\n' +
      '{"timestamp": 30, "input_length": 10, "output_length": 5, "hash_ids": [0, -1]}\n' +
      '[1, 2]\n';
    const { report } = parseTraceText(mc, { fileName: "m.jsonl" });
    expect(report.format).toBe("mooncake");
    expect(report.issues.map((i) => `${i.location} ${i.message}`)).toEqual([
      expect.stringMatching(/^m\.jsonl:2 not valid JSON \(/),
      'm.jsonl:3 input_length: missing field "input_length" (found "timestamp", "input_len", "output_length"; did you mean "input_len"?)',
      "m.jsonl:4 hash_ids: element 1: expected a non-negative integer block id, found -1",
      "m.jsonl:5 expected a JSON object per line, found [1,2]",
    ]);
  });

  it("whole-file JSON syntax errors name the line", () => {
    const sg = '[\n  {"id": "a", "conversations": [\n    {"from": "human", "value": "hi"},\n    {"from": "gpt" "value": "yo"}\n  ]}\n]\n';
    expect(userErrorOf(sg, { fileName: "s.json" })).toMatch(/^s\.json:4: not valid JSON/);
  });

  it("every bad row is counted, only the first 20 are kept", () => {
    let t = AZ;
    for (let i = 0; i < 30; i++) t += `2023-11-16 18:17:${String(10 + i).padStart(2, "0")}.0,x,1\n`;
    t += "2023-11-16 18:18:00.0,5,1\n";
    const { report } = parseTraceText(t, f);
    expect(report.skipped).toBe(30);
    expect(report.issues.length).toBe(MAX_KEPT_ISSUES);
    expect(report.accepted).toBe(1);
  });

  it("a file of only bad rows is an error, not an empty workload", () => {
    expect(userErrorOf(AZ + "2023-11-16 18:17:03.0,x,1\n", f)).toBe(
      't.csv: all 1 rows are invalid; first: t.csv:2: ContextTokens: expected an integer token count, found "x"',
    );
  });

  it("--filter-model: unknown model gets a suggestion; formats without a model column refuse it", () => {
    const b = readFileSync(new URL("../../traces/burstgpt-1-first400.csv", import.meta.url), "utf8");
    expect(userErrorOf(b, { fileName: "b.csv", filterModel: "GPT4" })).toBe(
      '--filter-model: no row of b.csv has model "GPT4"; models present: ChatGPT, GPT-4 (did you mean "GPT-4"?)',
    );
    expect(userErrorOf(AZ + "2023-11-16 18:17:03.0,1,1\n", { ...f, filterModel: "x" })).toBe(
      "--filter-model: the azure format has no model column (only burstgpt and native do)",
    );
  });

  it("bad shaping options", () => {
    expect(userErrorOf(AZ, { ...f, maxRequests: 0 })).toBe("--max-requests: expected a positive integer, got 0");
    expect(userErrorOf(AZ, { ...f, rateScale: -1 })).toBe("--rate-scale: expected a positive number, got -1");
  });

  it("truncated gzip is a UserError naming the file", async () => {
    const gz = gzipSync(Buffer.from(AZ + "2023-11-16 18:17:03.0,100,10\n".repeat(1000)));
    const cut = gz.subarray(0, Math.floor(gz.length / 2));
    async function* chunks() {
      yield new Uint8Array(cut);
    }
    const err = await (async () => {
      try {
        for await (const _ of linesFromChunks(chunks(), true, "cut.csv.gz"));
      } catch (e) {
        return e;
      }
    })();
    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toMatch(/^cut\.csv\.gz: gzip data is truncated or corrupt/);

    const dir = mkdtempSync(join(tmpdir(), "vramscope-traces-"));
    const p = join(dir, "cut.csv.gz");
    writeFileSync(p, cut);
    await expect(loadTrace(p)).rejects.toThrow(`${p}: gzip data is truncated or corrupt`);
  });

  it("a missing file suggests embedded samples", async () => {
    await expect(loadTrace("azure-2023-cnv")).rejects.toThrow(/trace file not found: azure-2023-cnv \(embedded samples: did you mean .*azure-2023-conv/);
  });
});
