/**
 * `npm start` / `node --import tsx server/main.ts`: listens on PORT (default 8080) and HOST (default 127.0.0.1)
 * from the environment and prints the URL. `vramscope serve` does the same with flags.
 */
import { startServer } from "./app.ts";
import { portFromString } from "./port.ts";

try {
  const port = portFromString(process.env.PORT, "PORT") ?? 8080;
  const host = process.env.HOST || "127.0.0.1";
  const server = await startServer({ port, host });
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (e) {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exit(1);
}
