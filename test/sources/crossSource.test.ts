import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeDrift } from "../../src/compute/computeDrift.js";
import { makePanicDb, type PanicDbOptions } from "../support/makePanicDb.js";
import { makePanicExport } from "../support/makePanicExport.js";
import { readFrame } from "../support/readParquet.js";

/**
 * One synthetic experiment in the three layouts panic-tda users hold: a
 * first-generation database, the same experiment written as a
 * second-generation database, and its parquet export with prompt rows (the
 * stored references are what the test embedders give). compute must give
 * the same frame from each: every row, in order, every column, timestamps
 * included (the three layouts store the same instants).
 */
let dir: string;
const OPTIONS: PanicDbOptions = {
  runs: 9,
  steps: 14,
  seed: 11,
  embeddingModels: [
    { name: "Dummy", dim: 768 },
    { name: "Dummy2", dim: 768 },
    { name: "DummyText", dim: 256 },
  ],
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-cross-"));
});
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe("the same experiment in every layout", () => {
  it("gives the same frame from first- and second-generation SQLite and from the parquet export", async () => {
    const gen1 = join(dir, "gen1.sqlite");
    const gen2 = join(dir, "gen2.sqlite");
    makePanicDb(gen1, { ...OPTIONS, layout: "gen1" });
    makePanicDb(gen2, { ...OPTIONS, layout: "gen2" });
    const exported = await makePanicExport(gen1, join(dir, "export"), { embedPrompts: true, embeddingOrder: "run" });
    expect(exported.runsWithoutExperiment).toEqual([]);

    const frames = [];
    for (const [name, db] of [
      ["gen1", gen1],
      ["gen2", gen2],
      ["export", exported.dir],
    ] as const) {
      const out = join(dir, `${name}.parquet`);
      const result = await computeDrift({ db, out });
      expect(result.rows_with_drift, name).toBeGreaterThan(0);
      frames.push(await readFrame(out));
    }
    const [first, second, parquet] = frames;
    expect(first!.length).toBeGreaterThan(100);
    expect(second).toEqual(first);
    expect(parquet).toEqual(first);
  });
});
