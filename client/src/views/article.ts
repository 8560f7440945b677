import { html } from "../ui/dom.ts";
import type { View } from "./view.ts";

export function articleView(): View {
  const el = html(`<section class="panel"><h2>article</h2><p class="note">loading…</p></section>`);
  return { el, destroy() {} };
}
