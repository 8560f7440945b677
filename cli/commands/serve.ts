import type { Command } from "commander";
import { action, parseIntFlag } from "../common.ts";
import { portFromString } from "../../server/port.ts";

/**
 * `vramscope serve [--port N] [--host H]`: the live server (REST, WebSocket streams, /metrics, the built client).
 * PORT and HOST environment variables are the defaults; flags win. Binds 127.0.0.1 unless told otherwise.
 */
export function register(program: Command): void {
  program
    .command("serve")
    .description("Start the live server: REST API, WebSocket run streams, /metrics and the web client")
    .option("--port <n>", "TCP port (0 = any free port; default $PORT or 8080)")
    .option("--host <addr>", "address to bind (default $HOST or 127.0.0.1; anything else exposes the server)")
    .option("--max-concurrent-runs <n>", "runs simulated at once; the rest queue", parseIntFlag("--max-concurrent-runs"), 4)
    .action(
      action(async (opts: { port?: string; host?: string; maxConcurrentRuns: number }) => {
        const port = portFromString(opts.port, "--port") ?? portFromString(process.env.PORT, "PORT") ?? 8080;
        const host = opts.host ?? (process.env.HOST || "127.0.0.1");
        const { startServer } = await import("../../server/app.ts");
        const server = await startServer({ port, host, maxConcurrentRuns: Math.max(1, opts.maxConcurrentRuns) });
        const stop = () => void server.close().then(() => process.exit(0));
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      }),
    );
}
