import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeDrift } from "../../../src/compute/computeDrift.js";
import type { ComputeOptions } from "../../../src/compute/plan.js";
import { PanicDriftError } from "../../../src/common/errors.js";
import { makePanicDb } from "../../support/makePanicDb.js";
import { makePanicExport } from "../../support/makePanicExport.js";
import { addCopyOfRun, compareTables, datasetScan, deleteRunGen2, duck, fillNullVectors } from "../../support/datasetInputs.js";
import { spawnCli } from "../../support/faultTrials.js";

let root: string;
let trial = 0;

/** Four inputs of both generations and an export: A, B (a run's vectors still NULL), C (second generation), E (an export directory). */
function inputs(): { a: string; b: string; c: string; e: string; dir: string } {
  const dir = join(root, `t${++trial}`);
  mkdirSync(dir);
  cpSync(join(root, "base"), dir, { recursive: true });
  return { a: join(dir, "a.sqlite"), b: join(dir, "b.sqlite"), c: join(dir, "c.sqlite"), e: join(dir, "e_parquet"), dir };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "pd-dataset-"));
  const base = join(root, "base");
  mkdirSync(base);
  makePanicDb(join(base, "a.sqlite"), { seed: 11, runs: 10 });
  makePanicDb(join(base, "b.sqlite"), { seed: 12, runs: 10, unfinishedRuns: 1 });
  makePanicDb(join(base, "c.sqlite"), { seed: 13, runs: 10, layout: "gen2" });
  const gen2 = join(root, "e-source.sqlite"); // exported as upstream's second generation does
  makePanicDb(gen2, { seed: 14, runs: 6 });
  await makePanicExport(gen2, join(base, "e_parquet"));
}, 120_000);

afterAll(() => { rmSync(root, { recursive: true, force: true }); });

/** Part files (relative name → size and mtime). */
function parts(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const partition of readdirSync(dir).filter((n) => n.startsWith("experiment_id="))) {
    for (const name of readdirSync(join(dir, partition))) {
      const s = statSync(join(dir, partition, name), { bigint: true });
      found.set(`${partition}/${name}`, `${s.size} ${s.mtimeNs} ${readFileSync(join(dir, partition, name)).toString("base64").length}`);
    }
  }
  return found;
}

const fileScan = (path: string) => `read_parquet('${path}')`;
const ORDER = "ORDER BY run_id, embedding_model, sequence_number, id";

describe("a dataset of several inputs", () => {
  it("reads back through DuckDB (hive partitioning) equal to the single file of the same inputs, row for row, columns and types alike", async () => {
    const { a, b, c, e, dir } = inputs();
    const out = join(dir, "drift") + "/";
    const result = await computeDrift({ db: [join(dir, "*.sqlite"), e], out });
    expect(result.status).toBe("computed");
    expect(result.sources?.map((s) => relative(dir, s.path))).toEqual(["a.sqlite", "b.sqlite", "c.sqlite", "e_parquet"]);
    const single = join(dir, "single.parquet");
    const file = await computeDrift({ db: [a, b, c, e], out: single });
    expect(file.rows).toBe(result.rows);
    expect(result.sources?.map((s) => s.rows)).toEqual(file.sources?.map((s) => s.rows));
    const compared = await compareTables(datasetScan(out), fileScan(single));
    expect(compared).toMatchObject({ onlyA: 0, onlyB: 0, rows: file.rows });
    expect(compared.typesA).toBe(compared.typesB);
    // In the documented order after ORDER BY (the single file is in it already).
    const sorted = await duck(`SELECT id FROM ${datasetScan(out)} ${ORDER}`);
    const inFile = await duck(`SELECT id FROM ${fileScan(single)}`);
    expect(sorted).toEqual(inFile);
    // One partition per experiment; each file carries the single file's metadata and the runs it holds.
    const partitions = readdirSync(out).filter((n) => n.startsWith("experiment_id=")).sort();
    const experiments = (await duck(`SELECT DISTINCT experiment_id AS x FROM ${fileScan(single)} ORDER BY 1`)).map((r) => `experiment_id=${String(r.x)}`);
    expect(partitions).toEqual(experiments);
    for (const name of parts(out).keys()) {
      const kv = Object.fromEntries(
        (await duck(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${join(out, name)}')`)).map((r) => [r.k, r.v]),
      ) as Record<string, string>;
      for (const key of ["format", "tool_version", "source", "metric", "reference", "filters", "exclusions", "reference_digest", "input_fingerprint", "runs", "result", "dataset"]) {
        expect(kv[`panic_drift.${key}`], `${name}: ${key}`).toBeDefined();
      }
      const runs = JSON.parse(kv["panic_drift.runs"]!) as [string][];
      const inside = await duck(`SELECT DISTINCT run_id AS r FROM read_parquet('${join(out, name)}') ORDER BY 1`);
      for (const { r } of inside) expect(runs.map(([id]) => id)).toContain(r);
      const result = JSON.parse(kv["panic_drift.result"]!) as { rows: number };
      const [{ n }] = (await duck(`SELECT count(*)::INTEGER AS n FROM read_parquet('${join(out, name)}')`)) as [{ n: number }];
      expect(result.rows).toBe(n);
    }
    // Up to date: nothing written.
    const before = parts(out);
    const again = await computeDrift({ db: [join(dir, "*.sqlite"), e], out });
    expect(again.status).toBe("up-to-date");
    expect(again.rows).toBe(result.rows);
    expect(parts(out)).toEqual(before);
  }, 120_000);

  it("an update writes only the files that hold what changed (a run added, NULL vectors filled in, a run deleted), and equals a fresh compute", async () => {
    const { a, b, c, e, dir } = inputs();
    const out = join(dir, "drift");
    const options: ComputeOptions = { db: [a, b, c, e], out, layout: "dataset", runsPerFile: 3 };
    const first = await computeDrift(options);
    expect(first.null_reasons.null_vector).toBeGreaterThan(0);
    const before = parts(out);
    const nullFile = (await duck(`SELECT DISTINCT filename AS f FROM read_parquet('${out}/**/*.parquet', filename = true) WHERE semantic_drift IS NULL`)).map((r) => relative(out, String(r.f)));
    addCopyOfRun(a);
    expect(fillNullVectors(b)).toBeGreaterThan(0);
    const deleted = deleteRunGen2(c).toLowerCase();
    const deletedFile = (await duck(`SELECT DISTINCT filename AS f FROM read_parquet('${out}/**/*.parquet', filename = true) WHERE replace(run_id, '-', '') = '${deleted.replaceAll("-", "")}'`)).map((r) => relative(out, String(r.f)));
    const update = await computeDrift(options);
    expect(update.updated).toBeDefined();
    const after = parts(out);
    const changed = [...after.keys()].filter((name) => before.get(name) !== after.get(name)).sort();
    const added = [...after.keys()].filter((name) => !before.has(name));
    expect(added).toHaveLength(1); // the new run of A, in A's partition
    expect(changed).toEqual([...new Set([...added, ...nullFile, ...deletedFile])].sort());
    expect(update.files).toEqual({ written: changed.length, kept: before.size - nullFile.length - deletedFile.length, removed: 0 });
    const fresh = join(dir, "fresh.parquet");
    await computeDrift({ db: [a, b, c, e], out: fresh });
    const compared = await compareTables(datasetScan(out), fileScan(fresh));
    expect(compared).toMatchObject({ onlyA: 0, onlyB: 0 });
    expect(update.rows).toBe(compared.rows);
    expect(update.null_reasons.null_vector).toBe(0);
  }, 120_000);

  it("three shards, as three processes at once into one directory, make together the dataset one process makes", async () => {
    const { a, b, c, e, dir } = inputs();
    const out = join(dir, "sharded");
    const runs = [0, 1, 2].map((i) => spawnCli(["compute", "--db", join(dir, "*.sqlite"), "--db", e, "--out", `${out}/`, "--shard", `${i}/3`, "--wait", "30"]));
    const ends = await Promise.all(runs.map((r) => r.done));
    for (const end of ends) expect(end, end.stderr).toMatchObject({ code: 0 });
    const whole = join(dir, "whole");
    await computeDrift({ db: [a, b, c, e], out: `${whole}/` });
    const compared = await compareTables(datasetScan(out), datasetScan(whole));
    expect(compared).toMatchObject({ onlyA: 0, onlyB: 0 });
    expect(compared.rows).toBeGreaterThan(0);
    expect(readdirSync(join(out, "_panic_drift")).filter((n) => n.endsWith(".json")).sort()).toEqual(["shard-0of3.json", "shard-1of3.json", "shard-2of3.json"]);
    // A shard's update leaves the other shards' files alone.
    const before = parts(out);
    addCopyOfRun(a);
    const ownFiles = (i: number) => [...parts(out).keys()].filter((n) => n.includes(`part-${i}of3-`));
    for (let i = 0; i < 3; i++) await computeDrift({ db: [a, b, c, e], out: `${out}/`, shard: { index: i, count: 3 } });
    const after = parts(out);
    for (const name of before.keys()) if (after.get(name) !== before.get(name)) expect(ownFiles(0).concat(ownFiles(1), ownFiles(2))).toContain(name);
    // Another shard count is refused.
    await expect(computeDrift({ db: [a, b, c, e], out: `${out}/`, shard: { index: 0, count: 2 } })).rejects.toMatchObject({ code: "DATASET_SETTINGS_DIFFER" });
  }, 180_000);

  it("readers during updates never see a run twice", async () => {
    const { a, b, c, e, dir } = inputs();
    const out = join(dir, "drift");
    const options: ComputeOptions = { db: [a, b, c, e], out, layout: "dataset", runsPerFile: 2 };
    await computeDrift(options);
    const state = { updating: true };
    const updates = (async () => {
      try {
        for (let i = 0; i < 6; i++) {
          addCopyOfRun(a);
          if (i === 2) fillNullVectors(b);
          await computeDrift(options);
        }
      } finally {
        state.updating = false;
      }
    })();
    let reads = 0;
    while (state.updating) {
      const [found] = await duck(
        `SELECT count(*)::INTEGER AS rows, (count(*) - count(DISTINCT id))::INTEGER AS twice,
                (SELECT count(*) FROM (SELECT run_id FROM read_parquet('${out}/**/*.parquet', filename = true) GROUP BY run_id HAVING count(DISTINCT filename) > 1))::INTEGER AS split
         FROM ${datasetScan(out)}`,
      );
      expect(found).toMatchObject({ twice: 0, split: 0 });
      reads++;
    }
    await updates;
    expect(reads).toBeGreaterThan(0);
  }, 180_000);

  it("a run killed (-9) at any moment leaves no duplicate; the next run cleans up after it and equals a fresh compute", async () => {
    const { a, b, c, e, dir } = inputs();
    const out = join(dir, "drift");
    const fresh = join(dir, "fresh.parquet");
    await computeDrift({ db: [a, b, c, e], out: fresh });
    for (const delay of [300, 900, 1500, 2100, 2700]) {
      const run = spawnCli(["compute", "--db", a, "--db", b, "--db", c, "--db", e, "--out", `${out}/`, "--force"]);
      await new Promise((resolve) => setTimeout(resolve, delay));
      run.child.kill("SIGKILL");
      await run.done;
      const [found] = await duck(
        `SELECT (SELECT count(*) FROM (SELECT run_id FROM read_parquet('${out}/**/part-*.parquet', filename = true) GROUP BY run_id HAVING count(DISTINCT filename) > 1))::INTEGER AS split`,
      ).catch(() => [{ split: 0 }]);
      expect(found).toEqual({ split: 0 });
      const again = await computeDrift({ db: [a, b, c, e], out: `${out}/` });
      expect(again.rows).toBeGreaterThan(0);
      expect(await compareTables(datasetScan(out), fileScan(fresh))).toMatchObject({ onlyA: 0, onlyB: 0 });
      const leftovers = [...readdirSync(dir).filter((n) => n.includes(".work-")), ...[...parts(out).keys()].filter((n) => n.includes(".tmp-"))];
      expect(leftovers).toEqual([]);
    }
  }, 180_000);

  it("stopped by a signal, it says what a dataset is left as", async () => {
    const { a, b, dir } = inputs();
    const controller = new AbortController();
    const running = computeDrift({ db: [a, b], out: join(dir, "drift") + "/" }, { signal: controller.signal, onProgress: () => { controller.abort("SIGTERM"); } });
    await expect(running).rejects.toMatchObject({ code: "TERMINATED", message: expect.stringMatching(/^terminated: each file of the dataset is whole and holds its runs once; the next run finishes the update$/) as unknown });
    expect(readdirSync(dir).filter((n) => n.includes(".work-"))).toEqual([]);
  }, 60_000);

  it("one set of settings per dataset: another metric is an error unless --force", async () => {
    const { a, dir } = inputs();
    const out = join(dir, "drift") + "/";
    await computeDrift({ db: [a], out });
    const error = await computeDrift({ db: [a], out, metric: "cosine" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PanicDriftError);
    expect((error as PanicDriftError).code).toBe("DATASET_SETTINGS_DIFFER");
    expect((error as Error).message).toMatch(/metric/);
    const forced = await computeDrift({ db: [a], out, metric: "cosine", force: true });
    expect(forced.status).toBe("computed");
    const metrics = await duck(`SELECT DISTINCT decode(value) AS v FROM parquet_kv_metadata('${out}**/*.parquet') WHERE decode(key) = 'panic_drift.metric'`);
    expect(metrics).toEqual([{ v: "cosine" }]);
  }, 60_000);
});
