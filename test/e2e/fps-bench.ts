/**
 * The browser frame-rate figure for `npm run bench`: builds the client if stale, starts the server and Chromium,
 * opens the Serve view on a 10k-request replay at full speed and measures requestAnimationFrame timestamps for
 * `ms` milliseconds. Returns the measurement with the per-part redraw costs the page records. Prints nothing and
 * asserts nothing (the bench reports; the e2e test keeps a floor).
 */
import { startE2E, waitForFrames } from "./harness.ts";
import { measureFps, type FpsMeasurement } from "./fps.ts";

export interface FpsBench extends FpsMeasurement {
  /** Frames the server streamed during the measurement. */
  streamedFrames: number;
  /** Average milliseconds per redraw of each part (memory timeline, block map, Gantt, …). */
  redrawMs: Record<string, number>;
}

export async function benchFps(ms = 5000): Promise<FpsBench> {
  const env = await startE2E();
  try {
    const page = await env.browser.context.newPage();
    await page.goto(`${env.url}/?speed=max&maxreq=10000&mml=8192`);
    await waitForFrames(page, 3);
    const before = (await page.evaluate("window.__vramscope.store.frames")) as number;
    await page.evaluate("(() => { const t = window.__vramscope.timings; for (const k of Object.keys(t)) t[k] = [0, 0]; })()");
    const m = await measureFps(page, ms);
    const after = (await page.evaluate("window.__vramscope.store.frames")) as number;
    const redrawMs = (await page.evaluate(
      "Object.fromEntries(Object.entries(window.__vramscope.timings).map(([k, v]) => [k, v[1] ? v[0] / v[1] : 0]))",
    )) as Record<string, number>;
    return { ...m, streamedFrames: after - before, redrawMs };
  } finally {
    await env.close();
  }
}

// Runnable directly: `node --import tsx test/e2e/fps-bench.ts`.
if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchFps();
  process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
}
