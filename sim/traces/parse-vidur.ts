import { UserError } from "../errors.ts";
import { ArrivalClock, parseInstant } from "./clock.ts";
import { columnIndex, delimiterHint, splitCsvLine } from "./csv.ts";
import type { ParserContext, RawRow, RowParser } from "./parser.ts";
import { RowError, tokenCount } from "./row-error.ts";

/**
 * Vidur processed traces: `arrived_at,num_prefill_tokens,num_decode_tokens` (float seconds), and its length-only
 * files (`num_prefill_tokens,num_decode_tokens,...` without `arrived_at`), which get synthetic arrivals.
 */
export function createVidurParser(ctx: ParserContext): RowParser {
  const clock = new ArrivalClock();
  let iArr = -1, iPre = 0, iDec = 1, width = 2;
  const p: RowParser = {
    hasHeader: true,
    synthetic: false,
    collects: false,
    header(text, lineNo) {
      const cols = splitCsvLine(text);
      const idx = columnIndex(cols, ["arrived_at", "num_prefill_tokens", "num_decode_tokens"]);
      if (!idx.has("num_prefill_tokens") || !idx.has("num_decode_tokens")) {
        const hint = delimiterHint(text);
        throw new UserError(
          `${ctx.fileName}:${lineNo}: header mismatch: expected Vidur columns [arrived_at,]num_prefill_tokens,num_decode_tokens,` +
            ` found "${text.slice(0, 120)}"` + (hint ? ` — the line looks ${hint}; Vidur files are comma-separated` : ""),
          { location: `${ctx.fileName}:${lineNo}` },
        );
      }
      iArr = idx.get("arrived_at") ?? -1;
      iPre = idx.get("num_prefill_tokens")!;
      iDec = idx.get("num_decode_tokens")!;
      width = cols.length;
      p.synthetic = iArr < 0;
    },
    row(text): RawRow {
      const f = splitCsvLine(text);
      if (f.length !== width) throw new RowError(`expected ${width} comma-separated fields, found ${f.length}`);
      const row: RawRow = {
        promptTokens: tokenCount(f[iPre], "num_prefill_tokens"),
        outputTokens: tokenCount(f[iDec], "num_decode_tokens"),
      };
      if (iArr >= 0) row.arrival = clock.sinceFirst(parseInstant(f[iArr], "arrived_at"));
      return row;
    },
  };
  return p;
}
