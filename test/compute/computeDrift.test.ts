import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeDrift } from "../../src/compute/computeDrift.js";
import { defaultOutputPath } from "../../src/sink/defaultFramePath.js";
import { builtinEmbedding } from "../../src/reference/builtinEmbedders.js";
import { EDGE_DB_OPTIONS, makePanicDb, type PanicDbManifest } from "../support/makePanicDb.js";
import { runOracle, type OracleRow } from "../support/oracle.js";
import { readFrame } from "../support/readParquet.js";

let dir: string;
let db: string;
let manifest: PanicDbManifest;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-pipeline-"));
  db = join(dir, "edge.sqlite");
  manifest = makePanicDb(db, EDGE_DB_OPTIONS);
});

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

/** Every column equal, drift within 1e-9 (both are float64 of the same maths). */
function expectSameFrame(actual: Record<string, unknown>[], expected: OracleRow[]): void {
  expect(actual.length).toBe(expected.length);
  expect(actual.map((r) => r.id)).toEqual(expected.map((r) => r.id));
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const { semantic_drift: ad, sequence_number: aSeq, ...aRest } = a;
    const { semantic_drift: ed, sequence_number: eSeq, ...eRest } = e;
    expect(aRest).toEqual(eRest);
    expect(Number(aSeq)).toBe(eSeq);
    if (ed === null) expect(ad, `row ${i} (${e.id})`).toBeNull();
    else {
      expect(ad, `row ${i} (${e.id})`).not.toBeNull();
      expect(Math.abs((ad as number) - ed), `row ${i} (${e.id})`).toBeLessThan(1e-9);
    }
  }
}

describe("computeDrift against the independent float64 oracle", () => {
  it("euclid (default): identical rows, order, columns and drift", async () => {
    const out = join(dir, "euclid.parquet");
    const result = await computeDrift({ db, out });
    const expected = runOracle(db);
    expect(result.rows).toBe(expected.length);
    expect(result.rows).toBe(manifest.textEmbeddingRows);
    expect(result.rows_with_drift).toBe(expected.filter((r) => r.semantic_drift !== null).length);
    expectSameFrame(await readFrame(out), expected);
  });

  it("tiny batches (many batch and dimension boundaries) give the same frame", async () => {
    const out = join(dir, "tiny-batches.parquet");
    await computeDrift({ db, out, batchRows: 7 });
    expectSameFrame(await readFrame(out), runOracle(db));
  });

  it("parallel readers (the main thread with 1 and 2 reader threads, claiming units) give the same frame and counts", async () => {
    const one = await computeDrift({ db, out: join(dir, "w1.parquet"), workers: 1 });
    for (const workers of [2, 3]) {
      const out = join(dir, `w${workers}.parquet`);
      const result = await computeDrift({ db, out, workers, batchRows: 5 });
      expectSameFrame(await readFrame(out), runOracle(db));
      expect(result.null_reasons).toEqual(one.null_reasons);
      expect(result.rows_with_drift).toBe(one.rows_with_drift);
      expect(result.warnings.sort()).toEqual([...one.warnings].sort());
    }
  });

  it("cosine", async () => {
    const out = join(dir, "cosine.parquet");
    await computeDrift({ db, out, metric: "cosine" });
    expectSameFrame(await readFrame(out), runOracle(db, ["--metric", "cosine"]));
  });

  it("--no-exclude and custom exclusions", async () => {
    const all = join(dir, "all.parquet");
    await computeDrift({ db, out: all, excludePrompts: [] });
    const expectedAll = runOracle(db, ["--no-exclude"]);
    expectSameFrame(await readFrame(all), expectedAll);
    expect(expectedAll.some((r) => r.initial_prompt === "yeah")).toBe(true);

    const some = join(dir, "some.parquet");
    await computeDrift({ db, out: some, excludePrompts: ["yeah", manifest.runIds.length > 0 ? "" : "x"] });
    const expectedSome = runOracle(db, ["--exclude", "yeah", ""]);
    expectSameFrame(await readFrame(some), expectedSome);
    expect(expectedSome.some((r) => r.initial_prompt === "nah")).toBe(true);
    expect(expectedSome.some((r) => r.initial_prompt === "")).toBe(false);
  });

  it("--prompt-vectors wins over the built-ins and fills missing references", async () => {
    const frame = runOracle(db);
    const prompts = [...new Set(frame.map((r) => r.initial_prompt))];
    const vectors = [];
    for (const p of prompts) {
      // A Dummy reference that differs from the built-in one, and Synthetic64 references.
      const dummy = Array.from(builtinEmbedding("Dummy2", p) ?? []).map((x, i) => x + (i % 7) * 0.01);
      vectors.push({ initial_prompt: p, embedding_model: "Dummy", vector: dummy });
      vectors.push({
        initial_prompt: p,
        embedding_model: "Synthetic64",
        vector: Array.from({ length: 64 }, (_, i) => Math.sin(i + p.length) + 0.1),
      });
    }
    const file = join(dir, "prompts.json");
    writeFileSync(file, JSON.stringify(vectors));
    const out = join(dir, "file.parquet");
    const result = await computeDrift({ db, out, promptVectors: file });
    const expected = runOracle(db, ["--prompt-vectors", file]);
    expectSameFrame(await readFrame(out), expected);
    expect(result.null_reasons.missing_reference).toBe(0);
    // The same through parallel readers, with the other metric and no exclusions.
    const parallel = join(dir, "file-parallel.parquet");
    await computeDrift({ db, out: parallel, promptVectors: file, workers: 2, metric: "cosine", excludePrompts: [] });
    expectSameFrame(await readFrame(parallel), runOracle(db, ["--prompt-vectors", file, "--metric", "cosine", "--no-exclude"]));
    const builtin = await readFrame(join(dir, "euclid.parquet"));
    const dummyChanged = builtin.filter(
      (r, i) => r.embedding_model === "Dummy" && r.semantic_drift !== null && r.semantic_drift !== expected[i]!.semantic_drift,
    );
    expect(dummyChanged.length).toBeGreaterThan(0);
  });
});

describe("computeDrift: how the reading is cut", () => {
  it("many short runs (grouped into units) and runs longer than a batch give the oracle's frame, on 1 and 2 readers", async () => {
    for (const [name, shape, batchRows] of [
      ["short-runs", { runs: 60, steps: 4 }, 16],
      ["long-runs", { runs: 3, steps: 80 }, 7],
    ] as const) {
      const path = join(dir, `${name}.sqlite`);
      makePanicDb(path, { ...shape, embeddingModels: [{ name: "Dummy", dim: 768 }, { name: "Dummy2", dim: 768 }, { name: "DummyText", dim: 256 }] });
      const expected = runOracle(path);
      for (const workers of [1, 2]) {
        const out = join(dir, `${name}-${workers}.parquet`);
        const result = await computeDrift({ db: path, out, workers, batchRows });
        expect(result.rows).toBe(expected.length);
        expectSameFrame(await readFrame(out), expected);
      }
    }
  });

  it("a big file with few embeddings: reader threads started early are stopped, one reader computes", async () => {
    const big = join(dir, "big-images.sqlite");
    // 40 image blobs of 2 MB: over the early-start size, far under the parallel row count.
    makePanicDb(big, { runs: 4, steps: 20, imageBytes: 2 * 1024 * 1024, embeddingModels: [{ name: "Dummy", dim: 768 }] });
    const out = join(dir, "big-images.parquet");
    const result = await computeDrift({ db: big, out });
    expect(result.rows).toBe(runOracle(big).length);
    expectSameFrame(await readFrame(out), runOracle(big));
  });

  it("without the run_id and invocation_id indexes the database is read in storage order and DuckDB sorts: same frame", async () => {
    const { copyFileSync } = await import("node:fs");
    const Database = (await import("better-sqlite3")).default;
    const bare = join(dir, "no-indexes.sqlite");
    copyFileSync(db, bare);
    const writer = new Database(bare);
    writer.exec("DROP INDEX ix_invocation_run_id; DROP INDEX ix_embedding_invocation_id;");
    writer.close();
    const { openSource } = await import("../../src/sources/openSource.js");
    for (const [path, ordered] of [[db, true], [bare, false]] as const) {
      const source = openSource(path);
      expect(source.ordered).toBe(ordered);
      source.close();
    }
    const expected = runOracle(bare);
    // Rows of other rows' runs as references need whole runs: refused, with how to fix it.
    await expect(computeDrift({ db: bare, out: join(dir, "no-indexes-first.parquet"), reference: "first" })).rejects.toMatchObject({
      code: "DB_MISSING_INDEX",
    });
    for (const workers of [1, 2]) {
      const out = join(dir, `no-indexes-${workers}.parquet`);
      const result = await computeDrift({ db: bare, out, workers, batchRows: 5 });
      expect(result.rows).toBe(expected.length);
      expectSameFrame(await readFrame(out), expected);
    }
  });
});

describe("computeDrift with --experiment / --run / --model filters", () => {
  it("gives the oracle's rows for each filter and their combinations, on 1 and 2 readers; the filters are part of the up-to-date check", async () => {
    const hyphenated = (raw: string) => `${raw.slice(0, 8)}-${raw.slice(8, 12)}-${raw.slice(12, 16)}-${raw.slice(16, 20)}-${raw.slice(20)}`;
    const [firstRun, secondRun] = manifest.runIds;
    const cases: [Parameters<typeof computeDrift>[0]["filters"], string[]][] = [
      [{ runs: [hyphenated(firstRun!), secondRun!.toUpperCase()] }, ["--run", firstRun!, "--run", secondRun!]],
      [{ experiments: [hyphenated(manifest.experimentIds[0]!)] }, ["--experiment", manifest.experimentIds[0]!]],
      [{ models: ["Dummy2", "Synthetic64"] }, ["--model", "Dummy2", "--model", "Synthetic64"]],
      [{ runs: [firstRun!], models: ["Dummy"] }, ["--run", firstRun!, "--model", "Dummy"]],
    ];
    for (const [filters, oracleArgs] of cases) {
      const expected = runOracle(db, oracleArgs);
      expect(expected.length).toBeGreaterThan(0);
      for (const workers of [1, 2]) {
        const out = join(dir, `filtered-${workers}.parquet`);
        const result = await computeDrift({ db, out, filters, workers, batchRows: 5, force: true, overwrite: true });
        expect(result.rows).toBe(expected.length);
        expectSameFrame(await readFrame(out), expected);
      }
    }
    const out = join(dir, "filtered-utd.parquet");
    await computeDrift({ db, out, filters: { models: ["Dummy"] } });
    expect((await computeDrift({ db, out, filters: { models: ["Dummy"] } })).status).toBe("up-to-date");
    // A frame computed with other filters is replaced only when told to.
    await expect(computeDrift({ db, out, filters: { models: ["Dummy2"] } })).rejects.toMatchObject({ code: "OUTPUT_FILTERS_DIFFER" });
    expect((await computeDrift({ db, out, filters: { models: ["Dummy2"] }, overwrite: true })).status).toBe("computed");
    const before = readFileSync(out);
    await expect(computeDrift({ db, out, filters: { models: ["Dummy2"], runs: ["0".repeat(32)] }, overwrite: true })).rejects.toMatchObject({
      code: "FILTER_MATCHES_NOTHING",
      message: expect.stringMatching(/--run 0{32} matches no run/),
    });
    expect(readFileSync(out).equals(before)).toBe(true);
  });
});

describe("computeDrift --reference first | previous", () => {
  it("match the oracle (every edge case, 1 and 2 readers, tiny batches), with 0 / NULL on each group's first row", async () => {
    for (const reference of ["first", "previous"] as const) {
      const expected = runOracle(db, ["--reference", reference]);
      for (const [workers, batchRows] of [[1, 2048], [2, 5]] as const) {
        const out = join(dir, `ref-${reference}-${workers}.parquet`);
        const result = await computeDrift({ db, out, reference, workers, batchRows });
        expect(result.rows).toBe(expected.length);
        const frame = await readFrame(out);
        expectSameFrame(frame, expected);
        expect(result.rows_with_drift).toBe(expected.filter((r) => r.semantic_drift !== null).length);
        // Each (run, model)'s first row: drift 0 against itself, or nothing before it.
        const firsts = frame.filter((r, i) => i === 0 || r.run_id !== frame[i - 1]!.run_id || r.embedding_model !== frame[i - 1]!.embedding_model);
        if (reference === "first") expect(firsts.filter((r) => r.semantic_drift !== null).every((r) => r.semantic_drift === 0)).toBe(true);
        else {
          expect(firsts.every((r) => r.semantic_drift === null)).toBe(true);
          expect(result.null_reasons.first_step).toBeGreaterThan(0);
        }
      }
    }
  });

  it("cosine applies to them too", async () => {
    const out = join(dir, "ref-previous-cosine.parquet");
    await computeDrift({ db, out, reference: "previous", metric: "cosine" });
    expectSameFrame(await readFrame(out), runOracle(db, ["--reference", "previous", "--metric", "cosine"]));
  });

  it("is part of the up-to-date check, and refuses reference vectors it would not use", async () => {
    const out = join(dir, "ref-utd.parquet");
    await computeDrift({ db, out, reference: "previous" });
    expect((await computeDrift({ db, out, reference: "previous" })).status).toBe("up-to-date");
    expect((await computeDrift({ db, out, reference: "first" })).status).toBe("computed");
    await expect(computeDrift({ db, out, reference: "first", promptVectors: "x.json" })).rejects.toMatchObject({ code: "USAGE" });
  });
});

describe("computeDrift: NULL drift on exactly the edge rows", () => {
  it("each edge case's rows are NULL for the right reason and only those", async () => {
    const out = join(dir, "reasons.parquet");
    const result = await computeDrift({ db, out });
    const frame = await readFrame(out);
    const byId = new Map(frame.map((r) => [r.id as string, r]));
    const hyphen = (id: string) => `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
    const mustBeNull = ["nullVector", "zeroVector", "nanComponent", "infComponent", "badLength", "emptyBlob", "wrongDim", "missingReference", "zeroReference"];
    for (const edge of mustBeNull) {
      // Edge rows of excluded runs are not in the output; every one that is must be NULL.
      const present = (manifest.edgeRows[edge] ?? []).map(hyphen).filter((id) => byId.has(id));
      expect(present.length, edge).toBeGreaterThan(0);
      for (const id of present) expect(byId.get(id)!.semantic_drift, `${edge} ${id}`).toBeNull();
    }
    const denormal = (manifest.edgeRows.denormal ?? []).map(hyphen);
    expect(denormal.length).toBeGreaterThan(0);
    for (const id of denormal) expect(byId.get(id)?.semantic_drift).not.toBeNull();
    for (const edge of ["orphanEmbedding", "imageEmbedding", "excludedPrompt"]) {
      for (const id of manifest.edgeRows[edge] ?? []) expect(byId.has(hyphen(id)), edge).toBe(false);
    }
    const inOutput = (edge: string) => (manifest.edgeRows[edge] ?? []).map(hyphen).filter((id) => byId.has(id)).length;
    expect(result.null_reasons.null_vector).toBe(inOutput("nullVector"));
    expect(result.null_reasons.bad_blob_length).toBe(inOutput("badLength"));
    expect(result.null_reasons.non_finite).toBe(inOutput("nanComponent") + inOutput("infComponent"));
    expect(result.null_reasons.zero_vector).toBe(inOutput("zeroVector"));
    expect(result.null_reasons.dimension_mismatch).toBe(inOutput("wrongDim") + inOutput("emptyBlob"));
    const totalNull = Object.values(result.null_reasons).reduce((a, b) => a + b, 0);
    expect(totalNull).toBe(frame.filter((r) => r.semantic_drift === null).length);
    expect(result.warnings.some((w) => w.includes("Synthetic64"))).toBe(true);
  });
});

describe("computeDrift: output path", () => {
  it("defaults to <db dir>/<db stem>.drift.parquet", () => {
    expect(defaultOutputPath("/data/runs/exp 1.sqlite")).toBe("/data/runs/exp 1.drift.parquet");
    expect(defaultOutputPath("runs.db")).toBe("runs.drift.parquet");
    expect(defaultOutputPath("/data/noext")).toBe("/data/noext.drift.parquet");
  });

  it("never changes the database's bytes", async () => {
    const before = readFileSync(db);
    await computeDrift({ db, out: join(dir, "bytes.parquet"), force: true });
    expect(Buffer.compare(readFileSync(db), before)).toBe(0);
  });
});

describe("computeDrift: parallel readers fail cleanly", () => {
  it("a corrupt page met by a worker is one PanicDriftError, and no output or temp file is left", async () => {
    const { copyFileSync, readdirSync, readFileSync: read, writeFileSync: write } = await import("node:fs");
    const broken = join(dir, "broken-par.sqlite");
    copyFileSync(db, broken);
    const bytes = read(broken);
    const pageSize = bytes.readUInt16BE(16);
    // Corrupt pages in the second half of the file: the second reader's range.
    for (let i = Math.floor(bytes.length / 2 / pageSize) * pageSize; i < bytes.length - pageSize; i++) bytes[i] = bytes[i]! ^ 0x5a;
    write(broken, bytes);
    const out = join(dir, "broken-par.parquet");
    await expect(computeDrift({ db: broken, out, workers: 2 })).rejects.toMatchObject({
      name: "PanicDriftError",
      code: expect.stringMatching(/^DB_/),
    });
    expect(readdirSync(dir).filter((f) => f.startsWith("broken-par.parquet") || f.includes(".tmp-"))).toEqual([]);
  });
});

describe("computeDrift: edge of size", () => {
  it("a database without embeddings gives an empty frame", async () => {
    const empty = join(dir, "empty.sqlite");
    makePanicDb(empty, { runs: 0 });
    const out = join(dir, "empty.parquet");
    const result = await computeDrift({ db: empty, out });
    expect(result.rows).toBe(0);
    expect(await readFrame(out)).toEqual([]);
  });
});

describe("computeDrift on a database that is being written", () => {
  it("parallel readers finish (on one thread if they cannot share a snapshot), with a consistent row count", async () => {
    const { fork } = await import("node:child_process");
    const Database = (await import("better-sqlite3")).default;
    const live = join(dir, "live.sqlite");
    makePanicDb(live, { runs: 10, steps: 100, embeddingModels: [{ name: "Dummy", dim: 768 }] });
    const count = () => {
      const reader = new Database(live, { readonly: true });
      try {
        return reader.prepare("SELECT count(*) FROM embedding e JOIN invocation i ON i.id = e.invocation_id WHERE i.type = 'TEXT'").pluck().get() as number;
      } finally {
        reader.close();
      }
    };
    const writer = fork(new URL("../support/liveWriter.ts", import.meta.url).pathname, [live], { execArgv: ["--import", "tsx"] });
    try {
      await new Promise((resolve) => writer.once("message", resolve));
      const before = count();
      const result = await computeDrift({ db: live, out: join(dir, "live.parquet"), workers: 2, excludePrompts: [] });
      const after = count();
      expect(result.rows).toBeGreaterThanOrEqual(before);
      expect(result.rows).toBeLessThanOrEqual(after);
      expect(after).toBeGreaterThan(before);
    } finally {
      writer.kill();
    }
  }, 60_000);
});
