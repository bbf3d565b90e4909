import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DuckDBInstance } from "@duckdb/node-api";
import type { DuckDBConnection } from "@duckdb/node-api";

import { PanicDriftError } from "../../src/common/errors.js";
import type { ErrorCode } from "../../src/common/errors.js";
import type { PromptVector } from "../../src/frame/promptVector.js";
import { readPromptVectorsFile } from "../../src/reference/promptVectorsFile.js";

interface Row {
  prompt: string;
  model: string;
  vector: number[];
}

// Values are in float32 range but (except -2.5 and 0) not float32-representable,
// so any float32 round trip on the way shows up as a mismatch.
const ROWS: Row[] = [
  { prompt: "a cat, sitting on a mat", model: "nomic-embed-text", vector: [0.1, 0.2, 0.3] },
  { prompt: 'she said "hello", then left', model: "nomic-embed-text", vector: [1 / 3, -2.5, 123456.789] },
  { prompt: "line one\nline two\r\nline three", model: "nomic-embed-text", vector: [0, 0, 0] },
  { prompt: "", model: "nomic-embed-text", vector: [-0.7, 1e-30, 3.14159] },
  { prompt: "NULL", model: "nomic-embed-text", vector: [0.25, 0.1, 0.9] },
  { prompt: "日本語のプロンプト、猫", model: 'jina "clip", v2', vector: [0.6, 0.7, 0.8] },
  { prompt: "rocket 🚀 and scientist 👩‍🔬", model: 'jina "clip", v2', vector: [1e-8, 2e8, -0.3] },
  { prompt: "  padded with spaces  ", model: 'jina "clip", v2', vector: [0.01, 0.02, 0.03] },
];

function expected(rows: readonly Row[], round: (x: number) => number = (x) => x): unknown[] {
  return rows.map((r) => ({
    initialPrompt: r.prompt,
    embeddingModel: r.model,
    vector: Float64Array.from(r.vector.map(round)),
  }));
}

function plain(result: readonly PromptVector[]): unknown[] {
  for (const pv of result) expect(pv.vector).toBeInstanceOf(Float64Array);
  return result.map((pv) => ({ ...pv }));
}

let dir: string;
let instance: DuckDBInstance;
let conn: DuckDBConnection;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "panic-drift-pvf-test-"));
  instance = await DuckDBInstance.create(":memory:");
  conn = await instance.connect();
});

afterAll(async () => {
  conn.closeSync();
  instance.closeSync();
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

const writeJson = (name: string, value: unknown): Promise<string> => write(name, JSON.stringify(value));

function jsonEntries(rows: readonly Row[]): unknown[] {
  return rows.map((r) => ({ initial_prompt: r.prompt, embedding_model: r.model, vector: r.vector }));
}

/** RFC 4180 field: quoted when it must be, and always for the empty string. */
function csvField(value: string): string {
  return value === "" || /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function csvText(header: readonly string[], records: readonly (readonly string[])[], eol = "\r\n"): string {
  return [header, ...records].map((fields) => fields.map(csvField).join(",")).join(eol) + eol;
}

function csvRecords(rows: readonly Row[]): string[][] {
  return rows.map((r) => [r.prompt, r.model, JSON.stringify(r.vector)]);
}

const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;
// Through strings, so DuckDB parses each double exactly rather than via DECIMAL.
const sqlDoubles = (xs: readonly number[]): string =>
  `[${xs.map((x) => `CAST('${String(x)}' AS DOUBLE)`).join(", ")}]`;

/** Writes `SELECT <columns> FROM (VALUES ...) t(initial_prompt, embedding_model, vector)` to parquet. */
async function writeParquet(name: string, rows: readonly Row[], columns: string): Promise<string> {
  const path = join(dir, name);
  const values = rows.map((r) => `(${sqlString(r.prompt)}, ${sqlString(r.model)}, ${sqlDoubles(r.vector)})`);
  await conn.run(
    `COPY (SELECT ${columns} FROM (VALUES ${values.join(", ")}) t(initial_prompt, embedding_model, vector)) ` +
      `TO ${sqlString(path)} (FORMAT parquet)`,
  );
  return path;
}

async function writeParquetSql(name: string, select: string): Promise<string> {
  const path = join(dir, name);
  await conn.run(`COPY (${select}) TO ${sqlString(path)} (FORMAT parquet)`);
  return path;
}

async function expectFailure(path: string, code: ErrorCode, pattern: RegExp): Promise<PanicDriftError> {
  const err = await readPromptVectorsFile(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PanicDriftError);
  const e = err as PanicDriftError;
  expect(e.code).toBe(code);
  expect(e.message).toMatch(pattern);
  expect(e.message).toContain(basename(path));
  expect(e.message).not.toMatch(/[\r\n]/);
  return e;
}

describe("readPromptVectorsFile: round trips", () => {
  it("reads JSON", async () => {
    const path = await writeJson("rt.json", jsonEntries(ROWS));
    expect(plain(await readPromptVectorsFile(path))).toEqual(expected(ROWS));
  });

  it("reads JSON with a UTF-8 byte-order mark", async () => {
    const path = await write("bom.json", "\uFEFF" + JSON.stringify(jsonEntries(ROWS)));
    expect(plain(await readPromptVectorsFile(path))).toEqual(expected(ROWS));
  });

  it("reads CSV with RFC 4180 quoting (commas, quotes, CRLF and LF inside fields, \"\", CJK, emoji)", async () => {
    const path = await write("rt.csv", csvText(["initial_prompt", "embedding_model", "vector"], csvRecords(ROWS)));
    expect(plain(await readPromptVectorsFile(path))).toEqual(expected(ROWS));
  });

  it("reads CSV with LF line ends and a BOM", async () => {
    const text = "\uFEFF" + csvText(["initial_prompt", "embedding_model", "vector"], csvRecords(ROWS), "\n");
    const path = await write("rt-lf.csv", text);
    expect(plain(await readPromptVectorsFile(path))).toEqual(expected(ROWS));
  });

  it("reads parquet with a DOUBLE[] vector exactly", async () => {
    const path = await writeParquet("rt-double.parquet", ROWS, "initial_prompt, embedding_model, vector");
    expect(plain(await readPromptVectorsFile(path))).toEqual(expected(ROWS));
  });

  it("reads parquet with a FLOAT[] list vector, widening float32 exactly", async () => {
    const path = await writeParquet(
      "rt-float.parquet",
      ROWS,
      "initial_prompt, embedding_model, CAST(vector AS FLOAT[]) AS vector",
    );
    expect(plain(await readPromptVectorsFile(path))).toEqual(expected(ROWS, Math.fround));
  });

  it("reads parquet written from a FLOAT[3] array column", async () => {
    const path = await writeParquet(
      "rt-float3.parquet",
      ROWS,
      "initial_prompt, embedding_model, CAST(vector AS FLOAT[3]) AS vector",
    );
    expect(plain(await readPromptVectorsFile(path))).toEqual(expected(ROWS, Math.fround));
  });

  it("keeps values that float32 cannot hold exactly, in every layout", async () => {
    const rows: Row[] = [{ prompt: "p", model: "m", vector: [0.1, 1 / 3, 1e300, 5e-324, -1.7976931348623157e308] }];
    const paths = [
      await writeJson("exact.json", jsonEntries(rows)),
      await write("exact.csv", csvText(["initial_prompt", "embedding_model", "vector"], csvRecords(rows))),
      await writeParquet("exact.parquet", rows, "*"),
    ];
    for (const path of paths) {
      const [pv] = await readPromptVectorsFile(path);
      expect(Array.from(pv?.vector ?? []), path).toEqual(rows[0]?.vector);
      expect(pv?.vector[0]).not.toBe(Math.fround(0.1));
    }
  });

  it("chooses the layout by extension, case-insensitively", async () => {
    const rows = ROWS.slice(0, 3);
    const paths = [
      await writeJson("upper.JSON", jsonEntries(rows)),
      await write("mixed.Csv", csvText(["initial_prompt", "embedding_model", "vector"], csvRecords(rows))),
      await writeParquet("upper.PARQUET", rows, "*"),
    ];
    for (const path of paths) expect(plain(await readPromptVectorsFile(path)), path).toEqual(expected(rows));
  });

  it("reads CSV columns in any order and ignores extra columns", async () => {
    const header = ["vector", "notes", "embedding_model", "id", "initial_prompt"];
    const records = ROWS.map((r, i) => [JSON.stringify(r.vector), `note, ${i}`, r.model, String(i), r.prompt]);
    const path = await write("reordered.csv", csvText(header, records));
    expect(plain(await readPromptVectorsFile(path))).toEqual(expected(ROWS));
  });

  it("reads parquet columns in any order and ignores extra columns", async () => {
    const path = await writeParquet(
      "reordered.parquet",
      ROWS,
      "vector, 42 AS id, embedding_model, 'x' AS notes, initial_prompt",
    );
    expect(plain(await readPromptVectorsFile(path))).toEqual(expected(ROWS));
  });

  it("ignores extra JSON keys", async () => {
    const entries = ROWS.map((r, i) => ({ id: i, vector: r.vector, embedding_model: r.model, initial_prompt: r.prompt, extra: null }));
    const path = await writeJson("extra.json", entries);
    expect(plain(await readPromptVectorsFile(path))).toEqual(expected(ROWS));
  });

  it("reads CSV empty fields as empty strings and NULL-looking prompts as strings", async () => {
    const text =
      "initial_prompt,embedding_model,vector\n" +
      ',m,"[1, 2]"\n' + // unquoted empty prompt
      '"",m2,"[1, 2]"\n' + // quoted empty prompt
      'NULL,m,"[3, 4]"\n' +
      '"NULL",m2,"[3, 4]"\n' +
      'null,m,"[5, 6]"\n' +
      'NA,m,"[7, 8]"\n';
    const path = await write("nulls.csv", text);
    const result = await readPromptVectorsFile(path);
    expect(result.map((pv) => [pv.initialPrompt, pv.embeddingModel])).toEqual([
      ["", "m"],
      ["", "m2"],
      ["NULL", "m"],
      ["NULL", "m2"],
      ["null", "m"],
      ["NA", "m"],
    ]);
  });

  it("reads a CSV whose first prompt starts with # (no comment guessing)", async () => {
    const text = 'initial_prompt,embedding_model,vector\n# not a comment,m,"[1]"\n#another,m,"[2]"\n';
    const path = await write("hash.csv", text);
    expect((await readPromptVectorsFile(path)).map((pv) => pv.initialPrompt)).toEqual(["# not a comment", "#another"]);
  });

  it("reads the named file even when its name looks like a glob", async () => {
    const rows = ROWS.slice(0, 2);
    await write("globby1.csv", csvText(["initial_prompt", "embedding_model", "vector"], [["decoy", "m", "[9]"]]));
    const csv = await write("globby[1].csv", csvText(["initial_prompt", "embedding_model", "vector"], csvRecords(rows)));
    expect(plain(await readPromptVectorsFile(csv))).toEqual(expected(rows));
    await writeParquet("globby1.parquet", [{ prompt: "decoy", model: "m", vector: [9] }], "*");
    const parquet = await writeParquet("globby*.parquet", rows, "*");
    expect(plain(await readPromptVectorsFile(parquet))).toEqual(expected(rows));
  });

  it("reads files whose names hold quotes, spaces and non-ASCII", async () => {
    const rows = ROWS.slice(0, 2);
    const csv = await write("it's a \"vectors\" fïle.csv", csvText(["initial_prompt", "embedding_model", "vector"], csvRecords(rows)));
    expect(plain(await readPromptVectorsFile(csv))).toEqual(expected(rows));
    const parquet = await writeParquet("it's ✓.parquet", rows, "*");
    expect(plain(await readPromptVectorsFile(parquet))).toEqual(expected(rows));
  });
});

describe("readPromptVectorsFile: empty and duplicate input", () => {
  it("returns [] for empty files and empty tables", async () => {
    const paths = [
      await write("empty.json", ""),
      await write("blank.json", " \n\t\n"),
      await write("array.json", "[]"),
      await write("empty.csv", ""),
      await write("blank.csv", "\n\n"),
      await write("header-only.csv", "initial_prompt,embedding_model,vector\n"),
      await write("empty.parquet", ""),
      await writeParquetSql(
        "no-rows.parquet",
        "SELECT 'p' AS initial_prompt, 'm' AS embedding_model, [1.5]::DOUBLE[] AS vector LIMIT 0",
      ),
    ];
    for (const path of paths) expect(await readPromptVectorsFile(path), path).toEqual([]);
  });

  it("keeps one of identical duplicates", async () => {
    const rows = [ROWS[0], ROWS[1], ROWS[0], ROWS[1]] as Row[];
    const json = await writeJson("dups.json", jsonEntries(rows));
    const csv = await write("dups.csv", csvText(["initial_prompt", "embedding_model", "vector"], csvRecords(rows)));
    for (const path of [json, csv]) expect(plain(await readPromptVectorsFile(path))).toEqual(expected(rows.slice(0, 2)));
  });

  it("accepts an all-zero vector (the drift kernel reports it per row)", async () => {
    const path = await writeJson("zero.json", [{ initial_prompt: "p", embedding_model: "m", vector: [0, 0, 0] }]);
    expect(Array.from((await readPromptVectorsFile(path))[0]?.vector ?? [])).toEqual([0, 0, 0]);
  });
});

describe("readPromptVectorsFile: file errors", () => {
  it("reports a missing file", async () => {
    await expectFailure(join(dir, "nope.json"), "PROMPT_VECTORS_NOT_FOUND", /does not exist/);
    await expectFailure(join(dir, "no-such-dir", "nope.csv"), "PROMPT_VECTORS_NOT_FOUND", /does not exist/);
  });

  it("reports a directory", async () => {
    const path = join(dir, "a-directory.json");
    await mkdir(path);
    await expectFailure(path, "PROMPT_VECTORS_FORMAT", /is a directory/);
  });

  it("reports an unsupported extension, naming the supported ones", async () => {
    const txt = await write("vectors.txt", "[]");
    await expectFailure(txt, "PROMPT_VECTORS_FORMAT", /"\.txt".*\.json.*\.csv.*\.parquet/);
    const bare = await write("vectors", "[]");
    await expectFailure(bare, "PROMPT_VECTORS_FORMAT", /no extension.*\.json.*\.csv.*\.parquet/);
  });

  it("reports unparseable JSON", async () => {
    const path = await write("broken.json", '[{"initial_prompt": "p",');
    await expectFailure(path, "PROMPT_VECTORS_FORMAT", /not valid JSON/);
    const latin1 = await write("latin1.json", Buffer.from('[{"initial_prompt": "caf\xe9"}]', "latin1"));
    await expectFailure(latin1, "PROMPT_VECTORS_FORMAT", /not valid UTF-8/);
  });

  it("reports unparseable CSV with the data row DuckDB stopped at", async () => {
    const header = "initial_prompt,embedding_model,vector\n";
    const good = 'p,m,"[1]"\n';
    const tooMany = await write("too-many.csv", `${header}${good}x,m,"[1]",extra\n`);
    await expectFailure(tooMany, "PROMPT_VECTORS_FORMAT", /as CSV: row 2: Expected Number of Columns: 3 Found: 4: /);
    // Rows count records: the multi-line prompt is one row.
    const tooFew = await write("too-few.csv", `${header}"a\nb\nc",m,"[1]"\n${good}q,m\n`);
    await expectFailure(tooFew, "PROMPT_VECTORS_FORMAT", /as CSV: row 3: Expected Number of Columns: 3 Found: 2: /);
    const unclosed = await write("unclosed.csv", `${header}${good}${good}"p,m,"[1]"\n`);
    await expectFailure(unclosed, "PROMPT_VECTORS_FORMAT", /as CSV: row 3: Value with unterminated quote found: /);
    const afterQuote = await write("after-quote.csv", `${header}"a"b,m,"[1]"\n`);
    await expectFailure(afterQuote, "PROMPT_VECTORS_FORMAT", /as CSV: row 1: .*quote/);
    const unquotedVector = await write("unquoted-vector.csv", `${header}p,m,[1, 2]\n`);
    await expectFailure(unquotedVector, "PROMPT_VECTORS_FORMAT", /as CSV: row 1: Expected Number of Columns: 3 Found: 4: /);
    const badUtf8 = await write("bad-utf8.csv", Buffer.from(`${header}caf\xe9,m,"[1]"\n`, "latin1"));
    await expectFailure(badUtf8, "PROMPT_VECTORS_FORMAT", /as CSV: row 1: .*not utf-8 encoded/i);
  });

  it("reports a malformed row beyond the sniffer's sample", async () => {
    const rows = Array.from({ length: 30000 }, (_, i) => `"prompt ${i}\nsecond line, with comma",m,"[${i}]"`);
    rows[25000] = `broken,m,"[1]",extra`;
    const path = await write("late-error.csv", `initial_prompt,embedding_model,vector\n${rows.join("\n")}\n`);
    await expectFailure(path, "PROMPT_VECTORS_FORMAT", /as CSV: row 25001: Expected Number of Columns: 3 Found: 4: /);
  });

  it("reports an unreadable parquet file, with DuckDB's error as the cause", async () => {
    const path = await write("not-parquet.parquet", "this is not a parquet file");
    const err = await expectFailure(path, "PROMPT_VECTORS_FORMAT", /as Parquet: .*magic bytes/);
    expect(err.cause).toBeInstanceOf(Error);
  });
});

describe("readPromptVectorsFile: invalid JSON entries", () => {
  const good = { initial_prompt: "p", embedding_model: "m", vector: [0.1, 0.2] };
  const cases: [string, unknown, RegExp][] = [
    ["top level object", { initial_prompt: "p" }, /top level is an object, not an array/],
    ["entry null", [good, null], /entry 2: null is not an object/],
    ["entry number", [7], /entry 1: 7 is not an object/],
    ["entry array", [good, good, ["p", "m", [1]]], /entry 3: an array is not an object/],
    ["missing prompt", [{ embedding_model: "m", vector: [1] }], /entry 1: initial_prompt is missing/],
    ["numeric prompt", [good, { ...good, initial_prompt: 5 }], /entry 2: initial_prompt is 5, not a string/],
    ["null prompt", [{ ...good, initial_prompt: null }], /entry 1: initial_prompt is null, not a string/],
    ["missing model", [{ initial_prompt: "p", vector: [1] }], /entry 1: embedding_model is missing/],
    ["array model", [{ ...good, embedding_model: ["m"] }], /entry 1: embedding_model is an array, not a string/],
    ["empty model", [{ ...good, embedding_model: "" }], /entry 1: embedding_model is empty/],
    ["missing vector", [{ initial_prompt: "p", embedding_model: "m" }], /entry 1: vector is missing/],
    ["null vector", [{ ...good, vector: null }], /entry 1: vector is missing/],
    ["string vector", [{ ...good, vector: "[1, 2]" }], /entry 1: vector is the string "\[1, 2\]", not an array/],
    ["empty vector", [good, { ...good, initial_prompt: "q", vector: [] }], /entry 2: vector is empty/],
    ["string element", [{ ...good, vector: [1, "2"] }], /entry 1: vector\[1\] is the string "2", not a number/],
    ["null element", [{ ...good, vector: [null, 1] }], /entry 1: vector\[0\] is null, not a number/],
    ["nested element", [{ ...good, vector: [[1], [2]] }], /entry 1: vector\[0\] is an array, not a number/],
    ["boolean element", [{ ...good, vector: [1, true] }], /entry 1: vector\[1\] is true, not a number/],
  ];
  for (const [name, value, pattern] of cases) {
    it(`reports ${name}`, async () => {
      const path = await writeJson(`invalid-${name.replaceAll(" ", "-")}.json`, value);
      await expectFailure(path, "PROMPT_VECTORS_INVALID", pattern);
    });
  }

  it("reports a number too large for float64 (JSON parses it to Infinity)", async () => {
    const path = await write("huge.json", '[{"initial_prompt": "p", "embedding_model": "m", "vector": [1, 1e400]}]');
    await expectFailure(path, "PROMPT_VECTORS_INVALID", /entry 1: vector\[1\] is Infinity/);
  });

  it("reports mixed dimensions within one model, naming the model and both dimensions", async () => {
    const path = await writeJson("dims.json", [
      { initial_prompt: "a", embedding_model: "other", vector: [1] },
      { initial_prompt: "a", embedding_model: "nomic", vector: [1, 2, 3] },
      { initial_prompt: "b", embedding_model: "nomic", vector: [1, 2, 3, 4] },
    ]);
    await expectFailure(path, "PROMPT_VECTORS_INVALID", /entry 3: embedding model "nomic" .*dimension 4 .*entry 2 has dimension 3/);
  });

  it("reports one (initial_prompt, embedding_model) with two different vectors", async () => {
    const path = await writeJson("conflict.json", [
      { initial_prompt: "a, \"b\"", embedding_model: "m", vector: [1, 2] },
      { initial_prompt: "other", embedding_model: "m", vector: [1, 2] },
      { initial_prompt: "a, \"b\"", embedding_model: "m", vector: [1, 2.5] },
    ]);
    await expectFailure(path, "PROMPT_VECTORS_INVALID", /entry 3: initial_prompt "a, \\"b\\"" .*"m" has a different vector than entry 1/);
  });
});

describe("readPromptVectorsFile: invalid CSV rows", () => {
  const header = "initial_prompt,embedding_model,vector\n";
  const cases: [string, string, RegExp][] = [
    ["NaN", 'p,m,"[NaN]"\n', /row 1: vector\[0\] is NaN, not a finite number/],
    ["nan", 'p,m,"[1, 2]"\nq,m,"[1, nan]"\n', /row 2: vector\[1\] is nan, not a finite number/],
    ["inf", 'p,m,"[inf, 1]"\n', /row 1: vector\[0\] is inf, not a finite number/],
    ["-Infinity", 'p,m,"[1, -Infinity]"\n', /row 1: vector\[1\] is -Infinity, not a finite number/],
    ["not JSON", "p,m,1;2;3\n", /row 1: vector "1;2;3" is not a JSON array of numbers/],
    ["number", "p,m,5\n", /row 1: vector is 5, not an array/],
    ["empty cell", "p,m,\n", /row 1: vector is missing/],
    ["quoted empty cell", 'p,m,""\n', /row 1: vector is missing/],
    ["empty array", 'p,m,"[]"\n', /row 1: vector is empty/],
    ["string element", 'p,m,"[1, ""x""]"\n', /row 1: vector\[1\] is the string "x", not a number/],
    ["empty model", 'p,,"[1]"\n', /row 1: embedding_model is empty/],
    // Row numbers count records, not lines: the first prompt spans three lines.
    ["row after multi-line prompt", '"a\nb\nc",m,"[1]"\nd,m,"[1, 2]"\n', /row 2: embedding model "m" .*dimension 2 .*row 1 has dimension 1/],
    ["conflicting duplicate", 'a,m,"[1]"\nb,m,"[1]"\na,m,"[2]"\n', /row 3: .* has a different vector than row 1/],
  ];
  for (const [name, body, pattern] of cases) {
    it(`reports ${name}`, async () => {
      const path = await write(`invalid-${name.replaceAll(/\W+/g, "-")}.csv`, header + body);
      await expectFailure(path, "PROMPT_VECTORS_INVALID", pattern);
    });
  }

  it("reports a missing column, listing the columns found", async () => {
    const path = await write("no-model.csv", 'initial_prompt,model,vector\np,m,"[1]"\n');
    await expectFailure(path, "PROMPT_VECTORS_INVALID", /no embedding_model column \(found: initial_prompt, model, vector\)/);
  });
});

describe("readPromptVectorsFile: invalid parquet rows", () => {
  const base = "SELECT * FROM (VALUES ";
  const cases: [string, string, RegExp][] = [
    [
      "float NaN",
      `${base}('a', 'm', [1, 2]::FLOAT[]), ('b', 'm', [CAST('nan' AS FLOAT), 1]::FLOAT[])) t(initial_prompt, embedding_model, vector)`,
      /row 2: vector\[0\] is NaN, not a finite number/,
    ],
    [
      "double Infinity",
      `${base}('a', 'm', [1, CAST('-inf' AS DOUBLE)])) t(initial_prompt, embedding_model, vector)`,
      /row 1: vector\[1\] is -Infinity, not a finite number/,
    ],
    [
      "null element",
      `${base}('a', 'm', [1, NULL]::DOUBLE[])) t(initial_prompt, embedding_model, vector)`,
      /row 1: vector\[1\] is null, not a number/,
    ],
    [
      "null vector",
      `${base}('a', 'm', [1]::DOUBLE[]), ('b', 'm', NULL::DOUBLE[])) t(initial_prompt, embedding_model, vector)`,
      /row 2: vector is missing/,
    ],
    [
      "empty vector",
      `${base}('a', 'm', []::DOUBLE[])) t(initial_prompt, embedding_model, vector)`,
      /row 1: vector is empty/,
    ],
    [
      "null prompt",
      `${base}(NULL::VARCHAR, 'm', [1]::DOUBLE[])) t(initial_prompt, embedding_model, vector)`,
      /row 1: initial_prompt is null, not a string/,
    ],
    [
      "mixed dimensions",
      `${base}('a', 'clip', [1, 2]::DOUBLE[]), ('b', 'clip', [1, 2, 3]::DOUBLE[])) t(initial_prompt, embedding_model, vector)`,
      /row 2: embedding model "clip" .*dimension 3 .*row 1 has dimension 2/,
    ],
    [
      "integer prompt column",
      `${base}(1, 'm', [1]::DOUBLE[])) t(initial_prompt, embedding_model, vector)`,
      /column initial_prompt has type INTEGER, not a string/,
    ],
    [
      "string vector column",
      `${base}('a', 'm', '[1, 2]')) t(initial_prompt, embedding_model, vector)`,
      /column vector has type VARCHAR: write it as a list or fixed-size array of float or double/,
    ],
    [
      "missing column",
      `${base}('a', [1]::DOUBLE[])) t(initial_prompt, vector)`,
      /no embedding_model column \(found: initial_prompt, vector\)/,
    ],
  ];
  for (const [name, select, pattern] of cases) {
    it(`reports ${name}`, async () => {
      const path = await writeParquetSql(`invalid-${name.replaceAll(" ", "-")}.parquet`, select);
      await expectFailure(path, "PROMPT_VECTORS_INVALID", pattern);
    });
  }
});
