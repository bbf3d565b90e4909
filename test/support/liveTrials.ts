/**
 * `compute` on a database that a separate process keeps writing (see
 * engineWriter.ts): every run must succeed and write the database as of one
 * instant. Which instant is found from the output's counts (each transaction
 * adds rows or fills vectors, so the counts name it), that state is rebuilt
 * by replaying the transactions on a copy, and a full compute of the copy
 * must equal the live output row for row.
 * Used by test/live.test.ts (5 runs) and `npm run faults` (50).
 */
import { fork } from "node:child_process";
import { copyFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { computeDrift } from "../../src/compute/computeDrift.js";
import { replay } from "./engineWriter.js";
import { readFrame } from "./readParquet.js";

const WRITER = fileURLToPath(new URL("./engineWriter.ts", import.meta.url));

export interface LiveReport {
  runs: number;
  /** Distinct database states the runs saw. */
  states: number;
  /** Runs that updated an earlier output incrementally (the writer may change too much between runs for that). */
  updates: number;
  failures: string[];
}

export async function liveTrials(base: string, work: string, runs: number): Promise<LiveReport> {
  const live = `${work}/live.sqlite`;
  copyFileSync(base, live);
  const writer = fork(WRITER, [live], { execArgv: ["--import", "tsx"], stdio: ["ignore", "ignore", "inherit", "ipc"] });
  let lastK = 0;
  writer.on("message", (m: { k: number }) => (lastK = m.k));
  await new Promise((resolve) => writer.once("message", resolve));
  const results: { rows: number; withDrift: number; out: string }[] = [];
  let updates = 0;
  const failures: string[] = [];
  try {
    for (let i = 1; i <= runs; i++) {
      const out = `${work}/live-${i}.parquet`;
      try {
        // Every other run updates one output as a cron job does (incremental, one reader); the others
        // compute afresh with small batches: many units, so the reader thread joins while there is still work.
        const update = i % 2 === 0;
        const r = update
          ? await computeDrift({ db: live, out: `${work}/live-updated.parquet`, batchRows: 32, excludePrompts: [] })
          : await computeDrift({ db: live, out, workers: 2, batchRows: 32, excludePrompts: [], force: true });
        if (update) copyFileSync(`${work}/live-updated.parquet`, out);
        if (r.updated !== undefined) updates++;
        results.push({ rows: r.rows, withDrift: r.rows_with_drift, out });
      } catch (error) {
        failures.push(`run ${i}: ${String(error).split("\n")[0]}`);
      }
    }
  } finally {
    writer.kill();
    await new Promise((resolve) => writer.once("exit", resolve));
  }

  // The counts after each transaction, replayed on a copy of the start.
  const scratch = `${work}/replay.sqlite`;
  copyFileSync(base, scratch);
  const db = new Database(scratch);
  const counts = db.prepare(
    "SELECT count(*), count(e.vector) FROM embedding e JOIN invocation i ON i.id = e.invocation_id JOIN run r ON r.id = i.run_id WHERE i.type = 'TEXT'",
  );
  const states: [number, number][] = [counts.raw(true).get() as [number, number]];
  for (let k = 1; k <= lastK; k++) {
    replay(db, k - 1, k);
    states.push(counts.raw(true).get() as [number, number]);
  }
  db.close();

  const seen = new Set<number>();
  for (const [i, result] of results.entries()) {
    const k = states.findIndex(([rows, withVector]) => rows === result.rows && withVector === result.withDrift);
    if (k < 0) {
      failures.push(`run ${i + 1}: ${result.rows} rows, ${result.withDrift} with drift: no moment of the database had these counts (half a transaction?)`);
      continue;
    }
    seen.add(k);
    const copy = `${work}/state-${k}.sqlite`;
    copyFileSync(base, copy);
    const state = new Database(copy);
    replay(state, 0, k);
    state.close();
    const expectedOut = `${work}/state-${k}.parquet`;
    await computeDrift({ db: copy, out: expectedOut, workers: 1, excludePrompts: [] });
    const [actual, expected] = [await readFrame(result.out), await readFrame(expectedOut)];
    if (JSON.stringify(actual) !== JSON.stringify(expected)) failures.push(`run ${i + 1}: differs from a full compute of the database after transaction ${k}`);
    for (const f of [copy, expectedOut]) rmSync(f, { force: true });
  }
  return { runs, states: seen.size, updates, failures };
}
