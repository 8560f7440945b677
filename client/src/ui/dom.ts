/** Tiny DOM helpers (no framework): build an element from an HTML string, find by selector or throw. */
export function html<T extends HTMLElement = HTMLElement>(markup: string): T {
  const t = document.createElement("template");
  t.innerHTML = markup.trim();
  return t.content.firstElementChild as T;
}

export function $<T extends Element = HTMLElement>(root: ParentNode, sel: string): T {
  const el = root.querySelector<T>(sel);
  if (!el) throw new Error(`missing element ${sel}`);
  return el;
}

/** Calls `fn` at most once per animation frame however often `schedule()` is called. */
export function rafThrottle(fn: () => void): () => void {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      fn();
    });
  };
}

let uid = 0;
export function nextId(prefix: string): string {
  return `${prefix}-${++uid}`;
}

/**
 * Writes text / markup / an attribute only when it differs: rewriting an identical value still replaces the node
 * and invalidates style and layout, which every animation frame of a streaming run would otherwise pay for.
 */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}
export function setHtml(el: Element, markup: string): void {
  const m = el as Element & { __markup?: string };
  if (m.__markup === markup) return;
  m.__markup = markup;
  el.innerHTML = markup;
}
export function setAttr(el: Element, name: string, value: string): void {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}
