import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadModelArg } from "../../cli/io/model-arg.ts";
import { countParams } from "../../sim/model/params.ts";

const dir = mkdtempSync(join(tmpdir(), "vramscope-model-"));
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("loadModelArg (--model)", () => {
  it("reads a config.json path; the spec is named by the path", () => {
    const p = write("gpt2.json", JSON.stringify({ model_type: "gpt2", n_embd: 768, n_layer: 12, n_head: 12, vocab_size: 50257, n_positions: 1024 }));
    const spec = loadModelArg(p);
    expect(spec.name).toBe(p);
    expect(countParams(spec).total).toBe(124_439_808);
  });
  it("reads an existing file even without .json", () => {
    const p = write("config", JSON.stringify({ n_embd: 64, n_layer: 2, n_head: 4, vocab_size: 100 }));
    expect(loadModelArg(p).hiddenSize).toBe(64);
  });
  it("falls back to presets for other names", () => {
    expect(loadModelArg("qwen/qwen3-8b").name).toBe("Qwen/Qwen3-8B");
    expect(() => loadModelArg("llama-3.1-8b")).toThrow(/did you mean meta-llama\/Llama-3\.1-8B-Instruct/);
  });
  it("names the path when the file is missing, not JSON, or not an object", () => {
    expect(() => loadModelArg(join(dir, "missing.json"))).toThrow(/missing\.json: cannot read the config file \(no such file\)/);
    expect(() => loadModelArg(write("bad.json", "{ hidden_size: 1"))).toThrow(/bad\.json: not valid JSON/);
    expect(() => loadModelArg(write("arr.json", "[1]"))).toThrow(/arr\.json: a config\.json must hold a JSON object/);
  });
  it("a config error names the path and the field", () => {
    const p = write("nolayers.json", JSON.stringify({ hidden_size: 64, num_attention_heads: 4, intermediate_size: 128, vocab_size: 10, max_position_embeddings: 64 }));
    expect(() => loadModelArg(p)).toThrow(`${p}: config field "num_hidden_layers" is missing`);
  });
});
