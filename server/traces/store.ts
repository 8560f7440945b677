/**
 * The traces a run can replay: the embedded ones shipped in `traces/` (listed once at startup, looked up by exact
 * name, so no request string ever becomes a path) and uploads held in memory under generated ids.
 *
 * Why uploads live in memory: a server left running on a shared box must not let clients fill its disk, and a
 * bounded map (oldest upload evicted past `maxUploads`) bounds the memory too. Parsed embedded traces are cached
 * (a few entries) because every default run replays the same one.
 *
 * Invariant TS-1: `get(id)` only ever reads a file whose name came from the startup listing of `dir`.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { closestNames, UserError } from "../../sim/errors.ts";
import type { TraceRequest } from "../../sim/traces/types.ts";

export interface TraceInfo {
  /** What `config.trace` names: the embedded file's stem ("azure-2023-conv") or an upload id ("up-…"). */
  id: string;
  source: "embedded" | "upload";
  /** File name (embedded) or the name the uploader gave. */
  fileName: string;
  bytes: number;
  /** Known once parsed. */
  requests?: number;
  lastArrival?: number;
}

export interface ParsedTrace {
  info: TraceInfo;
  requests: TraceRequest[];
}

/** Parses a trace file's text; throws UserError whose message carries file:line. */
export type TraceParser = (text: string, opts: { fileName: string; format?: string }) => TraceRequest[];

const TRACE_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]*\.(csv|jsonl|json)(\.gz)?$/;

export interface TraceStoreOptions {
  /** Folder of the embedded traces (the repo's `traces/`). */
  dir: URL;
  parse: TraceParser;
  maxUploads?: number;
  cacheSize?: number;
}

export class TraceStore {
  private readonly embedded = new Map<string, { info: TraceInfo; file: URL }>();
  private readonly uploads = new Map<string, ParsedTrace>();
  private readonly cache = new Map<string, ParsedTrace>();
  private readonly parse: TraceParser;
  private readonly maxUploads: number;
  private readonly cacheSize: number;

  constructor(opts: TraceStoreOptions) {
    this.parse = opts.parse;
    this.maxUploads = opts.maxUploads ?? 32;
    this.cacheSize = opts.cacheSize ?? 3;
    let names: string[] = [];
    try {
      names = readdirSync(opts.dir);
    } catch {
      names = [];
    }
    for (const fileName of names.sort()) {
      if (!TRACE_FILE.test(fileName)) continue;
      const file = new URL(fileName, opts.dir);
      const id = fileName.replace(/\.gz$/, "").replace(/\.(csv|jsonl|json)$/, "");
      this.embedded.set(id, { info: { id, source: "embedded", fileName, bytes: statSync(file).size }, file });
    }
  }

  list(): TraceInfo[] {
    return [...[...this.embedded.values()].map((e) => this.cache.get(e.info.id)?.info ?? e.info), ...[...this.uploads.values()].map((u) => u.info)];
  }

  has(id: string): boolean {
    return this.embedded.has(id) || this.uploads.has(id);
  }

  /** The parsed trace; unknown ids throw UserError naming `field` with the closest names. */
  get(id: string, field = "trace"): ParsedTrace {
    const up = this.uploads.get(id);
    if (up) return up;
    const hit = this.cache.get(id);
    if (hit) {
      this.cache.delete(id);
      this.cache.set(id, hit);
      return hit;
    }
    const e = this.embedded.get(id);
    if (!e) {
      const names = [...this.embedded.keys(), ...this.uploads.keys()];
      throw new UserError(`${field}: unknown trace "${id}"; did you mean ${closestNames(id, names).join(", ")}?`, { field });
    }
    let raw = readFileSync(e.file);
    if (e.info.fileName.endsWith(".gz")) raw = gunzipSync(raw);
    const requests = this.parse(raw.toString("utf8"), { fileName: e.info.fileName.replace(/\.gz$/, "") });
    const parsed: ParsedTrace = { info: { ...e.info, ...stats(requests) }, requests };
    this.cache.set(id, parsed);
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return parsed;
  }

  /** Parses and stores an upload under a generated id; parse errors propagate (UserError with file:line). */
  upload(text: string, fileName: string, format?: string): TraceInfo {
    const safeName = sanitizeName(fileName);
    const requests = this.parse(text, { fileName: safeName, format });
    if (requests.length === 0) throw new UserError(`${safeName}: the trace has no requests`, { field: "body" });
    const id = `up-${randomBytes(6).toString("hex")}`;
    const info: TraceInfo = { id, source: "upload", fileName: safeName, bytes: Buffer.byteLength(text), ...stats(requests) };
    this.uploads.set(id, { info, requests });
    while (this.uploads.size > this.maxUploads) this.uploads.delete(this.uploads.keys().next().value!);
    return info;
  }
}

function stats(requests: TraceRequest[]): { requests: number; lastArrival: number } {
  return { requests: requests.length, lastArrival: requests.length ? requests[requests.length - 1].arrival : 0 };
}

/** A display name only (never a path): basename, printable ASCII, bounded. */
export function sanitizeName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  const clean = base.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 100);
  return clean.length ? clean : "upload";
}
