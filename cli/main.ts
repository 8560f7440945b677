import { Command } from "commander";
import { isUserError } from "../sim/errors.ts";
// One module per subcommand; each exports register(program).
import * as capacity from "./commands/capacity.ts";
import * as replay from "./commands/replay.ts";
import * as rl from "./commands/rl.ts";
import * as seed from "./commands/seed.ts";
import * as serve from "./commands/serve.ts";
import * as sweep from "./commands/sweep.ts";
import * as trace from "./commands/trace.ts";
import * as train from "./commands/train.ts";

const program = new Command("vramscope")
  .description("GPU-memory simulator for LLM serving (vLLM V1 paged KV cache), training and RL")
  .showHelpAfterError()
  .exitOverride((err) => {
    if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help")
      process.exit(0);
    process.exit(2);
  });

for (const mod of [capacity, replay, seed, trace, rl, train, sweep, serve]) mod.register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (isUserError(e)) {
    process.stderr.write(`error: ${e.message}\n`);
    process.exit(2);
  }
  throw e;
}
