/**
 * Browser frame rate while a 10k-request replay streams at full speed — the client's own measurement
 * (test/e2e/fps.ts: requestAnimationFrame timestamps in the page) on the e2e harness (real server, headless
 * Chromium), the same scenario as the e2e test, with the figure printed instead of asserted. Reports "not measured"
 * with the reason when the harness or a Chromium is unavailable. Run: node --import tsx bench/browser.ts
 */
import { pathToFileURL } from "node:url";

export interface BrowserBenchResult {
  fps: number | null;
  worstFrameMs?: number;
  p95FrameMs?: number;
  reason?: string;
}

export async function run(ms = 5000): Promise<BrowserBenchResult> {
  let e2e: { url: string; browser: { context: { newPage(): Promise<unknown> } }; close(): Promise<void> } | null = null;
  try {
    // Loaded by path at run time: the harness belongs to the client's e2e suite.
    const harnessPath = new URL("../test/e2e/harness.ts", import.meta.url).href;
    const fpsPath = new URL("../test/e2e/fps.ts", import.meta.url).href;
    const harness = await import(harnessPath);
    const { measureFps } = await import(fpsPath);
    e2e = await harness.startE2E();
    const page = (await e2e!.browser.context.newPage()) as { goto(u: string): Promise<unknown>; close(): Promise<void> };
    await page.goto(`${e2e!.url}/?speed=max&maxreq=10000&mml=8192`);
    await harness.waitForFrames(page, 3);
    const m = await measureFps(page, ms);
    await page.close();
    process.stdout.write(
      `browser: ${m.fps.toFixed(1)} fps while a 10k-request replay streams (worst frame ${m.worstFrameMs.toFixed(0)} ms, p95 ${m.p95FrameMs.toFixed(0)} ms)\n`,
    );
    return { fps: m.fps, worstFrameMs: m.worstFrameMs, p95FrameMs: m.p95FrameMs };
  } catch (e) {
    const reason = (e as Error).message.split("\n")[0];
    process.stdout.write(`browser frame rate: not measured (${reason})\n`);
    return { fps: null, reason };
  } finally {
    await e2e?.close().catch(() => {});
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await run();
