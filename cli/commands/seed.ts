import type { Command } from "commander";
import { seedRows } from "../../sim/seed/index.ts";
import { action, printJson } from "../common.ts";

export function register(program: Command): void {
  program
    .command("seed")
    .description("recompute every figure of the source article and flag where it slips")
    .option("--json", "print the rows as JSON")
    .option("--section <name>", "only one section: inference, training, parallelism or rl")
    .action(
      action((flags: { json?: boolean; section?: string }) => {
        let rows = seedRows();
        if (flags.section) rows = rows.filter((r) => r.section === flags.section);
        if (flags.json) {
          printJson({ rows, differing: rows.filter((r) => r.differs).length });
          return;
        }
        const fmt = (v: number | null, unit: string) =>
          v === null ? "—" : unit === "B" ? `${Math.round(v).toLocaleString("en-US")} B` : `${Number(v.toFixed(2))} ${unit}`;
        let section = "";
        for (const r of rows) {
          if (r.section !== section) {
            section = r.section;
            process.stdout.write(`\n== ${section} ==\n`);
          }
          process.stdout.write(`${r.differs ? "✗" : "✓"} ${r.item}\n`);
          process.stdout.write(`    article ${r.articleText.padEnd(14)} recomputed ${fmt(r.recomputed, r.unit).padEnd(16)}`);
          if (r.realModelValue !== null) process.stdout.write(` real model ${fmt(r.realModelValue, r.unit)} (${r.realModel})`);
          process.stdout.write(`\n    ${r.note}\n`);
        }
        process.stdout.write(`\n${rows.filter((r) => r.differs).length} of ${rows.length} figures differ from what their own inputs give.\n`);
      }),
    );
}
