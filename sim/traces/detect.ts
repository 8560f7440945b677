import { UserError } from "../errors.ts";
import { splitCsvLine, delimiterHint } from "./csv.ts";
import type { TraceFormat } from "./formats.ts";

/** Non-blank lines the reader gathers before calling detectFormat. */
export const DETECT_HEAD_LINES = 20;

function norm(s: string): string {
  return s.trim().toLowerCase().replace(/\s+/g, " ").replace(/^"|"$/g, "");
}

/**
 * Names the format of a trace from its first non-blank lines (header or first JSON object) and file name.
 * CSV formats are told apart by their header's column names, JSONL by the first object's keys, whole-file JSON by
 * the keys it mentions. Throws a UserError that quotes what it saw when nothing matches.
 */
export function detectFormat(headLines: string[], fileName?: string): TraceFormat {
  const where = fileName ?? "<input>";
  const lines = headLines.filter((l) => l.trim() !== "");
  if (lines.length === 0) throw new UserError(`${where}: empty trace (no lines to read)`, { location: where });
  const first = lines[0].replace(/^\uFEFF/, "").trim();
  const head = lines.join("\n");

  if (first.startsWith("[") || (first.startsWith("{") && /\.json$/i.test(fileName ?? "") && !isJsonObject(first))) {
    if (/"conversations"\s*:/.test(head)) return "sharegpt";
    if (/"(prompt_len|input_lens)"\s*:/.test(head)) return "vllm-bench";
    throw new UserError(
      `${where}:1: cannot detect the trace format: a JSON document without "conversations" (ShareGPT) or "prompt_len" ` +
        `(vLLM request list) in its first lines; found ${JSON.stringify(head.slice(0, 100))}. Pass --format.`,
      { location: `${where}:1` },
    );
  }
  if (first.startsWith("{")) {
    const o = isJsonObject(first);
    if (!o)
      throw new UserError(`${where}:1: cannot detect the trace format: line 1 starts with "{" but is not a JSON object (${JSON.stringify(first.slice(0, 80))})`, {
        location: `${where}:1`,
      });
    const has = (k: string) => k in o;
    if (has("arrival") && has("promptTokens")) return "native";
    if (has("chat_id") || has("parent_chat_id")) return "bailian";
    if (has("timestamp") && has("input_length")) return "mooncake";
    if (has("prompt_len")) return "vllm-bench";
    if (has("input_lens")) return "vllm-bench";
    if (has("conversations")) return "sharegpt";
    throw new UserError(
      `${where}:1: cannot detect the trace format from JSON keys ${Object.keys(o).map((k) => `"${k}"`).join(", ").slice(0, 120)}: ` +
        `expected arrival/promptTokens/outputTokens (native), timestamp/input_length/output_length (Mooncake), ` +
        `chat_id/parent_chat_id (Bailian) or prompt_len (vLLM request list). Pass --format.`,
      { location: `${where}:1` },
    );
  }
  const cols = new Set(splitCsvSafe(first).map(norm));
  if (cols.has("timestamp") && cols.has("contexttokens") && cols.has("generatedtokens"))
    return cols.has("numimages") ? "azure-multimodal" : "azure";
  if (cols.has("request tokens") && cols.has("response tokens")) return "burstgpt";
  if (cols.has("num_prefill_tokens") && cols.has("num_decode_tokens")) return "vidur";
  const hint = delimiterHint(first);
  throw new UserError(
    `${where}:1: cannot detect the trace format from line 1 ${JSON.stringify(first.slice(0, 100))}` +
      (hint ? ` (it looks ${hint}; CSV traces must be comma-separated)` : "") +
      `: expected a CSV header (TIMESTAMP,ContextTokens,GeneratedTokens; Timestamp,Model,Request tokens,...; ` +
      `arrived_at,num_prefill_tokens,num_decode_tokens) or a JSON object per line. Pass --format.`,
    { location: `${where}:1` },
  );
}

function isJsonObject(line: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(line);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function splitCsvSafe(line: string): string[] {
  try {
    return splitCsvLine(line);
  } catch {
    return line.split(",");
  }
}
