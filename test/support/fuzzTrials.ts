/**
 * Mutates a database (bit flips, truncation, random page overwrites) and runs
 * `compute` on each copy: it must end with a documented exit code, one error
 * line and no stack trace, within 10 s, without changing the copy's bytes.
 * Used by test/fuzz.test.ts (20 cases) and `npm run faults` (200).
 */
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnCli } from "./faultTrials.js";

const DOCUMENTED_EXIT_CODES = new Set([0, 1]);
const TIME_LIMIT_MS = 10_000;

/** A small deterministic generator (mulberry32), so that a failing case can be replayed by its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Mutation = "bit flips" | "truncation" | "page overwrite";

/** One mutated copy of `bytes`: what was done, and the new bytes. */
export function mutate(bytes: Buffer, random: () => number): { mutation: Mutation; bytes: Buffer } {
  const pageSize = bytes.readUInt16BE(16) === 1 ? 65536 : bytes.readUInt16BE(16);
  const pages = Math.floor(bytes.length / pageSize);
  const copy = Buffer.from(bytes);
  const kind = Math.floor(random() * 3);
  if (kind === 0) {
    const flips = 1 + Math.floor(random() * 64);
    for (let i = 0; i < flips; i++) copy[Math.floor(random() * copy.length)]! ^= 1 << Math.floor(random() * 8);
    return { mutation: "bit flips", bytes: copy };
  }
  if (kind === 1) return { mutation: "truncation", bytes: copy.subarray(0, Math.floor(random() * copy.length)) };
  const page = Math.floor(random() * pages);
  for (let i = page * pageSize; i < (page + 1) * pageSize; i++) copy[i] = Math.floor(random() * 256);
  return { mutation: "page overwrite", bytes: copy };
}

export interface FuzzReport {
  cases: number;
  byExitCode: Record<string, number>;
  failures: string[];
}

export async function fuzzTrials(fixture: string, work: string, cases: number, seed: number): Promise<FuzzReport> {
  const original = readFileSync(fixture);
  const report: FuzzReport = { cases, byExitCode: {}, failures: [] };
  const random = seededRandom(seed);
  for (let n = 1; n <= cases; n++) {
    const { mutation, bytes } = mutate(original, random);
    const db = `${work}/fuzz-${n}.sqlite`;
    const out = `${work}/fuzz-${n}.drift.parquet`;
    writeFileSync(db, bytes);
    const before = createHash("sha256").update(bytes).digest("hex");
    const started = performance.now();
    const run = spawnCli(["compute", "--db", db, "--out", out, "--quiet"]);
    const timer = setTimeout(() => run.child.kill("SIGKILL"), TIME_LIMIT_MS + 5_000);
    const ended = await run.done;
    clearTimeout(timer);
    const seconds = (performance.now() - started) / 1000;
    const where = `case ${n} (seed ${seed}, ${mutation})`;
    report.byExitCode[String(ended.code ?? ended.signal)] = (report.byExitCode[String(ended.code ?? ended.signal)] ?? 0) + 1;
    if (ended.code === null || !DOCUMENTED_EXIT_CODES.has(ended.code)) report.failures.push(`${where}: ended with ${ended.code ?? ended.signal}`);
    if (seconds * 1000 > TIME_LIMIT_MS) report.failures.push(`${where}: took ${seconds.toFixed(1)} s`);
    if (/^\s+at /m.exec(ended.stderr) !== null || ended.stderr.includes("internal error")) report.failures.push(`${where}: ${ended.stderr.split("\n").slice(0, 3).join(" | ")}`);
    if (ended.code === 1 && ended.stderr.split("\n").filter((l) => l.startsWith("panic-drift: error:")).length !== 1) {
      report.failures.push(`${where}: exit 1 without exactly one error line: ${ended.stderr.slice(0, 300)}`);
    }
    if (createHash("sha256").update(readFileSync(db)).digest("hex") !== before) report.failures.push(`${where}: the database's bytes changed`);
    for (const f of [db, `${db}-wal`, `${db}-shm`, out]) rmSync(f, { force: true });
  }
  return report;
}
