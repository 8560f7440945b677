/** The single floating tooltip every chart shares (one element, so two never overlap). */
let el: HTMLElement | null = null;

function tip(): HTMLElement {
  if (!el) {
    el = document.getElementById("tooltip");
    if (!el) {
      el = document.createElement("div");
      el.className = "tooltip";
      el.setAttribute("role", "tooltip");
      document.body.appendChild(el);
    }
  }
  return el;
}

export function showTooltip(html: string, clientX: number, clientY: number): void {
  const t = tip();
  t.innerHTML = html;
  t.hidden = false;
  const w = t.offsetWidth;
  const h = t.offsetHeight;
  const x = clientX + 14 + w > window.innerWidth ? clientX - w - 14 : clientX + 14;
  const y = Math.min(window.innerHeight - h - 4, Math.max(4, clientY - h / 2));
  t.style.left = `${x}px`;
  t.style.top = `${y}px`;
}

export function hideTooltip(): void {
  if (el) el.hidden = true;
}

/** A two-column table for tooltips: [label, value, colour?] rows. */
export function tooltipTable(title: string, rows: [string, string, string?][]): string {
  const tr = rows
    .map(([k, v, c]) => `<tr><th>${c ? `<span class="swatch" style="background:${c}"></span>` : ""}${k}</th><td>${v}</td></tr>`)
    .join("");
  return `<div class="tt-title">${title}</div><table>${tr}</table>`;
}
