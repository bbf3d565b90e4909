import { cpSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PanicDriftError } from "../../../src/common/errors.js";
import { computeDrift } from "../../../src/compute/computeDrift.js";
import type { ComputeOptions, ComputeResult } from "../../../src/compute/plan.js";
import { listPrompts } from "../../../src/compute/listPrompts.js";
import { builtinEmbedding } from "../../../src/reference/builtinEmbedders.js";
import { makePanicDb, type PanicDbManifest } from "../../support/makePanicDb.js";
import { makePanicExport, type PanicExportManifest } from "../../support/makePanicExport.js";
import { runOracle, type OracleRow } from "../../support/oracle.js";
import { query, readFrame } from "../../support/readParquet.js";
import { runCli } from "../../support/runCli.js";

/**
 * The parquet export source against the first-generation database the
 * export was made from (the same experiment, so the same frame), and
 * against the independent numpy oracle for the stored prompt vectors.
 */
let dir: string;
let db: string;
let manifest: PanicDbManifest;
/** The export as upstream writes it without --embed-prompts (embeddings in the database's shuffled storage order). */
let plain: PanicExportManifest;
/** With --embed-prompts rows whose vectors differ from the built-ins (Dummy, DummyText), run by run in file order. */
let prompted: PanicExportManifest;

const MODELS = [
  { name: "Dummy", dim: 768 },
  { name: "Dummy2", dim: 768 },
  { name: "DummyText", dim: 256 },
  { name: "Synthetic64", dim: 64 },
];

/** A stored vector unlike the built-in one: proves which reference the drift used. */
function perturbed(model: string, prompt: string, dimension: number): Float32Array {
  const builtin = builtinEmbedding(model, prompt);
  if (builtin === undefined) return Float32Array.from({ length: dimension }, (_, i) => Math.cos(i * 0.37 + prompt.length) + 0.05);
  // Dummy2 of the empty prompt is all zero: keep it (a zero reference stays a zero reference).
  if (model === "Dummy2" || model === "DummyText2") return builtin;
  return builtin.map((x, i) => x + (i % 5) * 0.02);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pd-export-"));
  db = join(dir, "edge.sqlite");
  manifest = makePanicDb(db, { runs: 6, steps: 10, edgeCases: true, embeddingModels: MODELS });
  plain = await makePanicExport(db, join(dir, "plain_parquet"));
  prompted = await makePanicExport(db, join(dir, "prompted_parquet"), { embedPrompts: true, promptVector: perturbed, embeddingOrder: "run" });
});

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

let outputs = 0;
const out = () => join(dir, `out-${++outputs}.parquet`);

/** Runs of the export: the database's runs that belong to an experiment. */
const exported = (rows: OracleRow[]) => rows.filter((r) => plain.runIds.includes(r.run_id));

/** Every column equal (timestamps as text to the microsecond), drift within 1e-9. */
function expectSameFrame(actual: Record<string, unknown>[], expected: Record<string, unknown>[]): void {
  expect(actual.length).toBe(expected.length);
  expect(actual.map((r) => r.id)).toEqual(expected.map((r) => r.id));
  for (let i = 0; i < expected.length; i++) {
    const { semantic_drift: ad, sequence_number: as, ...a } = actual[i]!;
    const { semantic_drift: ed, sequence_number: es, ...e } = expected[i]!;
    expect(a).toEqual(e);
    expect(Number(as)).toBe(Number(es));
    if (ed === null) expect(ad, `row ${i} (${String(e.id)})`).toBeNull();
    else expect(Math.abs((ad as number) - (ed as number)), `row ${i} (${String(e.id)})`).toBeLessThan(1e-9);
  }
}

/** What the first-generation database gives for the exported runs (it also has a run without an experiment). */
async function fromDatabase(options: Partial<ComputeOptions> = {}): Promise<{ result: ComputeResult; frame: Record<string, unknown>[] }> {
  const path = out();
  const result = await computeDrift({ db, out: path, ...options, filters: { experiments: manifest.experimentIds, ...options.filters } });
  return { result, frame: await readFrame(path) };
}

async function fromExport(exportDir: string, options: Partial<ComputeOptions> = {}): Promise<{ result: ComputeResult; frame: Record<string, unknown>[]; path: string }> {
  const path = out();
  const result = await computeDrift({ db: exportDir, out: path, ...options });
  return { result, frame: await readFrame(path), path };
}

describe("parquet export directory: the same frame as the database it was exported from", () => {
  it("rows, order, every column and drift equal the first-generation database's", async () => {
    const expected = await fromDatabase();
    const actual = await fromExport(plain.dir);
    expectSameFrame(actual.frame, expected.frame);
    expect(actual.result.rows).toBe(expected.result.rows);
    // Blobs that are no whole float32s cannot be a list<float32>: exported as NULL (null_vector instead of bad_blob_length).
    const badLength = manifest.edgeRows.badLength!.length;
    expect(plain.unrepresentable.length).toBe(badLength);
    expect(actual.result.null_reasons).toEqual({
      ...expected.result.null_reasons,
      bad_blob_length: 0,
      null_vector: expected.result.null_reasons.null_vector + badLength,
    });
    // The same data, and the oracle agrees with both.
    expectSameFrame(actual.frame, exported(runOracle(db)) as unknown as Record<string, unknown>[]);
  });

  it("timestamps are TIMESTAMP columns, the ISO strings' instants", async () => {
    const { path } = await fromExport(plain.dir);
    const [types] = await query(`SELECT typeof(started_at) AS s, typeof(completed_at) AS c FROM read_parquet($1) LIMIT 1`, [path]);
    expect(types).toEqual({ s: "TIMESTAMP", c: "TIMESTAMP" });
    const iso = await query(`SELECT id, started_at FROM read_parquet($1) WHERE started_at IS NOT NULL LIMIT 3`, [join(plain.dir, "embeddings.parquet")]);
    const frame = await query(`SELECT id, strftime(started_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS started_at FROM read_parquet($1)`, [path]);
    for (const row of iso) expect(frame.find((r) => r.id === row.id)?.started_at).toBe(row.started_at);
  });

  it("other spellings: offsets are converted to UTC, text that is no timestamp is NULL with a warning", async () => {
    const copy = join(dir, "offsets_parquet");
    cpSync(plain.dir, copy, { recursive: true });
    const file = join(copy, "embeddings.parquet");
    const tmp = join(dir, "offsets-embeddings.parquet");
    const expected = (await fromExport(plain.dir)).frame;
    const garbled = String(expected.find((r) => r.completed_at !== null)!.id);
    // The same instants written with a +02:00 offset, and one output row's completed_at garbled.
    await query(
      `COPY (SELECT * REPLACE (
          strftime(CAST(started_at AS TIMESTAMP) + INTERVAL 2 HOUR, '%Y-%m-%dT%H:%M:%S.%f') || '+02:00' AS started_at,
          CASE WHEN id = $2 THEN 'yesterday' ELSE completed_at END AS completed_at)
        FROM read_parquet($1)) TO '${tmp}' (FORMAT parquet, COMPRESSION zstd)`,
      [file, garbled],
    );
    cpSync(tmp, file);
    const actual = await fromExport(copy);
    expect(actual.frame.map((r) => r.started_at)).toEqual(expected.map((r) => r.started_at));
    expect(actual.frame.find((r) => r.id === garbled)?.completed_at).toBeNull();
    expect(actual.result.warnings.some((w) => /1 embedding rows .* not a/.test(w))).toBe(true);
  });

  it("--metric cosine, --reference previous, tiny batches, file order and reader threads give the database's frame", async () => {
    for (const options of [{ metric: "cosine" }, { reference: "previous" }, { reference: "first", batchRows: 5 }, { batchRows: 7 }] as Partial<ComputeOptions>[]) {
      const expected = await fromDatabase(options);
      expectSameFrame((await fromExport(plain.dir, options)).frame, expected.frame);
    }
    // Run by run in the file (read in file order) and shuffled (sorted by DuckDB): the same frame.
    const runOrder = await makePanicExport(db, join(dir, "run_order_parquet"), { embeddingOrder: "run" });
    const expected = await fromDatabase({ batchRows: 16 });
    expectSameFrame((await fromExport(runOrder.dir, { batchRows: 16 })).frame, expected.frame);
    // --workers: the export is read by its own DuckDB thread, one reader (no failure, the same frame).
    expectSameFrame((await fromExport(plain.dir, { workers: 3, batchRows: 16 })).frame, expected.frame);
  });

  it("a vector list with a NULL element gives a NULL drift on that row only (non_finite)", async () => {
    const rows = exported(runOracle(db)).filter((r) => r.semantic_drift !== null && r.embedding_model === "Dummy2");
    const victims = rows.slice(0, 2).map((r) => r.id.replaceAll("-", ""));
    const withNulls = await makePanicExport(db, join(dir, "null_elements_parquet"), { nullElements: victims });
    const expected = await fromExport(plain.dir);
    const actual = await fromExport(withNulls.dir);
    expect(actual.result.null_reasons.non_finite).toBe(expected.result.null_reasons.non_finite + 2);
    actual.frame.forEach((row, i) => {
      if (victims.includes(String(row.id).replaceAll("-", ""))) expect(row.semantic_drift).toBeNull();
      else expect(row.semantic_drift).toEqual(expected.frame[i]!.semantic_drift);
    });
  });
});

describe("parquet export directory: the prompt rows", () => {
  it("are never output rows", async () => {
    const { frame, result } = await fromExport(prompted.dir);
    expect(prompted.rows.invocations).toBeGreaterThan(plain.rows.invocations);
    expect(result.rows).toBe((await fromExport(plain.dir)).result.rows);
    expect(frame.some((r) => String(r.id).startsWith("prompt-") || String(r.invocation_id).startsWith("prompt-"))).toBe(false);
    expect(frame.some((r) => Number(r.sequence_number) < 0)).toBe(false);
  });

  it("are the references, over the built-ins: the drift equals numpy's with those vectors", async () => {
    const { frame, result } = await fromExport(prompted.dir);
    // The oracle reads the database; the stored vectors go to it as a --prompt-vectors file.
    const file = join(dir, "stored-as-file.json");
    const entries = [...prompted.promptVectors].flatMap(([model, byPrompt]) =>
      [...byPrompt].map(([prompt, vector]) => ({ initial_prompt: prompt, embedding_model: model, vector: Array.from(vector ?? []) })),
    );
    writeFileSync(file, JSON.stringify(entries));
    const expected = exported(runOracle(db, ["--prompt-vectors", file]));
    expectSameFrame(frame, expected as unknown as Record<string, unknown>[]);
    // Synthetic64 has no built-in: only the stored rows give it references.
    expect(result.null_reasons.missing_reference).toBe(frame.filter((r) => r.embedding_model === "Nomic" && r.semantic_drift === null).length);
    // And Dummy's drift is not the built-in reference's.
    const builtin = (await fromExport(plain.dir)).frame;
    const changed = frame.filter((r, i) => r.embedding_model === "Dummy" && r.semantic_drift !== null && r.semantic_drift !== builtin[i]!.semantic_drift);
    expect(changed.length).toBeGreaterThan(10);
  });

  it("lose to a --prompt-vectors file, pair by pair", async () => {
    const prompt = "a cat sitting on a windowsill";
    const fileVector = Array.from({ length: 768 }, (_, i) => Math.sin(i) + 1.5);
    const file = join(dir, "override.json");
    writeFileSync(file, JSON.stringify([{ initial_prompt: prompt, embedding_model: "Dummy", vector: fileVector }]));
    const { frame } = await fromExport(prompted.dir, { promptVectors: file });
    // Expected: the stored vectors, with this one pair replaced by the file's.
    const merged = [...prompted.promptVectors].flatMap(([model, byPrompt]) =>
      [...byPrompt].map(([p, vector]) => ({ initial_prompt: p, embedding_model: model, vector: model === "Dummy" && p === prompt ? fileVector : Array.from(vector ?? []) })),
    );
    const mergedFile = join(dir, "merged.json");
    writeFileSync(mergedFile, JSON.stringify(merged));
    expectSameFrame(frame, exported(runOracle(db, ["--prompt-vectors", mergedFile])) as unknown as Record<string, unknown>[]);
  });

  it("panic-drift prompts reports them as resolved_by stored (file over stored, stored over builtin)", async () => {
    const pairs = await listPrompts({ db: prompted.dir, referenceCache: join(dir, "no-cache.prompts.parquet") });
    expect(pairs.length).toBeGreaterThan(0);
    for (const pair of pairs) expect(pair.resolved_by, `${pair.embedding_model} / ${pair.initial_prompt}`).toBe(pair.embedding_model === "Nomic" ? "" : "stored");
    const withoutPrompts = await listPrompts({ db: plain.dir, referenceCache: join(dir, "no-cache.prompts.parquet") });
    expect(withoutPrompts.filter((p) => p.embedding_model === "Dummy").every((p) => p.resolved_by === "builtin")).toBe(true);
    expect(withoutPrompts.filter((p) => p.embedding_model === "Synthetic64").every((p) => p.resolved_by === "")).toBe(true);
    const file = join(dir, "one-pair.json");
    const first = pairs.find((p) => p.embedding_model === "Dummy")!;
    writeFileSync(file, JSON.stringify([{ initial_prompt: first.initial_prompt, embedding_model: "Dummy", vector: [1, 2, 3] }]));
    const withFile = await listPrompts({ db: prompted.dir, promptVectors: file, referenceCache: join(dir, "no-cache.prompts.parquet") });
    expect(withFile.find((p) => p.embedding_model === "Dummy" && p.initial_prompt === first.initial_prompt)?.resolved_by).toBe("file");
    // The same rows as the database's pairs.
    const fromDb = await listPrompts({ db, filters: { experiments: manifest.experimentIds }, referenceCache: join(dir, "no-cache.prompts.parquet") });
    expect(withoutPrompts.map((p) => [p.initial_prompt, p.embedding_model, p.rows])).toEqual(fromDb.map((p) => [p.initial_prompt, p.embedding_model, p.rows]));
  });
});

describe("parquet export directory: --experiment, --run, --model", () => {
  it("each filter gives the database's filtered frame; a value that matches nothing is a warning", async () => {
    const runs = plain.runIds.slice(1, 3);
    for (const filters of [{ runs }, { models: ["Dummy2", "Synthetic64"] }, { experiments: manifest.experimentIds, runs: [runs[0]!.replaceAll("-", "").toUpperCase()] }]) {
      const expected = await fromDatabase({ filters });
      const actual = await fromExport(plain.dir, { filters });
      expect(actual.result.rows).toBeGreaterThan(0);
      expectSameFrame(actual.frame, expected.frame);
    }
    await expect(fromExport(plain.dir, { filters: { experiments: ["00000000-0000-0000-0000-000000000000"], models: ["Dummy"] } })).rejects.toMatchObject({
      code: "FILTER_MATCHES_NOTHING",
      message: expect.stringContaining(`--experiment 00000000-0000-0000-0000-000000000000 matches no run of ${plain.dir}`),
    });
    await expect(fromExport(plain.dir, { filters: { models: ["dummy"] } })).rejects.toMatchObject({
      code: "FILTER_MATCHES_NOTHING",
      message: expect.stringMatching(/--model dummy matches no embedding of .*\(its embedding models: .*Dummy, Dummy2/),
    });
    const prompts = await listPrompts({ db: prompted.dir, filters: { models: ["Dummy2"] }, referenceCache: join(dir, "no-cache.prompts.parquet") });
    expect(new Set(prompts.map((p) => p.embedding_model))).toEqual(new Set(["Dummy2"]));
  });
});

describe("parquet export directory: what is wrong with it is one clear error", () => {
  async function failure(path: string): Promise<PanicDriftError> {
    const error = await computeDrift({ db: path, out: out() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PanicDriftError);
    expect((error as Error).message).not.toContain("\n");
    return error as PanicDriftError;
  }

  it("a missing file names it and what was found", async () => {
    const copy = join(dir, "incomplete_parquet");
    cpSync(plain.dir, copy, { recursive: true });
    rmSync(join(copy, "embeddings.parquet"));
    const error = await failure(copy);
    expect(error.code).toBe("EXPORT_INCOMPLETE");
    expect(error.message).toMatch(/embeddings\.parquet is missing \(found: .*experiments\.parquet, invocations\.parquet.*runs\.parquet\): export the experiment again/);
  });

  it("a directory that holds no export at all", async () => {
    const empty = join(dir, "empty-dir");
    mkdirSync(empty);
    writeFileSync(join(empty, "notes.txt"), "x");
    const error = await failure(empty);
    expect(error.code).toBe("DB_IS_DIRECTORY");
    expect(error.message).toMatch(/is a directory, not a database file, nor a panic-tda export \(it has none of runs\.parquet, .*; found: notes\.txt\)/);
    const cli = await runCli(["compute", "--db", empty]);
    expect(cli.code).toBe(1);
    expect(cli.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("a missing column names the file, the column and the columns found", async () => {
    const copy = join(dir, "no_prompt_column_parquet");
    cpSync(plain.dir, copy, { recursive: true });
    const tmp = join(dir, "runs-without-prompt.parquet");
    await query(`COPY (SELECT * EXCLUDE (initial_prompt) FROM read_parquet($1)) TO '${tmp}' (FORMAT parquet)`, [join(copy, "runs.parquet")]);
    cpSync(tmp, join(copy, "runs.parquet"));
    const error = await failure(copy);
    expect(error.code).toBe("EXPORT_MISSING_COLUMN");
    expect(error.message).toContain(`${join(copy, "runs.parquet")} has no column initial_prompt (columns: id, experiment_id, network, run_number`);
  });

  it("a file that is not parquet", async () => {
    const copy = join(dir, "garbled_parquet");
    cpSync(plain.dir, copy, { recursive: true });
    writeFileSync(join(copy, "invocations.parquet"), "not parquet at all");
    const error = await failure(copy);
    expect(error.code).toBe("EXPORT_UNREADABLE");
    expect(error.message).toContain(join(copy, "invocations.parquet"));
  });

  it("--out may not be one of the export's files", async () => {
    const error = await computeDrift({ db: plain.dir, out: join(plain.dir, "runs.parquet") }).catch((e: unknown) => e);
    expect((error as PanicDriftError).code).toBe("OUTPUT_IS_INPUT");
  });
});

describe("parquet export directory: up to date", () => {
  it("a second run does nothing; touching any of the four files recomputes; the default output sits beside the directory", async () => {
    const copy = join(dir, "cron_parquet");
    cpSync(prompted.dir, copy, { recursive: true });
    const first = await computeDrift({ db: copy });
    expect(first.status).toBe("computed");
    expect(first.output).toBe(join(dir, "cron_parquet.drift.parquet"));
    const mtime = statSync(first.output, { bigint: true }).mtimeNs;
    const second = await computeDrift({ db: copy });
    expect(second.status).toBe("up-to-date");
    expect(second.rows).toBe(first.rows);
    expect(statSync(first.output, { bigint: true }).mtimeNs).toBe(mtime);
    for (const name of ["embeddings.parquet", "experiments.parquet"]) {
      const later = new Date(Date.now() + 5_000 + outputs * 1000);
      utimesSync(join(copy, name), later, later);
      // An export cannot tell which runs changed: always a full recompute, and it says so.
      expect(await computeDrift({ db: copy }), name).toMatchObject({ status: "computed", full_recompute_reason: "source_cannot_tell" });
      expect((await computeDrift({ db: copy })).status, name).toBe("up-to-date");
    }
  });
});
