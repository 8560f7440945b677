/** The visualizer's reusable pieces, as named re-exports (d3's own index.js habit). */
export { stackedArea, legendHtml, type StackedArea, type RefLine, type Marker, type Band, type Annotation } from "./charts/stacked-area.ts";
export { memoryArea, MEMORY_KEYS, MEMORY_LABELS, type MemoryArea } from "./charts/memory-area.ts";
export { blockMap, type BlockMap } from "./charts/block-map.ts";
export { requestGantt, type RequestGantt } from "./charts/request-gantt.ts";
export { lineChart, type LineChart, type LineSeries, type PointMark } from "./charts/line-chart.ts";
export { histogram, type Histogram } from "./charts/histogram.ts";
export { downsampleMax } from "./charts/downsample.ts";
export { ServeStore, type Marker as StoreMarker } from "./data/serve-store.ts";
export { BlockStateMap, FREE, USED, CACHED_FREE, NULL_BLOCK } from "./data/block-state.ts";
export { RequestTracker, type RequestTrack, type Segment, type SegmentKind } from "./data/request-track.ts";
export { RunStream } from "./data/run-stream.ts";
export { okabeIto, requestHue } from "./ui/palette.ts";
