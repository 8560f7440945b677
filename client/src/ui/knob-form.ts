/**
 * A form of knobs declared as data (name, label, kind, default), each value read from and written to the URL so
 * a link reproduces the view; `onChange` fires on every input with the parsed values. Errors from the engine
 * (UserError naming a CLI flag) are shown under the form and mark the field whose flag they name.
 */
import { html, $, nextId } from "./dom.ts";
import { getParam, patchParams } from "./url-state.ts";
import { esc } from "./format.ts";

export type KnobValue = string | number | boolean;
export interface Knob {
  name: string;
  label: string;
  kind: "select" | "number" | "checkbox" | "text";
  default: KnobValue;
  options?: readonly (string | { value: string; label: string })[];
  min?: number;
  max?: number;
  step?: number;
  /** CLI flags whose UserError belongs to this knob. */
  flags?: string[];
  title?: string;
  /** Number knob left blank = "engine default" (value ""). */
  optional?: boolean;
}

export interface KnobForm {
  el: HTMLElement;
  values(): Record<string, KnobValue>;
  showError(message: string | null, flag?: string): void;
}

export function knobForm(title: string, knobs: Knob[], onChange: (v: Record<string, KnobValue>) => void, extraHtml = ""): KnobForm {
  const id = nextId("knobs");
  const input = (k: Knob) => {
    const fid = `${id}-${k.name}`;
    const t = k.title ? ` title="${esc(k.title)}"` : "";
    if (k.kind === "select")
      return `<select id="${fid}" name="${k.name}"${t}>${(k.options ?? [])
        .map((o) => (typeof o === "string" ? `<option value="${esc(o)}">${esc(o)}</option>` : `<option value="${esc(o.value)}">${esc(o.label)}</option>`))
        .join("")}</select>`;
    if (k.kind === "checkbox") return `<span><input id="${fid}" name="${k.name}" type="checkbox"${t} /></span>`;
    const lim = `${k.min !== undefined ? ` min="${k.min}"` : ""}${k.max !== undefined ? ` max="${k.max}"` : ""}${k.step !== undefined ? ` step="${k.step}"` : ""}`;
    return `<input id="${fid}" name="${k.name}" type="${k.kind}"${lim}${k.optional ? ' placeholder="default"' : ""}${t} />`;
  };
  const el = html(`
    <section class="panel" aria-labelledby="${id}-h">
      <div class="panel-head"><h2 id="${id}-h">${esc(title)}</h2><span class="aside">updates instantly</span></div>
      <form class="form" novalidate>
        ${knobs.map((k) => `<label for="${id}-${k.name}">${esc(k.label)}</label>${input(k)}`).join("\n")}
        <div class="field-error wide" role="alert"></div>
      </form>
      ${extraHtml}
    </section>`);
  const form = $<HTMLFormElement>(el, "form");
  const field = (name: string) => $<HTMLInputElement & HTMLSelectElement>(form, `[name="${name}"]`);
  for (const k of knobs) {
    const fromUrl = getParam(k.name);
    const f = field(k.name);
    if (k.kind === "checkbox") f.checked = fromUrl === null ? Boolean(k.default) : fromUrl === "1" || fromUrl === "true";
    else f.value = fromUrl ?? String(k.default);
  }
  const defaults = Object.fromEntries(knobs.map((k) => [k.name, k.default]));

  const values = () => {
    const out: Record<string, KnobValue> = {};
    for (const k of knobs) {
      const f = field(k.name);
      if (k.kind === "checkbox") out[k.name] = f.checked;
      else if (k.kind === "number") out[k.name] = f.value.trim() === "" ? "" : Number(f.value);
      else out[k.name] = f.value;
    }
    return out;
  };
  form.addEventListener("input", () => {
    const v = values();
    patchParams(v, defaults);
    onChange(v);
  });
  form.addEventListener("submit", (ev) => ev.preventDefault());

  return {
    el,
    values,
    showError(message, flag) {
      $(form, ".field-error").textContent = message ?? "";
      for (const k of knobs) field(k.name).removeAttribute("aria-invalid");
      if (message && flag) {
        const k = knobs.find((kk) => kk.flags?.includes(flag));
        if (k) field(k.name).setAttribute("aria-invalid", "true");
      }
    },
  };
}
