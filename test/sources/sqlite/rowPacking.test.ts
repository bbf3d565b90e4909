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
import { writeUuid } from "../../../src/frame/uuidBytes.js";
import { parseNaiveTimestampMicros } from "../../../src/sources/naiveTimestamp.js";
import { packedOutput } from "../../../src/sources/sqlite/nativeLibrary.js";
import { isTooLarge, isUtf8Slice, loadRowPacking, packsIntoOutput, unpackRows, type PackedValue } from "../../../src/sources/sqlite/rowPacking.js";
import { EDGE_DB_OPTIONS, makePanicDb } from "../../support/makePanicDb.js";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-row-packing-"));
});

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

/** The rows of `select` as better-sqlite3 gives them, and as unpacked from `panic_drift_rows` over the same columns. */
function bothWays(db: Database.Database, columns: string, from: string): { direct: PackedValue[][]; unpacked: PackedValue[][] } {
  const direct = db.prepare(`SELECT ${columns} FROM ${from}`).raw(true).all() as PackedValue[][];
  const packed = db.prepare(`SELECT panic_drift_rows(${columns}) FROM ${from}`).pluck().get() as Buffer | null;
  const unpacked: PackedValue[][] = [];
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
    const rows: PackedValue[][] = [];
    unpackRows(first, (row) => rows.push([...row]));
    unpackRows(second, (row) => rows.push([...row]));
    expect(rows).toEqual([["a"], ["b"], ["c"], [1, "a"], [2, "b"], [3, "c"]]);
    const groups = db.prepare("SELECT k % 2, panic_drift_rows(x) FROM t GROUP BY k % 2 ORDER BY 1").raw(true).all() as [number, Buffer][];
    expect(groups.map(([parity, packed]) => {
      const xs: PackedValue[] = [];
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

describe("panic_drift_rows_into", () => {
  /** A row's values, copied out of the packed buffer (ids' words, and text bytes decoded as the reader's batch would store them). */
  function copied(row: PackedValue[]): PackedValue[] {
    return row.map((value) => (value instanceof Uint32Array ? Uint32Array.from(value) : isUtf8Slice(value) ? Buffer.from(value.source.subarray(value.start, value.end)).toString() : value));
  }

  /** Packs (id, timestamp, other, text) rows into this thread's output as a slice does ('ut.b'), and unpacks them. */
  function packedInto(db: Database.Database, rows: unknown[][]): PackedValue[][] {
    db.exec("DROP TABLE IF EXISTS t; CREATE TABLE t (k INTEGER PRIMARY KEY, id, at, x, s)");
    const insert = db.prepare("INSERT INTO t (id, at, x, s) VALUES (?, ?, ?, ?)");
    for (const row of rows) insert.run(row[0], row[1], row[2], row[3] ?? null);
    const output = packedOutput(1 << 16)!;
    const result = db.prepare("SELECT panic_drift_rows_into('ut.b', id, at, x, s) FROM t").pluck().get() as number | Buffer | null;
    const unpacked: PackedValue[][] = [];
    if (result === null) return unpacked;
    unpackRows(typeof result === "number" ? output.view(result) : result, (row) => unpacked.push(copied(row)));
    // The text column against what better-sqlite3 returns for it, row by row.
    const direct = db.prepare("SELECT s FROM t ORDER BY k").pluck().all();
    expect(unpacked.map((row) => row[3])).toEqual(direct);
    return unpacked;
  }

  /** What the reader makes of a converted row's id and timestamp (sqliteSource.ts push), against what it makes of the stored values. */
  function expectSameAsStored(stored: unknown[], packed: PackedValue[]): void {
    const [id, at, x] = stored;
    const [packedId, packedAt, packedX] = packed;
    const words = new Uint32Array(4);
    const isUuid = typeof id === "string" && writeUuid(id, words, 0);
    if (packedId instanceof Uint32Array) {
      expect(isUuid, String(id)).toBe(true);
      expect([...packedId]).toEqual([...words]);
    } else {
      expect(isUuid, String(id)).toBe(false);
      expect(packedId).toEqual(id);
    }
    const read = typeof packedAt === "number" ? packedAt : parseNaiveTimestampMicros(packedAt);
    expect(read, String(at)).toEqual(parseNaiveTimestampMicros(at));
    // A value that is not a timestamp counts as unreadable in both readings.
    expect(packedAt === null, String(at)).toBe(at === null);
    expect(packedX).toEqual(x);
  }

  it("is loaded with the output buffer of this thread, and its probe holds", () => {
    const db = packingDb();
    expect(packsIntoOutput(db, packedOutput(1 << 16)!)).toBe(true);
    db.close();
  });

  it("converts the ids and timestamps frame/uuidBytes.ts and naiveTimestamp.ts read, and nothing else", () => {
    const db = packingDb();
    const ids = [
      "0123456789abcdef0123456789abcdef", "ffffffffffffffffffffffffffffffff", "00000000000000000000000000000000",
      "01234567-89ab-cdef-0123-456789abcdef", "80000000-0000-0000-0000-000000000000",
      "0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcdeg", "0123456789abcdef0123456789abcde",
      "01234567-89ab-cdef-0123_456789abcdef", "01234567-89ab-cdef-0123-456789abcdeF", "run-7", "", 42, 1.5, null, Buffer.from("0123456789abcdef0123456789abcdef"),
    ];
    const times = [
      "2025-07-24 13:05:59.123456", "1970-01-01 00:00:00.000000", "2024-02-29 23:59:59.999999", "2249-12-31 23:59:59.999999",
      "2025-01-02T03:04:05.123456Z", "2025-01-02T03:04:05.123456", "2025-01-02 03:04:05.123456Z",
      "2023-02-29 00:00:00.000000", "1969-12-31 23:59:59.999999", "2250-01-01 00:00:00.000000", "2025-13-01 00:00:00.000000",
      "2024-01-01 0x:00:00.000000", "2024-01-01 24:00:00.000000", "2024-01-01 00:60:00.000000", "2024-01-01 00:00:60.000000",
      "2025-01-02T03:04:05.5", "2025-01-02 03:04:05", "2025-01-02T13:04:05.123456+10:00", "garbage", "", 1700000000, 2.5,
      Buffer.from("2025-07-24 13:05:59.123456"), null,
    ];
    const rows = ids.flatMap((id, i) => times.map((at, j) => [id, at, (i * times.length + j) % 3 === 0 ? null : `x${i}.${j}`]));
    const packed = packedInto(db, rows);
    expect(packed.length).toBe(rows.length);
    rows.forEach((row, i) => { expectSameAsStored(row, packed[i]!); });
    db.close();
  });

  it("hands over well-formed UTF-8 text as bytes, and any other text as better-sqlite3 decodes it", () => {
    const db = packingDb();
    packedInto(db, []);
    const hex = [
      "", "41", "00", "C3A9", "E282AC", "F09F9982", "E0A080", "EFBFBF", "F48FBFBF", "DF BF".replace(" ", ""),
      // Overlong, surrogate, past U+10FFFF, cut short, stray continuation, invalid lead bytes.
      "C080", "C1BF", "E08080", "EDA080", "EDBFBF", "F08080 80".replace(" ", ""), "F4908080", "F5808080", "E282", "F09F99", "80", "BF41", "FF", "FE", "41E2", "C3",
    ];
    const insert = db.prepare("INSERT INTO t (id, at, x, s) VALUES (NULL, NULL, NULL, CAST(? AS TEXT))");
    for (const bytes of hex) insert.run(Buffer.from(bytes, "hex"));
    const output = packedOutput(1 << 16)!;
    const length = db.prepare("SELECT panic_drift_rows_into('ut.b', id, at, x, s) FROM t").pluck().get() as number;
    const texts: PackedValue[] = [];
    const asBytes: boolean[] = [];
    unpackRows(output.view(length), (row) => {
      texts.push(copied(row)[3]!);
      asBytes.push(isUtf8Slice(row[3]!));
    });
    expect(texts).toEqual(db.prepare("SELECT s FROM t ORDER BY k").pluck().all());
    // Bytes exactly for the ten well-formed ones: no invalid UTF-8 ever reaches the frame as it is.
    expect(asBytes).toEqual(hex.map((_, i) => i < 10));
    db.close();
  });

  it("converts random ids and timestamps as the JavaScript readers do (property)", () => {
    const db = packingDb();
    const hex = (length: number) => fc.stringMatching(new RegExp(`^[0-9a-fA-F]{${length}}$`));
    const id = fc.oneof(
      hex(32),
      fc.tuple(hex(8), hex(4), hex(4), hex(4), hex(12)).map((parts) => parts.join("-")),
      fc.string({ maxLength: 40 }),
      fc.integer(),
      fc.constant(null),
    );
    const at = fc.oneof(
      fc.tuple(fc.date({ min: new Date(Date.UTC(1960, 0, 1)), max: new Date(Date.UTC(2260, 0, 1)), noInvalidDate: true }), fc.integer({ min: 0, max: 999_999 }), fc.constantFrom(" ", "T"), fc.constantFrom("", "Z", "z"))
        .map(([date, micros, sep, zone]) => `${date.toISOString().slice(0, 10)}${sep}${date.toISOString().slice(11, 19)}.${String(micros).padStart(6, "0")}${zone}`),
      fc.tuple(fc.integer({ min: 1960, max: 2300 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 61 }), fc.integer({ min: 0, max: 61 }))
        .map(([y, mo, d, h, mi, s]) => `${y}-${String(mo).padStart(2, "0")}-${String(d).padStart(2, "0")} ${String(h).padStart(2, "0")}:${String(mi).padStart(2, "0")}:${String(s).padStart(2, "0")}.000001`),
      fc.string({ maxLength: 30 }),
      fc.integer(),
      fc.constant(null),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(id, at, fc.oneof(fc.constant(null), fc.string()), fc.oneof(fc.constant(null), fc.string({ unit: "binary" }), fc.integer())), { maxLength: 30 }), (rows) => {
        const packed = packedInto(db, rows);
        expect(packed.length).toBe(rows.length);
        rows.forEach((row, i) => { expectSameAsStored(row, packed[i]!); });
      }),
      { numRuns: 300 },
    );
    db.close();
  });

  it("returns a blob, converted alike, when the rows outgrow the thread's output buffer", () => {
    const db = packingDb();
    const output = packedOutput(1 << 16)!;
    const text = "y".repeat(1 << 20);
    const rows = Array.from({ length: 3 }, (_, i) => [`0123456789abcdef0123456789abcde${i}`, "2025-07-24 13:05:59.123456", text]);
    db.exec("DROP TABLE IF EXISTS t; CREATE TABLE t (k INTEGER PRIMARY KEY, id, at, x)");
    const insert = db.prepare("INSERT INTO t (id, at, x) VALUES (?, ?, ?)");
    for (const row of rows) insert.run(...row);
    const blob = db.prepare("SELECT panic_drift_rows_into('ut.b', id, at, x, x) FROM t").pluck().get() as Buffer;
    expect(Buffer.isBuffer(blob)).toBe(true);
    const unpacked: PackedValue[][] = [];
    unpackRows(blob, (row) => unpacked.push(copied(row)));
    rows.forEach((row, i) => { expectSameAsStored(row, unpacked[i]!); });
    expect(unpacked.map((row) => row[3])).toEqual(rows.map(() => text));
    // Grown, the buffer takes the same rows, and a small group after them still fits.
    output.grow(blob.byteLength);
    expect(typeof db.prepare("SELECT panic_drift_rows_into('ut.', id, at, x) FROM t").pluck().get()).toBe("number");
    expect(packedInto(db, [["0123456789abcdef0123456789abcdef", null, 1]]).length).toBe(1);
    db.close();
  });
});

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
