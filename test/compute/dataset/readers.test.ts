import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pl from "nodejs-polars";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeDrift } from "../../../src/compute/computeDrift.js";
import { replay } from "../../support/engineWriter.js";
import { makePanicDb } from "../../support/makePanicDb.js";
import { datasetScan, duck } from "../../support/datasetInputs.js";

let dir: string;
let out: string;
let single: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pd-readers-"));
  makePanicDb(join(dir, "a.sqlite"), { seed: 41, runs: 6 });
  makePanicDb(join(dir, "b.sqlite"), { seed: 42, runs: 6, layout: "gen2" });
  // Runs without an experiment, as the engine stand-in writes them.
  const db = new Database(join(dir, "a.sqlite"));
  replay(db, 0, 4);
  db.close();
  out = join(dir, "drift");
  single = join(dir, "drift.parquet");
  await computeDrift({ db: [join(dir, "a.sqlite"), join(dir, "b.sqlite")], out: `${out}/` });
  await computeDrift({ db: [join(dir, "a.sqlite"), join(dir, "b.sqlite")], out: single });
}, 120_000);

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe("readers of a dataset", () => {
  it("DuckDB: the partition's experiment_id keeps its type, and runs without an experiment read as NULL", async () => {
    const rows = await duck(`SELECT experiment_id AS x, count(*)::INTEGER AS n FROM ${datasetScan(out)} GROUP BY 1 ORDER BY 1 NULLS FIRST`);
    const expected = await duck(`SELECT experiment_id AS x, count(*)::INTEGER AS n FROM read_parquet('${single}') GROUP BY 1 ORDER BY 1 NULLS FIRST`);
    expect(rows).toEqual(expected);
    expect(rows[0]!.x).toBeNull();
    expect(await duck(`SELECT column_type AS t FROM (DESCRIBE SELECT experiment_id FROM ${datasetScan(out)})`)).toEqual([{ t: "VARCHAR" }]);
  });

  it("nodejs-polars: scanParquet with hive partitioning reads the same table, columns and types", async () => {
    const frame = pl.scanParquet(`${out}/**/*.parquet`, { hivePartitioning: true }).collectSync();
    expect(frame.columns).toEqual(["id", "invocation_id", "embedding_model", "started_at", "completed_at", "run_id", "sequence_number", "text_model", "text", "initial_prompt", "network", "experiment_id", "semantic_drift"]);
    expect(String(frame.schema.experiment_id)).toBe("DataType(String)");
    expect(String(frame.schema.semantic_drift)).toBe("DataType(Float64)");
    expect(String(frame.schema.sequence_number)).toBe("DataType(Int64)");
    const fromPolars = frame
      .select("id", "experiment_id", "semantic_drift")
      .sort("id")
      .toRecords()
      .map((r) => [r.id, r.experiment_id ?? null, r.semantic_drift ?? null]);
    const fromFile = (await duck(`SELECT id, experiment_id, semantic_drift FROM read_parquet('${single}') ORDER BY id`)).map((r) => [r.id, r.experiment_id, r.semantic_drift]);
    expect(fromPolars).toEqual(fromFile);
  });
});
