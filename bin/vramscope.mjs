#!/usr/bin/env node
// The CLI is TypeScript run through tsx's loader (a runtime dependency), so the repo needs no build step for it.
import { register } from "tsx/esm/api";
register();
await import("../cli/main.ts");
