import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EDGE_CASES, NULL_DRIFT_EDGES, makePanicDb, type PanicDbManifest } from "./makePanicDb.js";
import { runOracle, type OracleRow } from "./oracle.js";

// Written out again (not imported) so that the generator is checked against the spec.
const EXPECTED_DDL: Record<string, string> = {
  experimentconfig:
    "CREATE TABLE experimentconfig (id CHAR(32) NOT NULL, networks JSON, seeds JSON, prompts JSON, embedding_models JSON, max_length INTEGER NOT NULL, started_at DATETIME, completed_at DATETIME, PRIMARY KEY (id))",
  run: "CREATE TABLE run (id CHAR(32) NOT NULL, network JSON, seed INTEGER NOT NULL, max_length INTEGER NOT NULL, initial_prompt VARCHAR NOT NULL, experiment_id CHAR(32), PRIMARY KEY (id), FOREIGN KEY(experiment_id) REFERENCES experimentconfig (id))",
  ix_run_experiment_id: "CREATE INDEX ix_run_experiment_id ON run (experiment_id)",
  invocation:
    "CREATE TABLE invocation (id CHAR(32) NOT NULL, started_at DATETIME, completed_at DATETIME, model VARCHAR NOT NULL, type VARCHAR(5) NOT NULL, seed INTEGER NOT NULL, run_id CHAR(32) NOT NULL, sequence_number INTEGER NOT NULL, input_invocation_id CHAR(32), output_text VARCHAR, output_image_data BLOB, PRIMARY KEY (id), FOREIGN KEY(run_id) REFERENCES run (id), FOREIGN KEY(input_invocation_id) REFERENCES invocation (id))",
  ix_invocation_run_id: "CREATE INDEX ix_invocation_run_id ON invocation (run_id)",
  ix_invocation_input_invocation_id: "CREATE INDEX ix_invocation_input_invocation_id ON invocation (input_invocation_id)",
  embedding:
    "CREATE TABLE embedding (id CHAR(32) NOT NULL, started_at DATETIME, completed_at DATETIME, invocation_id CHAR(32) NOT NULL, embedding_model VARCHAR NOT NULL, vector BLOB, PRIMARY KEY (id), FOREIGN KEY(invocation_id) REFERENCES invocation (id))",
  ix_embedding_invocation_id: "CREATE INDEX ix_embedding_invocation_id ON embedding (invocation_id)",
};
const DATA_TABLES = ["experimentconfig", "run", "invocation", "embedding"];
const HEX32 = /^[0-9a-f]{32}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/;

const hyphenate = (id: string): string =>
  `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;

function dump(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true });
  try {
    return Object.fromEntries(DATA_TABLES.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).raw().all()]));
  } finally {
    db.close();
  }
}

interface EmbeddingRow {
  id: string;
  invocation_id: string;
  embedding_model: string;
  started_at: string | null;
  completed_at: string | null;
  vector: Buffer | null;
}

let dir: string;
let edgePath: string;
let edge: PanicDbManifest;
let db: Database.Database;
/** The same connection, for afterAll: unset when beforeAll failed before opening it. */
let opened: Database.Database | undefined;
const embeddingById = new Map<string, EmbeddingRow>();
// Each oracle run costs ~0.5 s of Python start-up: share the default one.
let defaultRows: OracleRow[] | undefined;
const oracleDefault = (): OracleRow[] => (defaultRows ??= runOracle(edgePath));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "makePanicDb-"));
  edgePath = join(dir, "edge.sqlite");
  edge = makePanicDb(edgePath, { edgeCases: true, seed: 42 });
  db = opened = new Database(edgePath, { readonly: true });
  for (const row of db.prepare("SELECT * FROM embedding").all() as EmbeddingRow[]) embeddingById.set(row.id, row);
});

afterAll(() => {
  opened?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const floats = (b: Buffer): Float32Array => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
const rowsOf = (name: string): EmbeddingRow[] => (edge.edgeRows[name] ?? []).map((id) => embeddingById.get(id)!);

describe("makePanicDb", () => {
  it("writes exactly the first-generation DDL, plus the other upstream tables", () => {
    const rows = db.prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL").all() as { name: string; sql: string }[];
    const byName = Object.fromEntries(rows.map((r) => [r.name, r.sql]));
    for (const [name, sql] of Object.entries(EXPECTED_DDL)) expect(byName[name]).toBe(sql);
    for (const name of ["clusteringresult", "embeddingcluster", "persistencediagram"]) expect(byName[name]).toMatch(/^CREATE TABLE/);
  });

  it("leaves a complete WAL-mode file with no -wal beside it", () => {
    const header = readFileSync(edgePath).subarray(0, 20);
    expect(header.subarray(0, 16).toString("latin1")).toBe("SQLite format 3\u0000");
    expect([header[18], header[19]]).toEqual([2, 2]); // file format versions 2 = WAL
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    const fresh = mkdtempSync(join(tmpdir(), "makePanicDb-wal-"));
    try {
      const p = join(fresh, "x.sqlite");
      makePanicDb(p, { runs: 2, steps: 4 });
      expect(existsSync(`${p}-wal`)).toBe(false);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it("matches its manifest", () => {
    const count = (sql: string): number => db.prepare(sql).pluck().get() as number;
    expect(count("SELECT count(*) FROM embedding")).toBe(edge.embeddingCount);
    expect(count("SELECT count(*) FROM run")).toBe(edge.runIds.length);
    expect(count("SELECT count(*) FROM invocation")).toBe(edge.invocationCount);
    expect(
      count(`SELECT count(*) FROM embedding e JOIN invocation i ON i.id = e.invocation_id JOIN run r ON r.id = i.run_id
             WHERE i.type = 'TEXT' AND r.initial_prompt NOT IN ('yeah', 'nah')`),
    ).toBe(edge.textEmbeddingRows);
    const runIds = db.prepare("SELECT id FROM run ORDER BY rowid").pluck().all() as string[];
    expect(runIds).toEqual(edge.runIds);
    for (const id of [...runIds, ...embeddingById.keys()]) expect(id).toMatch(HEX32);
  });

  it("uses upstream's encodings", () => {
    const invs = db.prepare("SELECT * FROM invocation").all() as Record<string, unknown>[];
    for (const inv of invs) {
      expect(inv.type).toBe(Number(inv.sequence_number) % 2 === 0 ? "IMAGE" : "TEXT");
      if (inv.type === "IMAGE") expect((inv.output_image_data as Buffer).length).toBe(64);
      else expect(typeof inv.output_text).toBe("string");
      expect(inv.started_at).toMatch(DATETIME);
    }
    const networks = db.prepare("SELECT DISTINCT network FROM run").pluck().all();
    expect(networks).toContain('["SDXLTurbo", "Moondream"]');
    const micros = new Set([...embeddingById.values()].map((e) => e.started_at?.slice(-6)));
    expect(micros.size).toBeGreaterThan(embeddingById.size / 2);
    const invTimes = new Set(invs.flatMap((i) => [i.started_at, i.completed_at]));
    for (const e of embeddingById.values()) expect(invTimes.has(e.started_at)).toBe(false);
  });

  it("contains every edge case on the rows it names", () => {
    for (const name of EDGE_CASES) expect(edge.edgeRows[name]?.length, name).toBeGreaterThan(0);
    for (const ids of Object.values(edge.edgeRows)) for (const id of ids) expect(embeddingById.has(id)).toBe(true);

    for (const r of rowsOf("nullVector")) expect(r.vector).toBeNull();
    for (const r of rowsOf("emptyBlob")) expect(r.vector?.length).toBe(0);
    for (const r of rowsOf("badLength")) expect((r.vector?.length ?? 0) % 4).not.toBe(0);
    for (const r of rowsOf("zeroVector")) expect(floats(r.vector!).every((x) => x === 0)).toBe(true);
    for (const r of rowsOf("nanComponent")) expect(floats(r.vector!).some(Number.isNaN)).toBe(true);
    for (const r of rowsOf("infComponent")) expect(floats(r.vector!).includes(Infinity)).toBe(true);
    for (const r of rowsOf("wrongDim")) expect(r.vector!.length).not.toBe(768 * 4);
    for (const r of rowsOf("denormal")) {
      const v = floats(r.vector!);
      expect(v.every((x) => x !== 0 && Math.abs(x) < 1.1754943508222875e-38)).toBe(true);
    }
    for (const r of rowsOf("missingReference")) expect(["Dummy", "Dummy2", "DummyText", "DummyText2"]).not.toContain(r.embedding_model);

    const [a, b] = rowsOf("duplicateEmbedding");
    expect(a!.invocation_id).toBe(b!.invocation_id);
    expect(a!.embedding_model).toBe(b!.embedding_model);

    const inv = db.prepare("SELECT * FROM invocation WHERE id = ?");
    for (const r of rowsOf("orphanEmbedding")) expect(inv.get(r.invocation_id)).toBeUndefined();
    for (const r of rowsOf("imageEmbedding")) expect((inv.get(r.invocation_id) as { type: string }).type).toBe("IMAGE");

    const prompts = db.prepare("SELECT initial_prompt FROM run").pluck().all() as string[];
    expect(prompts).toEqual(expect.arrayContaining(["yeah", "nah", ""]));
    expect(prompts.some((p) => /\p{Script=Han}/u.test(p) && /[\u{1F300}-\u{1FAFF}]/u.test(p))).toBe(true);
    expect(db.prepare("SELECT count(*) FROM run WHERE experiment_id IS NULL").pluck().get()).toBe(1);
    const short = db
      .prepare("SELECT r.id FROM run r JOIN invocation i ON i.run_id = r.id GROUP BY r.id HAVING count(*) < max(r.max_length)")
      .pluck()
      .all();
    expect(short.length).toBeGreaterThan(0);
    const texts = db.prepare("SELECT output_text FROM invocation WHERE output_text IS NOT NULL").pluck().all() as string[];
    expect(texts.some((t) => /[\u{10000}-\u{10FFFF}]/u.test(t))).toBe(true);
  });

  it("is deterministic for a seed, and shuffles storage order", () => {
    const p1 = join(dir, "a.sqlite");
    const p2 = join(dir, "b.sqlite");
    const p3 = join(dir, "c.sqlite");
    makePanicDb(p1, { edgeCases: true, seed: 9, runs: 3, steps: 8 });
    makePanicDb(p2, { edgeCases: true, seed: 9, runs: 3, steps: 8 });
    makePanicDb(p3, { edgeCases: true, seed: 10, runs: 3, steps: 8 });
    const d1 = dump(p1);
    expect(dump(p2)).toEqual(d1);
    expect(dump(p3)).not.toEqual(d1);

    // Storage order differs from output order.
    const stored = (d1.embedding as string[][]).map((r) => r[0]);
    const output = runOracle(p1, ["--no-exclude"]).map((r) => r.id.replaceAll("-", ""));
    expect(stored.filter((id) => output.includes(id!))).not.toEqual(output);
  });

  it("gives varied drifts by default", () => {
    const drifts = oracleDefault()
      .map((r) => r.semantic_drift)
      .filter((d): d is number => d !== null);
    const mean = drifts.reduce((s, d) => s + d, 0) / drifts.length;
    const sd = Math.sqrt(drifts.reduce((s, d) => s + (d - mean) ** 2, 0) / drifts.length);
    expect(sd).toBeGreaterThan(0.2);
  });
});

describe("drift oracle", () => {
  it("returns the expected rows, in order, with NULL drift exactly on the edge rows", () => {
    const rows = oracleDefault();
    expect(rows).toHaveLength(edge.textEmbeddingRows);

    const ids = rows.map((r) => r.id);
    const raw = new Set(ids.map((id) => id.replaceAll("-", "")));
    for (const name of ["orphanEmbedding", "imageEmbedding", "excludedPrompt"]) {
      for (const id of edge.edgeRows[name] ?? []) expect(raw.has(id), name).toBe(false);
    }
    const mustBeNull = new Set(NULL_DRIFT_EDGES.flatMap((n) => edge.edgeRows[n] ?? []));
    const isNull = new Set(rows.filter((r) => r.semantic_drift === null).map((r) => r.id.replaceAll("-", "")));
    expect([...isNull].sort()).toEqual([...mustBeNull].filter((id) => raw.has(id)).sort());
    for (const id of edge.edgeRows.denormal ?? []) expect(isNull.has(id)).toBe(false);

    const key = (r: (typeof rows)[number]): [string, string, number, string] => [r.run_id, r.embedding_model, r.sequence_number, r.id];
    const sorted = [...rows].sort((x, y) => {
      const a = key(x);
      const b = key(y);
      for (let i = 0; i < 4; i++) if (a[i] !== b[i]) return (a[i] as string | number) < (b[i] as string | number) ? -1 : 1;
      return 0;
    });
    expect(ids).toEqual(sorted.map((r) => r.id));

    const first = rows[0]!;
    expect(first.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(first.network).toMatch(/^\w+→\w+$/);
    expect(rows.some((r) => r.experiment_id === null)).toBe(true);
    expect(rows.some((r) => r.completed_at === null)).toBe(true);
    const e = embeddingById.get(first.id.replaceAll("-", ""))!;
    expect(first.started_at).toBe(e.started_at);
    expect(first.invocation_id).toBe(hyphenate(e.invocation_id));
  });

  it("honours --no-exclude, --exclude and --metric cosine", () => {
    const all = runOracle(edgePath, ["--no-exclude"]);
    expect(all.length).toBe(edge.textEmbeddingRows + (edge.edgeRows.excludedPrompt?.length ?? 0));
    const onlyYeah = runOracle(edgePath, ["--exclude", "yeah"]);
    expect(onlyYeah.some((r) => r.initial_prompt === "nah")).toBe(true);
    expect(onlyYeah.some((r) => r.initial_prompt === "yeah")).toBe(false);

    const euclid = oracleDefault();
    const cosine = runOracle(edgePath, ["--metric", "cosine"]);
    euclid.forEach((r, i) => {
      const c = cosine[i]!.semantic_drift;
      if (r.semantic_drift === null) expect(c).toBeNull();
      else expect(c).toBeCloseTo(r.semantic_drift ** 2 / 2, 9); // |a-b|² = 2 - 2cos for unit vectors
    });
  });

  it("reproduces upstream's known values with --prompt-vectors", () => {
    const path = join(dir, "known.sqlite");
    const bySeq: Record<number, number[]> = { 1: [1, 0, 0], 3: [0, 1, 0], 5: [-1, 0, 0], 7: [1, 1, 0], 9: [2, 0, 0], 11: [2, 4, 6] };
    makePanicDb(path, {
      runs: 1,
      steps: 12,
      prompts: ["known"],
      embeddingModels: [{ name: "Tiny", dim: 3 }],
      vectorFor: (_m, _t, _rng, ctx) => Float32Array.from(bySeq[ctx.sequenceNumber] ?? []),
    });
    const refs = join(dir, "refs.json");
    writeFileSync(refs, JSON.stringify([{ initial_prompt: "known", embedding_model: "Tiny", vector: [1, 0, 0] }]));
    const got = runOracle(path, ["--prompt-vectors", refs]).map((r) => r.semantic_drift!);
    const want = [0, Math.SQRT2, 2, Math.sqrt(2 - Math.SQRT2), 0, Math.sqrt(2 - 2 * (2 / Math.sqrt(56)))];
    got.forEach((d, i) => { expect(d).toBeCloseTo(want[i]!, 6); });

    // base64 float32 references; [2,4,6] against [1,2,3] is 0.
    const b64 = Buffer.from(Float32Array.from([1, 2, 3]).buffer).toString("base64");
    writeFileSync(refs, JSON.stringify([{ initial_prompt: "known", embedding_model: "Tiny", vector: b64 }]));
    expect(runOracle(path, ["--prompt-vectors", refs]).at(-1)!.semantic_drift).toBeCloseTo(0, 6);
    // Without a reference the drift is missing.
    expect(runOracle(path).every((r) => r.semantic_drift === null)).toBe(true);
  });
});
