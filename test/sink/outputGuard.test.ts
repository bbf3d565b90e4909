/**
 * The output guard and datasets: no parquet file but a dataset's own parts
 * is written inside a dataset directory (its readers glob every parquet file
 * under it), and a dataset directory given as a file output says how to
 * update it.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeDrift } from "../../src/compute/computeDrift.js";
import { guardOutput, type OutputPolicy } from "../../src/sink/outputGuard.js";
import { makePanicDb } from "../support/makePanicDb.js";
import { runCli } from "../support/runCli.js";

let dir: string;
let db: string;
let dataset: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pd-guard-"));
  db = join(dir, "runs.sqlite");
  makePanicDb(db, { seed: 31, runs: 4 });
  dataset = join(dir, "drift");
  await computeDrift({ db, out: `${dataset}/` });
}, 60_000);

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const policy = (extra: Partial<OutputPolicy> = {}): OutputPolicy => ({ kind: "drift frame", label: "--out", remedy: "choose another --out", inputs: [], overwrite: false, ...extra });

/** Every file under the dataset, relative. */
const contents = () => readdirSync(dataset, { recursive: true }).map(String).sort();

describe("outputs inside a dataset", () => {
  it("refuses a parquet file anywhere inside a dataset, --overwrite or not; a part file, or a file of another kind, is let through", () => {
    const partition = readdirSync(dataset).find((n) => n.startsWith("experiment_id="))!;
    for (const target of [join(dataset, "drift.parquet"), join(dataset, partition, "extra.parquet")]) {
      for (const overwrite of [false, true]) {
        expect(() => { guardOutput(target, policy({ overwrite })); }).toThrow(expect.objectContaining({ code: "OUTPUT_INSIDE_DATASET", message: expect.stringContaining(`is inside the dataset ${dataset}`) }));
      }
    }
    expect(() => { guardOutput(join(dataset, partition, "part-0of1-000009.parquet"), policy({ datasetPart: true })); }).not.toThrow();
    expect(() => { guardOutput(join(dataset, "summary.csv"), policy({ kind: "summary table" })); }).not.toThrow();
    mkdirSync(join(dir, "elsewhere"), { recursive: true });
    expect(() => { guardOutput(join(dir, "elsewhere", "drift.parquet"), policy()); }).not.toThrow();
  });

  it("compute and summary say so on one line, exit 1, and the dataset keeps its files", async () => {
    const before = contents();
    const inside = await runCli(["compute", "--db", db, "--out", join(dataset, "drift.parquet")]);
    expect(inside.code).toBe(1);
    expect(inside.stderr).toMatch(/^panic-drift: error: --out .*drift\.parquet is inside the dataset .*drift \(it has _panic_drift\/\), whose readers would take it for part of the dataset: choose another --out outside .*\n$/);
    const asFile = await runCli(["compute", "--db", db, "--out", dataset, "--layout", "file"]);
    expect(asFile.code).toBe(1);
    expect(asFile.stderr).toMatch(/^panic-drift: error: output .*drift is a dataset directory, not a file: give --out DIR\/ \(or --layout dataset\) to update the dataset, or a file name outside it\n$/);
    const table = await runCli(["summary", "--in", dataset, "--format", "parquet", "--out", join(dataset, "summary.parquet")]);
    expect(table.code).toBe(1);
    expect(table.stderr).toMatch(/is inside the dataset/);
    expect(contents()).toEqual(before);
  }, 60_000);
});
