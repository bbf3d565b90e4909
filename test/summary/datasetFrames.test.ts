import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeDrift } from "../../src/compute/computeDrift.js";
import { summarizeDrift } from "../../src/summary/summarize.js";
import { makePanicDb } from "../support/makePanicDb.js";
import { runCli } from "../support/runCli.js";

let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pd-summary-ds-"));
  makePanicDb(join(dir, "a.sqlite"), { seed: 31, runs: 6 });
  makePanicDb(join(dir, "b.sqlite"), { seed: 32, runs: 6, layout: "gen2" });
  await computeDrift({ db: [join(dir, "a.sqlite"), join(dir, "b.sqlite")], out: join(dir, "drift") + "/" });
  await computeDrift({ db: [join(dir, "a.sqlite"), join(dir, "b.sqlite")], out: join(dir, "both.parquet") });
  await computeDrift({ db: join(dir, "a.sqlite") });
  await computeDrift({ db: join(dir, "b.sqlite") });
}, 120_000);

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe("summary and plot over a dataset, or several frames", () => {
  it("a dataset directory, several single files and one file of the same runs summarize alike", async () => {
    const options = { by: "experiment_id,embedding_model", perRun: true, format: "json" as const };
    const file = await summarizeDrift({ frame: join(dir, "both.parquet"), ...options });
    const dataset = await summarizeDrift({ frame: join(dir, "drift"), ...options });
    const several = await summarizeDrift({ frame: [join(dir, "a.drift.parquet"), join(dir, "b.drift.parquet")], ...options });
    expect(file.runs).toBeGreaterThan(0);
    expect(dataset.rows).toEqual(file.rows);
    expect(several.rows).toEqual(file.rows);
  });

  it("frames that share a run are refused; a directory that is no dataset too", async () => {
    const clash = await runCli(["summary", "--in", join(dir, "both.parquet"), "--in", join(dir, "a.drift.parquet")]);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(/^panic-drift: error: run [0-9a-f-]+ is in both .* and .*: give frames of different runs/);
    mkdirSync(join(dir, "empty"));
    const empty = await runCli(["summary", "--in", join(dir, "empty")]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/is a directory with no part files/);
  });

  it("plots a dataset, and never writes over one of its part files", async () => {
    const out = join(dir, "drift.svg");
    const run = await runCli(["plot", "--in", join(dir, "drift") + "/", "--out", out]);
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    const partition = readdirSync(join(dir, "drift")).find((n) => n.startsWith("experiment_id="))!;
    const part = join(dir, "drift", partition, readdirSync(join(dir, "drift", partition))[0]!);
    const before = readFileSync(part);
    const summary = await runCli(["summary", "--in", join(dir, "drift"), "--format", "parquet", "--out", part, "--overwrite"]);
    expect(summary.code).toBe(1);
    expect(summary.stderr).toMatch(/^panic-drift: error: --out .* is .*part file of the drift dataset/);
    expect(readFileSync(part)).toEqual(before);
  });
});
