import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, extname } from "node:path";
import type { Command } from "commander";
import { UserError } from "../sim/errors.ts";
import { toCsv } from "../sim/export/csv.ts";
import { toPerfetto } from "../sim/export/perfetto.ts";
import { toPrometheusText } from "../sim/export/prometheus.ts";
import type { AnyRecording } from "../sim/export/recording.ts";

/**
 * The export flags shared by `replay`, `train` and `rl`:
 *   addExportOptions(cmd)                      // adds --export-perfetto/--export-csv/--export-prometheus
 *   if (wantsRecording(opts)) … record …       // only record events when an export was asked for
 *   await writeExports(opts, recording)        // writes the files, returns the paths written
 * A serving run passes a `Recording` (createRecorder/recordRun in sim/export); training and RL pass a
 * `TimelineRecording` (one sample per timeline event, bytes per memory component).
 */
export interface ExportFlags {
  exportPerfetto?: string;
  exportCsv?: string;
  exportPrometheus?: string;
}

export function addExportOptions(cmd: Command): Command {
  return cmd
    .option("--export-perfetto <file>", "write a Chrome/Perfetto trace-event JSON (open in ui.perfetto.dev)")
    .option("--export-csv <file>", "write the memory timeline as CSV (and per-request metrics to FILE-requests.csv)")
    .option("--export-prometheus <file>", "write a Prometheus text snapshot with vLLM metric names");
}

/** True when any export flag was given (so the caller records the event stream). */
export function wantsRecording(opts: ExportFlags): boolean {
  return !!(opts.exportPerfetto || opts.exportCsv || opts.exportPrometheus);
}

/** `run.csv` → `run-requests.csv`; `run` → `run-requests.csv`. */
export function requestsCsvPath(memoryPath: string): string {
  const ext = extname(memoryPath);
  return ext ? `${memoryPath.slice(0, -ext.length)}-requests${ext}` : `${memoryPath}-requests.csv`;
}

function write(path: string, text: string, flag: string): void {
  try {
    const dir = dirname(path);
    if (dir && dir !== ".") mkdirSync(dir, { recursive: true });
    writeFileSync(path, text);
  } catch (e) {
    throw new UserError(`${flag}: cannot write ${path}: ${(e as Error).message}`, { field: flag });
  }
}

/** Writes every requested export; returns the files written, in flag order. */
export async function writeExports(opts: ExportFlags, rec: AnyRecording): Promise<string[]> {
  const written: string[] = [];
  if (opts.exportPerfetto) {
    write(opts.exportPerfetto, JSON.stringify(toPerfetto(rec)), "--export-perfetto");
    written.push(opts.exportPerfetto);
  }
  if (opts.exportCsv) {
    const csv = toCsv(rec);
    write(opts.exportCsv, csv.memory, "--export-csv");
    written.push(opts.exportCsv);
    if (csv.requests !== null) {
      const p = requestsCsvPath(opts.exportCsv);
      write(p, csv.requests, "--export-csv");
      written.push(p);
    }
  }
  if (opts.exportPrometheus) {
    write(opts.exportPrometheus, await toPrometheusText(rec), "--export-prometheus");
    written.push(opts.exportPrometheus);
  }
  return written;
}
