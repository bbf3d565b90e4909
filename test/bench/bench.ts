/**
 * `npm run bench` (tsx test/bench/bench.ts): panic-drift against baselines measured
 * in the same run, on generated databases cached outside the repository. A
 * benchmark, not a test: missed targets are reported; only a wrong result (or a
 * failing command) exits non-zero. See test/bench/README.md.
 *
 *   tsx test/bench/bench.ts [--large] [--only medium|medium-gen2|large|many] [--repeat N] [--cold | --no-cold]
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
import Database from "better-sqlite3";
import { makePanicDb, type PanicDbLayout, type PanicDbOptions } from "../support/makePanicDb.js";
import { HAVE_TIME, PEAK_RSS_FROM, TIME, timedChild } from "../support/timedChild.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CACHE_DIR = path.join(os.tmpdir(), "panic-drift-bench");
/** The generator's sources: a cached database is reused only while none of them changed. */
const GENERATOR_DIR = path.join(REPO, "test/support/panicDb");
const GENERATOR = [
  path.join(REPO, "test/support/makePanicDb.ts"),
  ...fs.readdirSync(GENERATOR_DIR).filter((f) => f.endsWith(".ts")).sort().map((f) => path.join(GENERATOR_DIR, f)),
  path.join(REPO, "src/reference/mt19937.ts"),
];
const NUMPY_BASELINE = path.join(REPO, "test/bench/numpy_baseline.py");
const CLI = path.join(REPO, "bin/panic-drift.js");
const GB = 1024 ** 3;
const MB = 1024 ** 2;
const TOLERANCE = 1e-6;

// ---------------------------------------------------------------------------
// Databases.

const DB_NAMES = ["medium", "medium-gen2", "large"] as const;
type DbName = (typeof DB_NAMES)[number];

interface DbSpec {
  name: DbName;
  options: PanicDbOptions;
  /** Rough final size, for progress only. */
  approxBytes: number;
  /** Free space required before generating. */
  minFreeBytes: number;
  /** Also measure an incremental update after 1% more runs. */
  incremental: boolean;
  /** Measure a dataset (--out DIR/): a full compute, and an update after 1% more runs. */
  dataset: boolean;
}

/**
 * What the bench's own queries (the floor, the grown database, counts) need
 * of a database generation: table names and the text-invocation condition,
 * written out here rather than taken from src/ so that the baselines stay
 * independent of the code they measure. The second generation holds the image
 * blob before `type` in each invocation row, so `output_image IS NULL` comes
 * first (decided from the record header alone), as panic-drift does.
 */
interface BenchLayout {
  tables: { experiment: string; run: string; invocation: string; embedding: string };
  textWhere: string;
}

const LAYOUTS: Record<PanicDbLayout, BenchLayout> = {
  gen1: { tables: { experiment: "experimentconfig", run: "run", invocation: "invocation", embedding: "embedding" }, textWhere: "i.type = 'TEXT'" },
  gen2: {
    tables: { experiment: "experiments", run: "runs", invocation: "invocations", embedding: "embeddings" },
    textWhere: "i.output_image IS NULL AND i.type = 'text'",
  },
};

const layoutOf = (spec: DbSpec): BenchLayout => LAYOUTS[spec.options.layout ?? "gen1"];

const SHAPE: PanicDbOptions = {
  steps: 500,
  imageBytes: 4000,
  embeddingModels: [
    { name: "Dummy", dim: 768 },
    { name: "Synthetic768", dim: 768 },
  ],
  shuffle: false,
  seed: 1,
};

const DATABASES: Record<DbName, DbSpec> = {
  // 400 runs × 250 TEXT invocations × 2 models = 200,000 embeddings, ~1.3 GB.
  medium: { name: "medium", options: { runs: 400, ...SHAPE }, approxBytes: 1.36e9, minFreeBytes: 4 * GB, incremental: true, dataset: true },
  // The same experiment in a second-generation (Elixir era) database: runs/invocations/embeddings,
  // 'text', hyphenated ids, ISO timestamps, the image blob before type/model/id in each invocation row.
  "medium-gen2": {
    name: "medium-gen2",
    options: { runs: 400, ...SHAPE, layout: "gen2" },
    approxBytes: 1.4e9,
    minFreeBytes: 4 * GB,
    incremental: true,
    dataset: false,
  },
  // 2,000 runs: 1,000,000 embeddings, ~6.5 GB.
  large: { name: "large", options: { runs: 2000, ...SHAPE }, approxBytes: 6.8e9, minFreeBytes: 30 * GB, incremental: false, dataset: true },
};

interface DbInfo {
  path: string;
  bytes: number;
  embeddingCount: number;
  textEmbeddingRows: number;
  generatedIn: number | null;
}

function dbFileName(spec: DbSpec): string {
  const hash = createHash("sha256").update(JSON.stringify(spec.options));
  for (const file of GENERATOR) hash.update("\0").update(fs.readFileSync(file));
  return `${spec.name}-${hash.digest("hex").slice(0, 10)}.sqlite`;
}

function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes temporary files of interrupted generations (their process is gone). */
function removeStaleTemps(): void {
  for (const f of fs.readdirSync(CACHE_DIR)) {
    const m = /\.tmp-(\d+)(-wal|-shm|-journal)?$/.exec(f);
    if (m && !pidAlive(Number(m[1]))) fs.rmSync(path.join(CACHE_DIR, f), { force: true });
  }
}

let activeGeneration: { child: ReturnType<typeof spawn>; tmp: string } | null = null;
let activeOutDir: string | null = null;

async function ensureDatabase(spec: DbSpec): Promise<DbInfo> {
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  removeStaleTemps();
  const final = path.join(CACHE_DIR, dbFileName(spec));
  const sidecar = `${final}.json`;
  let generatedIn: number | null = null;
  if (!fs.existsSync(final)) {
    const free = freeBytes(CACHE_DIR);
    if (free < spec.minFreeBytes) {
      throw new Error(
        `not enough free disk to generate the ${spec.name} database: ${(free / GB).toFixed(1)} GB free in ${CACHE_DIR}, ` +
          `need at least ${(spec.minFreeBytes / GB).toFixed(0)} GB (the database is ~${(spec.approxBytes / 1e9).toFixed(1)} GB). ` +
          `Free some space (old benchmark databases: rm ${CACHE_DIR}/*.sqlite*) or set TMPDIR to a bigger disk.`,
      );
    }
    const tmp = `${final}.tmp-${process.pid}`;
    log(`generating the ${spec.name} database (~${(spec.approxBytes / 1e9).toFixed(1)} GB) → ${final}`);
    const t0 = performance.now();
    // A child process, so that this one can report progress from the file size.
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--generate-child", JSON.stringify({ path: tmp, options: spec.options })], {
      stdio: ["ignore", "pipe", "inherit"],
      cwd: REPO,
    });
    activeGeneration = { child, tmp };
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setInterval(() => {
      const size = fs.existsSync(tmp) ? fs.statSync(tmp).size : 0;
      const pct = Math.min(99, (100 * size) / spec.approxBytes);
      log(`  ${spec.name}: ${(size / 1e9).toFixed(2)} GB of ~${(spec.approxBytes / 1e9).toFixed(1)} GB (${pct.toFixed(0)}%), ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }, 5000);
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    clearInterval(timer);
    activeGeneration = null;
    if (code !== 0) {
      removeGenerationTemps(tmp);
      throw new Error(`generating ${spec.name} failed (exit ${code})`);
    }
    const manifest = JSON.parse(out) as { embeddingCount: number; textEmbeddingRows: number };
    generatedIn = (performance.now() - t0) / 1000;
    for (const suffix of ["-wal", "-shm"]) {
      if (fs.existsSync(tmp + suffix)) throw new Error(`generation left ${tmp + suffix} behind: the database may be incomplete`);
    }
    fs.writeFileSync(sidecar, JSON.stringify({ ...manifest, options: spec.options, generatedIn }, null, 1));
    fs.renameSync(tmp, final); // complete databases only ever appear under the final name
    log(`  ${spec.name}: done in ${generatedIn.toFixed(0)} s`);
  }
  let embeddingCount: number;
  let textEmbeddingRows: number;
  if (fs.existsSync(sidecar)) {
    ({ embeddingCount, textEmbeddingRows } = JSON.parse(fs.readFileSync(sidecar, "utf8")) as { embeddingCount: number; textEmbeddingRows: number });
  } else {
    const counted = Number(sqliteScalar(final, `SELECT count(*) FROM ${layoutOf(spec).tables.embedding}`));
    embeddingCount = textEmbeddingRows = counted;
  }
  return { path: final, bytes: dbBytes(final), embeddingCount, textEmbeddingRows, generatedIn };
}

/**
 * The database plus 1% more runs (same shape, another seed), appended as an
 * experiment appends them: what an incremental update is measured on.
 * Cached beside the database.
 */
function ensureGrownDatabase(spec: DbSpec, info: DbInfo): { path: string; runsAdded: number } {
  const runsAdded = Math.max(1, Math.round((spec.options.runs ?? 0) / 100));
  const final = info.path.replace(/\.sqlite$/, "-plus1pct.sqlite");
  if (fs.existsSync(final)) return { path: final, runsAdded };
  log(`making ${path.basename(final)}: ${path.basename(info.path)} plus ${runsAdded} runs`);
  const tmp = `${final}.tmp-${process.pid}`;
  const extra = `${final}.extra-${process.pid}`;
  try {
    makePanicDb(extra, { ...spec.options, runs: runsAdded, seed: (spec.options.seed ?? 1) + 1000 });
    fs.copyFileSync(info.path, tmp);
    const db = new Database(tmp);
    db.prepare("ATTACH ? AS extra").run(extra);
    db.transaction(() => {
      for (const table of Object.values(layoutOf(spec).tables)) db.exec(`INSERT INTO main."${table}" SELECT * FROM extra."${table}"`);
    })();
    db.exec("DETACH extra");
    db.close();
    fs.renameSync(tmp, final);
  } finally {
    removeGenerationTemps(tmp);
    removeGenerationTemps(extra);
  }
  return { path: final, runsAdded };
}

/** True when two parquet files hold the same rows in the same order. */
async function sameRowsInOrder(a: string, b: string): Promise<boolean> {
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT (SELECT count(*) FROM read_parquet($1)) = (SELECT count(*) FROM read_parquet($2))
          AND NOT EXISTS (SELECT * FROM read_parquet($1, file_row_number = true) EXCEPT SELECT * FROM read_parquet($2, file_row_number = true))`,
      [a, b],
    );
    return reader.getRows()[0]?.[0] === true;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** True when two parquet globs (datasets) hold the same rows (as multisets). */
async function sameRows(a: string, b: string): Promise<boolean> {
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT (SELECT count(*) FROM read_parquet($1)) = (SELECT count(*) FROM read_parquet($2))
          AND NOT EXISTS (SELECT * FROM read_parquet($1) EXCEPT ALL SELECT * FROM read_parquet($2))`,
      [a, b],
    );
    return reader.getRows()[0]?.[0] === true;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Seconds DuckDB takes to rewrite a frame file as the sink writes it: the part of an update that grows with the output. */
async function rewriteSeconds(file: string, target: string): Promise<number> {
  const instance = await DuckDBInstance.create(":memory:", { threads: "1", preserve_insertion_order: "true" });
  const connection = await instance.connect();
  try {
    const t0 = performance.now();
    await connection.run(`COPY (SELECT * FROM read_parquet('${file}')) TO '${target}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 32768)`);
    return (performance.now() - t0) / 1000;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

function removeGenerationTemps(tmp: string): void {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) fs.rmSync(tmp + suffix, { force: true });
}

function dbBytes(db: string): number {
  return fs.statSync(db).size + (fs.existsSync(`${db}-wal`) ? fs.statSync(`${db}-wal`).size : 0);
}

/** Runs one read-only query in a child process (this one keeps no database handle open). */
function sqliteAll(db: string, sql: string): unknown[][] {
  const js = `const D=require("better-sqlite3");const d=new D(process.argv[1],{readonly:true,fileMustExist:true});console.log(JSON.stringify(d.prepare(process.argv[2]).raw(true).all()));d.close()`;
  const r = spawnSync(process.execPath, ["-e", js, db, sql], { cwd: REPO, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`sqlite query failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown[][];
}

function sqliteScalar(db: string, sql: string): unknown {
  return sqliteAll(db, sql)[0]?.[0];
}

// ---------------------------------------------------------------------------
// Timing child processes (wall time here, peak RSS from /usr/bin/time -v).

interface Sample {
  seconds: number;
  /** User + system CPU seconds of the process and its threads (every core). */
  cpu: number | null;
  rssMB: number | null;
}

function timed(cmd: string, args: string[], rssFile: string): Sample & { stdout: string } {
  const r = timedChild(cmd, args, rssFile, REPO);
  if (r.status !== 0) throw new Error(`command failed (exit ${r.status ?? r.signal}): ${cmd} ${args.join(" ")}\n${r.stderr}${r.timerLines.join("\n")}`);
  return { seconds: r.seconds, cpu: r.cpu, rssMB: r.rssMB, stdout: r.stdout };
}

/** The read floor: one bare query reading every needed vector blob, nothing else. */
function floorSql(layout: BenchLayout): string {
  const { embedding, invocation } = layout.tables;
  return `SELECT e.vector FROM ${embedding} e JOIN ${invocation} i ON i.id = e.invocation_id WHERE ${layout.textWhere}`;
}
const FLOOR_JS = `const Database = require("better-sqlite3");
const db = new Database(process.argv[1], { readonly: true, fileMustExist: true });
let rows = 0, bytes = 0;
for (const [v] of db.prepare(process.argv[2]).raw(true).iterate()) { rows++; if (v) bytes += v.length; }
db.close();
process.stdout.write(JSON.stringify({ rows, bytes }));`;

const EVICT_PY = `import os, sys
for p in sys.argv[1:]:
    if os.path.exists(p):
        fd = os.open(p, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)`;

function evict(db: string): void {
  const r = spawnSync("python3", ["-c", EVICT_PY, db, `${db}-wal`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`page-cache eviction failed: ${r.stderr}`);
}

/** Bytes of the file in the page cache (fincore), or null when fincore is unavailable. */
function residentBytes(file: string): number | null {
  const r = spawnSync("fincore", ["--bytes", "--noheadings", "--output", "RES", file], { encoding: "utf8" });
  if (r.status !== 0 || r.error) return null;
  const n = Number(r.stdout.trim());
  return Number.isFinite(n) ? n : null;
}

// ---------------------------------------------------------------------------
// Measurements.

type Key =
  | "floor"
  | "numpy"
  | "compute"
  | "compute1"
  | "uptodate"
  | "floorCold"
  | "computeCold"
  | "grownFull"
  | "update"
  | "datasetFull"
  | "datasetUpdate"
  | "datasetUpToDate";

const LABELS: Record<Key, string> = {
  floor: "floor",
  numpy: "numpy",
  compute: "compute",
  compute1: "compute -w 1",
  uptodate: "up-to-date",
  floorCold: "floor (cold)",
  computeCold: "compute (cold)",
  grownFull: "compute +1%",
  update: "update +1%",
  datasetFull: "dataset +1%",
  datasetUpdate: "dataset update +1%",
  datasetUpToDate: "dataset up-to-date",
};

interface Measurement {
  key: Key;
  samples: Sample[];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

interface DbResult {
  spec: DbSpec;
  info: DbInfo;
  measurements: Map<Key, Measurement>;
  notes: string[];
  correct: boolean;
  floorRows: number;
}

async function benchDatabase(spec: DbSpec, info: DbInfo, repeat: number, cold: boolean, outDir: string): Promise<DbResult> {
  const db = info.path;
  const FLOOR_SQL = floorSql(layoutOf(spec));
  const outParquet = path.join(outDir, `${spec.name}.drift.parquet`);
  const outNumpy = path.join(outDir, `${spec.name}.numpy.tsv`);
  const rssFile = path.join(outDir, "time.txt");
  const outGrown = path.join(outDir, `${spec.name}-plus1pct.drift.parquet`);
  const outGrownFull = path.join(outDir, `${spec.name}-plus1pct.full.parquet`);
  const notes: string[] = [];
  const measurements = new Map<Key, Measurement>();
  let floorRows = -1;
  let grown: { path: string; runsAdded: number } | undefined;
  const updates: { recomputed_runs: number; kept_runs: number; check_seconds: number; write_seconds: number }[] = [];
  // A dataset is updated in place of its input: a working copy of the database, grown once the first dataset is made.
  const work = path.join(outDir, `${spec.name}-work.sqlite`);
  const datasetBefore = path.join(outDir, `${spec.name}-dataset-before`);
  const datasetUpdated = path.join(outDir, `${spec.name}-dataset`);
  const datasetFull = path.join(outDir, `${spec.name}-dataset-full`);
  const datasetUpdates: { recomputed_runs: number; kept_runs: number; files?: { written: number; kept: number } }[] = [];

  const run = (key: Key): Sample => {
    switch (key) {
      case "floor":
      case "floorCold": {
        const s = timed(process.execPath, ["-e", FLOOR_JS, db, FLOOR_SQL], rssFile);
        floorRows = (JSON.parse(s.stdout) as { rows: number }).rows;
        return s;
      }
      case "numpy":
        return timed("python3", [NUMPY_BASELINE, db, outNumpy], rssFile);
      case "compute":
      case "computeCold":
        // Run as a user runs it: the executable, through its shebang (which sets V8 flags).
        return timed(CLI, ["compute", "--db", db, "--out", outParquet, "--force", "--quiet"], rssFile);
      case "compute1":
        // One thread reading and computing: what a busy or one-core machine gets.
        return timed(CLI, ["compute", "--db", db, "--out", outParquet, "--force", "--quiet", "--workers", "1"], rssFile);
      case "grownFull":
        return timed(CLI, ["compute", "--db", grown!.path, "--out", outGrownFull, "--force", "--quiet"], rssFile);
      case "update": {
        // The file as a cron job finds it: computed before the runs were added.
        fs.copyFileSync(outParquet, outGrown);
        const s = timed(CLI, ["compute", "--db", grown!.path, "--out", outGrown, "--json"], rssFile);
        const report = JSON.parse(s.stdout) as { updated?: { recomputed_runs: number; kept_runs: number; check_seconds: number; write_seconds: number } };
        if (report.updated === undefined) {
          const note = "update: the run did not update the earlier file (it recomputed everything)";
          if (!notes.includes(note)) notes.push(note);
        } else updates.push(report.updated);
        return s;
      }
      case "datasetFull":
        return timed(CLI, ["compute", "--db", work, "--out", `${datasetFull}/`, "--force", "--quiet"], rssFile);
      case "datasetUpdate": {
        // The dataset as a nightly job finds it: made before the runs were added (copied with its files' timestamps).
        fs.rmSync(datasetUpdated, { recursive: true, force: true });
        const copy = spawnSync("cp", ["-a", datasetBefore, datasetUpdated]);
        if (copy.status !== 0) throw new Error(`cp -a ${datasetBefore} ${datasetUpdated} failed: ${String(copy.stderr)}`);
        const s = timed(CLI, ["compute", "--db", work, "--out", `${datasetUpdated}/`, "--json"], rssFile);
        const report = JSON.parse(s.stdout) as { updated?: { recomputed_runs: number; kept_runs: number }; files?: { written: number; kept: number } };
        if (report.updated === undefined) {
          const note = "dataset update: the run did not update the dataset (it recomputed everything)";
          if (!notes.includes(note)) notes.push(note);
        } else datasetUpdates.push({ ...report.updated, ...(report.files === undefined ? {} : { files: report.files }) });
        return s;
      }
      case "datasetUpToDate":
        return timed(CLI, ["compute", "--db", work, "--out", `${datasetUpdated}/`, "--quiet"], rssFile);
      case "uptodate": {
        const before = fs.statSync(outParquet, { bigint: true }).mtimeNs;
        const s = timed(CLI, ["compute", "--db", db, "--out", outParquet, "--quiet"], rssFile);
        if (fs.statSync(outParquet, { bigint: true }).mtimeNs !== before) {
          const note = "up-to-date: the run without --force rewrote the output (it recomputed instead of finding it up to date)";
          if (!notes.includes(note)) notes.push(note);
        }
        return s;
      }
    }
  };

  let evictionChecked = false;
  const phase = (keys: Key[], evictFirst: boolean): void => {
    for (const key of keys) measurements.set(key, { key, samples: [] });
    for (let round = 0; round <= repeat; round++) {
      const tag = round === 0 ? "warm-up" : `round ${round}/${repeat}`;
      for (const key of keys) {
        if (evictFirst) {
          evict(db);
          if (!evictionChecked) {
            evictionChecked = true;
            const res = residentBytes(db);
            if (res === null) notes.push("eviction: fincore not available; judged from timings only");
            else if (res > 0.05 * fs.statSync(db).size) notes.push(`eviction does NOT seem to work: ${(res / MB).toFixed(0)} MB of the database still in the page cache after posix_fadvise(DONTNEED)`);
            else notes.push(`eviction verified with fincore: ${(res / MB).toFixed(1)} MB of ${(fs.statSync(db).size / MB).toFixed(0)} MB still in the page cache after posix_fadvise(DONTNEED)`);
          }
        }
        const s = run(key);
        log(`  ${spec.name} ${tag}: ${LABELS[key].padEnd(14)} ${s.seconds.toFixed(3)} s  ${s.cpu === null ? "?" : s.cpu.toFixed(2)} s CPU  ${s.rssMB === null ? "?" : s.rssMB.toFixed(0)} MB`);
        if (round > 0) measurements.get(key)?.samples.push(s);
      }
    }
  };

  phase(["floor", "numpy", "compute", "compute1", "uptodate"], false);
  let correct = await checkCorrectness(spec.name, outParquet, outNumpy, notes);
  if (spec.incremental) {
    // Incremental update: 1% more runs since the file was computed, against a full compute of the same database.
    grown = ensureGrownDatabase(spec, info);
    phase(["grownFull", "update"], false);
    const same = await sameRowsInOrder(outGrown, outGrownFull);
    notes.push(`update +1%: ${grown.runsAdded} runs added; the updated file ${same ? "equals" : "DIFFERS FROM"} the full compute, row for row`);
    correct &&= same;
    const rewrite = await rewriteSeconds(outGrownFull, path.join(outDir, "rewrite.parquet"));
    const mid = (xs: number[]) => median(xs).toFixed(3);
    if (updates.length > 0) {
      notes.push(
        `update +1% breakdown (medians): finding what changed ${mid(updates.map((u) => u.check_seconds))} s; writing ${mid(updates.map((u) => u.write_seconds))} s ` +
          `(reading ${updates[0]!.recomputed_runs} runs, keeping ${updates[0]!.kept_runs}); rewriting the file alone takes ${rewrite.toFixed(3)} s; the rest is start-up`,
      );
    }
  }
  if (spec.dataset) {
    // A dataset of the database, then 1% more runs in it: a full compute of the dataset against an update of it.
    grown ??= ensureGrownDatabase(spec, info);
    log(`  ${spec.name}: copying the database for the dataset rows`);
    fs.copyFileSync(db, work);
    timed(CLI, ["compute", "--db", work, "--out", `${datasetBefore}/`, "--quiet"], rssFile);
    fs.copyFileSync(grown.path, work);
    phase(["datasetFull", "datasetUpdate", "datasetUpToDate"], false);
    const same = await sameRows(`${datasetUpdated}/**/*.parquet`, `${datasetFull}/**/*.parquet`);
    notes.push(`dataset update +1%: the updated dataset ${same ? "equals" : "DIFFERS FROM"} the full compute of the dataset, row for row`);
    correct &&= same;
    const last = datasetUpdates.at(-1);
    if (last !== undefined) {
      notes.push(`dataset update +1%: ${last.recomputed_runs} runs read, ${last.kept_runs} kept${last.files === undefined ? "" : `; files ${last.files.written} written, ${last.files.kept} kept`}`);
    }
    fs.rmSync(work, { force: true });
    for (const side of ["-wal", "-shm"]) fs.rmSync(`${work}${side}`, { force: true });
  }
  if (cold) {
    phase(["floorCold", "computeCold"], true);
    const warm = median(measurements.get("floor")?.samples.map((s) => s.seconds) ?? []);
    const coldFloor = median(measurements.get("floorCold")?.samples.map((s) => s.seconds) ?? []);
    if (coldFloor < 1.2 * warm) {
      notes.push(`eviction may not work: the cold floor (${coldFloor.toFixed(2)} s) is not clearly slower than the warm one (${warm.toFixed(2)} s); the disk may be as fast as the page cache (e.g. the host caches it)`);
    }
  }
  const plan = sqliteAll(db, `EXPLAIN QUERY PLAN ${FLOOR_SQL}`).map((r) => String(r[3]));
  notes.push(`floor query plan: ${plan.join("; ")}`);
  if (floorRows !== info.textEmbeddingRows) notes.push(`the floor query read ${floorRows} rows, the generator reports ${info.textEmbeddingRows} text embeddings`);
  return { spec, info, measurements, notes, correct, floorRows };
}

// ---------------------------------------------------------------------------
// Correctness: panic-drift's parquet against the numpy baseline's TSV.

async function checkCorrectness(name: string, parquet: string, tsv: string, notes: string[]): Promise<boolean> {
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  const connection = await instance.connect();
  let ids: unknown[];
  let drifts: unknown[];
  try {
    const reader = await connection.runAndReadAll("SELECT id, semantic_drift FROM read_parquet($1)", [parquet]);
    [ids = [], drifts = []] = reader.getColumns();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  const lines = fs.readFileSync(tsv, "utf8").split("\n");
  if (lines.at(-1) === "") lines.pop();

  const problems: string[] = [];
  if (ids.length !== lines.length) problems.push(`row count: panic-drift ${ids.length}, numpy ${lines.length}`);
  let firstIdMismatch = -1;
  let idMismatches = 0;
  let nullMismatches = 0;
  let firstNullMismatch = -1;
  let maxDelta = 0;
  let withDrift = 0;
  const n = Math.min(ids.length, lines.length);
  for (let k = 0; k < n; k++) {
    const line = lines[k] as string;
    const tab = line.indexOf("\t");
    const id = line.slice(0, tab);
    const text = line.slice(tab + 1);
    const expected = text === "" ? null : Number(text);
    const got = drifts[k] as number | null;
    if (ids[k] !== id) {
      idMismatches++;
      if (firstIdMismatch < 0) firstIdMismatch = k;
    }
    if ((got === null) !== (expected === null)) {
      nullMismatches++;
      if (firstNullMismatch < 0) firstNullMismatch = k;
    } else if (got !== null && expected !== null) {
      withDrift++;
      const d = Math.abs(got - expected);
      if (!(d <= maxDelta)) maxDelta = Number.isNaN(d) ? Infinity : d;
    }
  }
  if (idMismatches) problems.push(`row order: ${idMismatches} ids differ, first at row ${firstIdMismatch} (panic-drift ${String(ids[firstIdMismatch])}, numpy ${lines[firstIdMismatch]?.split("\t")[0]})`);
  if (nullMismatches) problems.push(`NULL positions: ${nullMismatches} rows differ, first at row ${firstNullMismatch}`);
  if (maxDelta > TOLERANCE) problems.push(`max |Δdrift| ${maxDelta.toExponential(2)} > ${TOLERANCE}`);
  if (withDrift === 0) problems.push("no row has a drift: nothing was compared");
  const summary = `${n} rows, ${withDrift} with drift, ${n - withDrift - nullMismatches} NULL; max |Δdrift| ${maxDelta.toExponential(2)}`;
  if (problems.length === 0) {
    notes.unshift(`correctness: PASS (${summary}) against the numpy baseline`);
    return true;
  }
  notes.unshift(`correctness: FAIL: ${problems.join("; ")} (${summary})`);
  log(`!!! ${name}: panic-drift's output differs from the numpy baseline: ${problems.join("; ")}`);
  return false;
}

// ---------------------------------------------------------------------------
// Report.

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  const line = (r: string[]): string => `| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join(" | ")} |`;
  return [line(rows[0] ?? []), `|${widths.map((w, c) => (c === 0 ? "-".repeat(w + 1) + "-" : "-".repeat(w + 1) + ":")).join("|")}|`, ...rows.slice(1).map(line)].join("\n");
}

/** Median and best seconds of one row, its median CPU seconds, and its peak RSS over the timed runs. */
function stat(r: DbResult, key: Key): { med: number; best: number; cpu: number | null; rss: number | null } | null {
  const m = r.measurements.get(key);
  if (!m || m.samples.length === 0) return null;
  const secs = m.samples.map((s) => s.seconds);
  const cpu = m.samples.map((s) => s.cpu).filter((x): x is number => x !== null);
  const rss = m.samples.map((s) => s.rssMB).filter((x): x is number => x !== null);
  return { med: median(secs), best: Math.min(...secs), cpu: cpu.length ? median(cpu) : null, rss: rss.length ? Math.max(...rss) : null };
}

function report(r: DbResult, repeat: number): string {
  const floor = stat(r, "floor");
  const floorCold = stat(r, "floorCold");
  const numpy = stat(r, "numpy");
  const rows: string[][] = [["what", "seconds (median)", "best", "× floor", "× numpy", "CPU s (median)", "CPU × numpy", "peak RSS MB"]];
  for (const key of Object.keys(LABELS) as Key[]) {
    const s = stat(r, key);
    if (!s) continue;
    const base = key.endsWith("Cold") ? floorCold : floor;
    rows.push([
      LABELS[key],
      s.med.toFixed(3),
      s.best.toFixed(3),
      base ? `${(s.med / base.med).toFixed(2)}×` : "—",
      numpy && !key.endsWith("Cold") ? `${(s.med / numpy.med).toFixed(2)}×` : "—",
      s.cpu === null ? "?" : s.cpu.toFixed(2),
      s.cpu !== null && numpy?.cpu && !key.endsWith("Cold") ? `${(s.cpu / numpy.cpu).toFixed(2)}×` : "—",
      s.rss === null ? "?" : s.rss.toFixed(0),
    ]);
  }
  const { info } = r;
  const out: string[] = [];
  out.push(`## ${r.spec.name}: ${path.basename(info.path)}`);
  out.push(
    `database: ${(info.bytes / GB).toFixed(2)} GiB (${info.bytes.toLocaleString("en-US")} bytes), ${info.embeddingCount.toLocaleString("en-US")} embeddings, ` +
      `${info.textEmbeddingRows.toLocaleString("en-US")} output rows; floor read ${r.floorRows.toLocaleString("en-US")} vectors` +
      (info.generatedIn === null ? " (cached)" : ` (generated in ${info.generatedIn.toFixed(0)} s)`),
  );
  out.push(`median of ${repeat} run(s) after one warm-up; peak RSS = max over the timed runs; cold rows' × floor is against floor (cold)`);
  out.push("");
  out.push(table(rows));
  out.push("");
  const compute = stat(r, "compute");
  const upToDate = stat(r, "uptodate");
  const verdict = (ok: boolean): string => (ok ? "PASS" : "FAIL");
  if (compute && numpy) out.push(`${verdict(compute.med <= numpy.med / 2)}  compute ≤ numpy/2          numpy/compute = ${(numpy.med / compute.med).toFixed(2)}×`);
  if (compute && floor) out.push(`${verdict(compute.med <= 2 * floor.med)}  compute ≤ 2 × floor        compute/floor = ${(compute.med / floor.med).toFixed(2)}×`);
  if (compute?.cpu != null && numpy?.cpu != null) out.push(`${verdict(compute.cpu <= numpy.cpu / 2)}  compute CPU ≤ numpy CPU/2  compute/numpy CPU = ${(compute.cpu / numpy.cpu).toFixed(2)}×`);
  const one = stat(r, "compute1");
  if (one && numpy) out.push(`${verdict(one.med * 1.5 <= numpy.med)}  compute -w 1 ≤ numpy/1.5   numpy/compute -w 1 = ${(numpy.med / one.med).toFixed(2)}×`);
  if (upToDate) out.push(`${verdict(upToDate.best <= 0.3)}  up-to-date best ≤ 0.3 s    best ${upToDate.best.toFixed(3)} s (median ${upToDate.med.toFixed(3)} s)`);
  if (compute) out.push(`${compute.rss === null ? "????" : verdict(compute.rss <= 300)}  compute peak RSS ≤ 300 MB  ${compute.rss === null ? "unknown" : `${compute.rss.toFixed(0)} MB`}`);
  const update = stat(r, "update");
  const grownFull = stat(r, "grownFull");
  if (update && grownFull) out.push(`${verdict(update.med <= 0.3 * grownFull.med)}  update +1% ≤ 0.3 × compute   update/compute = ${(update.med / grownFull.med).toFixed(2)}×`);
  const datasetUpdate = stat(r, "datasetUpdate");
  const datasetFullStat = stat(r, "datasetFull");
  if (datasetUpdate && datasetFullStat) {
    const limit = r.spec.name === "large" ? 0.1 : 0.25;
    out.push(`${verdict(datasetUpdate.med <= limit * datasetFullStat.med)}  dataset update +1% ≤ ${limit} × dataset compute   update/compute = ${(datasetUpdate.med / datasetFullStat.med).toFixed(2)}×`);
  }
  const datasetUpToDate = stat(r, "datasetUpToDate");
  if (datasetUpToDate) out.push(`${verdict(datasetUpToDate.best <= 0.3)}  dataset up-to-date best ≤ 0.3 s   best ${datasetUpToDate.best.toFixed(3)} s`);
  const computeCold = stat(r, "computeCold");
  if (computeCold && floorCold) out.push(`info  compute (cold)/floor (cold) = ${(computeCold.med / floorCold.med).toFixed(2)}×`);
  out.push("");
  for (const note of r.notes) out.push(`note: ${note}`);
  return out.join("\n");
}

/** Ratio above which the second generation's figure counts as slower (or bigger) than the first's. */
const GENERATION_RATIO = 1.2;

/** "Speed holds": each gen-2 figure against the gen-1 one of the same experiment. */
function compareGenerations(g1: DbResult, g2: DbResult): string {
  const out: string[] = [];
  out.push(`## second generation against first: ${g2.spec.name} / ${g1.spec.name} (the same experiment in each layout)`);
  out.push(
    `PASS when gen-2's figure ≤ ${GENERATION_RATIO} × gen-1's (within ${((GENERATION_RATIO - 1) * 100).toFixed(0)}%). The figures are the ratios each database's table shows, ` +
      `against baselines measured in the same rounds: the two databases are measured one after the other, and this machine's speed drifts by more than 20% between them (the seconds are shown for that)`,
  );
  out.push("");
  const med = (r: DbResult, key: Key): number | null => stat(r, key)?.med ?? null;
  const ratio = (r: DbResult, key: Key, base: Key): number | null => {
    const a = med(r, key);
    const b = med(r, base);
    return a === null || b === null || b === 0 ? null : a / b;
  };
  type Row = { label: string; a: number | null; b: number | null; unit: "×" | "MB" | "s" };
  const rows: Row[] = (<Row[]>[
    { label: "compute × floor", a: ratio(g1, "compute", "floor"), b: ratio(g2, "compute", "floor"), unit: "×" },
    { label: "compute × numpy", a: ratio(g1, "compute", "numpy"), b: ratio(g2, "compute", "numpy"), unit: "×" },
    { label: "compute (cold) × floor (cold)", a: ratio(g1, "computeCold", "floorCold"), b: ratio(g2, "computeCold", "floorCold"), unit: "×" },
    { label: "update +1% × compute +1%", a: ratio(g1, "update", "grownFull"), b: ratio(g2, "update", "grownFull"), unit: "×" },
    { label: "compute peak RSS", a: stat(g1, "compute")?.rss ?? null, b: stat(g2, "compute")?.rss ?? null, unit: "MB" },
  ]).filter((row) => row.a !== null || row.b !== null);
  const fmt = (x: number | null, unit: "×" | "MB" | "s"): string => (x === null ? "?" : unit === "×" ? `${x.toFixed(2)}×` : unit === "s" ? `${x.toFixed(3)} s` : `${x.toFixed(0)} MB`);
  const width = Math.max(...rows.map((r) => r.label.length));
  for (const { label, a, b, unit } of rows) {
    const r = a !== null && b !== null && a > 0 ? b / a : null;
    const verdict = r === null ? "????" : r <= GENERATION_RATIO ? "PASS" : "FAIL";
    out.push(`${verdict}  ${label.padEnd(width)}  gen-2 ${fmt(b, unit).padStart(7)}  gen-1 ${fmt(a, unit).padStart(7)}  gen-2/gen-1 = ${r === null ? "?" : `${r.toFixed(2)}×`}`);
  }
  out.push("");
  for (const key of ["floor", "numpy", "compute", "uptodate", "update"] as Key[]) {
    const a = med(g1, key);
    const b = med(g2, key);
    if (a !== null || b !== null) out.push(`info  ${LABELS[key].padEnd(width)}  gen-2 ${fmt(b, "s").padStart(9)}  gen-1 ${fmt(a, "s").padStart(9)}`);
  }
  return out.join("\n");
}

const loadAtStart = os.loadavg();

function versions(): string {
  const py = spawnSync("python3", ["-c", "import sys, numpy; print(sys.version.split()[0], numpy.__version__)"], { encoding: "utf8" });
  const [python = "?", numpyVersion = "?"] = py.status === 0 ? py.stdout.trim().split(" ") : [];
  const git = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO, encoding: "utf8" });
  const cpu = os.cpus();
  return [
    `date: ${new Date().toISOString()}`,
    `machine: ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? "?"}), ${(os.totalmem() / GB).toFixed(1)} GiB RAM, load average ${loadAtStart.map((x) => x.toFixed(2)).join(" ")} at the start, ${os.loadavg().map((x) => x.toFixed(2)).join(" ")} at the end`,
    `node ${process.version}, python ${python}, numpy ${numpyVersion}; panic-drift at ${git.status === 0 ? git.stdout.trim() : "?"} (plus any uncommitted changes)`,
    `peak RSS from ${PEAK_RSS_FROM}; databases cached in ${CACHE_DIR} (delete with: rm -f ${CACHE_DIR}/*)`,
  ].join("\n");
}

// ---------------------------------------------------------------------------
// Many sources: 40 databases of ~5k embeddings each, as a lab keeps one per batch or per GPU node.

const MANY = 40;
const MANY_OPTIONS: PanicDbOptions = { ...SHAPE, runs: 10 };

/** The 40 databases (cached), and one database holding the same runs. */
function ensureManyDatabases(): { dir: string; paths: string[]; one: string } {
  const hash = createHash("sha256").update(JSON.stringify({ MANY, MANY_OPTIONS }));
  for (const file of GENERATOR) hash.update("\0").update(fs.readFileSync(file));
  const dir = path.join(CACHE_DIR, `many-${hash.digest("hex").slice(0, 10)}`);
  const one = `${dir}-one.sqlite`;
  const paths = Array.from({ length: MANY }, (_, i) => path.join(dir, `batch-${String(i).padStart(2, "0")}.sqlite`));
  fs.mkdirSync(dir, { recursive: true });
  for (const [i, target] of paths.entries()) {
    if (fs.existsSync(target)) continue;
    log(`generating ${path.basename(target)} (${i + 1} of ${MANY})`);
    const tmp = `${target}.tmp-${process.pid}`;
    makePanicDb(tmp, { ...MANY_OPTIONS, seed: 1000 + i });
    fs.renameSync(tmp, target);
  }
  if (!fs.existsSync(one)) {
    log(`making ${path.basename(one)}: the ${MANY} databases' runs in one`);
    const tmp = `${one}.tmp-${process.pid}`;
    fs.copyFileSync(paths[0]!, tmp);
    const db = new Database(tmp);
    for (const extra of paths.slice(1)) {
      db.prepare("ATTACH ? AS extra").run(extra);
      db.transaction(() => {
        for (const table of ["experimentconfig", "run", "invocation", "embedding"]) db.exec(`INSERT INTO main."${table}" SELECT * FROM extra."${table}"`);
      })();
      db.exec("DETACH extra");
    }
    db.close();
    fs.renameSync(tmp, one);
  }
  return { dir, paths, one };
}

type ManyKey = "loop" | "file" | "dataset" | "one" | "datasetUpToDate";
const MANY_LABELS: Record<ManyKey, string> = {
  loop: `shell loop: ${MANY} computes`,
  one: "one database, same runs",
  file: `${MANY} inputs → one file`,
  dataset: `${MANY} inputs → dataset`,
  datasetUpToDate: "dataset up-to-date",
};

async function benchManySources(repeat: number, outDir: string): Promise<{ text: string; correct: boolean }> {
  const { dir, one } = ensureManyDatabases();
  const rssFile = path.join(outDir, "time.txt");
  const loopDir = path.join(outDir, "many-loop");
  const file = path.join(outDir, "many.parquet");
  const dataset = path.join(outDir, "many-dataset");
  const oneOut = path.join(outDir, "many-one.parquet");
  fs.mkdirSync(loopDir, { recursive: true });
  const glob = path.join(dir, "*.sqlite");
  const loop = `for f in '${dir}'/*.sqlite; do '${CLI}' compute --db "$f" --out '${loopDir}'/"$(basename "$f" .sqlite)".parquet --force --quiet || exit 1; done`;
  const run = (key: ManyKey): Sample => {
    switch (key) {
      case "loop":
        return timed("bash", ["-c", loop], rssFile);
      case "file":
        return timed(CLI, ["compute", "--db", glob, "--out", file, "--force", "--quiet"], rssFile);
      case "dataset":
        return timed(CLI, ["compute", "--db", glob, "--out", `${dataset}/`, "--force", "--quiet"], rssFile);
      case "one":
        return timed(CLI, ["compute", "--db", one, "--out", oneOut, "--force", "--quiet"], rssFile);
      case "datasetUpToDate":
        return timed(CLI, ["compute", "--db", glob, "--out", `${dataset}/`, "--quiet"], rssFile);
    }
  };
  const keys: ManyKey[] = ["loop", "one", "file", "dataset", "datasetUpToDate"];
  const samples = new Map<ManyKey, Sample[]>(keys.map((k) => [k, []]));
  for (let round = 0; round <= repeat; round++) {
    for (const key of keys) {
      const s = run(key);
      log(`  many ${round === 0 ? "warm-up" : `round ${round}/${repeat}`}: ${MANY_LABELS[key].padEnd(28)} ${s.seconds.toFixed(3)} s  ${s.cpu === null ? "?" : s.cpu.toFixed(2)} s CPU  ${s.rssMB === null ? "?" : s.rssMB.toFixed(0)} MB`);
      if (round > 0) samples.get(key)!.push(s);
    }
  }
  const same = (await sameRows(`${dataset}/**/*.parquet`, file)) && (await sameRows(file, oneOut)) && (await sameRows(`${loopDir}/*.parquet`, file));
  const med = (key: ManyKey, f: (s: Sample) => number | null) => {
    const xs = samples.get(key)!.map(f).filter((x): x is number => x !== null);
    return xs.length === 0 ? null : median(xs);
  };
  const rows: string[][] = [["what", "seconds (median)", "× shell loop", "CPU s (median)", "peak RSS MB"]];
  const loopSeconds = med("loop", (s) => s.seconds)!;
  for (const key of keys) {
    const seconds = med(key, (s) => s.seconds)!;
    const cpu = med(key, (s) => s.cpu);
    const rss = Math.max(...samples.get(key)!.map((s) => s.rssMB ?? 0));
    rows.push([MANY_LABELS[key], seconds.toFixed(3), `${(seconds / loopSeconds).toFixed(2)}×`, cpu === null ? "?" : cpu.toFixed(2), rss === 0 ? "?" : rss.toFixed(0)]);
  }
  const datasetSeconds = med("dataset", (s) => s.seconds)!;
  const text = [
    `## many sources: ${MANY} databases of ${MANY_OPTIONS.runs} runs (~5,000 embeddings) each`,
    `median of ${repeat} run(s) after one warm-up; the shell loop's peak RSS is its largest child's`,
    "",
    table(rows),
    "",
    `${datasetSeconds < loopSeconds ? "PASS" : "FAIL"}  ${MANY} inputs → dataset faster than the shell loop   dataset/loop = ${(datasetSeconds / loopSeconds).toFixed(2)}×`,
    `note: the dataset, the one file, the shell loop's ${MANY} files and the one database's file ${same ? "hold the same rows" : "DIFFER"}`,
  ].join("\n");
  return { text, correct: same };
}

// ---------------------------------------------------------------------------
// Main.

function generateChild(arg: string): void {
  const { path: target, options } = JSON.parse(arg) as { path: string; options: PanicDbOptions };
  const m = makePanicDb(target, options);
  process.stdout.write(JSON.stringify({ embeddingCount: m.embeddingCount, textEmbeddingRows: m.textEmbeddingRows }));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      large: { type: "boolean", default: false },
      only: { type: "string" },
      repeat: { type: "string", default: "3" },
      cold: { type: "boolean" },
      "no-cold": { type: "boolean" },
      "generate-child": { type: "string" },
    },
  });
  if (values["generate-child"] !== undefined) {
    generateChild(values["generate-child"]);
    return 0;
  }
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat must be a positive integer, not ${values.repeat}`);
  if (values.only !== undefined && values.only !== "many" && !(DB_NAMES as readonly string[]).includes(values.only)) throw new Error(`--only must be one of ${DB_NAMES.join(", ")} or many, not ${values.only}`);
  if (values.cold && values["no-cold"]) throw new Error("--cold and --no-cold contradict each other");
  const cold = !values["no-cold"];
  const names: DbName[] = values.only === "many" ? [] : values.only ? [values.only as DbName] : values.large ? ["medium", "medium-gen2", "large"] : ["medium", "medium-gen2"];
  const many = values.only === undefined || values.only === "many";

  log("building (npm run build) …");
  const build = spawnSync("npm", ["run", "build"], { cwd: REPO, encoding: "utf8" });
  if (build.status !== 0) {
    log(`${build.stdout}${build.stderr}`);
    throw new Error("npm run build failed: the benchmark measures the current code, so it needs a build");
  }
  if (!HAVE_TIME) log(`note: ${TIME} is missing; peak RSS comes from python's getrusage instead`);

  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "panic-drift-bench-out-"));
  activeOutDir = outDir;
  const results: DbResult[] = [];
  let manyResult: { text: string; correct: boolean } | undefined;
  try {
    for (const name of names) {
      const spec = DATABASES[name];
      const info = await ensureDatabase(spec);
      log(`benchmarking ${name} (${(info.bytes / GB).toFixed(2)} GiB, ${info.embeddingCount} embeddings), repeat ${repeat}${cold ? ", with cold rows" : ""}`);
      results.push(await benchDatabase(spec, info, repeat, cold, outDir));
    }
    if (many) {
      log(`benchmarking many sources, repeat ${repeat}`);
      manyResult = await benchManySources(repeat, outDir);
    }
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }

  const lines = ["", "# panic-drift benchmark", "", versions(), ""];
  for (const r of results) lines.push(report(r, repeat), "");
  const gen1 = results.find((r) => r.spec.name === "medium");
  const gen2 = results.find((r) => r.spec.name === "medium-gen2");
  if (gen1 && gen2) lines.push(compareGenerations(gen1, gen2), "");
  if (manyResult !== undefined) lines.push(manyResult.text, "");
  const ok = results.every((r) => r.correct) && manyResult?.correct !== false;
  lines.push(ok ? "correctness: PASS on every database (missed targets are reported, not failures)" : "correctness: FAIL: panic-drift's output differs from the numpy baseline (see above)");
  process.stdout.write(`${lines.join("\n")}\n`);
  return ok ? 0 : 1;
}

function cleanUpAndExit(signal: NodeJS.Signals): void {
  if (activeGeneration) {
    activeGeneration.child.kill(signal);
    removeGenerationTemps(activeGeneration.tmp);
  }
  if (activeOutDir) fs.rmSync(activeOutDir, { recursive: true, force: true });
  process.exit(130);
}
process.once("SIGINT", cleanUpAndExit);
process.once("SIGTERM", cleanUpAndExit);

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(`bench: error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
