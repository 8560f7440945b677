import { kvLayout } from "../model/kv.ts";
import { countParams } from "../model/params.ts";
import { resolveModel } from "../model/registry.ts";
import type { SeedRow } from "./types.ts";

const GB = 1e9;

/** True when the article's printed figure is not the recomputed value rounded to the digits it prints. */
export function differsFromPrinted(articleText: string, articleValue: number, recomputed: number): boolean {
  const m = /([0-9]+(?:\.([0-9]+))?)/.exec(articleText);
  const decimals = m?.[2]?.length ?? 0;
  const step = 10 ** -decimals;
  return Math.abs(articleValue - recomputed) > step / 2 + 1e-12;
}

/**
 * The article's inference figures (shared/seed/memory-anatomy.txt, "The Calm of Inference"), each recomputed from its
 * own formula and inputs, and beside it the figure for a real model with the product's GQA-aware accounting.
 */
export function inferenceSeedRows(): SeedRow[] {
  const llama7b = resolveModel("huggyllama/llama-7b");
  const llama3 = resolveModel("meta-llama/Meta-Llama-3-8B");
  const kv = (m: typeof llama7b) =>
    kvLayout(m, { kvCacheDtype: "auto", modelDtype: "bfloat16", tensorParallelSize: 1 }).bytesPerToken;
  // The article's formula: bs · seq · 2 · layers · d · B, with d the hidden size.
  const articleKv = (bs: number, seq: number) => bs * seq * 2 * 32 * 4096 * 2;
  const rows: SeedRow[] = [];
  const push = (r: Omit<SeedRow, "differs" | "section"> & { section?: string }) =>
    rows.push({
      section: r.section ?? "inference",
      ...r,
      differs: r.articleValue !== null && differsFromPrinted(r.articleText, r.articleValue, r.recomputed),
    } as SeedRow);

  push({
    item: 'LLaMA-7B KV cache, "a single 4K token sequence" (computed with 8192 tokens)',
    articleText: "4.2 GB",
    articleValue: 4.2,
    recomputed: articleKv(1, 8192) / GB,
    realModelValue: (8192 * kv(llama3)) / GB,
    realModel: "meta-llama/Meta-Llama-3-8B (GQA, 8 KV heads)",
    unit: "GB",
    note: `1·8192·2·32·4096·2 = ${articleKv(1, 8192).toLocaleString("en-US")} B = 4.29 GB (4.0 GiB): the text says 4K but computes with 8K, and 4.29 truncates to 4.2; a real 4K sequence is ${(articleKv(1, 4096) / GB).toFixed(2)} GB. With GQA (Llama-3-8B) the same 8K tokens take ${((8192 * kv(llama3)) / GB).toFixed(2)} GB`,
  });
  push({
    item: "8 concurrent users × 8K context, KV cache",
    articleText: "33.6 GB",
    articleValue: 33.6,
    recomputed: articleKv(8, 8192) / GB,
    realModelValue: (8 * 8192 * kv(llama3)) / GB,
    realModel: "meta-llama/Meta-Llama-3-8B (GQA)",
    unit: "GB",
    note: "33.6 = 8 × the rounded 4.2; the exact product is 8 × 4.29 = 34.36 GB (32 GiB)",
  });
  const p7 = countParams(llama7b).total;
  push({
    item: "7B model weights in 16-bit",
    articleText: "14 GB",
    articleValue: 14,
    recomputed: (7e9 * 2) / GB,
    realModelValue: (p7 * 2) / GB,
    realModel: "huggyllama/llama-7b (6,738,415,616 parameters)",
    unit: "GB",
    note: `"7B" is a label: LLaMA-7B has ${p7.toLocaleString("en-US")} parameters → ${((p7 * 2) / GB).toFixed(2)} GB`,
  });
  push({
    item: "KV bytes per token, formula with d = hidden size (LLaMA-7B)",
    articleText: "2·32·4096·2 B",
    articleValue: null,
    recomputed: kv(llama7b),
    realModelValue: kv(llama3),
    realModel: "meta-llama/Meta-Llama-3-8B (8 KV heads × 128)",
    unit: "B",
    note: `right for multi-head attention only (LLaMA-7B: ${kv(llama7b).toLocaleString("en-US")} B/token). With GQA use num_kv_heads·head_dim: Llama-3-8B stores ${kv(llama3).toLocaleString("en-US")} B/token, 4× less; MLA (DeepSeek-V3) stores (kv_lora_rank + qk_rope_head_dim)·B per layer: ${kv(resolveModel("deepseek-ai/DeepSeek-V3")).toLocaleString("en-US")} B/token over 61 layers`,
  });
  return rows;
}
