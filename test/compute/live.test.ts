import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { liveTrials } from "../support/liveTrials.js";
import { makePanicDb } from "../support/makePanicDb.js";

let dir: string;
let base: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-live-"));
  base = join(dir, "base.sqlite");
  makePanicDb(base, { runs: 20, steps: 40, embeddingModels: [{ name: "Dummy", dim: 768 }, { name: "Dummy2", dim: 768 }] });
});
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe("a database that an experiment keeps writing", () => {
  it("every run succeeds and writes the database as of one instant: equal to a full compute of that state (5 runs)", async () => {
    const report = await liveTrials(base, dir, 5);
    expect(report.failures).toEqual([]);
  }, 180_000);
});
