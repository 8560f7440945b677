/**
 * GET /api/runs/:id/export: a one-off worker re-simulates the run from its input up to the time the run has
 * reached (the engine is deterministic, so this is exactly what the viewer saw) with a recorder, and formats it
 * with the writers in `sim/export/`. A separate worker, so an export never stalls the live run, works after the
 * run's own worker is gone, and a huge export cannot take the server down with it.
 */
import { UserError } from "../../sim/errors.ts";
import type { Run } from "./run.ts";
import type { ExportFormat } from "./worker-messages.ts";
import { loadableModule, WorkerHost } from "./worker-host.ts";

export interface ExportResult {
  body: string;
  contentType: string;
  extension: string;
}

export type Exporter = (run: Run, format: ExportFormat, table?: "requests" | "memory") => Promise<ExportResult>;

export function createExporter(opts: { workerMemoryMb: number }): Exporter {
  return async (run, format, table = "requests") => {
    if (run.kind.exportable === false)
      throw new UserError(`runs of kind ${run.kind.name} have no export; their result is in GET /api/runs/${run.id}`, { field: "format" });
    if (run.state === "failed")
      throw new UserError(`run ${run.id} failed (${run.info().message ?? "no message"}); nothing to export`, { field: "id" });
    if (run.state === "created") throw new UserError(`run ${run.id} has not started yet; nothing to export`, { field: "id" });
    let failure: string | null = null;
    const [host, simModule] = await Promise.all([
      WorkerHost.start({ maxOldGenerationSizeMb: opts.workerMemoryMb, onFail: (m) => (failure = m) }),
      loadableModule(run.kind.simModule),
    ]);
    try {
      const untilT = run.state === "finished" ? Number.MAX_VALUE : run.t;
      const out = await host.exportRun({
        op: "export",
        simModule,
        input: run.prepared.workerInput,
        untilT,
        format,
        table,
        runId: run.id,
      });
      return { body: out.body, contentType: out.contentType, extension: out.extension };
    } catch (e) {
      throw new Error(`export failed: ${failure ?? (e as Error).message}`);
    } finally {
      await host.terminate();
    }
  };
}
