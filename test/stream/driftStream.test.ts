import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localDriftStream, reuseFor, type DriftStreamOptions } from "../../src/stream/driftStream.js";
import { ReferenceResolver } from "../../src/reference/referenceResolver.js";
import { openSource } from "../../src/sources/openSource.js";
import { makePanicDb } from "../support/makePanicDb.js";

let dir: string;
let db: string;
const BAD_TIMESTAMPS = 3;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-stream-"));
  db = join(dir, "small.sqlite");
  makePanicDb(db, { runs: 6, steps: 8 });
  const handle = new Database(db);
  handle.prepare(`UPDATE embedding SET started_at = 'not a time' WHERE rowid IN (SELECT rowid FROM embedding ORDER BY rowid LIMIT ${BAD_TIMESTAMPS})`).run();
  handle.close();
});

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

function options(): DriftStreamOptions {
  const resolver = new ReferenceResolver();
  return { excludePrompts: new Set(), reference: "prompt", metric: "euclid", batchRows: 7, lookup: (pair) => resolver.resolve(pair)?.vector };
}

describe("localDriftStream", () => {
  it("gives every row once in the output's order (each run's rows together, by model, then step), and counts what it read", async () => {
    const source = openSource(db);
    try {
      const stream = localDriftStream(source, options());
      expect(stream.ordered).toBe(true);
      const runs: string[] = [];
      const steps = new Map<string, string[]>();
      let rows = 0;
      for (let drifted = stream.next(); drifted !== undefined; drifted = stream.next()) {
        expect(drifted.drift.length).toBe(drifted.batch.numRows);
        const run = drifted.batch.getChild("run_id")!;
        const step = drifted.batch.getChild("sequence_number")!;
        const model = drifted.batch.getChild("embedding_model")!;
        for (let i = 0; i < drifted.batch.numRows; i++, rows++) {
          const runId = String(run.get(i));
          if (runs.at(-1) !== runId) runs.push(runId);
          steps.set(runId, [...(steps.get(runId) ?? []), `${String(model.get(i))}\u0000${String(step.get(i)).padStart(6, "0")}`]);
        }
      }
      // Each run is one contiguous block: no run id comes back after another run started.
      expect(new Set(runs).size).toBe(runs.length);
      for (const [runId, seen] of steps) expect(seen, runId).toEqual([...seen].sort());
      expect(rows).toBe(stream.tally().rows);
      expect(rows).toBeGreaterThan(0);
      // Unreadable timestamps: counted (what an update needs) and warned about, once the stream is read.
      expect(stream.badTimestamps()).toBe(BAD_TIMESTAMPS);
      expect(stream.warnings().filter((w) => w.startsWith(`${BAD_TIMESTAMPS} embedding rows of `))).toHaveLength(1);
      await stream.close();
    } finally {
      source.close();
    }
  });

  it("reuses vector buffers batch by batch only when no row is another's reference", () => {
    expect(reuseFor("prompt")).toBe(true);
    expect(reuseFor("first")).toBe("unit");
    expect(reuseFor("previous")).toBe("unit");
  });
});
