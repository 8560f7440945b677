import type { AnyRecording, Recording, TimelineRecording } from "./recording.ts";

/**
 * CSV exports: the memory timeline (one row per snapshot) and per-request metrics (one row per request), RFC 4180
 * (comma-separated, CRLF-free "\n" rows, fields quoted when they hold a comma, quote or newline). Columns are
 * snake_case with their unit as a suffix so a spreadsheet needs no legend. Empty cell = not applicable (a rejected
 * request has no first token).
 */
export interface CsvExport {
  /** The memory timeline. */
  memory: string;
  /** Per-request metrics; null for training/RL timelines, which have no requests. */
  requests: string | null;
}

export function csvField(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = typeof v === "number" ? (Number.isFinite(v) ? String(v) : "") : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvTable(header: readonly string[], rows: Iterable<readonly unknown[]>): string {
  const lines = [header.map(csvField).join(",")];
  for (const r of rows) lines.push(r.map(csvField).join(","));
  return lines.join("\n") + "\n";
}

export const MEMORY_COLUMNS = [
  "t_s",
  "weights_bytes",
  "activation_bytes",
  "non_torch_bytes",
  "kv_used_bytes",
  "kv_cached_free_bytes",
  "kv_free_bytes",
  "num_used_blocks",
  "num_cached_free_blocks",
  "num_free_blocks",
  "kv_usage",
  "num_running",
  "num_waiting",
] as const;

export const REQUEST_COLUMNS = [
  "id",
  "arrival_s",
  "prompt_tokens",
  "output_tokens",
  "first_scheduled_s",
  "first_token_s",
  "finish_s",
  "queue_s",
  "ttft_s",
  "tpot_s",
  "e2e_s",
  "preemptions",
  "cached_tokens",
  "rejected",
] as const;

export function toCsv(rec: AnyRecording): CsvExport {
  return rec.kind === "serving" ? servingCsv(rec) : { memory: timelineCsv(rec), requests: null };
}

function servingCsv(rec: Recording): CsvExport {
  const memory = csvTable(
    MEMORY_COLUMNS,
    rec.snapshots.map((s) => [
      s.t,
      s.weightsBytes,
      s.activationBytes,
      s.nonTorchBytes,
      s.kvUsedBytes,
      s.kvCachedFreeBytes,
      s.kvFreeBytes,
      s.numUsedBlocks,
      s.numCachedFreeBlocks,
      s.numFreeBlocks,
      s.kvUsage,
      s.numRunning,
      s.numWaiting,
    ]),
  );
  const requests = csvTable(
    REQUEST_COLUMNS,
    rec.records.map((r) => {
      const ttft = r.firstTokenTime !== null ? r.firstTokenTime - r.arrival : null;
      const e2e = r.finishTime !== null ? r.finishTime - r.arrival : null;
      // vLLM's benchmark TPOT: (e2e − TTFT) / (output − 1).
      const tpot = r.finishTime !== null && r.firstTokenTime !== null && r.outputTokens > 1 ? (r.finishTime - r.firstTokenTime) / (r.outputTokens - 1) : null;
      const queue = r.firstScheduledTime !== null ? r.firstScheduledTime - r.arrival : null;
      return [
        r.id,
        r.arrival,
        r.promptTokens,
        r.outputTokens,
        r.firstScheduledTime,
        r.firstTokenTime,
        r.finishTime,
        queue,
        ttft,
        tpot,
        e2e,
        r.preemptions,
        r.cachedTokens,
        r.rejected,
      ];
    }),
  );
  return { memory, requests };
}

function timelineCsv(rec: TimelineRecording): string {
  const names: string[] = [];
  for (const s of rec.samples) for (const k of Object.keys(s.components)) if (!names.includes(k)) names.push(k);
  const header = [rec.timeUnit === "s" ? "t_s" : "event", "phase", "track", "label", ...names.map((n) => `${n}_bytes`), "total_bytes"];
  return csvTable(
    header,
    rec.samples.map((s) => {
      const vals = names.map((n) => s.components[n] ?? 0);
      return [s.t, s.phase ?? "", s.track ?? "", s.label, ...vals, vals.reduce((a, b) => a + b, 0)];
    }),
  );
}
