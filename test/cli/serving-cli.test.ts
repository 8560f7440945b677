import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const BIN = join(import.meta.dirname, "..", "..", "bin", "vramscope.mjs");
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000 });
const json = (...args: string[]) => JSON.parse(execFileSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000 }));

describe("vramscope capacity", () => {
  it("--json carries the budget terms and vLLM's log figures", () => {
    // Qwen3-14B with 6.51 GiB of KV (vLLM log, LMCache #1739): 2,666 blocks → 42,656 tokens, 1.30x at 32,768
    const j = json("capacity", "--model", "Qwen/Qwen3-14B", "--kv-cache-memory", "6.51GiB", "--max-model-len", "32768", "--json");
    expect(j.numGpuBlocks).toBe(2666);
    expect(j.kvCacheTokens).toBe(42656);
    expect(j.maxConcurrency.toFixed(2)).toBe("1.30");
    expect(j.kvBytesPerToken).toBe(163840);
    for (const k of ["weightsBytes", "activationPeakBytes", "nonTorchBytes", "kvCacheBytes"]) expect(typeof j[k]).toBe("number");
  });

  it("reads any HF config.json", () => {
    const dir = mkdtempSync(join(tmpdir(), "vs-"));
    const cfg = join(dir, "config.json");
    // GPT-2 small: 12 layers × 2 × 768 × 2 B = 36,864 B of KV per token (MHA)
    writeFileSync(cfg, JSON.stringify({ model_type: "gpt2", n_embd: 768, n_layer: 12, n_head: 12, vocab_size: 50257, n_positions: 1024 }));
    const j = json("capacity", "--model", cfg, "--gpu", "L4-24GB", "--json");
    expect(j.kvBytesPerToken).toBe(36864);
  });
});

describe("vramscope replay", () => {
  const dir = mkdtempSync(join(tmpdir(), "vs-"));
  const trace = join(dir, "t.jsonl");
  // three requests that all fit: 1 s steps → hand-checkable times
  writeFileSync(
    trace,
    [
      { arrival: 0, promptTokens: 8, outputTokens: 3 },
      { arrival: 0, promptTokens: 8, outputTokens: 2 },
      { arrival: 5, promptTokens: 4, outputTokens: 1 },
    ]
      .map((r) => JSON.stringify(r))
      .join("\n"),
  );

  it("--json and --requests-out report the run", () => {
    const out = join(dir, "req.jsonl");
    const j = json("replay", trace, "--step-time", "1s", "--max-model-len", "64", "--block-size", "4", "--num-gpu-blocks-override", "40", "--json", "--requests-out", out);
    expect(j.requests).toBe(3);
    expect(j.completed).toBe(3);
    expect(j.preemptions).toBe(0);
    // r0: prefill 0→1, decodes →2, →3: e2e 3; r1: →1, →2: e2e 2; r2 at 5: →6, e2e 1
    expect(j.e2e.mean).toBeCloseTo(2, 12);
    expect(j.ttft.mean).toBe(1);
    expect(j.simulatedSeconds).toBe(6);
    const lines = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.id, l.arrival, l.firstTokenTime, l.finishTime, l.preemptions, l.cachedTokens])).toEqual([
      [1, 0, 1, 2, 0, 0],
      [0, 0, 1, 3, 0, 0],
      [2, 5, 6, 6, 0, 0],
    ]);
  });

  it("--export-perfetto / --export-csv write files that parse back", () => {
    const pf = join(dir, "run.json");
    const csv = join(dir, "run.csv");
    json("replay", trace, "--step-time", "1s", "--max-model-len", "64", "--block-size", "4", "--num-gpu-blocks-override", "40", "--json", "--export-perfetto", pf, "--export-csv", csv);
    const tr = JSON.parse(readFileSync(pf, "utf8"));
    // 3 requests → one async begin/end pair each on the request tracks, at least
    const begins = tr.traceEvents.filter((e: { ph: string }) => e.ph === "b");
    expect(begins.length).toBeGreaterThanOrEqual(3);
    const reqCsv = readFileSync(join(dir, "run-requests.csv"), "utf8").trim().split("\n");
    expect(reqCsv.length).toBe(1 + 3); // header + 3 requests
  });

  it("replays the embedded default trace", () => {
    const j = json("replay", "--max-requests", "300", "--max-model-len", "16384", "--json");
    expect(j.requests).toBe(300);
    expect(j.completed).toBe(300);
  });
});

describe("bad input: clear message, exit 2, no stack trace", () => {
  const cases: [string, string[], RegExp][] = [
    ["unknown model", ["capacity", "--model", "llama-3.1-8b"], /unknown model llama-3.1-8b; did you mean meta-llama\/Llama-3.1-8B-Instruct/],
    ["unknown GPU", ["capacity", "--gpu", "H100"], /unknown GPU H100; did you mean H100/],
    ["utilization out of range", ["capacity", "--gpu-memory-utilization", "1.2"], /--gpu-memory-utilization must be in \(0, 1\]/],
    ["not a number", ["capacity", "--block-size", "abc"], /--block-size: expected an integer/],
    ["no room for KV", ["capacity", "--model", "meta-llama/Llama-3.1-70B-Instruct"], /No available memory for the cache blocks/],
    ["max_model_len too long", ["capacity", "--kv-cache-memory", "1GiB"], /estimated maximum model length is/],
    ["bad size", ["capacity", "--kv-cache-memory", "-3GB"], /--kv-cache-memory/],
    ["missing trace", ["replay", "/no/such/trace.csv"], /trace file not found/],
  ];
  for (const [name, args, re] of cases)
    it(name, () => {
      const r = run(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack frames
    });

  it("a malformed trace line names file:line and the field", () => {
    const dir = mkdtempSync(join(tmpdir(), "vs-"));
    const f = join(dir, "bad.jsonl");
    writeFileSync(f, '{"arrival":0,"promptTokens":8,"outputTokens":2}\n{"arrival":1,"promptTokens":-5,"outputTokens":2}\n');
    const r = run("replay", f, "--strict", "--step-time", "1s");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad\.jsonl:2/);
    expect(r.stderr).toMatch(/promptTokens/);
  });
});
