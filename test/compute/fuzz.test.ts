import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fuzzTrials } from "../support/fuzzTrials.js";
import { makePanicDb } from "../support/makePanicDb.js";

let dir: string;
let fixture: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-fuzz-"));
  fixture = join(dir, "fixture.sqlite");
  // Small pages and many of them: mutations land in every kind of page.
  makePanicDb(fixture, { runs: 6, steps: 12, edgeCases: true, embeddingModels: [{ name: "Dummy", dim: 768 }, { name: "DummyText", dim: 256 }] });
});
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe("a mutated database (bit flips, truncation, overwritten pages)", () => {
  it("always ends with a documented exit code and one error line, no stack trace, within 10 s, bytes unchanged (20 cases)", async () => {
    const report = await fuzzTrials(fixture, dir, 20, 20261125);
    expect(report.failures).toEqual([]);
  }, 300_000);
});
