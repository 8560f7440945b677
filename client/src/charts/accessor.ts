/**
 * accessors — the chained getter/setter every chart factory exposes, as d3 writes them (d3-shape's stack.js:
 * `stack.keys = function(_) { return arguments.length ? (keys = _, stack) : keys; }`). Called with no argument an
 * accessor returns the current value; with one it stores it and returns the chart, so settings chain.
 *
 * One helper instead of a copy per factory, because the arity test is the contract: `chart.xDomain(null)` must set
 * (null is a value), only `chart.xDomain()` reads.
 *
 * `changed` runs after every set: a chart that caches its last draw (blockMap) drops the cache there.
 *
 * Example:
 *   const acc = accessors(chart);
 *   chart.height = acc(() => height, (v) => (height = v)) as LineChart["height"];
 */
export function accessors<C>(chart: C, changed?: () => void) {
  return <V>(get: () => V, set: (v: V) => void) =>
    function (...args: [V?]): V | C {
      if (args.length === 0) return get();
      set(args[0] as V);
      changed?.();
      return chart;
    };
}
