/**
 * The vramscope server: fastify with external plugins (websocket, static) → app state (trace store, runs, metrics)
 * → routes, each with TypeBox schemas. `buildApp` returns the fastify instance without listening (tests use
 * `app.inject` / `app.injectWS`); `startServer` listens and returns its URL (port 0 = an ephemeral port).
 *
 * Security defaults: bind 127.0.0.1 (a warning is printed when another host is given), JSON bodies ≤ 64 KiB,
 * uploads ≤ 20 MiB held in memory, WebSocket upgrades only from this host's pages, static files only from the
 * client build folder.
 */
import { isIP } from "node:net";
import Fastify, { type FastifyInstance } from "fastify";
import fastifyWebsocket from "@fastify/websocket";
import { parseTraceText } from "../sim/traces/read.ts";
import { isTraceFormat } from "../sim/traces/formats.ts";
import { ServerMetrics } from "./metrics/registry.ts";
import { installErrorHandler } from "./plugins/errors.ts";
import { catalogRoutes } from "./routes/catalog.ts";
import { capacityRoutes } from "./routes/capacity.ts";
import { healthRoutes } from "./routes/health.ts";
import { runRoutes } from "./routes/runs.ts";
import { staticRoutes } from "./routes/static.ts";
import { streamRoutes } from "./routes/stream.ts";
import { traceRoutes } from "./routes/traces.ts";
import { createExporter } from "./runs/export.ts";
import { KindRegistry } from "./runs/kinds/registry.ts";
import { builtinKinds } from "./runs/kinds/index.ts";
import type { RunKind } from "./runs/kinds/types.ts";
import { RunManager } from "./runs/manager.ts";
import { DEFAULT_TRACE } from "./runs/kinds/replay.ts";
import { DEFAULT_STREAM_LIMITS, type StreamLimits } from "./stream/connection.ts";
import { TraceStore, type TraceParser } from "./traces/store.ts";

export interface ServerOptions {
  port?: number;
  host?: string;
  /** No console output (tests). */
  quiet?: boolean;
  /** Folder of the built client (default dist/client). */
  clientDir?: string | URL;
  /** Runs executing at once; the rest queue (default 4). */
  maxConcurrentRuns?: number;
  /** Per-connection streaming limits (backpressure, rates); tests shrink them. */
  limits?: Partial<StreamLimits>;
  /** V8 heap limit of each run's worker, MiB (default 1024). */
  workerMemoryMb?: number;
  /** Upload limit for POST /api/traces, bytes (default 20 MiB). */
  uploadLimitBytes?: number;
  /** JSON body limit, bytes (default 64 KiB). */
  bodyLimitBytes?: number;
  /** Extra run kinds (tests: a worker that throws or exhausts memory). */
  extraKinds?: RunKind[];
  /** Origins allowed to open streams besides this host's own (e.g. a vite dev server). */
  allowedOrigins?: string[];
  /** Folder of embedded traces (default the repo's traces/). */
  tracesDir?: URL;
  /** Runs with no stream for this long are cancelled, except `start: "now"` ones (default 120 s). */
  abandonAfterMs?: number;
  /**
   * Simulation compute between two checkpoints of a live run, ms (default 250): a backward seek re-simulates about
   * this much at most. Tests set 0 (a checkpoint at every batch).
   */
  checkpointEveryMs?: number;
  /** Parse the default trace at startup so the first run starts at once (default true). */
  warmDefaultTrace?: boolean;
}

export interface AppContext {
  app: FastifyInstance;
  manager: RunManager;
  traces: TraceStore;
  metrics: ServerMetrics;
}

const parseTrace: TraceParser = (text, opts) =>
  parseTraceText(text, {
    fileName: opts.fileName,
    format: opts.format !== undefined && isTraceFormat(opts.format) ? opts.format : undefined,
    strict: true,
  }).requests;

export async function buildApp(opts: ServerOptions = {}): Promise<AppContext> {
  const log = opts.quiet ? () => {} : (m: string) => process.stderr.write(`${m}\n`);
  const limits: StreamLimits = { ...DEFAULT_STREAM_LIMITS, ...opts.limits };
  const workerMemoryMb = opts.workerMemoryMb ?? 1024;
  const uploadLimitBytes = opts.uploadLimitBytes ?? 20 * 1024 * 1024;
  const app = Fastify({
    logger: false,
    bodyLimit: opts.bodyLimitBytes ?? 64 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: false } },
  });
  installErrorHandler(app, log);

  const traces = new TraceStore({ dir: opts.tracesDir ?? new URL("../traces/", import.meta.url), parse: parseTrace });
  const metrics = new ServerMetrics();
  const kinds = new KindRegistry([...builtinKinds(), ...(opts.extraKinds ?? [])]);
  const manager = new RunManager({
    kinds,
    traces,
    metrics,
    maxConcurrent: opts.maxConcurrentRuns ?? 4,
    maxEndedRuns: 100,
    maxQueued: 100,
    tickMs: limits.frameIntervalMs,
    workerMemoryMb,
    abandonAfterMs: opts.abandonAfterMs ?? 120_000,
    checkpointEveryMs: opts.checkpointEveryMs ?? 250,
  });
  app.decorate("runs", manager);
  app.addHook("onClose", async () => manager.close());

  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });
  await app.register(healthRoutes(manager, metrics));
  await app.register(catalogRoutes);
  await app.register(capacityRoutes);
  await app.register(traceRoutes(traces, uploadLimitBytes));
  await app.register(runRoutes(manager, kinds, createExporter({ workerMemoryMb })));
  await app.register(streamRoutes(manager, metrics, limits, opts.allowedOrigins ?? []));
  await app.register(staticRoutes(opts.clientDir ?? new URL("../dist/client/", import.meta.url)));

  if (opts.warmDefaultTrace !== false && traces.has(DEFAULT_TRACE))
    setImmediate(() => {
      try {
        traces.get(DEFAULT_TRACE);
      } catch (e) {
        log(`warning: could not parse the default trace: ${(e as Error).message}`);
      }
    });
  return { app, manager, traces, metrics };
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
}

export async function startServer(
  opts: ServerOptions = {},
): Promise<{ url: string; close(): Promise<void>; app: FastifyInstance; manager: RunManager }> {
  const host = opts.host ?? "127.0.0.1";
  const { app, manager } = await buildApp(opts);
  await app.listen({ port: opts.port ?? 0, host });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : opts.port ?? 0;
  const shown = isIP(host) === 6 ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  const url = `http://${shown}:${port}`;
  if (!opts.quiet) {
    process.stdout.write(`vramscope serving on ${url}\n`);
    if (!isLoopback(host))
      process.stderr.write(
        `warning: listening on ${host}: anyone who can reach this address can start simulations (there is no authentication)\n`,
      );
  }
  return { url, app, manager, close: () => app.close() };
}

declare module "fastify" {
  interface FastifyInstance {
    runs: RunManager;
  }
}
