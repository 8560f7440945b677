/**
 * The Serve view's config panel: every knob of a replay (model, GPU, TP, gpu-memory-utilization, max-num-seqs,
 * max-num-batched-tokens, block size, prefix caching, KV dtype, max model length, trace embedded or uploaded)
 * with the KV budget breakdown recomputed on every keystroke by the engine's own arithmetic
 * (`computeKvBudget(resolveServingConfig(...))` from sim/, no server round trip). An invalid value marks its
 * field and shows the engine's message, which says why (e.g. "No available memory for the cache blocks …").
 */
import { resolveServingConfig, type ServingConfigInput } from "../../../sim/serving/config.ts";
import { computeKvBudget } from "../../../sim/serving/budget.ts";
import { listModels } from "../../../sim/model/registry.ts";
import { listGpus } from "../../../sim/hardware/registry.ts";
import type { KvBudget } from "../../../sim/serving/types.ts";
import { isUserError } from "../../../sim/errors.ts";
import { html, $, nextId } from "./dom.ts";
import { getNumber, getParam, getBool, patchParams } from "./url-state.ts";
import { gib, int, num, esc, exactBytes } from "./format.ts";
import { servingComponentColors } from "./palette.ts";
import { getJson, uploadTrace, ApiError } from "../data/api.ts";

export interface ServeConfigValue {
  input: ServingConfigInput;
  trace: string;
  /** Replay only the first N requests of the trace (the server's `maxRequests`). */
  maxRequests?: number;
}

/** Defaults shown in the form = the server's default run (so "Run" with untouched knobs replays the default). */
export const SERVE_DEFAULTS = {
  model: "meta-llama/Llama-3.1-8B-Instruct",
  gpu: "H100-SXM-80GB",
  tp: 1,
  util: 0.9,
  seqs: "",
  mbt: "",
  bs: 16,
  pc: true,
  kvdt: "auto",
  mml: "",
  trace: "azure-2023-conv",
  maxreq: "",
} as const;

const KV_DTYPES = ["auto", "fp8", "fp8_e4m3", "fp8_e5m2", "bfloat16", "float16", "float32"];
const BLOCK_SIZES = [1, 8, 16, 32, 64, 128];

/** Which form field a UserError's `field` (a CLI flag) belongs to. */
const FIELD_OF_FLAG: Record<string, string> = {
  "--model": "model",
  "--gpu": "gpu",
  "--tensor-parallel-size": "tp",
  "--gpu-memory-utilization": "util",
  "--max-num-seqs": "seqs",
  "--max-num-batched-tokens": "mbt",
  "--block-size": "bs",
  "--kv-cache-dtype": "kvdt",
  "--max-model-len": "mml",
};

export interface ServeConfigPanel {
  el: HTMLElement;
  value(): ServeConfigValue | null;
  budget(): KvBudget | null;
  /** Selects a trace id, adding an option for it when unknown (e.g. after an upload). */
  setTrace(id: string, label?: string): void;
}

export function serveConfigPanel(opts: {
  onApply(v: ServeConfigValue): void;
  onBudget?(b: KvBudget | null, error: string | null): void;
}): ServeConfigPanel {
  const id = nextId("cfg");
  const models = listModels();
  const gpus = listGpus();
  const el = html(`
    <section class="panel" aria-labelledby="${id}-h">
      <div class="panel-head"><h2 id="${id}-h">Config</h2><span class="aside">budget updates as you type</span></div>
      <form class="form" id="${id}" novalidate>
        <label for="${id}-model">model</label>
        <select id="${id}-model" name="model">${models.map((m) => `<option>${esc(m)}</option>`).join("")}</select>
        <label for="${id}-gpu">GPU</label>
        <select id="${id}-gpu" name="gpu">${gpus.map((g) => `<option>${esc(g)}</option>`).join("")}</select>
        <label for="${id}-tp">tensor parallel</label>
        <input id="${id}-tp" name="tp" type="number" min="1" max="64" step="1" />
        <label for="${id}-util">gpu-memory-util.</label>
        <div class="slider"><input id="${id}-util" name="util" type="range" min="0.05" max="0.99" step="0.01" aria-describedby="${id}-utilv" /><output id="${id}-utilv" class="num" for="${id}-util"></output></div>
        <label for="${id}-seqs">max-num-seqs</label>
        <input id="${id}-seqs" name="seqs" type="number" min="1" step="1" placeholder="vLLM default" />
        <label for="${id}-mbt">max-num-batched-tokens</label>
        <input id="${id}-mbt" name="mbt" type="number" min="1" step="1" placeholder="vLLM default" />
        <label for="${id}-bs">block size</label>
        <select id="${id}-bs" name="bs">${BLOCK_SIZES.map((b) => `<option>${b}</option>`).join("")}</select>
        <label for="${id}-kvdt">KV dtype</label>
        <select id="${id}-kvdt" name="kvdt">${KV_DTYPES.map((d) => `<option>${d}</option>`).join("")}</select>
        <label for="${id}-mml">max-model-len</label>
        <input id="${id}-mml" name="mml" type="number" min="1" step="1" placeholder="model default" />
        <label for="${id}-pc">prefix caching</label>
        <span><input id="${id}-pc" name="pc" type="checkbox" /></span>
        <label for="${id}-trace">trace</label>
        <select id="${id}-trace" name="trace"><option value="azure-2023-conv">azure-2023-conv</option></select>
        <label for="${id}-maxreq">first N requests</label>
        <input id="${id}-maxreq" name="maxreq" type="number" min="1" step="1" placeholder="whole trace" />
        <label for="${id}-upload">upload trace</label>
        <input id="${id}-upload" name="upload" type="file" accept=".csv,.jsonl,.json,.gz,.txt" />
        <div class="field-error wide" id="${id}-err" role="alert"></div>
        <div class="wide row"><button type="submit" class="btn primary" id="${id}-run">Run replay</button><span class="note" id="${id}-uploadmsg" role="status"></span></div>
      </form>
      <div class="error-box" id="${id}-traceerr" role="alert" aria-live="assertive"></div>
      <h3 style="margin-top:8px">KV budget per GPU <span class="muted">(vLLM startup arithmetic)</span></h3>
      <div id="${id}-bar" class="budgetbar" aria-hidden="true"></div>
      <table class="kv budget" id="${id}-budget"><caption class="sr-only">KV cache budget breakdown</caption><tbody></tbody></table>
      <pre class="loglines" id="${id}-log"></pre>
    </section>`);
  const form = $<HTMLFormElement>(el, "form");
  const f = (name: string) => $<HTMLInputElement & HTMLSelectElement>(form, `[name="${name}"]`);
  const errEl = $(el, `#${id}-err`);
  const traceErr = $(el, `#${id}-traceerr`);
  const uploadMsg = $(el, `#${id}-uploadmsg`);
  let budget: KvBudget | null = null;
  let current: ServeConfigValue | null = null;

  // Initial values from the URL (a link reproduces the config).
  f("model").value = getParam("model") ?? SERVE_DEFAULTS.model;
  f("gpu").value = getParam("gpu") ?? SERVE_DEFAULTS.gpu;
  f("tp").value = String(getNumber("tp", SERVE_DEFAULTS.tp));
  f("util").value = String(getNumber("util", SERVE_DEFAULTS.util));
  f("seqs").value = getParam("seqs") ?? "";
  f("mbt").value = getParam("mbt") ?? "";
  f("bs").value = String(getNumber("bs", SERVE_DEFAULTS.bs));
  f("kvdt").value = getParam("kvdt") ?? SERVE_DEFAULTS.kvdt;
  f("mml").value = getParam("mml") ?? "";
  f("pc").checked = getBool("pc", SERVE_DEFAULTS.pc);
  f("maxreq").value = getParam("maxreq") ?? "";
  const wantTrace = getParam("trace") ?? SERVE_DEFAULTS.trace;
  setTrace(wantTrace);

  void getJson<unknown>("/api/traces")
    .then((body) => {
      const list = (Array.isArray(body) ? body : ((body as { traces?: unknown[] })?.traces ?? [])) as { id: string; fileName?: string; requests?: number }[];
      const sel = f("trace");
      const keep = sel.value;
      sel.innerHTML = list.map((t) => `<option value="${esc(t.id)}">${esc(t.id)}${t.requests ? ` (${int(t.requests)} req)` : ""}</option>`).join("");
      setTrace(keep);
    })
    .catch(() => {});

  function setTrace(tid: string, label?: string) {
    const sel = f("trace");
    if (![...sel.options].some((o) => o.value === tid)) sel.append(new Option(label ?? tid, tid));
    sel.value = tid;
  }

  function numOrUndef(name: string): number | undefined {
    const v = f(name).value.trim();
    return v === "" ? undefined : Number(v);
  }

  function readForm(): ServeConfigValue {
    return {
      input: {
        model: f("model").value,
        gpu: f("gpu").value,
        tensorParallelSize: numOrUndef("tp") ?? 1,
        gpuMemoryUtilization: Number(f("util").value),
        maxNumSeqs: numOrUndef("seqs"),
        maxNumBatchedTokens: numOrUndef("mbt"),
        blockSize: Number(f("bs").value),
        kvCacheDtype: f("kvdt").value as ServingConfigInput["kvCacheDtype"],
        maxModelLen: numOrUndef("mml"),
        enablePrefixCaching: f("pc").checked,
      },
      trace: f("trace").value,
      maxRequests: numOrUndef("maxreq"),
    };
  }

  function update() {
    const v = readForm();
    $(el, `#${id}-utilv`).textContent = Number(f("util").value).toFixed(2);
    for (const n of Object.values(FIELD_OF_FLAG)) f(n).removeAttribute("aria-invalid");
    patchParams(
      { model: f("model").value, gpu: f("gpu").value, tp: v.input.tensorParallelSize, util: v.input.gpuMemoryUtilization,
        seqs: v.input.maxNumSeqs, mbt: v.input.maxNumBatchedTokens, bs: v.input.blockSize, kvdt: v.input.kvCacheDtype,
        mml: v.input.maxModelLen, pc: v.input.enablePrefixCaching, trace: v.trace, maxreq: v.maxRequests },
      SERVE_DEFAULTS,
    );
    try {
      budget = computeKvBudget(resolveServingConfig(v.input));
      current = v;
      errEl.textContent = "";
      renderBudget(budget);
      opts.onBudget?.(budget, null);
      $<HTMLButtonElement>(el, `#${id}-run`).disabled = false;
    } catch (e) {
      if (!isUserError(e)) throw e;
      budget = null;
      current = null;
      const field = e.field ? FIELD_OF_FLAG[e.field] : undefined;
      if (field) f(field).setAttribute("aria-invalid", "true");
      errEl.textContent = e.message;
      renderBudget(null);
      opts.onBudget?.(null, e.message);
      $<HTMLButtonElement>(el, `#${id}-run`).disabled = true;
    }
  }

  function renderBudget(b: KvBudget | null) {
    const tbody = $(el, `#${id}-budget tbody`);
    const bar = $(el, `#${id}-bar`);
    if (!b) {
      tbody.innerHTML = "";
      bar.innerHTML = "";
      $(el, `#${id}-log`).textContent = "";
      return;
    }
    const parts: [string, number, string][] = [
      ["weights", b.weightsBytes, servingComponentColors.weightsBytes],
      ["activation peak", b.activationPeakBytes, servingComponentColors.activationBytes],
      ["non-torch", b.nonTorchBytes, servingComponentColors.nonTorchBytes],
      ["KV cache", b.kvCacheBytes, servingComponentColors.kvUsedBytes],
    ];
    bar.innerHTML = `<svg width="100%" height="14" viewBox="0 0 1000 14" preserveAspectRatio="none">${(() => {
      let x = 0;
      return parts
        .map(([, v, c]) => {
          const w = (v / b.totalBytes) * 1000;
          const r = `<rect x="${x}" width="${Math.max(0, w)}" height="14" fill="${c}"/>`;
          x += w;
          return r;
        })
        .join("") + `<line x1="${(b.requestedBytes / b.totalBytes) * 1000}" x2="${(b.requestedBytes / b.totalBytes) * 1000}" y1="0" y2="14" stroke="currentColor" stroke-width="3"/>`;
    })()}</svg>`;
    const row = (k: string, v: string, c?: string, title?: string, cls = "") =>
      `<tr class="${cls}"><th>${c ? `<span class="swatch" style="background:${c}"></span>` : ""}${k}</th><td${title ? ` title="${esc(title)}"` : ""}>${v}</td></tr>`;
    tbody.innerHTML = [
      row("device total", gib(b.totalBytes), undefined, exactBytes(b.totalBytes)),
      row(`budget (× ${num(b.requestedBytes / b.totalBytes, 2)})`, gib(b.requestedBytes), undefined, exactBytes(b.requestedBytes)),
      ...parts.map(([k, v, c]) => row(k, gib(v), c, exactBytes(v))),
      row("KV blocks", int(b.numGpuBlocks), undefined, undefined, "sum"),
      row("KV tokens", int(b.kvCacheTokens)),
      row(`max concurrency @ ${int(b.maxModelLen)} tok`, `${num(b.maxConcurrency, 2)}×`),
      row("KV bytes / token", int(b.kvBytesPerToken)),
    ].join("");
    $(el, `#${id}-log`).textContent = [...b.logLines, ...b.notes].join("\n");
  }

  form.addEventListener("input", (ev) => {
    if ((ev.target as HTMLElement).getAttribute("name") === "upload") return;
    update();
  });
  form.addEventListener("change", (ev) => {
    if ((ev.target as HTMLElement).getAttribute("name") === "upload") void onUpload();
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    update();
    if (current) opts.onApply(current);
  });

  async function onUpload() {
    const input = f("upload");
    const file = input.files?.[0];
    if (!file) return;
    traceErr.textContent = "";
    uploadMsg.textContent = `uploading ${file.name}…`;
    try {
      const text = await file.text();
      const info = (await uploadTrace(file.name, text)) as { id?: string; requests?: number; trace?: { id: string; requests?: number } };
      const t = info.trace ?? info;
      if (!t.id) throw new Error("the server did not return a trace id");
      setTrace(t.id, `${file.name}${t.requests ? ` (${int(t.requests)} req)` : ""}`);
      uploadMsg.textContent = `uploaded ${file.name}: ${t.requests !== undefined ? `${int(t.requests)} requests` : "ok"}`;
      update();
    } catch (e) {
      uploadMsg.textContent = "";
      traceErr.textContent = e instanceof ApiError || e instanceof Error ? e.message : String(e);
    }
  }

  queueMicrotask(update);
  return {
    el,
    value: () => current,
    budget: () => budget,
    setTrace,
  };
}
