/** What every top-level view implements; main.ts mounts one at a time. */
export interface View {
  el: HTMLElement;
  /** Keyboard shortcut routed from the app (space, ".", "+", "-", "Escape"); return true when handled. */
  onKey?(key: string): boolean;
  /** Redraw after a theme or size change. */
  refresh?(): void;
  destroy(): void;
}
