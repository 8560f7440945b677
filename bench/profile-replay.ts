/**
 * A replay to profile: `node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile-replay.ts 40000`, then read
 * the .cpuprofile in Chrome DevTools or speedscope. Same workload as bench/replay.ts.
 */
import { formatReplay, runReplay } from "./replay.ts";

process.stdout.write(formatReplay(runReplay(Number(process.argv[2] ?? 40_000))) + "\n");
