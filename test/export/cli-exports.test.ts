import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { addExportOptions, requestsCsvPath, wantsRecording, writeExports, type ExportFlags } from "../../cli/exports.ts";
import { traceEventViolations } from "./trace-event-rules.ts";
import { handRecording } from "./fixture.ts";

describe("cli/exports.ts", () => {
  it("adds the three flags and writes every file asked for", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vs-exp-"));
    const cmd = addExportOptions(new Command("replay").exitOverride());
    cmd.parse(["--export-perfetto", join(dir, "t.json"), "--export-csv", join(dir, "sub/run.csv"), "--export-prometheus", join(dir, "m.prom")], { from: "user" });
    const opts = cmd.opts() as ExportFlags;
    expect(wantsRecording(opts)).toBe(true);
    const written = await writeExports(opts, handRecording());
    expect(written).toEqual([join(dir, "t.json"), join(dir, "sub/run.csv"), join(dir, "sub/run-requests.csv"), join(dir, "m.prom")]);
    expect(traceEventViolations(JSON.parse(readFileSync(join(dir, "t.json"), "utf8")))).toEqual([]);
    expect(readFileSync(join(dir, "sub/run-requests.csv"), "utf8").split("\n")[0]).toMatch(/^id,arrival_s,/);
    expect(readFileSync(join(dir, "m.prom"), "utf8")).toContain("vllm:num_preemptions_total");
  });

  it("writes nothing without flags", async () => {
    expect(wantsRecording({})).toBe(false);
    expect(await writeExports({}, handRecording())).toEqual([]);
  });

  it("names the requests CSV after the memory CSV", () => {
    expect(requestsCsvPath("out/run.csv")).toBe("out/run-requests.csv");
    expect(requestsCsvPath("run")).toBe("run-requests.csv");
  });

  it("an unwritable path is a UserError naming the flag", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vs-exp-"));
    await expect(writeExports({ exportPerfetto: dir }, handRecording())).rejects.toThrow(/--export-perfetto: cannot write/);
    expect(existsSync(dir)).toBe(true);
  });
});
