import { UserError } from "../errors.ts";
import { columnIndex, delimiterHint, splitCsvLine } from "./csv.ts";
import type { ParserContext } from "./parser.ts";
import { RowError } from "./row-error.ts";

/**
 * The shell of a CSV trace read by column NAME (Azure, BurstGPT): formats add and reorder columns between versions,
 * so the header maps names to positions, and every data row must have the header's width before any field is read
 * (a short row would otherwise read the wrong column).
 */
export interface CsvColumns {
  /** Position of each wanted column the header has. */
  idx: Map<string, number>;
  /** Fields per row: the header's. */
  width: number;
}

export interface CsvHeaderSpec {
  /** Columns to look up (required ones and optional ones). */
  wanted: readonly string[];
  /** Columns the format cannot do without; the error lists them in this order. */
  required: readonly string[];
  /** How the message names them: "columns", "BurstGPT columns". */
  columnsLabel: string;
  /** How the delimiter hint names the format's files: "Azure traces", "BurstGPT files". */
  filesLabel: string;
}

/**
 * Reads the header line. A missing required column is a UserError at file:line that names the missing ones and,
 * when the line is split by something other than commas, says so (the usual cause: a TSV or a European CSV).
 */
export function readCsvHeader(ctx: ParserContext, text: string, lineNo: number, spec: CsvHeaderSpec): CsvColumns {
  const cols = splitCsvLine(text);
  const idx = columnIndex(cols, spec.wanted);
  const missing = spec.required.filter((n) => !idx.has(n));
  if (missing.length > 0) {
    const hint = delimiterHint(text);
    throw new UserError(
      `${ctx.fileName}:${lineNo}: header mismatch: expected ${spec.columnsLabel} ${spec.required.join(",")}` +
        ` (missing ${missing.join(", ")}), found "${text.slice(0, 120)}"` +
        (hint ? ` — the line looks ${hint}; ${spec.filesLabel} are comma-separated` : ""),
      { location: `${ctx.fileName}:${lineNo}` },
    );
  }
  return { idx, width: cols.length };
}

/** The fields of one data row, which must number `width` (the header's). */
export function csvFields(text: string, width: number): string[] {
  const f = splitCsvLine(text);
  if (f.length !== width) throw new RowError(`expected ${width} comma-separated fields, found ${f.length}`);
  return f;
}
