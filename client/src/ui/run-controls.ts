/**
 * Play / pause / step, speed, and a scrubber that seeks (simulated seconds). Sends protocol messages through
 * `send`; reflects the run's `state` messages (the server is the source of truth for what is running).
 */
import { html, $, nextId, setText, setHtml, setAttr } from "./dom.ts";
import { esc } from "./format.ts";
import type { ClientMessage } from "../../../server/protocol.ts";

export const SPEEDS: (number | "max")[] = [0.25, 1, 4, 10, 30, 100, 300, 1000, 10000, "max"];

export interface RunControls {
  el: HTMLElement;
  update(s: { state: string; speed: number | "max"; t: number; horizon: number; message?: string; runId?: string | null }): void;
  togglePlay(): void;
  step(): void;
  faster(dir: 1 | -1): void;
}

export function runControls(send: (m: ClientMessage) => void, onSpeed?: (s: number | "max") => void): RunControls {
  const id = nextId("ctl");
  const el = html(`
    <section class="panel" aria-label="Run controls">
      <div class="controls">
        <button type="button" class="btn primary" id="${id}-play" aria-pressed="false" title="Play / pause (space)">play</button>
        <button type="button" class="btn" id="${id}-step" title="One engine step (.)">step</button>
        <label for="${id}-speed" class="muted">speed</label>
        <select id="${id}-speed">${SPEEDS.map((s) => `<option value="${s}">${s === "max" ? "max" : `${s}×`}</option>`).join("")}</select>
        <span class="badge" id="${id}-state" role="status" aria-live="polite">created</span>
        <div class="scrub">
          <label for="${id}-scrub" class="sr-only">seek (simulated seconds)</label>
          <input type="range" id="${id}-scrub" min="0" max="1" step="0.1" value="0" />
        </div>
        <span class="clock" id="${id}-clock" aria-label="simulated time">t = 0.0 s</span>
      </div>
      <div class="note" id="${id}-msg"></div>
    </section>`);
  const play = $<HTMLButtonElement>(el, `#${id}-play`);
  const speedSel = $<HTMLSelectElement>(el, `#${id}-speed`);
  const scrub = $<HTMLInputElement>(el, `#${id}-scrub`);
  let state = "created";
  let scrubbing = false;

  play.addEventListener("click", () => ctl.togglePlay());
  $(el, `#${id}-step`).addEventListener("click", () => ctl.step());
  speedSel.addEventListener("change", () => {
    const v = speedSel.value === "max" ? "max" : Number(speedSel.value);
    send({ type: "speed", speed: v });
    onSpeed?.(v);
  });
  scrub.addEventListener("input", () => (scrubbing = true));
  scrub.addEventListener("change", () => {
    scrubbing = false;
    send({ type: "seek", t: Number(scrub.value) });
  });

  const ctl: RunControls = {
    el,
    update(s) {
      state = s.state;
      const running = s.state === "running";
      setText(play, running ? "pause" : "play");
      setAttr(play, "aria-pressed", String(running));
      const badge = $(el, `#${id}-state`);
      setText(badge, s.state);
      setAttr(badge, "class", `badge state-${s.state}`);
      if (document.activeElement !== speedSel) {
        // A speed set through the URL or another client may not be one of the presets: list it.
        if (![...speedSel.options].some((o) => o.value === String(s.speed)))
          speedSel.append(new Option(s.speed === "max" ? "max" : `${s.speed}×`, String(s.speed)));
        if (speedSel.value !== String(s.speed)) speedSel.value = String(s.speed);
      }
      const max = Math.max(1, Math.ceil(s.horizon));
      if (scrub.max !== String(max)) scrub.max = String(max);
      if (!scrubbing && scrub.value !== String(Math.min(max, s.t))) scrub.value = String(Math.min(max, s.t));
      setText($(el, `#${id}-clock`), `t = ${s.t.toFixed(1)} s / ${max} s`);
      setHtml($(el, `#${id}-msg`), s.message ? esc(s.message) : "");
    },
    togglePlay() {
      if (state === "running") send({ type: "pause" });
      else if (state !== "finished" && state !== "failed" && state !== "cancelled") send({ type: "play" });
    },
    step() {
      // Stepping is a paused-run action: pause first when running (the server rejects a step while running).
      if (state === "running") send({ type: "pause" });
      send({ type: "step", n: 1 });
    },
    faster(dir) {
      const i = Math.max(0, SPEEDS.findIndex((s) => String(s) === speedSel.value));
      const j = Math.min(SPEEDS.length - 1, Math.max(0, i + dir));
      speedSel.value = String(SPEEDS[j]);
      speedSel.dispatchEvent(new Event("change"));
    },
  };
  return ctl;
}
