import { UserError, closestNames } from "../errors.ts";
import { gammaArrivals } from "./arrivals.ts";
import { DETECT_HEAD_LINES, detectFormat } from "./detect.ts";
import type { TraceFormat } from "./formats.ts";
import type { TraceOptions } from "./options.ts";
import type { CollectedRow, ParserContext, RawRow, RowParser } from "./parser.ts";
import { createAzureParser } from "./parse-azure.ts";
import { createBurstGptParser } from "./parse-burstgpt.ts";
import { createBailianParser, createMooncakeParser, createNativeParser } from "./parse-jsonl.ts";
import { createShareGptParser } from "./parse-sharegpt.ts";
import { createVidurParser } from "./parse-vidur.ts";
import { createVllmBenchParser } from "./parse-vllm-bench.ts";
import { newReport, recordIssue, type TraceReport } from "./report.ts";
import { RowError } from "./row-error.ts";
import { Rng } from "./rng.ts";
import type { TraceRequest } from "./types.ts";

export function createParser(format: TraceFormat, ctx: ParserContext): RowParser {
  switch (format) {
    case "native": return createNativeParser();
    case "azure": return createAzureParser(ctx, false);
    case "azure-multimodal": return createAzureParser(ctx, true);
    case "burstgpt": return createBurstGptParser(ctx);
    case "mooncake": return createMooncakeParser();
    case "bailian": return createBailianParser();
    case "sharegpt": return createShareGptParser(ctx);
    case "vidur": return createVidurParser(ctx);
    case "vllm-bench": return createVllmBenchParser(ctx);
  }
}

/** Formats with a model column, the only ones `filterModel` applies to. */
const MODEL_FORMATS: ReadonlySet<TraceFormat> = new Set(["burstgpt", "native"]);

/**
 * The push-driven core shared by the streaming `readTrace` and the sync `parseTraceText`: feed it lines with
 * `push`, take finished requests from `out`, stop when `done`, call `end` after the last line.
 *
 * Rules, in order, for each data row: a bad row is skipped with a counted issue (strict: UserError at file:line);
 * a row the format drops (BurstGPT failed request) counts in `dropped`; `filterModel` misses count in `filtered`;
 * a timestamp earlier than the previous row's is a bad row (INV: yielded arrivals never decrease — traces are
 * not re-sorted, because a sort needs the whole file in memory); then the time window, rate scale, max-model-len
 * count and max-requests cut-off apply.
 */
export class TraceReader {
  readonly report: TraceReport;
  /** Requests ready to be taken (the caller empties it). */
  out: TraceRequest[] = [];
  /** No more requests will come (max requests reached, past the window's end). */
  done = false;

  private readonly file: string;
  private format: TraceFormat | undefined;
  private parser: RowParser | undefined;
  private head: { text: string; lineNo: number }[] = [];
  private lineNo = 0;
  private sawHeader = false;
  private lastArrival = -Infinity;
  private synthetic: { row: RawRow; lineNo: number }[] = [];
  private readonly filterModel: string | undefined;
  private modelsSeen = new Set<string>();
  private modelMatches = 0;
  private nonBlank = 0;

  constructor(private readonly opts: TraceOptions, report?: TraceReport) {
    this.file = opts.fileName ?? "<input>";
    this.report = report ?? newReport(opts.format ?? "native");
    this.filterModel = opts.filterModel?.toLowerCase();
    validateOptions(opts);
    if (opts.format) this.start(opts.format);
  }

  push(text: string): void {
    this.lineNo++;
    if (this.done) return;
    if (text.length === 0 || text.trim().length === 0) return;
    this.nonBlank++;
    if (!this.parser) {
      this.head.push({ text, lineNo: this.lineNo });
      if (this.head.length >= DETECT_HEAD_LINES) this.detect();
      return;
    }
    this.feed(text, this.lineNo);
  }

  end(): void {
    if (!this.parser && this.head.length > 0) this.detect();
    if (this.nonBlank === 0)
      throw new UserError(`${this.file}: empty trace (no lines to read)`, { location: this.file });
    const p = this.parser!;
    if (p.collects && !this.done) {
      const rows = p.end!();
      for (const c of rows) this.collected(c);
    }
    if (this.synthetic.length > 0 && !this.done) this.assignSyntheticArrivals();
    const r = this.report;
    if (this.filterModel && this.modelMatches === 0 && r.rows > 0) {
      const seen = [...this.modelsSeen];
      throw new UserError(
        `--filter-model: no row of ${this.file} has model "${this.opts.filterModel}"; models present: ${seen.join(", ").slice(0, 200) || "none"}` +
          (seen.length ? ` (did you mean "${closestNames(this.opts.filterModel!, seen, 1)[0]}"?)` : ""),
        { field: "--filter-model" },
      );
    }
    if (r.rows === 0)
      throw new UserError(`${this.file}: no data rows${p.hasHeader ? " after the header" : p.collects ? " (the JSON document lists no requests)" : ""}`, {
        location: this.file,
      });
    if (r.accepted === 0 && r.skipped > 0 && r.skipped === r.rows) {
      const first = r.issues[0];
      throw new UserError(`${this.file}: all ${r.rows} rows are invalid; first: ${first.location}: ${first.message}`, {
        location: first.location,
      });
    }
    if (r.accepted === 0) {
      const w = this.opts.timeWindow;
      const why = [
        r.skipped ? `${r.skipped} bad` : "",
        r.dropped ? `${r.dropped} failed requests dropped` : "",
        r.filtered ? `${r.filtered} outside the filters` : "",
      ].filter(Boolean);
      throw new UserError(
        `${this.file}: no requests left to replay (${r.rows} rows read${why.length ? ": " + why.join(", ") : ""})` +
          (w ? `; --time-window ${w[0]}:${w[1]} selects none (the last arrival read is at ${fmtSeconds(this.lastArrival)} s)` : ""),
        { location: this.file, field: w ? "--time-window" : undefined },
      );
    }
  }

  private detect(): void {
    const fmt = detectFormat(this.head.map((h) => h.text), this.opts.fileName);
    this.start(fmt);
    const head = this.head;
    this.head = [];
    for (const h of head) {
      if (this.done) break;
      this.feed(h.text, h.lineNo);
    }
  }

  private start(format: TraceFormat): void {
    this.format = format;
    this.report.format = format;
    this.parser = createParser(format, { fileName: this.file });
    if (this.filterModel && !MODEL_FORMATS.has(format))
      throw new UserError(`--filter-model: the ${format} format has no model column (only burstgpt and native do)`, {
        field: "--filter-model",
      });
  }

  private feed(text: string, lineNo: number): void {
    const p = this.parser!;
    if (p.collects) {
      p.collect!(text, lineNo);
      return;
    }
    if (p.hasHeader && !this.sawHeader) {
      this.sawHeader = true;
      try {
        p.header!(text, lineNo);
      } catch (e) {
        if (!(e instanceof RowError)) throw e;
        const location = `${this.file}:${lineNo}`;
        throw new UserError(`${location}: header: ${e.message}`, { location });
      }
      return;
    }
    this.report.rows++;
    let row: RawRow;
    try {
      row = p.row!(text, lineNo);
    } catch (e) {
      if (e instanceof RowError) return this.bad(lineNo, e);
      throw e;
    }
    this.accept(row, lineNo);
  }

  private collected(c: CollectedRow): void {
    this.report.rows++;
    if (c.error) this.bad(c.lineNo, c.error);
    else this.accept(c.row!, c.lineNo);
  }

  private bad(lineNo: number, e: RowError): void {
    const location = `${this.file}:${lineNo}`;
    if (this.opts.strict) throw new UserError(`${location}: ${e.message}`, { location, field: e.field });
    recordIssue(this.report, { location, field: e.field, message: e.message });
  }

  private accept(row: RawRow, lineNo: number): void {
    const r = this.report;
    if (row.arrival !== undefined) {
      if (row.arrival < this.lastArrival) {
        r.sorted = false;
        const field = this.format === "native" ? "arrival" : "timestamp";
        return this.bad(
          lineNo,
          new RowError(
            `goes backwards: ${fmtSeconds(row.arrival)} s after the first request, earlier than the previous row's ${fmtSeconds(this.lastArrival)} s (rows must be in time order)`,
            field,
          ),
        );
      }
      this.lastArrival = row.arrival;
    }
    if (row.drop) {
      r.dropped!++;
      return;
    }
    if (this.filterModel) {
      if (row.model !== undefined) this.modelsSeen.add(row.model);
      if (row.model?.toLowerCase() !== this.filterModel) {
        r.filtered!++;
        return;
      }
      this.modelMatches++;
    }
    if (row.arrival === undefined || this.parser!.synthetic) {
      this.synthetic.push({ row, lineNo });
      return;
    }
    this.emit(row, row.arrival, lineNo);
  }

  private emit(row: RawRow, arrival: number, lineNo: number): void {
    const r = this.report;
    const o = this.opts;
    let a = arrival;
    if (o.timeWindow) {
      const [start, end] = o.timeWindow;
      if (a < start) {
        r.filtered!++;
        return;
      }
      if (a >= end) {
        r.filtered!++;
        this.stop();
        return;
      }
      a -= start;
    }
    if (o.rateScale !== undefined) a /= o.rateScale;
    if (o.maxModelLen !== undefined && row.promptTokens + row.outputTokens > o.maxModelLen) r.overMaxModelLen!++;
    const req: TraceRequest = { arrival: a, promptTokens: row.promptTokens, outputTokens: row.outputTokens };
    if (row.hashIds) req.hashIds = row.hashIds;
    if (row.hashIds && row.hashIdsCoverOutput) req.hashIdsCoverOutput = true;
    if (row.hashBlockTokens !== undefined) req.hashBlockTokens = row.hashBlockTokens;
    if (row.priority !== undefined) req.priority = row.priority;
    if (row.sessionId !== undefined) req.sessionId = row.sessionId;
    if (row.model !== undefined) req.model = row.model;
    if (row.numImages !== undefined) req.numImages = row.numImages;
    req.source = `${this.file}:${lineNo}`;
    this.out.push(req);
    r.accepted++;
    if (o.maxRequests !== undefined && r.accepted >= o.maxRequests) this.stop();
  }

  private stop(): void {
    this.done = true;
    this.report.stoppedEarly = true;
  }

  /** vLLM samples N requests first, then draws N arrivals (rescaled so the last is at N/R): cut before drawing. */
  private assignSyntheticArrivals(): void {
    let rows = this.synthetic;
    this.synthetic = [];
    const max = this.opts.maxRequests;
    if (max !== undefined && rows.length > max) {
      this.report.filtered! += rows.length - max;
      rows = rows.slice(0, max);
    }
    const times = gammaArrivals(rows.length, this.opts.requestRate ?? Infinity, this.opts.burstiness ?? 1, new Rng(this.opts.seed ?? 0));
    for (let i = 0; i < rows.length && !this.done; i++) this.emit(rows[i].row, times[i], rows[i].lineNo);
  }
}

function fmtSeconds(s: number): string {
  return Number.isFinite(s) ? String(Math.round(s * 1e7) / 1e7) : String(s);
}

function validateOptions(o: TraceOptions): void {
  if (o.maxRequests !== undefined && !(Number.isSafeInteger(o.maxRequests) && o.maxRequests > 0))
    throw new UserError(`--max-requests: expected a positive integer, got ${o.maxRequests}`, { field: "--max-requests" });
  if (o.rateScale !== undefined && !(o.rateScale > 0 && Number.isFinite(o.rateScale)))
    throw new UserError(`--rate-scale: expected a positive number, got ${o.rateScale}`, { field: "--rate-scale" });
  if (o.maxModelLen !== undefined && !(Number.isSafeInteger(o.maxModelLen) && o.maxModelLen > 0))
    throw new UserError(`--max-model-len: expected a positive integer, got ${o.maxModelLen}`, { field: "--max-model-len" });
  if (o.timeWindow) {
    const [s, e] = o.timeWindow;
    if (!(s >= 0 && e > s))
      throw new UserError(`--time-window: expected START:END with 0 ≤ START < END seconds, got ${s}:${e}`, { field: "--time-window" });
  }
}

/** Parses `--time-window START:END` (seconds; either side may use a duration unit, END may be empty = ∞). */
export function parseTimeWindow(text: string): [number, number] {
  const m = /^\s*([^:]*):([^:]*)\s*$/.exec(text);
  const num = (s: string, dflt: number) => {
    if (s.trim() === "") return dflt;
    const u = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*(ms|s|min|h)?\s*$/.exec(s);
    if (!u) return NaN;
    return Number(u[1]) * ({ ms: 1e-3, s: 1, min: 60, h: 3600 }[u[2] ?? "s"] ?? 1);
  };
  const w: [number, number] = m ? [num(m[1], 0), num(m[2], Infinity)] : [NaN, NaN];
  if (!(w[0] >= 0 && w[1] > w[0]))
    throw new UserError(`--time-window: expected START:END in seconds such as 600:1200 or 10min:20min, got "${text}"`, {
      field: "--time-window",
    });
  return w;
}
