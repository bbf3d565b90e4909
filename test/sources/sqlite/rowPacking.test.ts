/**
 * Rows packed by the SQLite extension (native/panic_drift_sqlite.c) read
 * back as exactly the values better-sqlite3 returns row by row, and a
 * compute that reads packed runs writes the same file as one that reads row
 * by row.
 */
import Database from "better-sqlite3";
import fc from "fast-check";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeDrift } from "../../../src/compute/computeDrift.js";
import { isTooLarge, loadRowPacking, unpackRows } from "../../../src/sources/sqlite/rowPacking.js";
import type { SqliteValue } from "../../../src/sources/sqlite/sqliteFile.js";
import { EDGE_DB_OPTIONS, makePanicDb } from "../../support/makePanicDb.js";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-row-packing-"));
});

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

/** The rows of `select` as better-sqlite3 gives them, and as unpacked from `panic_drift_rows` over the same columns. */
function bothWays(db: Database.Database, columns: string, from: string): { direct: SqliteValue[][]; unpacked: SqliteValue[][] } {
  const direct = db.prepare(`SELECT ${columns} FROM ${from}`).raw(true).all() as SqliteValue[][];
  const packed = db.prepare(`SELECT panic_drift_rows(${columns}) FROM ${from}`).pluck().get() as Buffer | null;
  const unpacked: SqliteValue[][] = [];
  if (packed !== null) {
    unpackRows(packed, (row) => {
      // The last column's blobs are views, valid until the next row: copied, as the reader does.
      unpacked.push(row.map((value, c) => (c === row.length - 1 && value instanceof Uint8Array ? Buffer.from(value) : value)));
    });
  }
  return { direct, unpacked };
}

function packingDb(): Database.Database {
  const db = new Database(":memory:");
  expect(loadRowPacking(db), "the extension is built by npm ci (node-gyp); run `npm rebuild` if it is missing").toBe(true);
  return db;
}

describe("panic_drift_rows", () => {
  it("is built at install and loads", () => {
    packingDb().close();
  });

  it("reads back every kind of value exactly as better-sqlite3 returns it", () => {
    const db = packingDb();
    db.exec("CREATE TABLE t (a, b, v)");
    const insert = db.prepare("INSERT INTO t VALUES (?, ?, ?)");
    const values: unknown[] = [
      null, 0, -1, 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n,
      0.5, -0, 1e308, 5e-324, -1.25e-7, "", "plain", "naïve — ünïcödé 🙂", "a\u0000b", Buffer.alloc(0), Buffer.from([0, 255, 7]),
    ];
    for (const a of values) insert.run(a, "x", Buffer.from(new Float32Array([1, -2, 3.5]).buffer));
    // Text that is not valid UTF-8, and a vector that is text or a number.
    db.exec("INSERT INTO t VALUES (CAST(X'66FF80C0' AS TEXT), CAST(X'EDA080' AS TEXT), NULL), (1, 2, 'text'), (1, 2, 3.5), (1, 2, 4)");
    const { direct, unpacked } = bothWays(db, "a, b, v", "t");
    expect(unpacked).toEqual(direct);
    expect(Object.is(unpacked.find((row) => Object.is(row[0], -0))?.[0], -0)).toBe(true);
    db.close();
  });

  it("reads back random rows exactly (property)", () => {
    const db = packingDb();
    const value = fc.oneof(
      fc.constant(null),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.integer(),
      fc.double({ noNaN: true }),
      fc.string({ unit: "binary" }),
      fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(value, value, value), { maxLength: 40 }), (rows) => {
        db.exec("DROP TABLE IF EXISTS t; CREATE TABLE t (a, b, v)");
        const insert = db.prepare("INSERT INTO t VALUES (?, ?, ?)");
        for (const row of rows) insert.run(...row);
        const { direct, unpacked } = bothWays(db, "a, b, v", "t");
        expect(unpacked).toEqual(direct);
      }),
      { numRuns: 200 },
    );
    db.close();
  });

  it("gives NULL for no rows and packs rows in the order the query visits them", () => {
    const db = packingDb();
    db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, x); INSERT INTO t VALUES (3, 'c'), (1, 'a'), (2, 'b')");
    expect(db.prepare("SELECT panic_drift_rows(x) FROM t WHERE k > 9").pluck().get()).toBeNull();
    const { unpacked } = bothWays(db, "x", "t");
    expect(unpacked).toEqual([["a"], ["b"], ["c"]]);
    // Two packs in one statement (the second cannot share the connection's buffer) and a GROUP BY.
    const [first, second] = db.prepare("SELECT panic_drift_rows(x), panic_drift_rows(k, x) FROM t").raw(true).get() as [Buffer, Buffer];
    const rows: SqliteValue[][] = [];
    unpackRows(first, (row) => rows.push([...row]));
    unpackRows(second, (row) => rows.push([...row]));
    expect(rows).toEqual([["a"], ["b"], ["c"], [1, "a"], [2, "b"], [3, "c"]]);
    const groups = db.prepare("SELECT k % 2, panic_drift_rows(x) FROM t GROUP BY k % 2 ORDER BY 1").raw(true).all() as [number, Buffer][];
    expect(groups.map(([parity, packed]) => {
      const xs: SqliteValue[] = [];
      unpackRows(packed, (row) => xs.push(row[0]!));
      return [parity, xs];
    })).toEqual([[0, ["b"]], [1, ["a", "c"]]]);
    expect(isTooLarge(first)).toBe(false);
    db.close();
  });

  it("packs a group larger than the buffer it keeps, and small ones after it, and refuses 256 columns", () => {
    const db = packingDb();
    db.exec("CREATE TABLE big (k INTEGER PRIMARY KEY, b BLOB); CREATE TABLE small (x)");
    const insert = db.prepare("INSERT INTO big (b) VALUES (?)");
    for (let i = 0; i < 20; i++) insert.run(Buffer.alloc(1 << 20, i));
    db.exec("INSERT INTO small VALUES (1), ('two'), (NULL)");
    for (let round = 0; round < 2; round++) {
      const big = bothWays(db, "k, b", "big");
      // Compared as bytes: a deep equality walks 20 MB one element at a time.
      expect(big.unpacked.map(([k]) => k)).toEqual(big.direct.map(([k]) => k));
      expect(big.unpacked.every(([, b], i) => (b as Buffer).equals(big.direct[i]![1] as Buffer))).toBe(true);
      const small = bothWays(db, "x", "small");
      expect(small.unpacked).toEqual([[1], ["two"], [null]]);
    }
    const columns = Array.from({ length: 256 }, () => "x").join(", ");
    expect(() => db.prepare(`SELECT panic_drift_rows(${columns}) FROM small`).get()).toThrow(/at most 255 columns/);
    expect(bothWays(db, "x", "small").unpacked).toEqual([[1], ["two"], [null]]);
    db.close();
  });
});

/** Computes `db` once per environment (each a set of variables for the run) and returns each output's bytes. */
async function outputsUnder(db: string, name: string, environments: Record<string, string>[], cases: [string, object][]): Promise<Buffer[][]> {
  const outputs: Buffer[][] = [];
  for (const [e, environment] of environments.entries()) {
    const before = new Map(Object.keys(environment).map((key) => [key, process.env[key]]));
    Object.assign(process.env, environment);
    try {
      const row: Buffer[] = [];
      for (const [label, options] of cases) {
        const out = join(dir, `${name}-${label}-${e}.parquet`);
        await computeDrift({ db, out, ...options });
        row.push(readFileSync(out));
      }
      outputs.push(row);
    } finally {
      for (const [key, value] of before) {
        if (value === undefined) Reflect.deleteProperty(process.env, key);
        else process.env[key] = value;
      }
    }
  }
  return outputs;
}

const ROW_BY_ROW = { PANIC_DRIFT_ROW_PACKING: "0" };
const PACKED = { PANIC_DRIFT_ROW_PACKING: "1" };

describe("a compute with packed runs", () => {
  it.each(["gen1", "gen2"] as const)("writes the same file as one reading row by row (%s edge cases; --model; reader threads)", async (layout) => {
    const db = join(dir, `edge-${layout}.sqlite`);
    makePanicDb(db, { ...EDGE_DB_OPTIONS, layout });
    const cases: [string, object][] = [["all", {}], ["model", { filters: { models: ["Dummy"] } }], ["threads", { workers: 2, batchRows: 40 }]];
    const [packed, rows] = await outputsUnder(db, layout, [PACKED, ROW_BY_ROW], cases);
    for (const [i, [label]] of cases.entries()) expect(packed![i]!.equals(rows![i]!), label).toBe(true);
    expect(packed![0]!.equals(packed![1]!)).toBe(false);
  });

  it("reads a long run in slices, and a slice too large to pack row by row, to the same file", async () => {
    // Runs of ~600 text embeddings of 768 floats: several 512 kB slices each.
    const db = join(dir, "long-runs.sqlite");
    const manifest = makePanicDb(db, { runs: 3, steps: 1200, embeddingModels: [{ name: "Dummy", dim: 768 }] });
    expect(manifest.textEmbeddingRows / 3).toBeGreaterThan(500);
    const cases: [string, object][] = [["one", { workers: 1 }], ["two", { workers: 2, batchRows: 128 }]];
    // A limit of 64 kB: every slice (hundreds of invocations, ~1 MB) is too large to pack.
    const [packed, tooLarge, rows] = await outputsUnder(db, "long", [PACKED, { ...PACKED, PANIC_DRIFT_PACK_LIMIT: "65536" }, ROW_BY_ROW], cases);
    for (let i = 0; i < cases.length; i++) {
      expect(packed![i]!.equals(rows![i]!), `packed, ${cases[i]![0]}`).toBe(true);
      expect(tooLarge![i]!.equals(rows![i]!), `too large, ${cases[i]![0]}`).toBe(true);
    }
  });
});
