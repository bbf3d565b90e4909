/** The first generation's rows: SQLAlchemy's naive DATETIME text, 32-hex ids, Python's JSON. */
import type Database from "better-sqlite3";
import type { EmbeddingPlan } from "./embeddings.js";
import { datetimeText, pyJson } from "./encodings.js";
import { modelOf, type InvocationPlan } from "./runs.js";
import type { WritePlan, WriteResult } from "./writing.js";

function insertExperiment(db: Database.Database, w: WritePlan): void {
  const { s, times } = w;
  db.prepare("INSERT INTO experimentconfig VALUES (?, ?, ?, ?, ?, ?, ?, ?)").run(
    w.experimentId,
    pyJson(s.networks),
    pyJson(w.runs.filter((r) => r.experimentId).map((r) => r.seed)),
    pyJson(s.prompts),
    pyJson(s.models.map((m) => m.name)),
    s.steps,
    datetimeText(times.started),
    times.completed === null ? null : datetimeText(times.completed),
  );
}

/** Each invocation's input is the previous one of its run. */
function insertInvocations(db: Database.Database, w: WritePlan): number {
  const insInvocation = db.prepare("INSERT INTO invocation VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  let count = 0;
  let previous: InvocationPlan | undefined;
  for (const inv of w.invocations) {
    const input = previous && previous.run === inv.run ? previous.id : null;
    const blob = w.imageFor(inv);
    insInvocation.run(inv.id, datetimeText(inv.startedMicros), datetimeText(inv.completedMicros), modelOf(inv), inv.type, inv.run.seed, inv.run.id, inv.seq, input, inv.text, blob);
    count++;
    previous = inv;
  }
  return count;
}

export function writeGen1(db: Database.Database, w: WritePlan): WriteResult {
  const insRun = db.prepare("INSERT INTO run VALUES (?, ?, ?, ?, ?, ?)");
  const insEmbedding = db.prepare("INSERT INTO embedding VALUES (?, ?, ?, ?, ?, ?)");
  return db.transaction((): WriteResult => {
    insertExperiment(db, w);
    for (const run of w.runs) insRun.run(run.id, pyJson(run.network), run.seed, w.s.steps, run.prompt, run.experimentId);
    const invocationCount = insertInvocations(db, w);
    const written = new Set<EmbeddingPlan>();
    for (const p of w.storageOrder) {
      const { started, completed, blob } = w.vectors.content(p);
      insEmbedding.run(p.id, datetimeText(started), completed === null ? null : datetimeText(completed), p.invocationId, p.model.name, blob);
      written.add(p);
    }
    return { invocationCount, written };
  })();
}
