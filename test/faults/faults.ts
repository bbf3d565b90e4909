/**
 * npm run faults: the long fault runs. Kills `compute` 100 times at random
 * moments (test/support/faultTrials.ts); sends it SIGINT/SIGTERM at random
 * moments of a full compute with reader threads, of an incremental update,
 * of an embedding command's call and of a wait for the lock, and twice in a
 * row (test/support/signalTrials.ts); runs it 50 times on a database
 * another process keeps writing (test/support/liveTrials.ts), then on 200
 * mutated databases (test/support/fuzzTrials.ts), and prints the counts.
 * Last, an update after 600 new runs with random ids among 4,000 (two 768-d
 * models, 20 steps; test/support/scatteredUpdate.ts), with the built CLI
 * (it runs `npm run build` first): it must equal a --force compute row for
 * row and peak at no more than 300 MB RSS.
 *   tsx test/faults/faults.ts [--trials N] [--signals N] [--live N] [--fuzz N] [--seed S] [--only kill|signals|live|fuzz|scattered]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { makePanicDb } from "../support/makePanicDb.js";
import { killTrials } from "../support/faultTrials.js";
import { fuzzTrials } from "../support/fuzzTrials.js";
import { liveTrials } from "../support/liveTrials.js";
import { SCATTERED_UPDATE, scatteredUpdateTrial } from "../support/scatteredUpdate.js";
import { latencyText, makeSignalScenarios, secondSignalTrial, signalTrials } from "../support/signalTrials.js";
import { PEAK_RSS_FROM } from "../support/timedChild.js";

const { values } = parseArgs({
  options: {
    trials: { type: "string", default: "100" },
    signals: { type: "string", default: "12" },
    live: { type: "string", default: "50" },
    fuzz: { type: "string", default: "200" },
    seed: { type: "string", default: String(Date.now() % 1e9) },
    only: { type: "string" },
  },
});
const trials = Number(values.trials);
const runs = (part: string) => values.only === undefined || values.only === part;
const dir = mkdtempSync(join(tmpdir(), "pd-faults-"));
let failures = 0;
try {
  if (runs("kill")) {
    const db = join(dir, "runs.sqlite");
    makePanicDb(db, { runs: 40, steps: 100, embeddingModels: [{ name: "Dummy", dim: 768 }, { name: "Dummy2", dim: 768 }], edgeCases: true });
    const report = await killTrials(db, join(dir, "runs.drift.parquet"), trials);
    console.log(`kill -9 trials: ${report.trials}, killed before the new file was in place: ${report.killedBeforeWrite}, after: ${report.killedAfterWrite}, failures: ${report.failures.length}`);
    for (const failure of report.failures) console.log(`  FAIL ${failure}`);
    failures += report.failures.length;
  }
  if (runs("signals")) {
    const n = Number(values.signals);
    const scenarios = await makeSignalScenarios(dir);
    const latencies: number[] = [];
    for (const [scenario, count] of [
      [scenarios.compute, n],
      [scenarios.update, n],
      [scenarios.embedder, n],
      [scenarios.lockWait, Math.max(2, Math.ceil(n / 3))],
    ] as const) {
      const report = await signalTrials(scenario, count);
      latencies.push(...report.latencies);
      const outcomes = Object.entries(report.outcomes).map(([how, k]) => `${how}: ${k}`).join(", ");
      console.log(`SIGINT/SIGTERM during ${scenario.name}: ${report.trials} trials (${outcomes}); exit after the signal: ${latencyText(report.latencies)}; failures: ${report.failures.length}`);
      for (const failure of report.failures) console.log(`  FAIL ${failure}`);
      failures += report.failures.length;
    }
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const second = await secondSignalTrial(scenarios.stubbornEmbedder, signal);
      console.log(`a second ${signal} (embedding command ignoring SIGTERM): gone ${Math.round(second.latency)} ms after it; failures: ${second.failures.length}`);
      for (const failure of second.failures) console.log(`  FAIL ${failure}`);
      failures += second.failures.length;
    }
    console.log(`every signalled run: ${latencyText(latencies)} from the signal to the exit`);
  }
  if (runs("live")) {
    const base = join(dir, "live-base.sqlite");
    makePanicDb(base, { runs: 20, steps: 40, embeddingModels: [{ name: "Dummy", dim: 768 }, { name: "Dummy2", dim: 768 }] });
    const live = await liveTrials(base, dir, Number(values.live));
    console.log(`live database runs: ${live.runs} (${live.updates} incremental updates), distinct states seen: ${live.states}, failures: ${live.failures.length}`);
    for (const failure of live.failures) console.log(`  FAIL ${failure}`);
    failures += live.failures.length;
  }
  if (runs("fuzz")) {
    const fixture = join(dir, "fuzz-fixture.sqlite");
    makePanicDb(fixture, { runs: 6, steps: 12, edgeCases: true, embeddingModels: [{ name: "Dummy", dim: 768 }, { name: "DummyText", dim: 256 }] });
    const fuzz = await fuzzTrials(fixture, dir, Number(values.fuzz), Number(values.seed));
    console.log(`fuzz cases: ${fuzz.cases} (seed ${values.seed}), by exit code: ${JSON.stringify(fuzz.byExitCode)}, failures: ${fuzz.failures.length}`);
    for (const failure of fuzz.failures) console.log(`  FAIL ${failure}`);
    failures += fuzz.failures.length;
  }
  if (runs("scattered")) {
    const build = spawnSync("npm", ["run", "build"], { cwd: new URL("../..", import.meta.url), encoding: "utf8" });
    if (build.status !== 0) throw new Error(`npm run build failed (the scattered update runs the built CLI):\n${build.stdout}${build.stderr}`);
    const { runs: total, added, steps, maxRssMB } = SCATTERED_UPDATE;
    const scattered = await scatteredUpdateTrial(dir);
    const figures = (m: { seconds: number; rssMB: number | null }) => `${m.seconds.toFixed(2)} s, ${m.rssMB === null ? "?" : m.rssMB.toFixed(0)} MB`;
    console.log(
      `scattered update: ${added} new runs among ${total} (2 × 768-d, ${steps} steps, ${scattered.rows} rows, ${scattered.stretches} stretches): ` +
        `first compute ${figures(scattered.compute)}; update (${scattered.update.recomputed} recomputed, ${scattered.update.kept} kept) ${figures(scattered.update)}; ` +
        `--force ${figures(scattered.force)} (peak RSS from ${PEAK_RSS_FROM}, at most ${maxRssMB} MB for the update), failures: ${scattered.failures.length}`,
    );
    for (const failure of scattered.failures) console.log(`  FAIL ${failure}`);
    failures += scattered.failures.length;
  }
  process.exitCode = failures === 0 ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
