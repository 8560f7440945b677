// Worker entry: registers tsx's loader inside the worker thread, then loads the TypeScript entry named in
// workerData. (On Node 20, `execArgv: ["--import", "tsx"]` does not give a worker thread the TypeScript loader:
// "Unknown file extension .ts". Registering it from a plain .mjs works with any parent: node, tsx, vitest.)
import { register } from "tsx/esm/api";
import { workerData } from "node:worker_threads";

register();
await import(workerData.entry);
