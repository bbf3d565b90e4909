/**
 * The update a nightly cron job makes after an experiment added runs with
 * random ids: scattered through the output's run order among the runs
 * computed before, so that kept and recomputed runs alternate in over a
 * thousand stretches. Computes a database, appends the new runs, updates
 * the output (no --force) and checks that the update succeeds, is an
 * update, equals a --force compute row for row, and peaks at no more than
 * `maxRssMB`. The CLI runs as users run it: the built executable
 * (bin/panic-drift.js, `npm run build` first), timed from outside.
 * Used by `npm run faults`.
 */
import Database from "better-sqlite3";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makePanicDb, type PanicDbOptions } from "./makePanicDb.js";
import { query } from "./readParquet.js";
import { timedChild, type TimedRun } from "./timedChild.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const CLI = join(REPO, "bin/panic-drift.js");

export interface ScatteredUpdateOptions {
  runs: number;
  added: number;
  steps: number;
  maxRssMB: number;
}

export const SCATTERED_UPDATE: ScatteredUpdateOptions = { runs: 4000, added: 600, steps: 20, maxRssMB: 300 };

export interface Measured {
  seconds: number;
  rssMB: number | null;
}

export interface ScatteredUpdateReport {
  /** Kept and recomputed stretches of runs in the updated output's run order. */
  stretches: number;
  rows: number;
  compute: Measured;
  update: Measured & { recomputed: number; kept: number };
  force: Measured;
  failures: string[];
}

interface ComputeJson {
  rows: number;
  rows_with_drift: number;
  null_reasons: Record<string, number>;
  warnings: string[];
  updated?: { recomputed_runs: number; kept_runs: number };
}

export async function scatteredUpdateTrial(dir: string, options: ScatteredUpdateOptions = SCATTERED_UPDATE): Promise<ScatteredUpdateReport> {
  const failures: string[] = [];
  const shape: PanicDbOptions = {
    steps: options.steps,
    embeddingModels: [
      { name: "Dummy", dim: 768 },
      { name: "Dummy2", dim: 768 },
    ],
    // As an experiment writes them: each run's rows together, new runs after the old ones.
    shuffle: false,
  };
  const db = join(dir, "scattered.sqlite");
  const extra = join(dir, "scattered-extra.sqlite");
  const out = join(dir, "scattered.parquet");
  const full = join(dir, "scattered-full.parquet");
  const rssFile = join(dir, "scattered-time.txt");
  const run = (args: string[], what: string): { measured: Measured; json: ComputeJson | undefined } => {
    const r: TimedRun = timedChild(CLI, [...args, "--json"], rssFile, REPO);
    if (r.status !== 0) {
      failures.push(`${what} failed (exit ${r.status ?? r.signal}): ${r.stderr.trim()}${r.timerLines.length > 0 ? ` (${r.timerLines.join("; ")})` : ""}`);
      return { measured: r, json: undefined };
    }
    return { measured: r, json: JSON.parse(r.stdout) as ComputeJson };
  };

  makePanicDb(db, { ...shape, runs: options.runs, seed: 1 });
  const compute = run(["compute", "--db", db, "--out", out], "the first compute");
  // New runs from another seed: other random ids, scattered among the old ones.
  makePanicDb(extra, { ...shape, runs: options.added, seed: 1001 });
  const handle = new Database(db);
  handle.prepare("ATTACH ? AS extra").run(extra);
  handle.transaction(() => {
    for (const table of ["experimentconfig", "run", "invocation", "embedding"]) handle.exec(`INSERT INTO main."${table}" SELECT * FROM extra."${table}"`);
  })();
  handle.exec("DETACH extra");
  handle.close();
  rmSync(extra, { force: true });
  const before = compute.json === undefined ? [] : await query("SELECT DISTINCT run_id FROM read_parquet($1)", [out]);

  const update = run(["compute", "--db", db, "--out", out], "the update");
  const force = run(["compute", "--db", db, "--out", full, "--force"], "the --force compute");
  let stretches = 0;
  let rows = 0;
  if (update.json !== undefined && force.json !== undefined) {
    const updated = update.json.updated;
    if (updated === undefined) failures.push("the update recomputed everything instead of updating");
    else if (updated.recomputed_runs !== options.added || updated.kept_runs !== options.runs) {
      failures.push(`the update recomputed ${updated.recomputed_runs} runs and kept ${updated.kept_runs} (expected ${options.added} and ${options.runs})`);
    }
    const counts = (j: ComputeJson) => JSON.stringify([j.rows, j.rows_with_drift, j.null_reasons, j.warnings]);
    if (counts(update.json) !== counts(force.json)) failures.push(`the update's counts differ from --force's: ${counts(update.json)} against ${counts(force.json)}`);
    // Row for row: the same rows at the same positions, both ways.
    const [same] = await query(
      `SELECT (SELECT count(*) FROM read_parquet($1)) AS a, (SELECT count(*) FROM read_parquet($2)) AS b,
              (SELECT count(*) FROM (SELECT * FROM read_parquet($1, file_row_number = true) EXCEPT ALL SELECT * FROM read_parquet($2, file_row_number = true))) AS only_a,
              (SELECT count(*) FROM (SELECT * FROM read_parquet($2, file_row_number = true) EXCEPT ALL SELECT * FROM read_parquet($1, file_row_number = true))) AS only_b`,
      [out, full],
    );
    // Counts come back as JSON text or numbers (BIGINT): compared and printed as they are.
    const { a, b, only_a: onlyA, only_b: onlyB } = same as Record<"a" | "b" | "only_a" | "only_b", string | number>;
    rows = Number(a);
    if (a !== b || Number(onlyA) !== 0 || Number(onlyB) !== 0) {
      failures.push(`the updated file differs from --force's: ${a} against ${b} rows, ${onlyA} only in the update, ${onlyB} only in --force's`);
    }
    // How scattered the new runs are: changes between old and new runs along the run order, plus one.
    const old = new Set(before.map((r) => r.run_id as string));
    const order = (await query("SELECT DISTINCT run_id FROM read_parquet($1) ORDER BY run_id", [full])).map((r) => old.has(r.run_id as string));
    stretches = order.filter((kept, i) => i === 0 || kept !== order[i - 1]).length;
  }
  const rss = update.measured.rssMB;
  if (rss === null) failures.push("the update's peak RSS could not be measured");
  else if (rss > options.maxRssMB) failures.push(`the update peaked at ${rss.toFixed(0)} MB RSS (at most ${options.maxRssMB} MB)`);
  for (const file of [db, `${db}-wal`, `${db}-shm`, out, full, rssFile]) rmSync(file, { force: true });
  const pick = (m: Measured): Measured => ({ seconds: m.seconds, rssMB: m.rssMB });
  return {
    stretches,
    rows,
    compute: pick(compute.measured),
    update: { ...pick(update.measured), recomputed: update.json?.updated?.recomputed_runs ?? 0, kept: update.json?.updated?.kept_runs ?? 0 },
    force: pick(force.measured),
    failures,
  };
}
