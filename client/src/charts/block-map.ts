/**
 * blockMap — every KV block of the pool as one cell on a canvas (SVG would need 100k+ nodes; a canvas redraw of
 * the whole map writes at most width×height pixels into one ImageData, ~1 ms).
 *
 * Channels: state (free = background, in use = a hue per owning request, cached-free = pale blue, the null block
 * = darkest), flash (eviction: the text colour; prefix hit: bluish green; fading over `flashMs` of wall time),
 * highlight (one request's blocks at full colour, the rest dimmed — linked to the Gantt's hover). Cell
 * size adapts so the whole pool fits the box (down to 1 px per block; past that one pixel stands for k blocks and
 * takes their mean colour, and the caption says "1 px = k blocks").
 * Hover names the block (`blk17`), its state, owner (`req-42`), hash-chain position (and KV-cache group on hybrid
 * models), ref count, last touch and how it was allocated.
 *
 * Example:
 *   const map = blockMap().blocks(store.blocks).height(220);
 *   map(document.querySelector("#blocks")!); // call again each animation frame; it skips work when unchanged
 */
import { BlockStateMap, FREE, USED, CACHED_FREE, NULL_BLOCK, FLASH_EVICT, FLASH_HIT } from "../data/block-state.ts";
import { okabeIto, requestHue, rgb, cssVar, REQUEST_HUE_COUNT } from "../ui/palette.ts";
import { showTooltip, hideTooltip, tooltipTable } from "./tooltip.ts";
import { accessors } from "./accessor.ts";

export interface BlockMap {
  (container: HTMLElement, now?: number): void;
  blocks(): BlockStateMap; blocks(b: BlockStateMap): BlockMap;
  height(): number; height(h: number): BlockMap;
  /** Fixed width in px; null reads the container's width. */
  width(): number | null; width(w: number | null): BlockMap;
  flashMs(): number; flashMs(ms: number): BlockMap;
  /** A request whose blocks stay bright while every other cell is dimmed; null = none. */
  highlight(): number | null; highlight(reqId: number | null): BlockMap;
  title(): string; title(s: string): BlockMap;
  /** Cell size and grid of the last draw, for tests and hover. */
  layout(): { cell: number; cols: number; rows: number; shown: number; per: number };
}

const STATE_NAMES = ["free", "in use", "cached-free (evictable)", "null block (reserved)"];
const HOW = ["", "fresh allocation (allocate_slots)", "prefix-cache hit (touch)"];

export function blockMap(): BlockMap {
  let blocks = new BlockStateMap();
  let height = 220;
  let fixedWidth: number | null = null;
  let flashMs = 450;
  let title = "KV cache block map";
  let lastVersion = -1;
  let lastKey = "";
  let lay = { cell: 1, cols: 1, rows: 1, shown: 0, gap: 0, per: 1 };
  let flashing = false;
  let highlight: number | null = null;
  let img: ImageData | null = null;

  const map = ((container: HTMLElement, now = performance.now()) => {
    const width = Math.max(100, Math.floor(fixedWidth ?? (container.clientWidth || 600)));
    let canvas = container.querySelector<HTMLCanvasElement>("canvas.blockmap");
    if (!canvas) {
      canvas = document.createElement("canvas");
      canvas.className = "blockmap";
      canvas.setAttribute("role", "img");
      canvas.tabIndex = 0;
      container.appendChild(canvas);
      canvas.addEventListener("pointermove", (ev) => onHover(canvas!, ev));
      canvas.addEventListener("pointerleave", hideTooltip);
    }
    canvas.setAttribute("aria-label", `${title}: ${blocks.n} blocks`);
    const n = blocks.n;
    // Largest square cell that fits all n blocks in width × height; past 1 px per block, one pixel stands for
    // `per` consecutive blocks and takes their mean colour (so a 350k-block pool is still drawn whole).
    let cell = Math.max(1, Math.min(14, Math.floor(Math.sqrt((width * height) / Math.max(1, n)))));
    while (cell > 1 && Math.ceil(n / Math.floor(width / cell)) * cell > height) cell--;
    const cols = Math.max(1, Math.floor(width / cell));
    const maxRows = Math.max(1, Math.floor(height / cell));
    const per = Math.max(1, Math.ceil(n / (cols * maxRows)));
    const numCells = Math.ceil(n / per);
    const rows = Math.min(maxRows, Math.ceil(numCells / cols));
    const shown = Math.min(n, rows * cols * per);
    const gap = cell >= 5 ? 1 : 0;
    lay = { cell, cols, rows, shown, gap, per };
    const h = Math.max(cell, rows * cell);
    const theme = document.documentElement.dataset.theme ?? "dark";
    const key = `${width}x${h}:${cell}:${n}:${theme}:${highlight}`;
    if (!flashing && blocks.version === lastVersion && key === lastKey) return;
    if (canvas.width !== width || canvas.height !== h) {
      canvas.width = width;
      canvas.height = h;
      canvas.style.width = `${width}px`;
      canvas.style.height = `${h}px`;
    }
    lastKey = key;
    lastVersion = blocks.version;
    const ctx = canvas.getContext("2d")!;
    // One ImageData per canvas size, refilled each draw (a fresh one per frame was ~1 MB of garbage a draw).
    if (!img || img.width !== width || img.height !== h) img = ctx.createImageData(width, h);
    const px = new Uint32Array(img.data.buffer);
    const pack = (c: [number, number, number]) => (255 << 24) | (c[2] << 16) | (c[1] << 8) | c[0];
    const mix = (a: [number, number, number], b: [number, number, number], f: number): [number, number, number] => [
      Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f),
    ];
    const bg = rgb(cssVar("--panel", "#171a21"));
    const free = rgb(cssVar("--cell-free", "#262b35"));
    const nul = rgb(cssVar("--cell-null", "#000000"));
    const cached = mix(bg, rgb(okabeIto.skyBlue), 0.4);
    const hues = Array.from({ length: REQUEST_HUE_COUNT }, (_, i) => rgb(requestHue(i)));
    // Eviction flashes toward the text colour (white on dark, black on light): a pop no request hue can mimic.
    const evict = rgb(cssVar("--text", "#e6e8ee"));
    const hit = rgb(okabeIto.bluishGreen);
    px.fill(pack(bg));
    flashing = false;
    const { state, owner, flashAt, flashKind } = blocks;
    // Packed colours are precomputed; only flashing or dimmed cells blend (no allocation per plain cell).
    const hueP = hues.map(pack);
    const cachedP = pack(cached);
    const nulP = pack(nul);
    const freeP = pack(free);
    const rgbOfState = (i: number): [number, number, number] => {
      const s = state[i];
      return s === USED ? hues[((owner[i] % REQUEST_HUE_COUNT) + REQUEST_HUE_COUNT) % REQUEST_HUE_COUNT]
        : s === CACHED_FREE ? cached : s === NULL_BLOCK ? nul : free;
    };
    const colorOf = (i: number): number => {
      const s = state[i];
      const age = now - flashAt[i];
      const flash = flashKind[i] !== 0 && age >= 0 && age < flashMs;
      const dim = highlight !== null && !(s === USED && owner[i] === highlight);
      if (!flash && !dim)
        return s === USED ? hueP[((owner[i] % REQUEST_HUE_COUNT) + REQUEST_HUE_COUNT) % REQUEST_HUE_COUNT]
          : s === CACHED_FREE ? cachedP : s === NULL_BLOCK ? nulP : freeP;
      let c = rgbOfState(i);
      if (flash) {
        flashing = true;
        c = mix(c, flashKind[i] === FLASH_EVICT ? evict : hit, 0.7 * (1 - age / flashMs));
      }
      if (dim) c = mix(c, bg, 0.75);
      return pack(c);
    };
    const cellsShown = Math.ceil(shown / per);
    for (let k = 0; k < cellsShown; k++) {
      let v: number;
      if (per === 1) v = colorOf(k);
      else {
        let r = 0, g = 0, b = 0;
        const end = Math.min(n, (k + 1) * per);
        for (let i = k * per; i < end; i++) {
          const ci = colorOf(i);
          r += ci & 255; g += (ci >>> 8) & 255; b += (ci >>> 16) & 255;
        }
        const m = end - k * per;
        v = pack([Math.round(r / m), Math.round(g / m), Math.round(b / m)]);
      }
      const x0 = (k % cols) * cell;
      const y0 = Math.floor(k / cols) * cell;
      const sz = cell - gap;
      for (let dy = 0; dy < sz; dy++) {
        const row = (y0 + dy) * width + x0;
        for (let dx = 0; dx < sz; dx++) px[row + dx] = v;
      }
      // Cached-free cells bigger than 4 px get a dot, so they differ from in-use cells by shape, not hue alone.
      if (per === 1 && state[k] === CACHED_FREE && sz >= 4) px[(y0 + (sz >> 1)) * width + x0 + (sz >> 1)] = pack(bg);
    }
    ctx.putImageData(img, 0, 0);
  }) as BlockMap;

  function onHover(canvas: HTMLCanvasElement, ev: PointerEvent) {
    const r = canvas.getBoundingClientRect();
    const cx = Math.floor(((ev.clientX - r.left) / r.width) * canvas.width / lay.cell);
    const cy = Math.floor(((ev.clientY - r.top) / r.height) * canvas.height / lay.cell);
    if (cx >= lay.cols) return hideTooltip();
    const k = cy * lay.cols + cx;
    if (lay.per > 1) {
      const a = k * lay.per;
      const b = Math.min(blocks.n, a + lay.per) - 1;
      if (a >= blocks.n) return hideTooltip();
      const cnt = [0, 0, 0, 0];
      for (let j = a; j <= b; j++) cnt[blocks.state[j]]++;
      return showTooltip(tooltipTable(`blk${a}–blk${b} (1 px = ${lay.per} blocks)`, [
        ["in use", String(cnt[USED])], ["cached-free", String(cnt[CACHED_FREE])], ["free", String(cnt[FREE])],
      ]), ev.clientX, ev.clientY);
    }
    const i = k;
    if (i < 0 || i >= lay.shown) return hideTooltip();
    const s = blocks.state[i];
    const rows: [string, string, string?][] = [["state", STATE_NAMES[s] ?? String(s)]];
    if (s === USED || s === CACHED_FREE) {
      if (blocks.owner[i] >= 0) rows.push([s === USED ? "owner" : "last owner", `req-${blocks.owner[i]}`, s === USED ? requestHue(blocks.owner[i]) : undefined]);
      rows.push(["hash-chain position", blocks.chainPos[i] >= 0 ? `#${blocks.chainPos[i]}${blocks.hashed[i] ? " (hashed, full)" : " (partial, no hash)"}` : "unknown (joined mid-run)"]);
      if (blocks.multiGroup && blocks.group[i] >= 0) rows.push(["KV-cache group", String(blocks.group[i])]);
      rows.push(["ref count", String(blocks.refCnt[i])]);
    }
    if (!Number.isNaN(blocks.lastTouched[i])) rows.push(["last touched", `t = ${blocks.lastTouched[i].toFixed(3)} s`]);
    if (blocks.how[i]) rows.push(["allocated by", HOW[blocks.how[i]]]);
    if (s === FREE && blocks.flashKind[i] === FLASH_EVICT) rows.push(["", "evicted from the prefix cache"]);
    showTooltip(tooltipTable(`blk${i}`, rows), ev.clientX, ev.clientY);
  }

  const acc = accessors(map, () => (lastVersion = -1));
  map.blocks = acc(() => blocks, (v) => (blocks = v)) as BlockMap["blocks"];
  map.height = acc(() => height, (v) => (height = v)) as BlockMap["height"];
  map.width = acc(() => fixedWidth, (v) => (fixedWidth = v)) as BlockMap["width"];
  map.highlight = acc(() => highlight, (v) => (highlight = v)) as BlockMap["highlight"];
  map.flashMs = acc(() => flashMs, (v) => (flashMs = v)) as BlockMap["flashMs"];
  map.title = acc(() => title, (v) => (title = v)) as BlockMap["title"];
  map.layout = () => ({ cell: lay.cell, cols: lay.cols, rows: lay.rows, shown: lay.shown, per: lay.per });
  return map;
}
