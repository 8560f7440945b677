import { html } from "../ui/dom.ts";
import type { View } from "./view.ts";

export function sweepView(): View {
  const el = html(`<section class="panel"><h2>sweep</h2><p class="note">loading…</p></section>`);
  return { el, destroy() {} };
}
