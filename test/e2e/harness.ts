/**
 * Shared set-up of the browser tests: the client bundle (built once if missing or older than its sources), the
 * real server on an ephemeral port, one Chromium, and helpers that read what the page draws.
 */
import { existsSync, readdirSync, statSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { launchBrowser, type LaunchedBrowser } from "./browser.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const ARTIFACTS = join(ROOT, "test-artifacts");

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds dist/client with vite unless it is newer than every file under client/. */
export async function ensureClientBuilt(): Promise<void> {
  const index = join(ROOT, "dist/client/index.html");
  if (existsSync(index) && statSync(index).mtimeMs > newestMtime(join(ROOT, "client"))) return;
  const { build } = await import("vite");
  await build({ configFile: join(ROOT, "client/vite.config.ts"), root: join(ROOT, "client"), logLevel: "error" });
}

export interface E2E {
  url: string;
  browser: LaunchedBrowser;
  close(): Promise<void>;
}

export async function startE2E(): Promise<E2E> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureClientBuilt();
  const { startServer } = await import("../../server/app.ts");
  // Several tests each start runs; a page that closes cancels its own, but a slot may stay busy a moment after.
  const server = await startServer({ port: 0, quiet: true, maxConcurrentRuns: 32 });
  const browser = await launchBrowser({ viewport: { width: 1600, height: 1000 } });
  return {
    url: server.url,
    browser,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/** Console errors and uncaught exceptions of a page (the "no console errors" check). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console.error: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

/** What the Serve view shows right now: the memory timeline's path data, the block map's pixels, the clock. */
export async function sampleServe(page: Page): Promise<{ paths: string; cells: string; clock: string; t: number; frames: number }> {
  return page.evaluate(() => {
    const paths = [...document.querySelectorAll('[data-testid="memory-timeline"] path.layer')].map((p) => p.getAttribute("d") ?? "").join("|");
    const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="block-map"] canvas');
    const cells = canvas ? canvas.toDataURL() : "";
    const clock = document.querySelector(".clock")?.textContent ?? "";
    const store = (window as unknown as { __vramscope: { store: { t: number; frames: number } } }).__vramscope.store;
    return { paths, cells, clock, t: store.t, frames: store.frames };
  });
}

/** Waits until the Serve view's run has streamed at least `n` frames. */
export async function waitForFrames(page: Page, n: number, timeout = 30_000): Promise<void> {
  await page.waitForFunction(
    (k) => ((window as unknown as { __vramscope?: { store: { frames: number } } }).__vramscope?.store.frames ?? 0) >= k,
    n,
    { timeout },
  );
}

/** Waits for the run's summary (the metrics panel switches to the engine's final numbers). */
export async function waitForSummary(page: Page, timeout = 60_000): Promise<void> {
  await page.waitForFunction(() => (window as unknown as { __vramscope?: { store: { summary: unknown } } }).__vramscope?.store.summary != null, undefined, { timeout });
}

/**
 * Leaves the page before closing it, so its `pagehide` handler cancels the runs it started (a closed test page
 * must not keep a server worker busy for the next test).
 */
export async function closePage(page: Page): Promise<void> {
  await page.goto("about:blank").catch(() => {});
  await page.waitForTimeout(100);
  await page.close();
}
