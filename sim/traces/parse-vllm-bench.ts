import { UserError } from "../errors.ts";
import { collectedRows, documentParser } from "./document-parser.ts";
import type { CollectedRow, ParserContext, RawRow, RowParser } from "./parser.ts";
import { RowError, shown, tokenCount } from "./row-error.ts";

/**
 * Request lists as vLLM's benchmarks handle them: a JSON array (or JSONL) of `{"prompt_len", "output_len"}` or
 * `{"prompt_len", "expected_output_len"}` (vLLM's SampleRequest field names), or a `vllm bench serve --save-result`
 * file, whose `input_lens` / `output_lens` arrays list the lengths actually sent. No timestamps: synthetic arrivals.
 */
export function createVllmBenchParser(ctx: ParserContext): RowParser {
  return documentParser(ctx, (doc) => {
    if (doc.lineCount === 0) return [];
    if (isJsonlObject(doc.firstLine!)) {
      const out: CollectedRow[] = [];
      for (let i = 0; i < doc.lineCount; i++) {
        const { text, lineNo } = doc.lineAt(i);
        out.push(
          ...collectedRows(lineNo, () => {
            let v: unknown;
            try {
              v = JSON.parse(text);
            } catch (e) {
              throw new RowError(`not valid JSON (${e instanceof Error ? e.message : String(e)})`);
            }
            return [lengthsRow(v)];
          }),
        );
      }
      return out;
    }
    const { value, text } = doc.parse(ctx.fileName);
    if (Array.isArray(value)) {
      const lines = doc.elementLines(text);
      return value.flatMap((v, i) => collectedRows(lines[i] ?? 1, () => [lengthsRow(v)]));
    }
    const o = value as Record<string, unknown> | null;
    if (o && typeof o === "object" && Array.isArray(o.input_lens) && Array.isArray(o.output_lens)) {
      const ins = o.input_lens, outs = o.output_lens;
      if (ins.length !== outs.length)
        throw new UserError(`${ctx.fileName}: input_lens has ${ins.length} entries but output_lens has ${outs.length}`, {
          location: ctx.fileName,
        });
      return ins.flatMap((p, i) =>
        collectedRows(1, () => [{ promptTokens: tokenCount(p, `input_lens[${i}]`), outputTokens: tokenCount(outs[i], `output_lens[${i}]`) }]),
      );
    }
    throw new UserError(
      `${ctx.fileName}:1: expected a JSON array of {"prompt_len", "output_len"} objects or a vllm bench result with input_lens/output_lens, found ${shown(value)}`,
      { location: `${ctx.fileName}:1` },
    );
  });
}

function isJsonlObject(line: string): boolean {
  try {
    const v = JSON.parse(line);
    return v !== null && typeof v === "object" && !Array.isArray(v) && "prompt_len" in v;
  } catch {
    return false;
  }
}

function lengthsRow(v: unknown): RawRow {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw new RowError(`expected {"prompt_len", "output_len"}, found ${shown(v)}`);
  const o = v as Record<string, unknown>;
  if (o.prompt_len === undefined) throw new RowError(`missing field "prompt_len"`, "prompt_len");
  const outField = o.output_len !== undefined ? "output_len" : "expected_output_len";
  if (o[outField] === undefined) throw new RowError(`missing field "output_len" (or "expected_output_len")`, "output_len");
  return { promptTokens: tokenCount(o.prompt_len, "prompt_len"), outputTokens: tokenCount(o[outField], outField) };
}
