import { ArrivalClock, parseInstant } from "./clock.ts";
import { csvFields, readCsvHeader } from "./csv-columns.ts";
import type { ParserContext, RawRow, RowParser } from "./parser.ts";
import { RowError, tokenCount } from "./row-error.ts";

const REQUIRED = ["Timestamp", "Model", "Request tokens", "Response tokens"] as const;

/**
 * BurstGPT v1/v2 (`Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type`) and v3 (adds `Session ID`
 * and `Elapsed time` at positions 2–3): read by column NAME. Timestamp is whole seconds (integer or `19440110.0`).
 * Rows with 0 response tokens are failed requests: dropped and counted (report.dropped), as vLLM's loader drops them.
 */
export function createBurstGptParser(ctx: ParserContext): RowParser {
  const clock = new ArrivalClock();
  let iTs = 0, iModel = 1, iReq = 2, iResp = 3, iSession = -1, width = 6;
  return {
    hasHeader: true,
    synthetic: false,
    collects: false,
    header(text, lineNo) {
      const { idx, width: w } = readCsvHeader(ctx, text, lineNo, {
        wanted: [...REQUIRED, "Session ID"],
        required: REQUIRED,
        columnsLabel: "BurstGPT columns",
        filesLabel: "BurstGPT files",
      });
      iTs = idx.get("Timestamp")!;
      iModel = idx.get("Model")!;
      iReq = idx.get("Request tokens")!;
      iResp = idx.get("Response tokens")!;
      iSession = idx.get("Session ID") ?? -1;
      width = w;
    },
    row(text): RawRow {
      const f = csvFields(text, width);
      const t = parseInstant(f[iTs], "Timestamp");
      const resp = tokenCount(f[iResp], "Response tokens", 0);
      const req = tokenCount(f[iReq], "Request tokens", 0);
      const model = f[iModel].trim();
      if (model === "") throw new RowError("expected a model name, found an empty field", "Model");
      if (req === 0 && resp > 0) throw new RowError(`expected a positive token count, found "0"`, "Request tokens");
      const row: RawRow = { arrival: clock.sinceFirst(t), promptTokens: req, outputTokens: resp, model };
      if (iSession >= 0 && f[iSession].trim() !== "") row.sessionId = f[iSession].trim();
      if (resp === 0) row.drop = "failed request (Response tokens = 0)";
      return row;
    },
  };
}
