/**
 * Sends SIGINT or SIGTERM to `compute` at random moments and checks what
 * follows: the process exits 130/143 (or 0 if it had finished) within 5 s,
 * leaves no temporary file, lock or spill directory, the old output stays
 * byte for byte (or, exit 0, the new one is complete), no process of its
 * embedding command is left, and the next run succeeds. Used by
 * test/faults.test.ts (a few trials) and `npm run faults` (more).
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCacheMetadata } from "../../src/sink/cacheMetadata.js";
import { CLI_ENTRY, leftovers } from "./faultTrials.js";

/** The bound the acceptance sets: from the signal to the process gone. */
export const EXIT_BOUND_MS = 5_000;

export type StopSignal = "SIGINT" | "SIGTERM";
const EXPECTED_CODE: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

/** A run to interrupt, and how to set the scene before each trial. */
export interface SignalScenario {
  name: string;
  /** The CLI's arguments. */
  args: string[];
  /** The run's --out (it must hold a complete output before each trial). */
  out: string;
  /** Puts everything back as it must be before a trial (the old output, no reference cache, …). */
  prepare(): void;
  env?: Record<string, string>;
  /** On the command line of every process of the embedding command: none may be left after the run. */
  marker?: string;
  /** A lock someone else holds: the run waits for it (--wait) and must leave it in place. */
  foreignLock?: boolean;
  /** Sends the signal only once the run has reached this point (a path that appears), plus the random delay. */
  after?: string;
  /**
   * The random delay is drawn from [0, window) ms (after `after`, if given).
   * Without it: from [0, 1.1 × a whole run's duration), measured first.
   */
  window?: number;
  /** Before the next run (which must succeed): e.g. the other run's lock goes away. */
  beforeNext?(): void;
}

export interface SignalReport {
  trials: number;
  /** How the runs ended: "exit 130", "exit 0 (finished)", … */
  outcomes: Record<string, number>;
  /** Milliseconds from the signal to the exit, per trial that was signalled. */
  latencies: number[];
  failures: string[];
}

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** performance.now() at the exit. */
  at: number;
}

function start(args: string[], env: Record<string, string>): { child: ReturnType<typeof spawn>; ended: Promise<Ended> } {
  const child = spawn(process.execPath, ["--import", "tsx", CLI_ENTRY, ...args], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const ended = new Promise<Ended>((resolve) => child.on("exit", (code, signal) => { resolve({ code, signal, stderr, at: performance.now() }); }));
  return { child, ended };
}

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Pids of live processes whose command line holds `marker` (Linux: /proc). */
export function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "latin1").includes(marker)) pids.push(Number(name));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

/** The processes with `marker`, after giving killed ones a moment to be reaped. */
async function survivors(marker: string | undefined): Promise<number[]> {
  if (marker === undefined) return [];
  for (let i = 0; i < 20; i++) {
    const left = processesWith(marker);
    if (left.length === 0) return [];
    await sleep(50);
  }
  return processesWith(marker);
}

/** What a run leaves that it should not: temporary outputs, its lock (`foreignLock`: someone else's must stay), spill directories. */
function leftBehind(scenario: SignalScenario, tmp: string, foreignLock = scenario.foreignLock === true): string[] {
  const left = leftovers(scenario.out).filter((f) => !(foreignLock && f.endsWith(".lock")));
  if (foreignLock && !existsSync(`${scenario.out}.lock`)) left.push("(the other run's lock was removed)");
  // DuckDB's spill directory and the like (tsx keeps its compile cache there too: not ours).
  const spilled = existsSync(tmp) ? readdirSync(tmp).filter((f) => f.startsWith("panic-drift")) : [];
  return [...left, ...spilled.map((f) => `TMPDIR/${f}`)];
}

async function waitFor(path: string, limitMs: number): Promise<boolean> {
  for (const began = performance.now(); performance.now() - began < limitMs; await sleep(5)) if (existsSync(path)) return true;
  return existsSync(path);
}

/**
 * `trials` runs of `scenario`, each sent SIGINT or SIGTERM (alternately,
 * starting with a random one) at a random moment of a run's duration (measured
 * first, and stretched by 10% so that some signals come after the end).
 */
export async function signalTrials(scenario: SignalScenario, trials: number, random: () => number = Math.random): Promise<SignalReport> {
  const report: SignalReport = { trials, outcomes: {}, latencies: [], failures: [] };
  const tmp = mkdtempSync(join(tmpdir(), "pd-signal-tmp-"));
  const env = { ...scenario.env, TMPDIR: tmp };
  try {
    // How long a whole run takes, and what a complete output holds.
    scenario.prepare();
    let window = scenario.window;
    if (window === undefined) {
      const began = performance.now();
      const full = await start(scenario.args, env).ended;
      window = (full.at - began) * 1.1;
      if (full.code !== 0) throw new Error(`${scenario.name}: a full run failed: ${full.stderr}`);
    }
    const expectedRows = (await readCacheMetadata(scenario.out))?.rows;

    const first = random() < 0.5 ? 0 : 1;
    for (let trial = 1; trial <= trials; trial++) {
      scenario.prepare();
      const before = sha256(scenario.out);
      const signal: StopSignal = (trial + first) % 2 === 0 ? "SIGINT" : "SIGTERM";
      const delay = Math.round(random() * window);
      const run = start(scenario.args, env);
      // An object, as the flag is set in a callback (a plain `let` would look constant to the checker).
      const exit = { seen: false };
      void run.ended.then(() => (exit.seen = true));
      if (scenario.after !== undefined) await Promise.race([waitFor(scenario.after, 60_000), run.ended]);
      await Promise.race([sleep(delay), run.ended]);
      let sentAt: number | undefined;
      if (!exit.seen) {
        sentAt = performance.now();
        run.child.kill(signal);
      }
      const bound = sleep(EXIT_BOUND_MS).then(() => undefined);
      const ended = await Promise.race([run.ended, bound]);
      const where = `${scenario.name} trial ${trial} (${signal} after ${delay} ms${scenario.after === undefined ? "" : " past the mark"})`;
      if (ended === undefined) {
        report.failures.push(`${where}: still running ${EXIT_BOUND_MS} ms after the signal; killed`);
        run.child.kill("SIGKILL");
        await run.ended;
        report.outcomes["hung"] = (report.outcomes["hung"] ?? 0) + 1;
      } else {
        if (sentAt !== undefined) report.latencies.push(ended.at - sentAt);
        const how = ended.signal !== null ? `died of ${ended.signal}` : `exit ${ended.code}`;
        const outcome = sentAt === undefined ? `${how} (finished before the signal)` : how;
        report.outcomes[outcome] = (report.outcomes[outcome] ?? 0) + 1;
        const same = existsSync(scenario.out) && sha256(scenario.out) === before;
        if (ended.code === 0) {
          // Finished: a complete new output (or the same bytes: the output is deterministic).
          const rows = (await readCacheMetadata(scenario.out))?.rows;
          if (rows !== expectedRows) report.failures.push(`${where}: exit 0 but the output records ${rows} rows (expected ${expectedRows})`);
        } else if (sentAt !== undefined && ended.code === EXPECTED_CODE[signal]) {
          if (!same) report.failures.push(`${where}: exit ${ended.code} but the output changed`);
        } else if (sentAt !== undefined && ended.signal === signal && ended.stderr === "") {
          // Signalled before panic-drift's handlers were in place (Node still loading): the default action, status 128+n for a shell.
          if (!same) report.failures.push(`${where}: died of ${signal} but the output changed`);
        } else {
          report.failures.push(`${where}: ${how}: ${ended.stderr.trim().split("\n")[0] ?? ""}`);
        }
      }
      const left = leftBehind(scenario, tmp);
      if (left.length > 0) report.failures.push(`${where}: left behind: ${left.join(", ")}`);
      const alive = await survivors(scenario.marker);
      if (alive.length > 0) {
        report.failures.push(`${where}: embedding command processes still running: ${alive.join(", ")}`);
        for (const pid of alive) process.kill(pid, "SIGKILL");
      }
      // The next run succeeds, and cleans up after itself.
      scenario.beforeNext?.();
      const next = await start(scenario.args, env).ended;
      if (next.code !== 0) report.failures.push(`${where}: the next run failed: ${next.stderr.trim()}`);
      const after = leftBehind(scenario, tmp, false);
      if (after.length > 0) report.failures.push(`${where}: left behind after the next run: ${after.join(", ")}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return report;
}

/**
 * A run whose embedding command ignores SIGTERM, signalled twice: the
 * second signal ends the process at once (it dies of the signal, as a shell
 * sees it 130/143), the command killed, nothing left behind.
 */
export async function secondSignalTrial(scenario: SignalScenario, signal: StopSignal, gapMs = 100): Promise<{ failures: string[]; latency: number }> {
  const failures: string[] = [];
  const tmp = mkdtempSync(join(tmpdir(), "pd-signal-tmp-"));
  try {
    scenario.prepare();
    const before = sha256(scenario.out);
    const run = start(scenario.args, { ...scenario.env, TMPDIR: tmp });
    if (scenario.after !== undefined && !(await waitFor(scenario.after, 60_000))) failures.push(`${scenario.name}: never reached ${scenario.after}`);
    run.child.kill(signal);
    await sleep(gapMs);
    const second = performance.now();
    run.child.kill(signal);
    const ended = await Promise.race([run.ended, sleep(EXIT_BOUND_MS).then(() => undefined)]);
    let latency = NaN;
    if (ended === undefined) {
      failures.push(`${scenario.name}: still running ${EXIT_BOUND_MS} ms after the second ${signal}`);
      run.child.kill("SIGKILL");
      await run.ended;
    } else {
      latency = ended.at - second;
      const ok = ended.signal === signal || ended.code === EXPECTED_CODE[signal];
      if (!ok) failures.push(`${scenario.name}: after two ${signal}s: exit ${ended.code} / ${ended.signal}: ${ended.stderr.trim()}`);
    }
    if (!existsSync(scenario.out) || sha256(scenario.out) !== before) failures.push(`${scenario.name}: the output changed`);
    const left = leftBehind(scenario, tmp);
    if (left.length > 0) failures.push(`${scenario.name}: left behind: ${left.join(", ")}`);
    const alive = await survivors(scenario.marker);
    if (alive.length > 0) {
      failures.push(`${scenario.name}: embedding command processes still running: ${alive.join(", ")}`);
      for (const pid of alive) process.kill(pid, "SIGKILL");
    }
    return { failures, latency };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface SignalScenarios {
  /** A full compute of a database big enough for reader threads (≥ 50k embeddings). */
  compute: SignalScenario;
  /** An incremental update of an earlier output of that database, after an experiment added runs. */
  update: SignalScenario;
  /** A compute whose embedding command (--embed-cmd) takes 3 s to answer, signalled in its first 1.8 s. */
  embedder: SignalScenario;
  /** A compute waiting (--wait) for another run's lock. */
  lockWait: SignalScenario;
  /** An embedding command that ignores SIGTERM and never answers in time (for secondSignalTrial). */
  stubbornEmbedder: SignalScenario;
}

/**
 * The databases and outputs of the scenarios, made in `dir` (runs × 100
 * text steps × 2 models embeddings in the big one: 250 runs make 50,000).
 */
export async function makeSignalScenarios(dir: string, runs = 250): Promise<SignalScenarios> {
  const { computeDrift } = await import("../../src/compute/computeDrift.js");
  const { makePanicDb } = await import("./makePanicDb.js");
  const { replay } = await import("./engineWriter.js");
  const { default: Database } = await import("better-sqlite3");
  const { copyFileSync, writeFileSync } = await import("node:fs");
  const { hostname } = await import("node:os");
  const { fileURLToPath } = await import("node:url");
  const { randomBytes } = await import("node:crypto");

  const big = join(dir, "big.sqlite");
  makePanicDb(big, { runs, steps: 200, embeddingModels: [{ name: "Dummy", dim: 768 }, { name: "Dummy2", dim: 768 }] });
  /** Computes `out` and keeps a copy: the old output each trial starts from. */
  const keep = async (db: string, out: string) => {
    await computeDrift({ db, out, force: true });
    copyFileSync(out, `${out}.old`);
    return () => { copyFileSync(`${out}.old`, out); };
  };
  const compute = join(dir, "compute.parquet");
  const restoreCompute = await keep(big, compute);

  // The same database, computed, then grown by an experiment: the next compute is an incremental update.
  const grown = join(dir, "grown.sqlite");
  copyFileSync(big, grown);
  const update = join(dir, "update.parquet");
  const restoreUpdate = await keep(grown, update);
  const handle = new Database(grown);
  replay(handle, 0, 30);
  handle.close();

  // Synthetic768 has no built-in reference: the embedding command is asked for it.
  const small = join(dir, "small.sqlite");
  makePanicDb(small, { runs: 6, steps: 8, embeddingModels: [{ name: "Dummy", dim: 768 }, { name: "Synthetic768", dim: 768 }] });
  const embedder = fileURLToPath(new URL("./synthetic-embedder.mjs", import.meta.url));
  const embedScenario = (name: string, env: Record<string, string>): SignalScenario => {
    const out = join(dir, `${name}.parquet`);
    const cache = join(dir, `${name}.prompts.parquet`);
    const log = join(dir, `${name}.requests.log`);
    // Every process of the command carries it on its command line.
    const marker = `--trial-marker-${randomBytes(6).toString("hex")}`;
    const command = `"${process.execPath}" "${embedder}" ${marker}`;
    return {
      name,
      args: ["compute", "--db", small, "--out", out, "--force", "--quiet", "--embed-cmd", command],
      out,
      env: { ...env, EMBED_LOG: log },
      marker,
      after: log,
      prepare() {
        copyFileSync(`${out}.old`, out);
        rmSync(cache, { force: true });
        rmSync(log, { force: true });
      },
    };
  };
  // The signal comes in the first 1.8 s of the command's 3 s: a margin for a busy machine's late timers.
  const embedding = embedScenario("embedder", { EMBED_DELAY_MS: "3000" });
  const stubborn = embedScenario("stubborn", { EMBED_DELAY_MS: "60000", EMBED_IGNORE_TERM: "1" });
  for (const scenario of [embedding, stubborn]) {
    await computeDrift({ db: small, out: scenario.out, force: true, embed: { kind: "command", command: `"${process.execPath}" "${embedder}"` } });
    copyFileSync(scenario.out, `${scenario.out}.old`);
  }

  const locked = join(dir, "locked.parquet");
  await keep(small, locked);
  const lock = `${locked}.lock`;
  return {
    compute: { name: "compute", args: ["compute", "--db", big, "--out", compute, "--force", "--quiet"], out: compute, prepare: restoreCompute },
    update: { name: "update", args: ["compute", "--db", grown, "--out", update, "--quiet"], out: update, prepare: restoreUpdate },
    embedder: { ...embedding, window: 1_800 },
    lockWait: {
      name: "lock wait",
      args: ["compute", "--db", small, "--out", locked, "--force", "--quiet", "--wait", "60"],
      out: locked,
      foreignLock: true,
      window: 1_500,
      prepare() {
        copyFileSync(`${locked}.old`, locked);
        // Held by a live process of this host (this one): the run waits.
        writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() }));
      },
      beforeNext: () => { rmSync(lock, { force: true }); },
    },
    stubbornEmbedder: stubborn,
  };
}

/** "12 ms median, 40 ms max (n = 10)". */
export function latencyText(latencies: readonly number[]): string {
  if (latencies.length === 0) return "no signalled run";
  const sorted = [...latencies].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `${Math.round(median)} ms median, ${Math.round(sorted.at(-1)!)} ms max (n = ${sorted.length})`;
}
