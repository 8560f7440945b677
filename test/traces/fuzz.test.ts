import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";
import { isUserError } from "../../sim/errors.ts";
import { Rng, TRACE_FORMATS, linesFromChunks, parseTraceText, readTrace, type TraceOptions } from "../../sim/traces/index.ts";
import { sample } from "./helpers.ts";

/** The first lines of every embedded sample: the seeds the mutations start from. */
function seeds(): { name: string; text: string }[] {
  const names = [
    "azure-2023-code.csv", "azure-2023-conv.csv", "burstgpt-1-first400.csv", "burstgpt-3-first100.csv",
    "mooncake-conversation-first2000.jsonl", "vidur-splitwise-conv-first2000.csv",
    "vidur-arxiv-summarization-lengths-first2000.csv", "azure-2024-style.csv", "azure-multimodal-2025-style.csv",
    "bailian-style.jsonl", "native-sample.jsonl", "sharegpt-handwritten.json", "vllm-bench-requests.json",
  ];
  const out = names.map((name) => ({ name, text: readFileSync(sample(name), "utf8").split("\n").slice(0, 40).join("\n") }));
  out.push({ name: "mooncake-synthetic.jsonl.gz", text: gunzipSync(readFileSync(sample("mooncake-synthetic.jsonl.gz"))).toString("utf8").split("\n").slice(0, 20).join("\n") });
  return out;
}

const ALPHABET = ['"', ",", "{", "}", "[", "]", ":", "-", ".", "0", "9", "e", "x", " ", "\n", "\r", "\t", "\\", "\uFEFF", "é", "1e400", "-1", "NaN", "null"];

/** One random edit: delete/insert/replace characters, duplicate/swap/drop lines, truncate, or swap a number. */
function mutate(text: string, rng: Rng): string {
  const pos = rng.int(0, Math.max(0, text.length - 1));
  switch (rng.int(0, 8)) {
    case 0: return text.slice(0, pos) + text.slice(pos + rng.int(1, 20));
    case 1: return text.slice(0, pos) + ALPHABET[rng.int(0, ALPHABET.length - 1)] + text.slice(pos);
    case 2: return text.slice(0, pos) + ALPHABET[rng.int(0, ALPHABET.length - 1)] + text.slice(pos + 1);
    case 3: return text.slice(0, pos);
    case 4: {
      const lines = text.split("\n");
      const i = rng.int(0, lines.length - 1), j = rng.int(0, lines.length - 1);
      [lines[i], lines[j]] = [lines[j], lines[i]];
      return lines.join("\n");
    }
    case 5: {
      const lines = text.split("\n");
      lines.splice(rng.int(0, lines.length - 1), rng.int(0, 3));
      return lines.join("\n");
    }
    case 6: {
      const lines = text.split("\n");
      const i = rng.int(0, lines.length - 1);
      lines.splice(i, 0, lines[i]);
      return lines.join("\n");
    }
    case 7: return text.replace(/\d+/, () => ["-3", "2.5", "", "99999999999999999999", "0", "1e3"][rng.int(0, 5)]);
    default: return text.replace(/\n/g, () => (rng.float() < 0.1 ? "\r\n" : "\n"));
  }
}

function checkValid(text: string, opts: TraceOptions): void {
  let res;
  try {
    res = parseTraceText(text, opts);
  } catch (e) {
    if (isUserError(e)) {
      expect(e.message.length).toBeGreaterThan(0);
      return;
    }
    throw new Error(`non-UserError ${String(e)} for options ${JSON.stringify(opts)} on:\n${text.slice(0, 400)}`);
  }
  const { requests, report } = res;
  let prev = -Infinity;
  for (const r of requests) {
    if (!(Number.isFinite(r.arrival) && r.arrival >= prev)) throw new Error(`arrival order broken: ${r.arrival} after ${prev}`);
    prev = r.arrival;
    if (!(Number.isSafeInteger(r.promptTokens) && r.promptTokens >= 1)) throw new Error(`bad promptTokens ${r.promptTokens}`);
    if (!(Number.isSafeInteger(r.outputTokens) && r.outputTokens >= 1)) throw new Error(`bad outputTokens ${r.outputTokens}`);
  }
  expect(report.accepted).toBe(requests.length);
  if (!report.stoppedEarly) expect(report.rows).toBe(report.accepted + report.skipped + report.dropped! + report.filtered!);
}

describe("fuzz: mutated real samples give a valid parse or a clean UserError, never a crash or hang", () => {
  it("4000 seeded mutations across all samples and option mixes", () => {
    const rng = new Rng(20251125);
    const base = seeds();
    for (let i = 0; i < 4000; i++) {
      const s = base[i % base.length];
      let text = s.text;
      const edits = rng.int(1, 4);
      for (let k = 0; k < edits; k++) text = mutate(text, rng);
      const opts: TraceOptions = { fileName: s.name, strict: rng.float() < 0.3 };
      if (rng.float() < 0.2) opts.format = TRACE_FORMATS[rng.int(0, TRACE_FORMATS.length - 1)];
      if (rng.float() < 0.2) opts.maxRequests = rng.int(1, 10);
      if (rng.float() < 0.1) opts.timeWindow = [rng.int(0, 5), rng.int(6, 100)];
      if (rng.float() < 0.1) opts.rateScale = 0.5 + rng.float() * 3;
      if (rng.float() < 0.1) opts.requestRate = 1 + rng.int(0, 10);
      checkValid(text, opts);
    }
  }, 60_000);

  it("300 corrupted gzip streams: lines or a UserError naming the file", async () => {
    const rng = new Rng(7);
    const gz = gzipSync(Buffer.from(readFileSync(sample("azure-2024-style.csv"), "utf8").repeat(20)));
    for (let i = 0; i < 300; i++) {
      const bytes = new Uint8Array(gz);
      const mode = rng.int(0, 2);
      let data = bytes;
      if (mode === 0) data = bytes.subarray(0, rng.int(0, bytes.length - 1));
      else for (let k = 0; k < rng.int(1, 5); k++) bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
      async function* chunks() {
        yield data;
      }
      try {
        for await (const _ of readTrace(linesFromChunks(chunks(), true, "z.csv.gz"), { fileName: "z.csv.gz" }));
      } catch (e) {
        if (!isUserError(e)) throw new Error(`non-UserError ${String(e)} (mode ${mode})`);
        expect(e.message).toMatch(/z\.csv\.gz/);
      }
    }
  }, 60_000);
});
