import { afterEach, describe, expect, it, vi } from "vitest";
import { Command } from "commander";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { register } from "../../cli/commands/trace.ts";
import { parseTraceText } from "../../sim/traces/index.ts";
import { sample } from "./helpers.ts";

/** Runs `vramscope trace …` in-process and returns what it printed on stdout. */
async function run(...args: string[]): Promise<string> {
  const program = new Command("vramscope").exitOverride();
  register(program);
  let out = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    await program.parseAsync(["node", "vramscope", "trace", ...args]);
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
  return out;
}

afterEach(() => vi.restoreAllMocks());
const dir = mkdtempSync(join(tmpdir(), "vramscope-trace-cli-"));

describe("vramscope trace", () => {
  it("inspect --json prints the issue's fields", async () => {
    const j = JSON.parse(await run("inspect", "azure-2023-code", "--json"));
    // awk over azure-2023-code.csv: 8819 rows, prompt sum 18059974, output sum 245896, span 3435.9480560 s
    expect(j).toMatchObject({ format: "azure", requests: 8819, durationSeconds: 3435.948056 });
    expect(j.promptTokens.sum).toBe(18059974);
    expect(j.outputTokens.sum).toBe(245896);
    expect(j.skippedLines).toEqual({ count: 0, reasons: [] });
    expect(j.prefixReuseRatio).toBeNull();
  });

  it("convert --to native round-trips through the native reader", async () => {
    const out = join(dir, "mc.jsonl");
    await run("convert", sample("mooncake-conversation-first2000.jsonl"), "--to", "native", "-o", out, "--max-requests", "50");
    const text = readFileSync(out, "utf8");
    const { requests, report } = parseTraceText(text, { fileName: "mc.jsonl" });
    expect(report.format).toBe("native");
    expect(requests.length).toBe(50);
    expect(requests[0]).toMatchObject({ arrival: 0, promptTokens: 6758, outputTokens: 500, hashBlockTokens: 512 });
    expect(requests[0].hashIds!.length).toBe(14);
  });

  it("synth --lengths-from draws (prompt, output) pairs that exist in the trace", async () => {
    const out = join(dir, "emp.jsonl");
    await run("synth", "-o", out, "--num-prompts", "200", "--lengths-from", "vllm-bench-requests", "--seed", "2");
    const { requests } = parseTraceText(readFileSync(out, "utf8"), {});
    const allowed = new Set(["256/128", "1024/16", "77/300", "4000/1"]); // traces/vllm-bench-requests.json
    expect(requests.every((r) => allowed.has(`${r.promptTokens}/${r.outputTokens}`))).toBe(true);
    expect(new Set(requests.map((r) => r.promptTokens)).size).toBe(4);
  });

  it("synth writes a reproducible native file", async () => {
    const a = join(dir, "a.jsonl"), b = join(dir, "b.jsonl");
    const args = ["--num-prompts", "30", "--request-rate", "3", "--turns", "3", "--prefix-len", "32", "--input-len", "uniform:10:50", "--seed", "5"];
    await run("synth", "-o", a, ...args);
    await run("synth", "-o", b, ...args);
    expect(readFileSync(a, "utf8")).toBe(readFileSync(b, "utf8"));
    const { requests } = parseTraceText(readFileSync(a, "utf8"), {});
    expect(requests.length).toBe(30);
    expect(requests.every((r) => r.hashIds![0] === 0 && r.hashIds![1] === 1)).toBe(true);
  });
});
