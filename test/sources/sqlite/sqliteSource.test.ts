/**
 * The SQLite source's size estimate, which decides whether a compute starts
 * a reader thread: the whole rowid span for every run, that span's share
 * when only some runs are read (--run, an update, a dataset's part).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSource } from "../../../src/sources/openSource.js";
import { makePanicDb, type PanicDbManifest } from "../../support/makePanicDb.js";

let dir: string;
let path: string;
let manifest: PanicDbManifest;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-sqlite-source-"));
  path = join(dir, "runs.sqlite");
  manifest = makePanicDb(path, { seed: 5, runs: 10 });
});

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe("estimatedRows", () => {
  it("is the embedding rowid span with every run, and its share for the runs read", () => {
    const all = openSource(path);
    const span = all.estimatedRows();
    all.close();
    expect(span).toBeGreaterThanOrEqual(manifest.invocationCount);
    const runs = manifest.runIds.slice(0, 2);
    const some = openSource(path, { filters: { runs } });
    try {
      expect(some.estimatedRows()).toBe(Math.ceil((span * runs.length) / manifest.runIds.length));
      // Limited further (as an update does): the share follows.
      some.limitToRuns?.(new Set([some.runRecords().record(0).run_id]));
      expect(some.estimatedRows()).toBe(Math.ceil(span / manifest.runIds.length));
    } finally {
      some.close();
    }
  });
});
