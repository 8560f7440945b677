import { ArrivalClock, parseAzureTimestamp } from "./clock.ts";
import { csvFields, readCsvHeader } from "./csv-columns.ts";
import type { ParserContext, RawRow, RowParser } from "./parser.ts";
import { tokenCount } from "./row-error.ts";

/**
 * Azure LLM inference traces (2023, 2024: `TIMESTAMP,ContextTokens,GeneratedTokens`) and the 2025 multimodal trace
 * (`TIMESTAMP,NumImages,ContextTokens,GeneratedTokens`). Columns are found by name; arrival = TIMESTAMP − first
 * TIMESTAMP, computed exactly (see clock.ts).
 */
export function createAzureParser(ctx: ParserContext, multimodal: boolean): RowParser {
  const names = multimodal
    ? (["TIMESTAMP", "NumImages", "ContextTokens", "GeneratedTokens"] as const)
    : (["TIMESTAMP", "ContextTokens", "GeneratedTokens"] as const);
  const clock = new ArrivalClock();
  let iTs = 0, iCtx = 1, iGen = 2, iImg = -1, width: number = names.length;
  return {
    hasHeader: true,
    synthetic: false,
    collects: false,
    header(text, lineNo) {
      const { idx, width: w } = readCsvHeader(ctx, text, lineNo, { wanted: names, required: names, columnsLabel: "columns", filesLabel: "Azure traces" });
      iTs = idx.get("TIMESTAMP")!;
      iCtx = idx.get("ContextTokens")!;
      iGen = idx.get("GeneratedTokens")!;
      iImg = multimodal ? idx.get("NumImages")! : -1;
      width = w;
    },
    row(text): RawRow {
      const f = csvFields(text, width);
      const t = parseAzureTimestamp(f[iTs]);
      const row: RawRow = {
        promptTokens: tokenCount(f[iCtx], "ContextTokens"),
        outputTokens: tokenCount(f[iGen], "GeneratedTokens"),
      };
      if (iImg >= 0) row.numImages = tokenCount(f[iImg], "NumImages", 0);
      row.arrival = clock.sinceFirst(t);
      return row;
    },
  };
}
