import type { TraceOptions } from "./options.ts";
import { TraceReader } from "./reader.ts";
import type { TraceReport } from "./report.ts";
import { splitLines } from "./lines.ts";
import type { TraceRequest } from "./types.ts";

/**
 * Streams a trace's requests in arrival order from its lines. Memory is bounded by one line, except for whole-file
 * JSON formats and formats without timestamps (their rows are gathered to draw arrivals). Stops reading as soon as
 * `maxRequests` or the end of `timeWindow` is reached. `report` (if given) is filled in as it goes.
 */
export async function* readTrace(
  lines: AsyncIterable<string>,
  opts: TraceOptions,
  report?: TraceReport,
): AsyncGenerator<TraceRequest> {
  const reader = new TraceReader(opts, report);
  for await (const line of lines) {
    reader.push(line);
    if (reader.out.length > 0) {
      const ready = reader.out;
      reader.out = [];
      yield* ready;
    }
    if (reader.done) break;
  }
  reader.end();
  if (reader.out.length > 0) yield* reader.out;
  reader.out = [];
}

/** readTrace over line batches (see lineBatchesFromChunks): the path `openTrace` uses for large files. */
export async function* readTraceBatches(
  batches: AsyncIterable<string[]>,
  opts: TraceOptions,
  report?: TraceReport,
): AsyncGenerator<TraceRequest> {
  const reader = new TraceReader(opts, report);
  outer: for await (const batch of batches) {
    for (const line of batch) {
      reader.push(line);
      if (reader.done) break;
    }
    if (reader.out.length > 0) {
      const ready = reader.out;
      reader.out = [];
      yield* ready;
    }
    if (reader.done) break outer;
  }
  reader.end();
  if (reader.out.length > 0) yield* reader.out;
  reader.out = [];
}

/** The same, synchronously over an in-memory text (tests, the browser's uploaded files). */
export function parseTraceText(text: string, opts: TraceOptions): { requests: TraceRequest[]; report: TraceReport } {
  const reader = new TraceReader(opts);
  const requests: TraceRequest[] = [];
  for (const line of splitLines(text)) {
    reader.push(line);
    if (reader.out.length > 0) {
      for (const r of reader.out) requests.push(r);
      reader.out = [];
    }
    if (reader.done) break;
  }
  reader.end();
  for (const r of reader.out) requests.push(r);
  return { requests, report: reader.report };
}
