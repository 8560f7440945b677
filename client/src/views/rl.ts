/**
 * The RL view: one iteration (generate → score → train → sync) per GPU group, as a stacked area coloured by role
 * (actor/policy, critic, reference, reward, rollout engine, rollout buffer) or by memory component, with the
 * phases as bands, the peak annotated, the GPU's memory as the OOM line and the article's flat budget (its
 * 165 GB-per-trained-copy arithmetic, divided over the GPUs) drawn for comparison. Computed in the page by
 * `simulateRl` from sim/rl — which runs the serving simulator for the generate phase — on the same config object
 * `vramscope rl` builds from the same flags.
 */
import {
  simulateRl, articleBudget, RL_ALGORITHMS, DEFAULT_ROLLOUT_MEMORY_ACCOUNTING, defaultRolloutUtilization,
  type RlConfig, type RlReport, type RlTimelineEvent,
} from "../../../sim/rl/index.ts";
import { COMPONENTS } from "../../../sim/rl/types.ts";
import { resolveModel, listModels } from "../../../sim/model/registry.ts";
import { resolveGpu, listGpus } from "../../../sim/hardware/registry.ts";
import { isUserError } from "../../../sim/errors.ts";
import { formatGiB } from "../../../sim/units.ts";
import { stackedArea, legendHtml } from "../charts/stacked-area.ts";
import { knobForm, type Knob, type KnobValue } from "../ui/knob-form.ts";
import { html, $ } from "../ui/dom.ts";
import { roleColors, okabeIto, trainingComponentColors } from "../ui/palette.ts";
import { gib, exactBytes, esc, int, pct, num } from "../ui/format.ts";
import { drawEventTimeline, fitsBadge, showPeak } from "./event-timeline.ts";
import type { View } from "./view.ts";

const RL_PHASE_COLORS: Record<string, string> = {
  generate: okabeIto.orange, score: okabeIto.reddishPurple, train: okabeIto.blue, sync: okabeIto.bluishGreen,
};
const COMPONENT_COLORS: Record<string, string> = {
  ...trainingComponentColors,
  rolloutWeights: "#a8c6e0", rolloutActivations: "#d9a4c4", rolloutNonTorch: "#bdbdbd",
  kvUsed: okabeIto.orange, kvCachedFree: okabeIto.skyBlue, kvFree: "#55606e", buffer: "#8d7f2e",
};
const EXTRA_ROLE_COLORS = ["#56B4E9", "#009E73", "#F0E442", "#CC79A7", "#E69F00", "#0072B2", "#D55E00", "#999999"];

const KNOBS: Knob[] = [
  { name: "algo", label: "algorithm", kind: "select", default: "grpo", options: RL_ALGORITHMS, flags: ["--algo"] },
  { name: "model", label: "policy model", kind: "select", default: "Qwen/Qwen2.5-1.5B-Instruct", options: listModels(), flags: ["--model"] },
  { name: "gpu", label: "GPU", kind: "select", default: "H100-SXM-80GB", options: listGpus(), flags: ["--gpu"] },
  { name: "gpus", label: "GPUs", kind: "number", default: 1, min: 1, step: 1, flags: ["--gpus"] },
  { name: "placement", label: "placement", kind: "select", default: "colocate", options: ["colocate", "separate"], flags: ["--placement"] },
  { name: "rutil", label: "rollout gpu-mem-util", kind: "number", default: "", min: 0.01, max: 1, step: 0.01, optional: true, flags: ["--rollout-gpu-memory-utilization"] },
  { name: "sleep", label: "rollout sleep level", kind: "select", default: "1", options: ["0", "1", "2"], flags: ["--rollout-sleep-level"] },
  { name: "g", label: "generations per prompt (G)", kind: "number", default: "", min: 1, step: 1, optional: true, flags: ["--num-generations"] },
  { name: "beta", label: "KL β", kind: "number", default: 0, min: 0, step: 0.01, flags: ["--beta"] },
  { name: "critics", label: "CAI critics", kind: "number", default: 2, min: 0, step: 1, flags: ["--num-critics"] },
  { name: "plen", label: "prompt tokens", kind: "number", default: 512, min: 1, step: 1, flags: ["--prompt-len"] },
  { name: "rlen", label: "response tokens", kind: "number", default: 512, min: 1, step: 1, flags: ["--response-len"] },
  { name: "batch", label: "prompts / iteration", kind: "number", default: 64, min: 1, step: 1, flags: ["--rollout-batch-size"] },
  { name: "zero", label: "ZeRO stage", kind: "select", default: "", options: [{ value: "", label: "default" }, "0", "1", "2", "3"], flags: ["--zero-stage"] },
  { name: "mbs", label: "micro-batch size", kind: "number", default: 1, min: 1, step: 1, flags: ["--micro-batch-size"] },
  { name: "ckpt", label: "activation checkpointing", kind: "select", default: "full", options: ["full", "none", "selective"], flags: ["--activation-checkpointing"] },
  { name: "offtrain", label: "offload train states in rollout", kind: "checkbox", default: false },
  { name: "offfrozen", label: "offload frozen roles", kind: "checkbox", default: false },
  { name: "color", label: "colour by", kind: "select", default: "role", options: ["role", "component"] },
];

/** The RlConfig for the knobs, with `vramscope rl`'s defaults for every flag the form leaves out. */
export function rlConfigOf(v: Record<string, KnobValue>): RlConfig {
  const algorithm = String(v.algo) as RlConfig["algorithm"];
  const placement = String(v.placement) as RlConfig["placement"];
  const extra: Record<string, unknown> = { activationCheckpointing: String(v.ckpt) };
  // "default": sim/rl applies the RL sharding default (ZeRO-3 over 2+ data-parallel ranks), as `vramscope rl` does.
  if (v.zero !== "") extra.zeroStage = Number(v.zero);
  return {
    algorithm,
    model: resolveModel(String(v.model)),
    gpu: resolveGpu(String(v.gpu)),
    numGpus: Number(v.gpus),
    placement,
    rollout: {
      gpuMemoryUtilization: v.rutil !== "" ? Number(v.rutil) : defaultRolloutUtilization(placement),
      tensorParallelSize: 1,
      sleepLevel: Number(v.sleep) as 0 | 1 | 2,
      accounting: DEFAULT_ROLLOUT_MEMORY_ACCOUNTING,
      enablePrefixCaching: true,
    },
    numGenerations: v.g !== "" ? Number(v.g) : algorithm === "grpo" ? 8 : 1,
    beta: Number(v.beta),
    precomputeRefLogProbs: false,
    numCritics: Number(v.critics),
    revision: "separate",
    promptLen: Number(v.plen),
    responseLen: Number(v.rlen),
    rolloutBatchSize: Number(v.batch),
    training: { microBatchSize: Number(v.mbs), extra },
    offloadTrainStatesDuringRollout: Boolean(v.offtrain),
    offloadFrozenRoles: Boolean(v.offfrozen),
    seed: 0,
  };
}

export function rlView(): View {
  const el = html(`
    <div class="grid-serve" data-view="rl">
      <div class="col">
        <section class="panel" aria-labelledby="rl-h">
          <div class="panel-head"><h2 id="rl-h">RL iteration memory per GPU</h2><span class="muted" id="rl-facts"></span>
            <span class="aside">x: events of one iteration · hover for exact bytes</span></div>
          <div class="row"><span>peak per GPU</span><span class="peak" id="rl-peak" data-testid="rl-peak">–</span><span class="muted" id="rl-peak-at"></span><span id="rl-verdict"></span></div>
          <div class="legend" id="rl-legend"></div>
          <div class="devices" id="rl-groups"></div>
        </section>
        <section class="panel" aria-labelledby="rl-roles-h">
          <div class="panel-head"><h2 id="rl-roles-h">Roles</h2><span class="aside" id="rl-article"></span></div>
          <div style="overflow:auto" tabindex="0" role="region" aria-label="roles table"><table class="data" id="rl-roles"></table></div>
          <div class="note" id="rl-rollout"></div>
          <pre class="loglines" id="rl-notes"></pre>
        </section>
      </div>
      <div class="col" id="rl-side"></div>
    </div>`);
  let timer = 0;
  const form = knobForm("RL config", KNOBS, () => {
    clearTimeout(timer);
    timer = window.setTimeout(update, 120);
  });
  $(el, "#rl-side").append(form.el);
  let charts: ReturnType<typeof stackedArea<RlTimelineEvent>>[] = [];
  let last: { report: RlReport; config: RlConfig; colorBy: string } | null = null;

  function update() {
    try {
      const v = form.values();
      const config = rlConfigOf(v);
      const report = simulateRl(config);
      form.showError(null);
      last = { report, config, colorBy: String(v.color) };
    } catch (e) {
      if (!isUserError(e)) throw e;
      form.showError(e.message, e.field);
      return;
    }
    draw();
  }

  function draw() {
    if (!last) return;
    const { report: r, config, colorBy } = last;
    showPeak($(el, "#rl-peak"), r.peakBytesPerGpu, !r.fits);
    $(el, "#rl-peak-at").textContent = `in ${r.peakPhase}: ${r.peakEvent}`;
    $(el, "#rl-verdict").innerHTML = fitsBadge(r.fits, r.gpuMemoryBytes - r.peakBytesPerGpu, r.oomByBytes);
    $(el, "#rl-facts").textContent = `${r.algorithm.toUpperCase()} · ${config.model.name} · ${r.numGpusTotal} × ${r.gpu} · ${r.placement}`;
    const art = articleBudget(config.algorithm, config);
    const flatPerGpu = (art.totalGB * 1e9) / Math.max(1, r.numGpusTotal);
    $(el, "#rl-article").textContent = `article's flat budget: ${art.terms.map((t) => `${t.role} ${t.gb}`).join(" + ")} = ${art.totalGB} GB (${num(art.multipleOfTraining, 2)}× training) → ${formatGiB(flatPerGpu)} per GPU over ${r.numGpusTotal}`;

    const groups = [...new Set(r.timeline.map((e) => e.group))];
    const keysOf = (events: RlTimelineEvent[]) =>
      colorBy === "component"
        ? COMPONENTS.filter((c) => events.some((e) => (e.byComponent[c] ?? 0) > 0))
        : [...new Set(events.flatMap((e) => Object.keys(e.byRole)))].filter((k) => events.some((e) => (e.byRole[k] ?? 0) > 0));
    const allKeys = [...new Set(groups.flatMap((g) => keysOf(r.timeline.filter((e) => e.group === g))))];
    const colors: Record<string, string> = {};
    allKeys.forEach((k, i) => {
      const base = k.replace(/-\d+$/, "").replace("rollout-engine", "rollout").replace("rollout-buffer", "buffer");
      colors[k] = colorBy === "component" ? (COMPONENT_COLORS[k] ?? EXTRA_ROLE_COLORS[i % 8]) : (roleColors[base] ?? roleColors[k] ?? EXTRA_ROLE_COLORS[i % 8]);
    });
    $(el, "#rl-legend").innerHTML =
      legendHtml(allKeys.map((k) => ({ label: k, color: colors[k] }))) +
      legendHtml(Object.entries(RL_PHASE_COLORS).map(([k, c]) => ({ label: `phase: ${k}`, color: c, outline: true }))) +
      legendHtml([
        { label: "GPU memory (OOM line)", color: okabeIto.vermillion, outline: true },
        { label: "article flat budget per GPU", color: "var(--budget-line)", outline: true },
      ]);
    const box = $(el, "#rl-groups");
    if (charts.length !== groups.length) {
      box.replaceChildren();
      charts = groups.map(() => stackedArea<RlTimelineEvent>());
      groups.forEach((g, i) => box.append(html(`<div><h3>GPU group: ${esc(g)}</h3><div class="chart" data-testid="rl-group-${i}"></div></div>`)));
    } else groups.forEach((g, i) => (box.querySelectorAll("h3")[i].textContent = `GPU group: ${g}`));
    groups.forEach((g, i) => {
      const events = r.timeline.filter((e) => e.group === g);
      const keys = keysOf(events);
      const val = (e: RlTimelineEvent, k: string) => (colorBy === "component" ? (e.byComponent as Record<string, number>)[k] ?? 0 : e.byRole[k] ?? 0);
      drawEventTimeline(charts[i], box.querySelectorAll<HTMLElement>(".chart")[i], {
        events,
        index: (e) => e.index,
        total: (e) => e.total,
        keys,
        value: val,
        colors,
        phaseColors: RL_PHASE_COLORS,
        height: groups.length > 2 ? 220 : 300,
        xLabel: "event of the iteration (index)",
        title: `RL iteration memory timeline, group ${g}`,
        refLines: [
          { y: r.gpuMemoryBytes, label: `GPU ${gib(r.gpuMemoryBytes, 1)}`, color: okabeIto.vermillion },
          { y: flatPerGpu, label: `article ${gib(flatPerGpu, 1)}`, color: "var(--budget-line)", dash: "5,3" },
        ],
        yMax: Math.max(r.gpuMemoryBytes, flatPerGpu),
      });
    });
    $(el, "#rl-roles").innerHTML =
      `<thead><tr><th>role</th><th>kind</th><th>group</th><th class="num">peak / GPU</th><th class="num">resident / GPU</th><th class="num">CPU / GPU</th><th>model</th><th>why</th></tr></thead><tbody>` +
      r.roles.map((ro) => `<tr><td>${esc(ro.name)}</td><td>${ro.kind}</td><td>${esc(ro.group)}</td><td class="num" title="${exactBytes(ro.bytesPerGpu)}">${gib(ro.bytesPerGpu)}</td><td class="num">${gib(ro.residentBytesPerGpu)}</td><td class="num">${gib(ro.cpuBytesPerGpu)}</td><td>${esc(ro.model)}</td><td class="note">${esc(ro.why)}</td></tr>`).join("") +
      `</tbody><tfoot><tr><th colspan="3">phases</th><td colspan="5" class="mono">${r.phases.map((p) => `${p.name} ${formatGiB(p.peakBytesPerGpu)}`).join(" · ")}</td></tr></tfoot>`;
    const ro = r.rollout;
    $(el, "#rl-rollout").textContent = ro
      ? `rollout engine: ${ro.numReplicas} replica(s), ${int(ro.requestsPerReplica)} sequences each; KV ${formatGiB(ro.kvCacheBytes)} = ${int(ro.kvCacheTokens)} tokens (${int(ro.numGpuBlocks)} blocks); ${int(ro.summary.preemptions)} preemptions, ${int(ro.summary.recomputedTokens)} tokens recomputed, prefix hit rate ${pct(ro.summary.prefixCacheHitRate)}, ${ro.summary.simulatedSeconds.toFixed(2)} s simulated · rollout buffer ${formatGiB(r.rolloutBuffer.bytesPerGpu)} per GPU`
      : `no rollout engine · rollout buffer ${formatGiB(r.rolloutBuffer.bytesPerGpu)} per GPU`;
    $(el, "#rl-notes").textContent = [...(ro?.logLines ?? []), ...r.notes].join("\n");
  }

  const onResize = () => draw();
  window.addEventListener("resize", onResize);
  queueMicrotask(update);
  return { el, refresh: draw, destroy: () => { clearTimeout(timer); window.removeEventListener("resize", onResize); } };
}
