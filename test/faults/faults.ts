/**
 * npm run faults: the long fault runs. Kills `compute` 100 times at random
 * moments (see test/support/faultTrials.ts) and prints the counts.
 *   tsx test/faults/faults.ts [--trials N]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { makePanicDb } from "../support/makePanicDb.js";
import { killTrials } from "../support/faultTrials.js";

const { values } = parseArgs({ options: { trials: { type: "string", default: "100" } } });
const trials = Number(values.trials);
const dir = mkdtempSync(join(tmpdir(), "pd-faults-"));
try {
  const db = join(dir, "runs.sqlite");
  makePanicDb(db, { runs: 40, steps: 100, embeddingModels: [{ name: "Dummy", dim: 768 }, { name: "Dummy2", dim: 768 }], edgeCases: true });
  const report = await killTrials(db, join(dir, "runs.drift.parquet"), trials);
  console.log(`kill -9 trials: ${report.trials}, killed before the new file was in place: ${report.killedBeforeWrite}, after: ${report.killedAfterWrite}, failures: ${report.failures.length}`);
  for (const failure of report.failures) console.log(`  FAIL ${failure}`);
  process.exitCode = report.failures.length === 0 ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
