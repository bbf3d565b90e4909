import Database from "better-sqlite3";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makePanicDb } from "../support/makePanicDb.js";
import { runCli } from "../support/runCli.js";

/**
 * Nothing lost: no command writes over a file it reads (however the output
 * path reaches it), replaces a file panic-drift did not write unless told
 * to, or lets a filter that matches nothing replace an output.
 */
let dir: string;
let db: string;
let frame: string;
let vectors: string;
let writer: Database.Database;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pd-safety-"));
  db = join(dir, "runs.sqlite");
  makePanicDb(db, { runs: 3, steps: 8, embeddingModels: [{ name: "Dummy", dim: 768 }, { name: "Dummy2", dim: 768 }] });
  // A running experiment: committed transactions that live only in the -wal so far.
  writer = new Database(db);
  writer.pragma("journal_mode = WAL");
  writer.pragma("wal_autocheckpoint = 0");
  writer.exec("CREATE TABLE notes (x); INSERT INTO notes VALUES ('only in the -wal')");
  vectors = join(dir, "vectors.json");
  writeFileSync(vectors, JSON.stringify([{ initial_prompt: "p", embedding_model: "Nomic", vector: [1, 2, 3] }]));
  expect((await runCli(["compute", "--db", db, "--quiet"])).code).toBe(0);
  frame = join(dir, "runs.drift.parquet");
  expect(existsSync(`${db}-wal`) && existsSync(`${db}-shm`) && existsSync(frame)).toBe(true);
});
afterAll(() => {
  writer.close();
  rmSync(dir, { recursive: true, force: true });
});

const digest = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const lines = (text: string) => text.split("\n").filter((l) => l !== "");

type Input = "database" | "-wal" | "-shm" | "vectors file" | "frame";
const inputPath = (input: Input): string =>
  ({ database: db, "-wal": `${db}-wal`, "-shm": `${db}-shm`, "vectors file": vectors, frame })[input];
const inputWords: Record<Input, RegExp> = {
  database: /the database /,
  "-wal": /the database's wal file /,
  "-shm": /the database's shm file /,
  "vectors file": /the --prompt-vectors file /,
  frame: /the drift frame /,
};

/** Every writing command, the inputs it reads, and its command line with the output at `target`. */
const COMMANDS: readonly { name: string; inputs: readonly Input[]; extension: string; args: (target: string) => string[] }[] = [
  { name: "compute --out", inputs: ["database", "-wal", "-shm", "vectors file"], extension: ".parquet", args: (t) => ["compute", "--db", db, "--prompt-vectors", vectors, "--out", t] },
  { name: "prompts --out", inputs: ["database", "-wal", "-shm", "vectors file"], extension: ".csv", args: (t) => ["prompts", "--db", db, "--prompt-vectors", vectors, "--out", t, "--format", "csv"] },
  { name: "summary --out", inputs: ["database", "-wal", "-shm", "frame"], extension: ".csv", args: (t) => ["summary", "--db", db, "--out", t, "--format", "csv"] },
  { name: "summary --in --out", inputs: ["frame"], extension: ".csv", args: (t) => ["summary", "--in", frame, "--out", t, "--format", "csv"] },
  { name: "plot --spec", inputs: ["database", "-wal", "-shm", "frame"], extension: ".json", args: (t) => ["plot", "--db", db, "--spec", t] },
  { name: "plot --out", inputs: ["database", "-wal", "-shm", "frame"], extension: ".svg", args: (t) => ["plot", "--db", db, "--out", t] },
];

/** The ways an output path can reach an input: as it is, a symbolic link to it, through a linked directory, a hard link. */
const WAYS = ["plainly", "by a symbolic link", "through a linked directory", "by a hard link"] as const;
type Way = (typeof WAYS)[number];

function aimAt(input: string, way: Way, extension: string): string {
  const place = mkdtempSync(join(dir, "aim-"));
  if (way === "plainly") return input;
  if (way === "through a linked directory") {
    const link = join(place, "linked");
    symlinkSync(dir, link);
    return join(link, basename(input));
  }
  // A link whose name the command accepts (plot's picture must end in .svg).
  const link = join(place, `link${extension}`);
  if (way === "by a symbolic link") symlinkSync(input, link);
  else linkSync(input, link);
  return link;
}

describe("no output over an input", () => {
  const cases = COMMANDS.flatMap((command) =>
    command.inputs.flatMap((input) =>
      // plot --out takes only names ending in .svg/.png: reached by links of such names.
      WAYS.filter((way) => !(command.name === "plot --out" && (way === "plainly" || way === "through a linked directory"))).map(
        (way) => [command.name, input, way] as const,
      ),
    ),
  );

  it.each(cases)("%s aimed at the %s %s: exit 1, one line naming both, the input intact", async (name, input, way) => {
    const command = COMMANDS.find((c) => c.name === name)!;
    const path = inputPath(input);
    const target = aimAt(path, way, command.extension);
    const before = digest(path);
    const files = readdirSync(dir).sort();
    const r = await runCli(command.args(target));
    expect(r.code, r.stderr).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^panic-drift: error: --(out|spec) .* is the /);
    expect(r.stderr).toMatch(inputWords[input]);
    expect(r.stderr).toContain(basename(path));
    expect(r.stderr).toMatch(/writing it would destroy it; choose another --(out|spec)\n$/);
    if (way !== "plainly") expect(r.stderr).toMatch(way === "by a hard link" ? /\(the same file by a hard link\)/ : /\(through a symbolic link\)/);
    expect(digest(path)).toBe(before);
    // No lock, no temporary file, nothing new beside the inputs.
    expect(readdirSync(dir).sort()).toEqual(files);
  });

  it("the committed transactions in the -wal are still there", () => {
    const reader = new Database(db, { readonly: true });
    expect(reader.prepare("SELECT x FROM notes").pluck().get()).toBe("only in the -wal");
    reader.close();
  });

  it("an embedder's reference cache that would land on the --prompt-vectors file is refused, and the file kept", async () => {
    const place = mkdtempSync(join(dir, "cache-"));
    const userVectors = join(place, "drift.prompts.parquet");
    expect((await runCli(["prompts", "--db", db, "--out", join(place, "pairs.parquet")])).code).toBe(0);
    copyFileSync(join(place, "pairs.parquet"), userVectors);
    const before = digest(userVectors);
    const r = await runCli(["compute", "--db", db, "--out", join(place, "drift.parquet"), "--prompt-vectors", userVectors, "--embed-cmd", "cat", "--overwrite"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^panic-drift: error: the reference cache .*drift\.prompts\.parquet is the --prompt-vectors file .*: writing it would destroy it; choose another --out \(the cache is kept beside it\)\n$/);
    expect(r.stderr).not.toMatch(/delete/);
    expect(digest(userVectors)).toBe(before);
  });
});

describe("no output over a file panic-drift did not write, unless --overwrite", () => {
  const FOREIGN = "name,score\nalice,3\n";
  const cases: readonly (readonly [name: string, file: string, args: (target: string) => string[]])[] = [
    ["compute", "mine.parquet", (t) => ["compute", "--db", db, "--out", t]],
    ["compute (a .csv name)", "user.csv", (t) => ["compute", "--db", db, "--out", t]],
    ["prompts", "pairs.csv", (t) => ["prompts", "--db", db, "--out", t]],
    ["summary", "summary.csv", (t) => ["summary", "--db", db, "--out", t]],
    ["plot --out", "drift.svg", (t) => ["plot", "--db", db, "--out", t]],
    ["plot --spec", "drift.vl.json", (t) => ["plot", "--db", db, "--spec", t]],
  ];

  it.each(cases)("%s: refused with the option named, replaced with --overwrite, and a second run replaces its own file", async (name, file, args) => {
    const target = join(mkdtempSync(join(dir, "foreign-")), file);
    writeFileSync(target, FOREIGN);
    const refused = await runCli(args(target));
    expect(refused.code).toBe(1);
    expect(lines(refused.stderr)).toEqual([
      `panic-drift: error: --${file.endsWith(".json") ? "spec" : "out"} ${target} already exists and panic-drift did not write it: choose another --${file.endsWith(".json") ? "spec" : "out"}, or pass --overwrite to replace it`,
    ]);
    expect(readFileSync(target, "utf8")).toBe(FOREIGN);
    expect(readdirSync(join(target, ".."))).toEqual([file]);
    const replaced = await runCli([...args(target), "--overwrite"]);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(readFileSync(target, "utf8")).not.toBe(FOREIGN);
    // Its own file of the same kind is replaced without being told: cron and make run the same line again.
    const written = readFileSync(target);
    const again = await runCli(name.startsWith("compute") ? [...args(target), "--force", "--metric", "cosine"] : [...args(target), "--quiet"]);
    expect(again.code, again.stderr).toBe(0);
    if (name.startsWith("compute")) expect(readFileSync(target).equals(written)).toBe(false);
  });

  it("a file panic-drift wrote of another kind is refused too (a summary is not replaced by a prompts list)", async () => {
    const target = join(mkdtempSync(join(dir, "kind-")), "table.csv");
    expect((await runCli(["summary", "--db", db, "--out", target])).code).toBe(0);
    const before = digest(target);
    const r = await runCli(["prompts", "--db", db, "--out", target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^panic-drift: error: --out .*table\.csv holds a summary table that panic-drift wrote, not a prompts table: choose another --out, or pass --overwrite to replace it\n$/);
    expect(digest(target)).toBe(before);
  });

  it("an empty file holds nothing to lose: it is replaced", async () => {
    const target = join(mkdtempSync(join(dir, "empty-")), "drift.parquet");
    writeFileSync(target, "");
    expect((await runCli(["compute", "--db", db, "--out", target, "--quiet"])).code).toBe(0);
    expect(readFileSync(target).subarray(0, 4).toString()).toBe("PAR1");
  });
});

describe("filters that cannot empty the output", () => {
  let copy: string;
  let output: string;
  let before: string;
  beforeAll(async () => {
    const place = mkdtempSync(join(dir, "filters-"));
    copy = join(place, "copy.sqlite");
    copyFileSync(db, copy);
    output = join(place, "copy.drift.parquet");
    expect((await runCli(["compute", "--db", copy, "--quiet"])).code).toBe(0);
    before = digest(output);
  });

  it.each([
    ["--run", ["--run", "0000"], /--run 0000 matches no run of .*copy\.sqlite: check the id \(hyphens optional\); nothing was written$/],
    ["--experiment", ["--experiment", "feed"], /--experiment feed matches no run of .*copy\.sqlite \(its experiments: [0-9a-f-]{36}\): check the id/],
    ["--model in the wrong case", ["--model", "dummy"], /--model dummy matches no embedding of .*copy\.sqlite \(its embedding models: Dummy, Dummy2\): check the spelling \(model names are case-sensitive\); nothing was written$/],
    ["--model that does not exist", ["--model", "Bogus"], /--model Bogus matches no embedding of .*\(its embedding models: Dummy, Dummy2\)/],
  ])("%s that matches nothing: exit 1, one line, the output untouched (compute and prompts)", async (_name, filter, message) => {
    for (const command of ["compute", "prompts"]) {
      const r = await runCli([command, "--db", copy, ...filter]);
      expect(r.code, r.stderr).toBe(1);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr.trimEnd()).toMatch(message);
      expect(r.stdout).toBe("");
    }
    expect(digest(output)).toBe(before);
  });

  it("filters that each match but together match nothing: exit 1, nothing written", async () => {
    const run = new Database(copy, { readonly: true }).prepare("SELECT id FROM run LIMIT 1").pluck().get() as string;
    const target = join(copy, "..", "none.parquet");
    const r = await runCli(["compute", "--db", copy, "--run", run, "--experiment", "0".repeat(32), "--out", target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--experiment 0{32} matches no run/);
    expect(existsSync(target)).toBe(false);
  });

  it("a filtered compute never replaces the unfiltered frame by default: its own --out, or --overwrite", async () => {
    const r = await runCli(["compute", "--db", copy, "--model", "Dummy"]);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([
      `panic-drift: error: --out ${output} holds a frame computed without filters; this compute keeps only --model Dummy: give the filtered frame its own --out FILE, or pass --overwrite to replace it`,
    ]);
    expect(digest(output)).toBe(before);
    const own = join(copy, "..", "dummy.parquet");
    expect((await runCli(["compute", "--db", copy, "--model", "Dummy", "--out", own, "--quiet"])).code).toBe(0);
    // The same filters again: up to date, no question asked.
    expect(JSON.parse((await runCli(["compute", "--db", copy, "--model", "Dummy", "--out", own, "--json"])).stdout).status).toBe("up-to-date");
    // The unfiltered compute may always replace a filtered frame: it holds everything the filtered one did.
    expect((await runCli(["compute", "--db", copy, "--out", own, "--quiet"])).code).toBe(0);
    const replaced = await runCli(["compute", "--db", copy, "--model", "Dummy2", "--overwrite", "--json"]);
    expect(replaced.code).toBe(0);
    expect(JSON.parse(replaced.stdout).rows).toBeGreaterThan(0);
  });
});

describe("--strict refuses every reference that leaves rows NULL", () => {
  let prompts: string[];
  beforeAll(() => {
    const reader = new Database(db, { readonly: true });
    prompts = reader.prepare("SELECT DISTINCT initial_prompt FROM run").pluck().all() as string[];
    reader.close();
  });
  const file = (name: string, vector: (i: number) => number, dim: number) => {
    const path = join(mkdtempSync(join(dir, "strict-")), name);
    writeFileSync(path, JSON.stringify(prompts.map((p) => ({ initial_prompt: p, embedding_model: "Dummy", vector: Array.from({ length: dim }, (_, i) => vector(i)) }))));
    return path;
  };

  it.each([
    ["a reference of the wrong dimension", () => file("v512.json", (i) => (i % 7) / 7 + 0.1, 512), /--strict: the reference vectors of embedding model Dummy have dimension 512, its \d+ vectors 768: give references made by that model \(--prompt-vectors\); nothing was written$/, "dimension_mismatch"],
    ["a zero reference", () => file("zero.json", () => 0, 768), /--strict: \d+ rows have a reference vector of length zero .*; nothing was written$/, "zero_reference"],
  ])("%s: exit 1 with --strict, nothing written; without it, NULL on those rows", async (_name, make, message, reason) => {
    const vectorsFile = make();
    const target = join(vectorsFile, "..", "strict.parquet");
    const strict = await runCli(["compute", "--db", db, "--prompt-vectors", vectorsFile, "--out", target, "--strict"]);
    expect(strict.code).toBe(1);
    expect(lines(strict.stderr)).toHaveLength(1);
    expect(strict.stderr.trimEnd()).toMatch(message);
    expect(existsSync(target)).toBe(false);
    const lenient = await runCli(["compute", "--db", db, "--prompt-vectors", vectorsFile, "--out", target, "--json"]);
    expect(lenient.code).toBe(0);
    expect(JSON.parse(lenient.stdout).null_reasons[reason]).toBeGreaterThan(0);
  });

  it("a missing reference: exit 1 with --strict, nothing written", async () => {
    const place = mkdtempSync(join(dir, "strict-missing-"));
    const nomic = join(place, "nomic.sqlite");
    mkdirSync(join(place, "out"));
    makePanicDb(nomic, { runs: 2, steps: 6, embeddingModels: [{ name: "Nomic", dim: 16 }] });
    const target = join(place, "out", "drift.parquet");
    const r = await runCli(["compute", "--db", nomic, "--out", target, "--strict"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^panic-drift: error: --strict: no reference vector for embedding model Nomic .*nothing was written\n$/);
    expect(readdirSync(join(place, "out"))).toEqual([]);
  });
});
