/**
 * Launches the Chromium the e2e tests drive. The binary comes from `@sparticuz/chromium` (an npm package, so a fresh
 * machine has it after `npm ci`; it unpacks to /tmp on first use) and falls back to a system `/usr/bin/chromium`
 * (Debian's package, which `.ci/run` installs when missing). Every launch gets a fresh profile directory so runs
 * never share cache, service workers or storage.
 */
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium as pw, type BrowserContext } from "playwright-core";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const SYSTEM_CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** The path of a Chromium binary, or throws naming every place looked at. */
export async function chromiumPath(): Promise<string> {
  const tried: string[] = [];
  try {
    const mod = await import("@sparticuz/chromium");
    const p = await mod.default.executablePath();
    if (p && existsSync(p)) return p;
    tried.push(`@sparticuz/chromium → ${p}`);
  } catch (e) {
    tried.push(`@sparticuz/chromium: ${(e as Error).message}`);
  }
  for (const p of SYSTEM_CANDIDATES) {
    if (existsSync(p)) return p;
    tried.push(p);
  }
  throw new Error(`no Chromium found (tried ${tried.join("; ")})`);
}

export interface LaunchedBrowser {
  /** One persistent context on the fresh profile; open pages with `context.newPage()`. */
  context: BrowserContext;
  version: string;
  close(): Promise<void>;
}

/**
 * Playwright refuses a raw `--user-data-dir` argument and takes the directory through `launchPersistentContext`
 * instead, which passes it to Chromium as that same flag.
 */
export async function launchBrowser(opts: { viewport?: { width: number; height: number } } = {}): Promise<LaunchedBrowser> {
  const executablePath = await chromiumPath();
  const profile = mkdtempSync(join(tmpdir(), "vramscope-e2e-"));
  const context = await pw.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ARGS,
    viewport: opts.viewport ?? { width: 1600, height: 1000 },
  });
  const version = context.browser()?.version() ?? "unknown";
  return {
    context,
    version,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
