/**
 * An independent checker of the Chrome Trace Event Format rules the exporter must respect (the format's spec,
 * "Trace Event Format", Google 2016, and STYLE.md §15). Written from the spec, not from the exporter, so the tests
 * can fail. Returns the list of violations (empty = valid).
 */
export interface RawEvent {
  name?: unknown;
  ph?: unknown;
  ts?: unknown;
  pid?: unknown;
  tid?: unknown;
  cat?: unknown;
  dur?: unknown;
  id?: unknown;
  bp?: unknown;
  args?: unknown;
}

const KNOWN_PH = new Set(["X", "B", "E", "b", "e", "n", "C", "s", "t", "f", "M", "i", "I"]);
const METADATA = new Set(["process_name", "thread_name", "process_sort_index", "thread_sort_index", "process_labels"]);

export function traceEventViolations(file: unknown): string[] {
  const v: string[] = [];
  if (typeof file !== "object" || file === null || !Array.isArray((file as { traceEvents?: unknown }).traceEvents))
    return ["top level must be an object with a traceEvents array"];
  const events = (file as { traceEvents: RawEvent[] }).traceEvents;
  const isInt = (x: unknown) => typeof x === "number" && Number.isInteger(x);
  let lastTs = -Infinity;
  const asyncStacks = new Map<string, { name: unknown; ts: number }[]>();
  const flowStarts = new Map<string, number>();
  const flowEnds: { key: string; ts: number; pid: unknown; tid: unknown; i: number }[] = [];
  const slicesByTrack = new Map<string, [number, number][]>();
  const flowPoints: { ts: number; track: string; i: number }[] = [];

  events.forEach((e, i) => {
    const at = `event ${i} (${String(e.ph)} ${String(e.name)})`;
    if (typeof e.ph !== "string" || !KNOWN_PH.has(e.ph)) return v.push(`${at}: unknown ph`);
    if (typeof e.name !== "string" || e.name === "") v.push(`${at}: name must be a non-empty string`);
    if (!isInt(e.pid) || !isInt(e.tid)) v.push(`${at}: pid and tid must be integers`);
    if (typeof e.ts !== "number" || !Number.isFinite(e.ts) || e.ts < 0) v.push(`${at}: ts must be a finite non-negative number (µs)`);
    const ts = e.ts as number;
    if (e.ph === "M") {
      if (!METADATA.has(e.name as string)) v.push(`${at}: unknown metadata name`);
      const args = e.args as Record<string, unknown> | undefined;
      if ((e.name === "process_name" || e.name === "thread_name") && typeof args?.name !== "string") v.push(`${at}: metadata needs args.name`);
      return;
    }
    if (ts < lastTs) v.push(`${at}: ts ${ts} goes back from ${lastTs}`);
    lastTs = ts;
    const track = `${String(e.pid)}/${String(e.tid)}`;
    switch (e.ph) {
      case "X": {
        if (typeof e.dur !== "number" || !(e.dur >= 0)) v.push(`${at}: X needs dur ≥ 0`);
        const list = slicesByTrack.get(track) ?? [];
        list.push([ts, ts + (e.dur as number)]);
        slicesByTrack.set(track, list);
        break;
      }
      case "b":
      case "e": {
        if (typeof e.cat !== "string") v.push(`${at}: async events need cat`);
        if (e.id === undefined) v.push(`${at}: async events need id`);
        const key = `${String(e.cat)}#${String(e.id)}`;
        const stack = asyncStacks.get(key) ?? [];
        if (e.ph === "b") stack.push({ name: e.name, ts });
        else {
          const top = stack.pop();
          if (!top) v.push(`${at}: e without an open b for id ${String(e.id)}`);
          else if (top.name !== e.name) v.push(`${at}: e closes "${String(e.name)}" but "${String(top.name)}" is open (id ${String(e.id)})`);
          else if (ts < top.ts) v.push(`${at}: e before its b`);
        }
        asyncStacks.set(key, stack);
        break;
      }
      case "C": {
        const args = e.args as Record<string, unknown> | undefined;
        if (!args || Object.keys(args).length === 0) v.push(`${at}: counter needs args`);
        else for (const [k, x] of Object.entries(args)) if (typeof x !== "number" || !Number.isFinite(x)) v.push(`${at}: counter arg ${k} not a number`);
        break;
      }
      case "s":
      case "f": {
        if (typeof e.cat !== "string" || e.id === undefined) v.push(`${at}: flow events need cat and id`);
        const key = `${String(e.cat)}#${String(e.id)}`;
        if (e.ph === "s") {
          if (flowStarts.has(key)) v.push(`${at}: flow id ${String(e.id)} started twice`);
          flowStarts.set(key, ts);
        } else flowEnds.push({ key, ts, pid: e.pid, tid: e.tid, i });
        flowPoints.push({ ts, track, i });
        break;
      }
    }
  });
  for (const [key, stack] of asyncStacks) if (stack.length) v.push(`async ${key}: ${stack.length} b without e (${stack.map((s) => String(s.name)).join(", ")})`);
  const ended = new Set<string>();
  for (const f of flowEnds) {
    const s = flowStarts.get(f.key);
    if (s === undefined) v.push(`event ${f.i}: flow end ${f.key} without a start`);
    else if (f.ts < s) v.push(`event ${f.i}: flow ends before it starts`);
    ended.add(f.key);
  }
  for (const key of flowStarts.keys()) if (!ended.has(key)) v.push(`flow ${key} never ends`);
  // X slices on one track must not partially overlap (disjoint or fully nested).
  for (const [track, list] of slicesByTrack) {
    const sorted = [...list].sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    const open: [number, number][] = [];
    for (const s of sorted) {
      while (open.length && open[open.length - 1][1] <= s[0]) open.pop();
      const parent = open[open.length - 1];
      if (parent && s[1] > parent[1]) v.push(`track ${track}: X [${s[0]}, ${s[1]}] overlaps [${parent[0]}, ${parent[1]}]`);
      open.push(s);
    }
  }
  // Flow points bind to the enclosing slice on their track: there must be one.
  for (const p of flowPoints) {
    const list = slicesByTrack.get(p.track) ?? [];
    if (!list.some(([a, b]) => a <= p.ts && p.ts <= b)) v.push(`event ${p.i}: flow point at ${p.ts} has no enclosing slice on track ${p.track}`);
  }
  return v;
}
