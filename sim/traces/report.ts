import type { TraceFormat } from "./formats.ts";

/** One rejected or suspicious line. `location` is file:line. */
export interface TraceIssue {
  location: string;
  field?: string;
  message: string;
}

/**
 * What happened while reading a trace. Filled in as the reader streams, complete once it is exhausted.
 * Invariant (checked in tests): rows === accepted + skipped + dropped + filtered + unread, where `unread` are rows
 * after an early stop (maxRequests / end of timeWindow), which are not counted in `rows`.
 */
export interface TraceReport {
  format: TraceFormat;
  /** Data rows read (header and blank lines excluded). */
  rows: number;
  /** Requests yielded. */
  accepted: number;
  /** Bad rows skipped (each has an issue; only the first MAX_KEPT_ISSUES are kept in `issues`). */
  skipped: number;
  issues: TraceIssue[];
  /** False when some timestamp went backwards (those rows were skipped). */
  sorted?: boolean;
  /** Valid rows the format itself says to drop (BurstGPT failed requests with 0 response tokens). */
  dropped?: number;
  /** Rows left out by shaping: `filterModel`, before `timeWindow` START. */
  filtered?: number;
  /** Yielded requests with promptTokens + outputTokens > maxModelLen: vLLM would reject them. */
  overMaxModelLen?: number;
  /** True when reading stopped early (maxRequests reached or past timeWindow END). */
  stoppedEarly?: boolean;
}

export const MAX_KEPT_ISSUES = 20;

export function newReport(format: TraceFormat): TraceReport {
  return { format, rows: 0, accepted: 0, skipped: 0, issues: [], sorted: true, dropped: 0, filtered: 0, overMaxModelLen: 0 };
}

export function recordIssue(report: TraceReport, issue: TraceIssue): void {
  report.skipped++;
  if (report.issues.length < MAX_KEPT_ISSUES) report.issues.push(issue);
}
