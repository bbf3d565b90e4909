import Database from "better-sqlite3";
import { randomBytes, randomUUID } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeDrift } from "../../../src/compute/computeDrift.js";
import type { ComputeOptions, ComputeResult } from "../../../src/compute/plan.js";
import { replay } from "../../support/engineWriter.js";
import { makePanicDb } from "../../support/makePanicDb.js";
import { readFrame } from "../../support/readParquet.js";

let dir: string;
let base: string;
let trial = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-incremental-"));
  base = join(dir, "base.sqlite");
  makePanicDb(base, {
    runs: 12,
    steps: 10,
    edgeCases: true,
    embeddingModels: [
      { name: "Dummy", dim: 768 },
      { name: "Dummy2", dim: 768 },
      { name: "Synthetic64", dim: 64 },
    ],
  });
  // Engine transactions 1..6 on top: runs whose vectors are still NULL, as in a live experiment.
  const db = new Database(base);
  replay(db, 0, 6);
  db.close();
});

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

/** A fresh copy of the base database, its first output computed. */
async function start(options: Partial<ComputeOptions> = {}): Promise<{ db: string; out: string; first: ComputeResult }> {
  trial++;
  const db = join(dir, `t${trial}.sqlite`);
  copyFileSync(base, db);
  const out = join(dir, `t${trial}.parquet`);
  const first = await computeDrift({ db, out, ...options });
  expect(first.updated).toBeUndefined();
  expect(first.full_recompute_reason).toBe("no_earlier_output");
  return { db, out, first };
}

function change(db: string, edit: (db: Database.Database) => void): void {
  const handle = new Database(db);
  edit(handle);
  handle.close();
}

/** The update equals a full recompute of the same database: every row, in order, and the counts and warnings. */
async function expectEqualsFull(db: string, out: string, updated: ComputeResult, options: Partial<ComputeOptions> = {}): Promise<void> {
  const full = join(dir, `full-${trial}.parquet`);
  const expected = await computeDrift({ db, out: full, force: true, ...options });
  expect(await readFrame(out)).toEqual(await readFrame(full));
  const pick = (r: ComputeResult) => ({ rows: r.rows, rows_with_drift: r.rows_with_drift, null_reasons: r.null_reasons, warnings: r.warnings });
  expect(pick(updated)).toEqual(pick(expected));
  // And the updated file reports the same when found up to date.
  expect(pick(await computeDrift({ db, out, ...options }))).toEqual(pick(expected));
}

/** Whether a compute was an update, and if not, why. */
function summaryOf(result: ComputeResult): Pick<ComputeResult, "updated" | "full_recompute_reason"> {
  return { updated: result.updated, full_recompute_reason: result.full_recompute_reason };
}

describe("incremental updates", () => {
  it("new runs and filled-in vectors: only those runs are read again, and the file equals a full recompute", async () => {
    const { db, out } = await start();
    change(db, (h) => { replay(h, 6, 9); });
    const updated = await computeDrift({ db, out });
    expect(updated.status).toBe("computed");
    expect(updated.updated).toBeDefined();
    expect(updated.updated!.kept_runs).toBeGreaterThan(10);
    expect(updated.updated!.recomputed_runs).toBeGreaterThan(0);
    expect(updated.full_recompute_reason).toBeUndefined();
    await expectEqualsFull(db, out, updated);
  });

  it("update after update, as a cron job does while an experiment runs", async () => {
    const { db, out } = await start();
    for (const [from, to] of [
      [6, 7],
      [7, 8],
      [8, 11],
    ] as const) {
      change(db, (h) => { replay(h, from, to); });
      const updated = await computeDrift({ db, out });
      expect(updated.updated).toBeDefined();
      await expectEqualsFull(db, out, updated);
    }
  });

  it("a deleted run (with its invocations and embeddings) drops its rows", async () => {
    const { db, out } = await start();
    change(db, (h) => {
      const runId = h.prepare("SELECT id FROM run ORDER BY id LIMIT 1 OFFSET 3").pluck().get() as string;
      h.prepare("DELETE FROM embedding WHERE invocation_id IN (SELECT id FROM invocation WHERE run_id = ?)").run(runId);
      h.prepare("DELETE FROM invocation WHERE run_id = ?").run(runId);
      h.prepare("DELETE FROM run WHERE id = ?").run(runId);
    });
    const updated = await computeDrift({ db, out });
    expect(updated.updated).toBeDefined();
    await expectEqualsFull(db, out, updated);
  });

  it("a new step of an existing run, and a changed prompt, recompute those runs", async () => {
    const { db, out } = await start();
    change(db, (h) => {
      const [runId, invocationId] = h
        .prepare("SELECT i.run_id, i.id FROM invocation i JOIN embedding e ON e.invocation_id = i.id WHERE e.vector IS NOT NULL ORDER BY i.run_id LIMIT 1")
        .raw(true)
        .get() as [string, string];
      h.prepare(
        "INSERT INTO invocation (id, started_at, completed_at, model, type, seed, run_id, sequence_number, input_invocation_id, output_text) SELECT 'f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0', started_at, completed_at, model, type, seed, run_id, 99, NULL, 'a new caption' FROM invocation WHERE id = ?",
      ).run(invocationId);
      h.prepare(
        "INSERT INTO embedding (id, started_at, completed_at, invocation_id, embedding_model, vector) SELECT 'e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0', started_at, completed_at, 'f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0', embedding_model, vector FROM embedding WHERE invocation_id = ? LIMIT 1",
      ).run(invocationId);
      // Runs in the middle of the run order: kept and recomputed stretches alternate in the new file.
      for (const offset of [9, 12]) {
        const other = h.prepare("SELECT id FROM run WHERE id <> ? ORDER BY id LIMIT 1 OFFSET ?").pluck().get(runId, offset) as string;
        h.prepare("UPDATE run SET initial_prompt = 'a changed prompt' WHERE id = ?").run(other);
      }
    });
    const updated = await computeDrift({ db, out });
    expect(updated.updated).toBeDefined();
    expect(updated.updated!.recomputed_runs).toBeGreaterThanOrEqual(3);
    await expectEqualsFull(db, out, updated);
  });

  it("rows deleted from a run that otherwise did not change: a full recompute", async () => {
    const { db, out } = await start();
    change(db, (h) => {
      h.prepare("DELETE FROM embedding WHERE rowid = (SELECT min(rowid) FROM embedding WHERE vector IS NOT NULL)").run();
    });
    const updated = await computeDrift({ db, out });
    expect(updated.updated).toBeUndefined();
    expect(updated.full_recompute_reason).toBe("rows_deleted");
    await expectEqualsFull(db, out, updated);
  });

  it("--reference previous, --metric cosine and two readers for the first file", async () => {
    const options = { reference: "previous", metric: "cosine", workers: 2 } as const;
    const { db, out } = await start(options);
    change(db, (h) => { replay(h, 6, 10); });
    const updated = await computeDrift({ db, out, ...options });
    expect(updated.updated).toBeDefined();
    await expectEqualsFull(db, out, updated, options);
  });

  it("filters: an update keeps to the same runs and models", async () => {
    const options = { filters: { models: ["Dummy"] } };
    const { db, out } = await start(options);
    change(db, (h) => { replay(h, 6, 9); });
    const updated = await computeDrift({ db, out, ...options });
    expect(updated.updated).toBeDefined();
    await expectEqualsFull(db, out, updated, options);
  });

  it("many runs: kept and recomputed stretches stay in the output's order", async () => {
    trial++;
    const db = join(dir, `big-${trial}.sqlite`);
    const out = join(dir, `big-${trial}.parquet`);
    // 60 runs × 100 text steps: 6,000 rows of 16-d vectors, in many units.
    makePanicDb(db, { runs: 60, steps: 200, embeddingModels: [{ name: "Dummy2", dim: 16 }], seed: 7 });
    await computeDrift({ db, out, batchRows: 1024 });
    change(db, (h) => {
      replay(h, 0, 9);
      for (const offset of [11, 30, 49]) {
        const runId = h.prepare("SELECT id FROM run ORDER BY id LIMIT 1 OFFSET ?").pluck().get(offset) as string;
        h.prepare("UPDATE run SET network = '[\"SDXLTurbo\", \"BLIP2\"]' WHERE id = ?").run(runId);
      }
    });
    const updated = await computeDrift({ db, out, batchRows: 1024 });
    expect(updated.updated).toBeDefined();
    expect(updated.updated!.recomputed_runs).toBeGreaterThanOrEqual(6);
    await expectEqualsFull(db, out, updated, { batchRows: 1024 });
  });

  it("new runs scattered through the run order (hundreds of kept and recomputed stretches): the update's memory does not grow with them", async () => {
    trial++;
    const db = join(dir, `scattered-${trial}.sqlite`);
    const out = join(dir, `scattered-${trial}.parquet`);
    const models = [{ name: "Dummy2", dim: 16 }];
    // One text step per run, so that runs are many and the files small: 1,200 runs, then 300 more with random ids.
    makePanicDb(db, { runs: 1200, steps: 2, embeddingModels: models, seed: 11, shuffle: false });
    await computeDrift({ db, out });
    const extra = join(dir, `scattered-extra-${trial}.sqlite`);
    makePanicDb(extra, { runs: 300, steps: 2, embeddingModels: models, seed: 12, shuffle: false });
    change(db, (h) => {
      h.prepare("ATTACH ? AS extra").run(extra);
      h.transaction(() => {
        for (const table of ["experimentconfig", "run", "invocation", "embedding"]) h.exec(`INSERT INTO main."${table}" SELECT * FROM extra."${table}"`);
      })();
      h.exec("DETACH extra");
    });
    // Before, each stretch was a scan of its own in one query: ~600 of them ran DuckDB out of memory, on every later run.
    const updated = await computeDrift({ db, out });
    expect(updated.updated).toEqual(expect.objectContaining({ recomputed_runs: 300, kept_runs: 1200 }));
    await expectEqualsFull(db, out, updated);
  }, 30_000);

  it("other settings, --force, or a foreign file at --out mean a full recompute", async () => {
    const { db, out } = await start();
    change(db, (h) => { replay(h, 6, 7); });
    expect(summaryOf(await computeDrift({ db, out, metric: "cosine" }))).toEqual({ updated: undefined, full_recompute_reason: "other_settings" });
    change(db, (h) => { replay(h, 7, 8); });
    expect(summaryOf(await computeDrift({ db, out, force: true, metric: "cosine" }))).toEqual({ updated: undefined, full_recompute_reason: "forced" });
    writeFileSync(out, "not a parquet file");
    change(db, (h) => { replay(h, 8, 9); });
    // A file panic-drift did not write is replaced only when told to.
    await expect(computeDrift({ db, out })).rejects.toMatchObject({ code: "OUTPUT_FOREIGN" });
    const full = await computeDrift({ db, out, overwrite: true });
    expect(full.updated).toBeUndefined();
    expect(full.full_recompute_reason).toBe("no_earlier_output");
    await expectEqualsFull(db, out, full);
  });

  it("each full recompute says why: the last row replaced, too many runs changed, unreadable timestamps", async () => {
    const replaced = await start();
    change(replaced.db, (h) => {
      const last = h.prepare("SELECT * FROM embedding ORDER BY rowid DESC LIMIT 1").get() as Record<string, unknown>;
      h.prepare("DELETE FROM embedding WHERE rowid = (SELECT max(rowid) FROM embedding)").run();
      // Another row in its place: same rowid (SQLite reuses the highest), another id.
      last.id = typeof last.id === "string" ? randomUUID().replaceAll("-", "") : randomBytes(16);
      const columns = Object.keys(last);
      h.prepare(`INSERT INTO embedding (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})`).run(last);
    });
    const afterReplace = await computeDrift({ db: replaced.db, out: replaced.out });
    expect(summaryOf(afterReplace)).toEqual({ updated: undefined, full_recompute_reason: "last_row_replaced" });
    await expectEqualsFull(replaced.db, replaced.out, afterReplace);

    const many = await start();
    // Every run's prompt changed: each run is recomputed, far past a quarter of them.
    change(many.db, (h) => { h.prepare("UPDATE run SET initial_prompt = initial_prompt || '!'").run(); });
    const afterMany = await computeDrift({ db: many.db, out: many.out });
    expect(summaryOf(afterMany)).toEqual({ updated: undefined, full_recompute_reason: "many_runs_changed" });
    await expectEqualsFull(many.db, many.out, afterMany);

    trial++;
    const db = join(dir, `t${trial}.sqlite`);
    const out = join(dir, `t${trial}.parquet`);
    copyFileSync(base, db);
    change(db, (h) => { h.prepare("UPDATE embedding SET started_at = 'not a time' WHERE rowid = (SELECT min(rowid) FROM embedding)").run(); });
    const first = await computeDrift({ db, out });
    expect(first.warnings.join("\n")).toMatch(/started_at\/completed_at that is not/);
    change(db, (h) => { replay(h, 6, 7); });
    const afterBad = await computeDrift({ db, out });
    expect(summaryOf(afterBad)).toEqual({ updated: undefined, full_recompute_reason: "unreadable_timestamps" });
    await expectEqualsFull(db, out, afterBad);
  });
});
