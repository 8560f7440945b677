import { JsonDocument } from "./json-document.ts";
import type { CollectedRow, ParserContext, RawRow, RowParser } from "./parser.ts";
import { RowError } from "./row-error.ts";

/**
 * The shell of a whole-file JSON format (ShareGPT, vLLM request lists): every line is gathered into one
 * JsonDocument, and `rows(doc)` turns it into rows once the file has ended. Such files carry no timestamps, so the
 * reader draws synthetic arrivals for them.
 */
export function documentParser(ctx: ParserContext, rows: (doc: JsonDocument) => CollectedRow[]): RowParser {
  const doc = new JsonDocument();
  return {
    hasHeader: false,
    synthetic: true,
    collects: true,
    collect(text, lineNo) {
      doc.add(text, lineNo, ctx.fileName);
    },
    end: () => rows(doc),
  };
}

/**
 * The rows `make()` returns for the element at `lineNo`, or, when it throws a RowError, that error as one bad row at
 * the same line: the reader then skips or (strict) fails on it as on a bad CSV line. Other errors propagate.
 */
export function collectedRows(lineNo: number, make: () => RawRow[]): CollectedRow[] {
  try {
    return make().map((row) => ({ lineNo, row }));
  } catch (e) {
    if (e instanceof RowError) return [{ lineNo, error: e }];
    throw e;
  }
}
