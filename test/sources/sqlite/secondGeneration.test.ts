/**
 * The second-generation (Elixir era) SQLite source: the generator's gen2
 * layout, detection, and that a gen2 database gives the frame its gen1 twin
 * gives (and the numpy oracle's), through one or two readers, with or
 * without the indexes, under each filter.
 */
import Database from "better-sqlite3";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeDrift } from "../../../src/compute/computeDrift.js";
import { openSource } from "../../../src/sources/openSource.js";
import { EDGE_DB_OPTIONS, makePanicDb, type PanicDbManifest } from "../../support/makePanicDb.js";
import { runOracle, type OracleRow } from "../../support/oracle.js";
import { query, readFrame } from "../../support/readParquet.js";
import { runCli } from "../../support/runCli.js";

const OPTIONS = EDGE_DB_OPTIONS;

let dir: string;
let g1: string;
let g2: string;
let m1: PanicDbManifest;
let m2: PanicDbManifest;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-gen2-"));
  g1 = join(dir, "gen1.sqlite");
  g2 = join(dir, "gen2.sqlite");
  m1 = makePanicDb(g1, OPTIONS);
  m2 = makePanicDb(g2, { ...OPTIONS, layout: "gen2" });
});

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const raw = (id: string): string => id.replaceAll("-", "");
const hyphen = (id: string): string => `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_USEC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
/** A first-generation DATETIME as ecto_sqlite3 writes the same instant. */
const asIso = (naive: string | null): string | null => (naive === null ? null : `${naive.replace(" ", "T")}Z`);

function withDb<T>(path: string, f: (db: Database.Database) => T, readonly = true): T {
  const db = new Database(path, { readonly });
  try {
    return f(db);
  } finally {
    db.close();
  }
}

/** A copy of `from` changed by `sql` (for databases the generator does not make). */
function variant(from: string, name: string, sql: string): string {
  const path = join(mkdtempSync(join(dir, "v-")), name);
  copyFileSync(from, path);
  withDb(path, (db) => db.exec(sql), false);
  return path;
}

/**
 * The gen1 frame as the gen2 database must give it: without the rows the
 * second generation cannot hold (PanicDbLayout), and with the experiment
 * each run has there. Every other column, and the drift, is the same.
 */
function asSecondGeneration(frame: Record<string, unknown>[]): Record<string, unknown>[] {
  const gone = new Set(m2.notWritten.embeddings);
  const goneRuns = new Set(m2.notWritten.runs);
  return frame
    .filter((r) => !gone.has(raw(r.id as string)) && !goneRuns.has(raw(r.run_id as string)))
    .map((r) => {
      const experiment = m2.runExperiments[raw(r.run_id as string)];
      return { ...r, experiment_id: experiment === null || experiment === undefined ? null : hyphen(experiment) };
    });
}

/** Every column equal, drift within 1e-9 (both are float64 of the same maths). */
function expectSameFrame(actual: Record<string, unknown>[], expected: OracleRow[]): void {
  expect(actual.length).toBe(expected.length);
  expect(actual.map((r) => r.id)).toEqual(expected.map((r) => r.id));
  for (let i = 0; i < expected.length; i++) {
    const { semantic_drift: ad, sequence_number: aSeq, ...aRest } = actual[i]!;
    const { semantic_drift: ed, sequence_number: eSeq, ...eRest } = expected[i]!;
    expect(aRest).toEqual(eRest);
    expect(Number(aSeq)).toBe(eSeq);
    if (ed === null) expect(ad, `row ${i} (${expected[i]!.id})`).toBeNull();
    else expect(Math.abs((ad as number) - ed), `row ${i} (${expected[i]!.id})`).toBeLessThan(1e-9);
  }
}

describe("makePanicDb({ layout: 'gen2' })", () => {
  it("writes the tables, column order, constraints and indexes upstream's migrations leave", () => {
    withDb(g2, (db) => {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
      expect(tables).toEqual([
        "clustering_results",
        "embedding_clusters",
        "embeddings",
        "experiments",
        "invocations",
        "lyapunov_results",
        "persistence_diagrams",
        "runs",
        "schema_migrations",
      ]);
      const columns = (table: string) =>
        db.prepare("SELECT name, type, \"notnull\" AS not_null FROM pragma_table_info(?) ORDER BY cid").all(table) as { name: string; type: string; not_null: number }[];
      expect(columns("invocations").map((c) => c.name)).toEqual([
        "input_invocation_id", "run_id", "updated_at", "inserted_at", "completed_at", "started_at",
        "output_image", "output_text", "sequence_number", "type", "model", "id",
      ]);
      expect(columns("embeddings").map((c) => c.name)).toEqual([
        "invocation_id", "updated_at", "inserted_at", "completed_at", "started_at", "vector", "embedding_model", "id",
      ]);
      expect(columns("runs").map((c) => c.name)).toEqual([
        "experiment_id", "updated_at", "inserted_at", "initial_prompt", "max_length", "network", "id", "run_number",
      ]);
      const notNull = (table: string) => columns(table).filter((c) => c.not_null === 1).map((c) => c.name);
      expect(notNull("embeddings")).toEqual(expect.arrayContaining(["vector", "inserted_at", "updated_at", "started_at", "invocation_id"]));
      expect(notNull("embeddings")).not.toContain("completed_at");
      expect(notNull("runs")).toContain("experiment_id");
      for (const table of ["experiments", "runs", "invocations", "embeddings"]) {
        expect(notNull(table)).toEqual(expect.arrayContaining(["id", "inserted_at", "updated_at"]));
        expect(columns(table).every((c) => ["TEXT", "INTEGER", "BLOB"].includes(c.type))).toBe(true);
      }
      const index = (name: string) => ({
        unique: (db.prepare("SELECT \"unique\" FROM pragma_index_list(?) WHERE name = ?").pluck().get(name.split(":")[0], name.split(":")[1]) as number) === 1,
        columns: db.prepare("SELECT name FROM pragma_index_info(?) ORDER BY seqno").pluck().all(name.split(":")[1]),
      });
      expect(index("invocations:invocations_unique_run_sequence_index")).toEqual({ unique: true, columns: ["run_id", "sequence_number"] });
      expect(index("embeddings:embeddings_unique_invocation_model_index")).toEqual({ unique: true, columns: ["invocation_id", "embedding_model"] });
      expect(index("runs:runs_unique_experiment_run_index")).toEqual({ unique: true, columns: ["experiment_id", "network", "initial_prompt", "run_number"] });
      expect(db.prepare("PRAGMA foreign_key_check").all()).toEqual([]);
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.prepare("SELECT count(*) FROM schema_migrations").pluck().get()).toBe(7);
    });
  });

  it("uses upstream's encodings: hyphenated ids, lower-case type, compact JSON, ISO timestamps, no NULL vectors", () => {
    withDb(g2, (db) => {
      for (const table of ["experiments", "runs", "invocations", "embeddings"]) {
        for (const row of db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[]) {
          expect(row.id).toMatch(UUID);
          for (const column of ["inserted_at", "updated_at", "started_at"]) if (column in row && (table !== "experiments" || column !== "started_at")) expect(row[column], `${table}.${column}`).toMatch(ISO_USEC);
          if (row.completed_at !== null && row.completed_at !== undefined) expect(row.completed_at).toMatch(ISO_USEC);
        }
      }
      const invocations = db.prepare("SELECT * FROM invocations").all() as Record<string, unknown>[];
      for (const inv of invocations) {
        expect(inv.run_id).toMatch(UUID);
        expect(inv.type).toBe(Number(inv.sequence_number) % 2 === 0 ? "image" : "text");
        if (inv.type === "image") {
          expect((inv.output_image as Buffer).length).toBe(64);
          expect(inv.output_text).toBeNull();
        } else {
          expect(typeof inv.output_text).toBe("string");
          expect(inv.output_image).toBeNull();
        }
      }
      expect(db.prepare("SELECT DISTINCT network FROM runs").pluck().all()).toContain('["SDXLTurbo","Moondream"]');
      expect(db.prepare("SELECT count(*) FROM embeddings WHERE vector IS NULL").pluck().get()).toBe(0);
      expect(db.prepare("SELECT count(*) FROM runs WHERE initial_prompt = ''").pluck().get()).toBe(0);
      // The run the first generation keeps without an experiment has one of its own here.
      expect(m2.experimentIds).toHaveLength(2);
      expect(db.prepare("SELECT id FROM experiments ORDER BY rowid").pluck().all()).toEqual(m2.experimentIds.map(hyphen));
      expect(Object.values(m2.runExperiments).filter((e) => e === m2.experimentIds[1])).toHaveLength(1);
      expect(Object.values(m1.runExperiments)).toContain(null);
    });
  });

  it("holds the same experiment as the gen1 database of the same options, less exactly what it leaves out", () => {
    const dump = (path: string, tables: [string, string, string]) =>
      withDb(path, (db) => ({
        runs: new Map((db.prepare(`SELECT * FROM ${tables[0]}`).all() as Record<string, unknown>[]).map((r) => [raw(r.id as string), r])),
        invocations: new Map((db.prepare(`SELECT * FROM ${tables[1]}`).all() as Record<string, unknown>[]).map((r) => [raw(r.id as string), r])),
        embeddings: (db.prepare(`SELECT * FROM ${tables[2]}`).all() as Record<string, unknown>[]).map((r) => Object.assign(r, { key: raw(r.id as string) })),
      }));
    const one = dump(g1, ["run", "invocation", "embedding"]);
    const two = dump(g2, ["runs", "invocations", "embeddings"]);

    expect([...two.runs.keys()]).toEqual(m2.runIds);
    expect(m2.runIds).toEqual(m1.runIds.filter((id) => !m2.notWritten.runs.includes(id)));
    for (const [id, run] of two.runs) {
      const before = one.runs.get(id)!;
      expect(run.initial_prompt).toBe(before.initial_prompt);
      expect(JSON.parse(run.network as string)).toEqual(JSON.parse(before.network as string));
      expect(raw(run.experiment_id as string)).toBe(m2.runExperiments[id]);
      expect(m2.runExperiments[id]).toBe(before.experiment_id ?? m2.experimentIds[1]);
    }
    for (const id of m2.notWritten.runs) expect(one.runs.get(id)!.initial_prompt).toBe("");

    expect(two.invocations.size).toBe(m2.invocationCount);
    for (const [id, inv] of two.invocations) {
      const before = one.invocations.get(id)!;
      expect(raw(inv.run_id as string)).toBe(before.run_id);
      expect(inv.input_invocation_id === null ? null : raw(inv.input_invocation_id as string)).toBe(before.input_invocation_id);
      expect([inv.sequence_number, inv.model, inv.output_text, inv.type]).toEqual([before.sequence_number, before.model, before.output_text, String(before.type).toLowerCase()]);
      expect([inv.started_at, inv.completed_at]).toEqual([asIso(before.started_at as string), asIso(before.completed_at as string)]);
      expect(Buffer.compare((inv.output_image as Buffer | null) ?? Buffer.alloc(0), (before.output_image_data as Buffer | null) ?? Buffer.alloc(0))).toBe(0);
    }

    expect(two.embeddings).toHaveLength(m2.embeddingCount);
    const firstById = new Map(one.embeddings.map((e) => [e.key, e]));
    for (const e of two.embeddings) {
      const before = firstById.get(e.key)!;
      expect(raw(e.invocation_id as string)).toBe(before.invocation_id);
      expect(e.embedding_model).toBe(before.embedding_model);
      expect(Buffer.compare(e.vector as Buffer, before.vector as Buffer)).toBe(0);
      expect([e.started_at, e.completed_at]).toEqual([asIso(before.started_at as string), asIso(before.completed_at as string)]);
    }
    // What is left out is exactly what the second generation cannot hold.
    const written = new Set(two.embeddings.map((e) => e.key));
    const left = one.embeddings.filter((e) => !written.has(e.key));
    expect(left.map((e) => e.key).sort()).toEqual([...m2.notWritten.embeddings].sort());
    const seen = new Set<string>();
    for (const e of one.embeddings) {
      const pair = `${String(e.invocation_id)}\u0000${String(e.embedding_model)}`;
      const isCopy = seen.has(pair);
      seen.add(pair);
      const inv = one.invocations.get(e.invocation_id as string);
      const why = [
        e.vector === null && "NULL vector",
        isCopy && "duplicate",
        inv === undefined && "orphan",
        inv !== undefined && one.runs.get(inv.run_id as string)!.initial_prompt === "" && "empty prompt",
      ].filter(Boolean);
      expect(written.has(e.key), `${e.key}: ${why.join(", ")}`).toBe(why.length === 0);
    }
    expect(m2.notWritten.embeddings.length).toBeGreaterThan(0);
    expect(m1.notWritten).toEqual({ runs: [], embeddings: [] });
  });

  it("names in edgeRows only rows it wrote whose edge case still holds", () => {
    const absent = ["nullVector", "duplicateEmbedding", "orphanEmbedding", "emptyPrompt", "zeroReference", "nullExperiment"];
    for (const [name, ids] of Object.entries(m2.edgeRows)) {
      if (absent.includes(name)) expect(ids, name).toEqual([]);
      else expect(ids.length, name).toBeGreaterThan(0);
      for (const id of ids) expect(m2.notWritten.embeddings).not.toContain(id);
    }
    const g2Ids = new Set(withDb(g2, (db) => (db.prepare("SELECT id FROM embeddings").pluck().all() as string[]).map(raw)));
    for (const ids of Object.values(m2.edgeRows)) for (const id of ids) expect(g2Ids.has(id)).toBe(true);
  });

  it("the same options and seed give the same database; the oracle reads it", () => {
    const again = join(dir, "gen2-again.sqlite");
    const manifest = makePanicDb(again, { ...OPTIONS, layout: "gen2" });
    expect(existsSync(`${again}-wal`)).toBe(false); // complete without a -wal
    expect({ ...manifest, path: "" }).toEqual({ ...m2, path: "" });
    const rows = (path: string) => withDb(path, (db) => db.prepare("SELECT * FROM embeddings ORDER BY rowid").raw().all());
    expect(rows(again)).toEqual(rows(g2));
    const oracle = runOracle(g2);
    expect(oracle).toHaveLength(m2.textEmbeddingRows);
    expect(oracle[0]!.started_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/);
  });
});

describe("detection", () => {
  it("tells the generations apart by their tables; both are read run by run through upstream's indexes", () => {
    for (const [path, description] of [[g1, /^first-generation/], [g2, /^second-generation/]] as const) {
      const source = openSource(path);
      try {
        expect(source.description).toMatch(description);
        expect(source.ordered).toBe(true);
      } finally {
        source.close();
      }
    }
  });

  it("both generations' tables in one database: DB_AMBIGUOUS_SCHEMA naming both sets and the tables found", () => {
    const both = variant(
      g1,
      "both.sqlite",
      `CREATE TABLE runs (id TEXT PRIMARY KEY, network TEXT, initial_prompt TEXT, experiment_id TEXT);
       CREATE TABLE invocations (id TEXT PRIMARY KEY, run_id TEXT, sequence_number INTEGER, model TEXT, type TEXT, output_text TEXT, output_image BLOB);
       CREATE TABLE embeddings (id TEXT PRIMARY KEY, invocation_id TEXT, embedding_model TEXT, started_at TEXT, completed_at TEXT, vector BLOB);`,
    );
    let error: { code?: string; message?: string } = {};
    try {
      openSource(both).close();
    } catch (e) {
      error = e as typeof error;
    }
    expect(error.code).toBe("DB_AMBIGUOUS_SCHEMA");
    expect(error.message).not.toContain("\n");
    expect(error.message).toContain(both);
    expect(error.message).toMatch(/first generation tables \(run, invocation, embedding\) and the second generation tables \(runs, invocations, embeddings\)/);
    expect(error.message).toContain("tables found: clusteringresult, embedding, embeddingcluster, embeddings, experimentconfig, invocation, invocations, persistencediagram, run, runs");
    expect(error.message).toMatch(/: point --db at a database of one generation/);
  });

  it.each([
    ["only unrelated tables", "CREATE TABLE notes (x)", /missing table run \(first generation\) or runs \(second generation\) in .* \(tables found: notes\)/],
    ["part of the second generation", "CREATE TABLE notes (x); CREATE TABLE runs (id); CREATE TABLE invocations (id)", /missing table embeddings \(second generation\) in .* \(tables found: invocations, notes, runs\)/],
    ["part of the first generation", "CREATE TABLE run (id); CREATE TABLE embedding (id)", /missing table invocation \(first generation\) in .* \(tables found: embedding, run\)/],
  ])("%s: DB_NOT_PANIC_TDA listing the tables found", (_name, sql, message) => {
    const path = join(mkdtempSync(join(dir, "u-")), "unknown.sqlite");
    withDb(path, (db) => db.exec(sql), false);
    expect(() => openSource(path)).toThrow(expect.objectContaining({ code: "DB_NOT_PANIC_TDA", message: expect.stringMatching(message) }));
  });

  it("a second-generation table without a column read: DB_MISSING_COLUMN naming it", () => {
    const path = variant(g2, "no-text.sqlite", "ALTER TABLE invocations DROP COLUMN output_text");
    expect(() => openSource(path)).toThrow(
      expect.objectContaining({ code: "DB_MISSING_COLUMN", message: expect.stringContaining("missing column invocations.output_text") }),
    );
  });

  it("through the CLI: one error line, exit 1, nothing written", async () => {
    const both = variant(g2, "both-cli.sqlite", "CREATE TABLE run (id); CREATE TABLE invocation (id); CREATE TABLE embedding (id);");
    const out = join(dir, "both-cli.parquet");
    const r = await runCli(["compute", "--db", both, "--out", out]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^panic-drift: error: ambiguous panic-tda database: .*both-cli\.sqlite has the first generation tables/);
    expect(existsSync(out)).toBe(false);
  });
});

describe("computeDrift on a second-generation database", () => {
  let frame1: Record<string, unknown>[];
  let expected: Record<string, unknown>[];

  beforeAll(async () => {
    await computeDrift({ db: g1, out: join(dir, "gen1.parquet") });
    frame1 = await readFrame(join(dir, "gen1.parquet"));
    expected = asSecondGeneration(frame1);
  });

  it("gives the gen1 database's frame row for row (less the rows it cannot hold), and the oracle's", async () => {
    const out = join(dir, "gen2.parquet");
    const result = await computeDrift({ db: g2, out });
    const frame = await readFrame(out);
    expect(frame.length).toBe(m2.textEmbeddingRows);
    expect(frame.length).toBeLessThan(frame1.length);
    expect(frame).toEqual(expected);
    expectSameFrame(frame, runOracle(g2));
    expect(result.rows).toBe(frame.length);
    expect(result.null_reasons.null_vector).toBe(0);
    expect(result.null_reasons.non_finite).toBe(2);
    expect(result.rows_with_drift).toBe(frame.filter((r) => r.semantic_drift !== null).length);
    const [source] = await query(`SELECT decode(value) AS v FROM parquet_kv_metadata($1) WHERE decode(key) = 'panic_drift.source'`, [out]);
    expect(source?.v).toBe("second-generation (Elixir era) panic-tda SQLite database");
    expect((await computeDrift({ db: g2, out })).status).toBe("up-to-date");
  });

  it("two reader threads and tiny batches give the same frame", async () => {
    const out = join(dir, "gen2-w2.parquet");
    const result = await computeDrift({ db: g2, out, workers: 2, batchRows: 5 });
    expect(result.rows).toBe(expected.length);
    expect(await readFrame(out)).toEqual(expected);
  });

  it("without upstream's two indexes it reads in storage order, on one and two readers: the same frame", async () => {
    const bare = variant(g2, "gen2-bare.sqlite", "DROP INDEX invocations_unique_run_sequence_index; DROP INDEX embeddings_unique_invocation_model_index;");
    const source = openSource(bare);
    expect(source.ordered).toBe(false);
    source.close();
    for (const workers of [1, 2]) {
      const out = join(dir, `gen2-bare-${workers}.parquet`);
      const result = await computeDrift({ db: bare, out, workers, batchRows: 5 });
      expect(result.rows).toBe(expected.length);
      expect(await readFrame(out)).toEqual(expected);
    }
    await expect(computeDrift({ db: bare, out: join(dir, "gen2-bare-first.parquet"), reference: "first" })).rejects.toMatchObject({ code: "DB_MISSING_INDEX" });
  });

  it("--reference first / previous and --metric cosine match the oracle", async () => {
    for (const [options, args] of [
      [{ reference: "first" }, ["--reference", "first"]],
      [{ reference: "previous", workers: 2, batchRows: 5 }, ["--reference", "previous"]],
      [{ metric: "cosine" }, ["--metric", "cosine"]],
    ] as const) {
      const out = join(dir, `gen2-${args[1]}.parquet`);
      await computeDrift({ db: g2, out, ...options });
      expectSameFrame(await readFrame(out), runOracle(g2, [...args]));
    }
  });

  it("the CLI computes it (--json)", async () => {
    const out = join(dir, "gen2-cli.parquet");
    const r = await runCli(["compute", "--db", g2, "--out", out, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: "computed", rows: m2.textEmbeddingRows });
    expect(await readFrame(out)).toEqual(expected);
  });
});

describe("--experiment / --run / --model on a second-generation database", () => {
  it("give the oracle's rows for each filter and their combinations, on 1 and 2 readers", async () => {
    const [firstRun, secondRun] = m2.runIds;
    const [main, other] = m2.experimentIds;
    const cases: [NonNullable<Parameters<typeof computeDrift>[0]["filters"]>, string[]][] = [
      [{ runs: [hyphen(firstRun!), secondRun!.toUpperCase()] }, ["--run", firstRun!, "--run", secondRun!]],
      [{ experiments: [hyphen(main!)] }, ["--experiment", main!]],
      [{ experiments: [other!.toUpperCase()] }, ["--experiment", other!]],
      [{ models: ["Dummy2", "Synthetic64"] }, ["--model", "Dummy2", "--model", "Synthetic64"]],
      [{ runs: [firstRun!], models: ["Dummy"] }, ["--run", firstRun!, "--model", "Dummy"]],
    ];
    for (const [filters, oracleArgs] of cases) {
      const expected = runOracle(g2, oracleArgs);
      expect(expected.length, JSON.stringify(filters)).toBeGreaterThan(0);
      for (const workers of [1, 2]) {
        const out = join(dir, `gen2-filtered-${workers}.parquet`);
        const result = await computeDrift({ db: g2, out, filters, workers, batchRows: 5, force: true, overwrite: true });
        expect(result.rows).toBe(expected.length);
        expectSameFrame(await readFrame(out), expected);
      }
    }
    // The second experiment holds exactly the run the first generation had without one.
    const other2 = runOracle(g2, ["--experiment", other!]);
    expect(new Set(other2.map((r) => raw(r.run_id)))).toEqual(new Set(Object.keys(m2.runExperiments).filter((id) => m2.runExperiments[id] === other)));
    const none = join(dir, "gen2-none.parquet");
    await expect(computeDrift({ db: g2, out: none, filters: { runs: ["0".repeat(32)] } })).rejects.toMatchObject({
      code: "FILTER_MATCHES_NOTHING",
      message: expect.stringMatching(/--run 0{32} matches no run/),
    });
    expect(existsSync(none)).toBe(false);
  });

  it("through the CLI flags", async () => {
    const out = join(dir, "gen2-cli-filtered.parquet");
    const [main] = m2.experimentIds;
    const r = await runCli(["compute", "--db", g2, "--out", out, "--experiment", hyphen(main!), "--model", "DummyText", "--json"]);
    expect(r.code).toBe(0);
    const expected = runOracle(g2, ["--experiment", main!, "--model", "DummyText"]);
    expect(JSON.parse(r.stdout).rows).toBe(expected.length);
    expectSameFrame(await readFrame(out), expected);
  });
});
