/** Public API of the traces module: read every supported format, stream it, shape it, synthesise workloads. */
export type { TraceRequest } from "./types.ts";
export { DEFAULT_HASH_BLOCK_TOKENS } from "./types.ts";
export { TRACE_FORMATS, isTraceFormat, type TraceFormat } from "./formats.ts";
export type { TraceOptions } from "./options.ts";
export { MAX_KEPT_ISSUES, newReport, type TraceIssue, type TraceReport } from "./report.ts";
export { detectFormat } from "./detect.ts";
export { linesFromChunks, lineBatchesFromChunks, splitLines } from "./lines.ts";
export { readTrace, readTraceBatches, parseTraceText } from "./read.ts";
export { TraceReader, parseTimeWindow } from "./reader.ts";
export { toNativeLine } from "./native.ts";
export { gammaArrivals } from "./arrivals.ts";
export { Rng } from "./rng.ts";
export { sharedPrefixTokens, cachedPrefixBlocks } from "./prefix.ts";
export { synthesize, type SynthSpec } from "./synth.ts";
export { parseLengthDist, sampleLength, type LengthDist } from "./length-dist.ts";
export { TraceStats, lengthStats, type TraceSummary, type LengthStats } from "./stats.ts";
