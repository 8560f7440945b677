/**
 * Frame rate of the page while a run streams, from requestAnimationFrame timestamps collected in the page: frames
 * drawn ÷ seconds elapsed, plus the worst and 95th-percentile gap between two frames. Used by the e2e suite (with
 * a generous floor) and reusable by `npm run bench`.
 *
 * The in-page code is a string: transpilers that keep function names (tsx) would otherwise inject helpers the page
 * does not have.
 */
import type { Page } from "playwright-core";

export interface FpsMeasurement {
  fps: number;
  frames: number;
  seconds: number;
  worstFrameMs: number;
  p95FrameMs: number;
}

const IN_PAGE = `(duration) => new Promise((resolve) => {
  const stamps = [];
  function tick(ts) {
    stamps.push(ts);
    if (ts - stamps[0] < duration) { requestAnimationFrame(tick); return; }
    const gaps = stamps.slice(1).map((t, i) => t - stamps[i]).sort((a, b) => a - b);
    const seconds = (stamps[stamps.length - 1] - stamps[0]) / 1000;
    resolve({ fps: (stamps.length - 1) / seconds, frames: stamps.length - 1, seconds,
      worstFrameMs: gaps[gaps.length - 1] || 0, p95FrameMs: gaps[Math.floor(gaps.length * 0.95)] || 0 });
  }
  requestAnimationFrame(tick);
})`;

export async function measureFps(page: Page, ms: number): Promise<FpsMeasurement> {
  return page.evaluate(`(${IN_PAGE})(${Number(ms)})`) as Promise<FpsMeasurement>;
}
