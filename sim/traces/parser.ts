import type { RowError } from "./row-error.ts";

/** A data row before shaping, in the trace's own terms but already in the native field names. */
export interface RawRow {
  /** Seconds since the trace's first row (parsers re-base exactly), or undefined: the format has no timestamps. */
  arrival?: number;
  promptTokens: number;
  outputTokens: number;
  hashIds?: number[];
  hashIdsCoverOutput?: boolean;
  hashBlockTokens?: number;
  priority?: number;
  sessionId?: string;
  model?: string;
  numImages?: number;
  /** A valid row the format says to leave out (BurstGPT failed request); counted in report.dropped. */
  drop?: string;
}

/** One row of a whole-file format (ShareGPT, vLLM request list) with the line its element starts on. */
export interface CollectedRow {
  lineNo: number;
  row?: RawRow;
  error?: RowError;
}

/**
 * One trace format. Line formats (CSV, JSONL) turn each data line into a row as it streams; whole-file formats
 * (`collects`) gather the lines and parse at `end()`. Parsers throw RowError for a bad row (the reader skips or, in
 * strict mode, fails) and UserError for a file that cannot be read at all (header mismatch, invalid JSON document).
 */
export interface RowParser {
  /** The first non-blank line is a header, given to `header()`. */
  readonly hasHeader: boolean;
  /** Rows carry no arrival: the reader buffers them and draws synthetic arrivals. Known after the header. */
  synthetic: boolean;
  readonly collects: boolean;
  header?(text: string, lineNo: number): void;
  row?(text: string, lineNo: number): RawRow;
  collect?(text: string, lineNo: number): void;
  end?(): CollectedRow[];
}

export interface ParserContext {
  fileName: string;
}
