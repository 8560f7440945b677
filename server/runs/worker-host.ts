/**
 * The main-thread handle of one run's worker thread: one request in flight at a time, a promise per request, and
 * every way a worker can die (exception, `fatal`, out-of-memory under `resourceLimits`, exit) turned into one
 * `onFail(message)` call, so a broken simulation fails its own run and nothing else.
 */
import { Worker } from "node:worker_threads";
import { bundled } from "./bundle.ts";
import type { ExportReply, HostRequest, WorkerBatch, WorkerReply } from "./worker-messages.ts";

export interface WorkerHostOptions {
  /** V8 old-generation limit of the worker, MiB (a run that exceeds it fails with an out-of-memory message). */
  maxOldGenerationSizeMb?: number;
  onFail: (message: string) => void;
}

const WORKER_ENTRY = new URL("./worker.ts", import.meta.url);

/** A module URL the worker can import: the bundle of a .ts module when bundling works, else the module itself. */
export async function loadableModule(url: URL): Promise<string> {
  if (!url.pathname.endsWith(".ts")) return url.href;
  return ((await bundled(url)) ?? url).href;
}

type Pending = { resolve: (b: WorkerBatch | ExportReply) => void; reject: (e: Error) => void };
/** Distributes `Omit` over the request union so each op keeps its own fields. */
type RequestBody = HostRequest extends infer R ? (R extends HostRequest ? Omit<R, "id"> : never) : never;

export class WorkerHost {
  private readonly worker: Worker;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private dead = false;
  private readonly onFail: (message: string) => void;
  /** Resolves with the exit code once the thread is gone (tests: cancel terminates the worker). */
  readonly exited: Promise<number>;

  /**
   * Starts a worker from `entry`: the bundled plain-JS worker when there is one (bundle.ts), else the TypeScript
   * entry through the tsx bootstrap. Use {@link WorkerHost.start}, which bundles first.
   */
  constructor(opts: WorkerHostOptions, entry: URL | null = null) {
    this.onFail = opts.onFail;
    const resourceLimits = { maxOldGenerationSizeMb: opts.maxOldGenerationSizeMb ?? 1024 };
    this.worker = entry
      ? new Worker(entry, { execArgv: [], resourceLimits })
      : new Worker(new URL("./worker-boot.mjs", import.meta.url), {
          workerData: { entry: WORKER_ENTRY.href },
          resourceLimits,
        });
    this.worker.on("message", (msg: WorkerReply) => {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.op === "fatal") {
        this.die(msg.message);
        p?.reject(new Error(msg.message));
        return;
      }
      p?.resolve(msg);
    });
    this.worker.on("error", (err: Error & { code?: string }) => {
      const message =
        err.code === "ERR_WORKER_OUT_OF_MEMORY"
          ? `the simulation ran out of memory (worker limit ${opts.maxOldGenerationSizeMb ?? 1024} MiB): ${err.message}`
          : err.message;
      this.die(message);
    });
    this.exited = new Promise((resolve) =>
      this.worker.on("exit", (code) => {
        if (!this.dead) this.die(`the simulation worker exited unexpectedly (code ${code})`);
        resolve(code);
      }),
    );
  }

  /** A host on the bundled worker (or the tsx bootstrap when bundling is unavailable). */
  static async start(opts: WorkerHostOptions): Promise<WorkerHost> {
    return new WorkerHost(opts, await bundled(WORKER_ENTRY));
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  get alive(): boolean {
    return !this.dead;
  }

  request(req: RequestBody): Promise<WorkerBatch> {
    return this.call(req) as Promise<WorkerBatch>;
  }

  exportRun(req: Omit<Extract<HostRequest, { op: "export" }>, "id">): Promise<ExportReply> {
    return this.call(req) as Promise<ExportReply>;
  }

  private call(req: RequestBody): Promise<WorkerBatch | ExportReply> {
    if (this.dead) return Promise.reject(new Error("worker is gone"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id } as HostRequest);
    });
  }

  /** Stops the thread; no failure is reported (cancel, finish, shutdown). */
  async terminate(): Promise<void> {
    if (this.dead) return;
    this.dead = true;
    this.rejectAll("worker terminated");
    await this.worker.terminate();
  }

  private die(message: string): void {
    if (this.dead) return;
    this.dead = true;
    this.rejectAll(message);
    void this.worker.terminate();
    this.onFail(message);
  }

  private rejectAll(message: string): void {
    for (const p of this.pending.values()) p.reject(new Error(message));
    this.pending.clear();
  }
}
