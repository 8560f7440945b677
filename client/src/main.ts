/**
 * The app shell: tabs for the five views (state in the URL: `?view=train`), light/dark theme (remembered, and in
 * the URL when set), keyboard shortcuts, and the connection badge. Views are mounted one at a time; each owns its
 * DOM, streams and animation loop and releases them in `destroy()`.
 */
import "./styles.css";
import { serveView } from "./views/serve.ts";
import { trainView } from "./views/train.ts";
import { rlView } from "./views/rl.ts";
import { sweepView } from "./views/sweep.ts";
import { articleView } from "./views/article.ts";
import type { View } from "./views/view.ts";
import { getParam, patchParams } from "./ui/url-state.ts";
import { $ } from "./ui/dom.ts";
import { hideTooltip } from "./charts/tooltip.ts";

const VIEWS = [
  { key: "serve", label: "Serve", make: () => serveView({ setConn }) },
  { key: "train", label: "Train", make: () => trainView() },
  { key: "rl", label: "RL", make: () => rlView() },
  { key: "sweep", label: "Sweep", make: () => sweepView() },
  { key: "article", label: "Article", make: () => articleView() },
] as const;
type ViewKey = (typeof VIEWS)[number]["key"];

const app = $(document, "#app");
const tabs = $(document, "#tabs");
const conn = $(document, "#conn");
let current: { key: ViewKey; view: View } | null = null;

function setConn(text: string, cls = ""): void {
  conn.textContent = text;
  conn.className = `conn ${cls}`;
}

function applyTheme(theme: string): void {
  document.documentElement.dataset.theme = theme;
  current?.view.refresh?.();
}

function show(key: ViewKey): void {
  if (current?.key === key) return;
  current?.view.destroy();
  hideTooltip();
  app.replaceChildren();
  // Query keys of one view mean nothing to another: keep only the shared ones when switching.
  if (current) {
    const keep = new Set(["theme"]);
    const p = new URLSearchParams(location.search);
    for (const k of [...p.keys()]) if (!keep.has(k)) p.delete(k);
    if (key !== "serve") p.set("view", key);
    history.replaceState(null, "", `${location.pathname}${p.toString() ? `?${p}` : ""}`);
  } else patchParams({ view: key }, { view: "serve" });
  const def = VIEWS.find((v) => v.key === key)!;
  if (key !== "serve") setConn("");
  const view = def.make();
  current = { key, view };
  app.append(view.el);
  for (const a of tabs.querySelectorAll("a")) {
    if (a.dataset.view === key) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = `vramscope — ${def.label}`;
}

tabs.innerHTML = VIEWS.map((v, i) => `<a href="?view=${v.key}" data-view="${v.key}" title="${v.label} (${i + 1})">${v.label}</a>`).join("");
tabs.addEventListener("click", (ev) => {
  const a = (ev.target as HTMLElement).closest("a");
  if (!a || ev.metaKey || ev.ctrlKey) return;
  ev.preventDefault();
  show(a.dataset.view as ViewKey);
});

const savedTheme = getParam("theme") ?? localStorage.getItem("vramscope-theme") ?? "dark";
applyTheme(savedTheme === "light" ? "light" : "dark");
$(document, "#theme-toggle").addEventListener("click", toggleTheme);
function toggleTheme() {
  const next = document.documentElement.dataset.theme === "light" ? "dark" : "light";
  localStorage.setItem("vramscope-theme", next);
  patchParams({ theme: next }, { theme: "dark" });
  applyTheme(next);
}
const help = $<HTMLDialogElement>(document, "#help");
$(document, "#help-toggle").addEventListener("click", () => help.showModal());

document.addEventListener("keydown", (ev) => {
  const t = ev.target as HTMLElement;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (t.closest("input, select, textarea, [contenteditable]")) return;
  if (help.open) return;
  const n = Number(ev.key);
  if (Number.isInteger(n) && n >= 1 && n <= VIEWS.length) {
    show(VIEWS[n - 1].key);
  } else if (ev.key === "t") {
    toggleTheme();
  } else if (ev.key === "?") {
    help.showModal();
  } else if (current?.view.onKey?.(ev.key)) {
    /* handled by the view */
  } else return;
  ev.preventDefault();
});

const initial = (getParam("view") ?? "serve") as ViewKey;
show(VIEWS.some((v) => v.key === initial) ? initial : "serve");
