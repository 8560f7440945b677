/**
 * Worker code as plain JavaScript: the worker entry and each run kind's sim module are bundled with esbuild (tsx's
 * own transpiler, installed with it) into one file each, named by content hash in the OS temp folder. A worker then
 * starts in ~0.1–0.3 s instead of ~1.5 s with tsx transpiling the engine inside the thread (the same measurement
 * and remedy as cli/sweep-pool.ts), which is the difference between a run that starts when the page opens and one
 * that visibly lags. Bundles are built once per process; when esbuild cannot be loaded, callers fall back to the
 * tsx bootstrap (worker-boot.mjs).
 */
import { createHash } from "node:crypto";
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const built = new Map<string, Promise<URL | null>>();

/** The bundled file of a .ts module (file URL), or null when bundling is unavailable. */
export function bundled(url: URL): Promise<URL | null> {
  let p = built.get(url.href);
  if (!p) {
    p = build(url);
    built.set(url.href, p);
  }
  return p;
}

async function build(url: URL): Promise<URL | null> {
  if (process.env.VRAMSCOPE_NO_BUNDLE === "1") return null;
  try {
    const esbuild = (await import("esbuild")) as typeof import("esbuild");
    const out = await esbuild.build({
      entryPoints: [fileURLToPath(url)],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      write: false,
      logLevel: "silent",
      // CommonJS dependencies (prom-client) call require(); give the ESM bundle one.
      banner: { js: 'import { createRequire as __vsCreateRequire } from "node:module"; const require = __vsCreateRequire(import.meta.url);' },
    });
    const text = out.outputFiles[0].text;
    const name = url.pathname.split("/").pop()!.replace(/\.ts$/, "");
    const file = join(tmpdir(), `vramscope-${name}-${createHash("sha256").update(text).digest("hex").slice(0, 16)}.mjs`);
    if (!existsSync(file)) {
      const partial = `${file}.${process.pid}.tmp`;
      writeFileSync(partial, text);
      renameSync(partial, file);
    }
    return pathToFileURL(file);
  } catch {
    return null;
  }
}
