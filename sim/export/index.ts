// Browser-safe exporters. `prometheus.ts` is Node-only (prom-client) and is imported directly where needed.
export { createRecorder } from "./recording.ts";
export { recordRun, finishRecording } from "./record-run.ts";
export { trainingRecording, rlRecording } from "./timelines.ts";
export type { AnyRecording, Recording, RecorderOptions, TimelineRecording, TimelineSample } from "./recording.ts";
export { toPerfetto, us } from "./perfetto.ts";
export type { TraceEvent, TraceEventFile } from "./perfetto.ts";
export { toCsv, csvTable, csvField, MEMORY_COLUMNS, REQUEST_COLUMNS } from "./csv.ts";
export type { CsvExport } from "./csv.ts";
export { toJsonSummary } from "./summary.ts";
