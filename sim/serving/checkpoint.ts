/**
 * Deep copies of engine state, for checkpoints: a live replay keeps a few, so a backward seek resumes from the
 * nearest earlier one instead of re-simulating from t = 0 (ServingEngine.clone, server/runs/checkpoints.ts).
 *
 * Why one structural copy and not a `clone()` per class: the state spans a dozen classes (scheduler and its queues,
 * block pool, free queue, hash table, KV-cache managers, requests with their hash chains, metrics). Copying the
 * object graph keeps prototypes, typed arrays and identity (a Request held by `running` and by a schedule entry is
 * one object in the copy too) and cannot fall behind when a class gains a field.
 *
 * What is not copied: functions (hooks that close over an engine are re-wired by the engine), frozen objects, and
 * the objects in `shared` (immutable inputs such as the config and the trace).
 */
export function cloneGraph<T>(root: T, shared: ReadonlySet<object> = new Set(), size?: CloneSize): T {
  const seen = new Map<object, unknown>();
  // Rough V8 sizes (header + 8 B per slot), enough to keep a budget of copies (server/runs/checkpoints.ts).
  const add = (bytes: number) => {
    if (size) size.bytes += bytes;
  };

  const copy = (v: unknown): unknown => {
    if (typeof v !== "object" || v === null) return v; // primitives; functions are shared as they are
    if (shared.has(v) || Object.isFrozen(v)) return v;
    const done = seen.get(v);
    if (done !== undefined) return done;
    if (ArrayBuffer.isView(v)) {
      if (v instanceof DataView) throw new Error("cloneGraph: DataView is not supported");
      const t = (v as unknown as { slice(): object }).slice();
      seen.set(v, t);
      add(64 + v.byteLength);
      return t;
    }
    if (Array.isArray(v)) {
      const a = new Array(v.length);
      seen.set(v, a);
      add(32 + 8 * v.length);
      for (let i = 0; i < v.length; i++) a[i] = copy(v[i]);
      return a;
    }
    if (v instanceof Map) {
      const m = new Map();
      seen.set(v, m);
      add(64 + 24 * v.size);
      for (const [k, x] of v) m.set(copy(k), copy(x));
      return m;
    }
    if (v instanceof Set) {
      const s = new Set();
      seen.set(v, s);
      add(64 + 16 * v.size);
      for (const x of v) s.add(copy(x));
      return s;
    }
    const proto = Object.getPrototypeOf(v) as object | null;
    if (proto !== Object.prototype && proto !== null && !isPlainClass(proto))
      throw new Error(`cloneGraph: cannot copy a ${(v as object).constructor?.name ?? "foreign"} object`);
    const o = Object.create(proto) as Record<PropertyKey, unknown>;
    seen.set(v, o);
    const keys = Reflect.ownKeys(v);
    add(24 + 8 * keys.length);
    for (const k of keys) o[k] = copy((v as Record<PropertyKey, unknown>)[k]);
    return o;
  };

  return copy(root) as T;
}

/** Filled in by {@link cloneGraph}: an estimate of the bytes the copy takes. */
export interface CloneSize {
  bytes: number;
}

/**
 * Built-ins with internal slots (Date, RegExp, Promise, WeakMap, …) would lose them in a field-by-field copy; the
 * engine's own classes keep everything in own fields.
 */
function isPlainClass(proto: object): boolean {
  for (let p: object | null = proto; p !== null; p = Object.getPrototypeOf(p) as object | null) {
    if (p === Object.prototype) return true;
    if (BUILTIN_PROTOS.has(p)) return false;
  }
  return true;
}

const BUILTIN_PROTOS = new Set<object>([
  Date.prototype,
  RegExp.prototype,
  Promise.prototype,
  WeakMap.prototype,
  WeakSet.prototype,
  Error.prototype,
  ArrayBuffer.prototype,
]);
