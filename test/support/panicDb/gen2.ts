/**
 * The second generation's rows: hyphenated UUIDs, ISO 8601 `Z` timestamps,
 * Jason's JSON, lower-case invocation types, insert and update times, and
 * ecto's migration bookkeeping; only what its constraints accept (`selection`).
 */
import type Database from "better-sqlite3";
import type { EmbeddingPlan } from "./embeddings.js";
import { BASE_MICROS, hyphenated, isoText, jasonJson } from "./encodings.js";
import { modelOf, type InvocationPlan, type RunPlan } from "./runs.js";
import { ELIXIR_MIGRATIONS } from "./schema.js";
import type { WritePlan, WriteResult } from "./writing.js";

/** run_number counts the runs of one (experiment, network, prompt): a UNIQUE index holds them apart. */
function runNumbers(w: WritePlan): Map<RunPlan, number> {
  const counts = new Map<string, number>();
  const numbers = new Map<RunPlan, number>();
  for (const run of w.selection.writtenRuns) {
    const key = JSON.stringify([w.selection.experimentOf(run), run.network, run.prompt]);
    const n = counts.get(key) ?? 0;
    counts.set(key, n + 1);
    numbers.set(run, n);
  }
  return numbers;
}

/** The main experiment lists the planned networks and prompts; the second one only its own runs'. */
function insertExperiments(db: Database.Database, w: WritePlan, runNumber: ReadonlyMap<RunPlan, number>): void {
  const ins = db.prepare(
    'INSERT INTO "experiments" ("id", "networks", "num_runs", "prompts", "embedding_models", "max_length", "started_at", "completed_at", "inserted_at", "updated_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const { s, times, selection } = w;
  for (const id of [w.experimentId, selection.secondExperimentId]) {
    if (id === null) continue;
    const own = selection.writtenRuns.filter((r) => selection.experimentOf(r) === id);
    const mine = id === w.experimentId;
    const numRuns = Math.max(1, ...own.map((r) => (runNumber.get(r) ?? 0) + 1));
    const updated = times.completed ?? times.started;
    ins.run(
      hyphenated(id),
      jasonJson(mine ? s.networks : [...new Set(own.map((r) => JSON.stringify(r.network)))].map((n) => JSON.parse(n) as string[])),
      numRuns,
      jasonJson(mine ? s.prompts : [...new Set(own.map((r) => r.prompt))]),
      jasonJson(s.models.map((m) => m.name)),
      s.steps,
      isoText(times.started),
      times.completed === null ? null : isoText(times.completed),
      isoText(times.t0),
      isoText(updated),
    );
  }
}

function insertRuns(db: Database.Database, w: WritePlan, runNumber: ReadonlyMap<RunPlan, number>): void {
  const ins = db.prepare(
    'INSERT INTO "runs" ("id", "experiment_id", "network", "run_number", "max_length", "initial_prompt", "inserted_at", "updated_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  for (const run of w.selection.writtenRuns) {
    const inserted = isoText(BASE_MICROS + run.index * 3_600_000_000 - 500_000);
    ins.run(hyphenated(run.id), hyphenated(w.selection.experimentOf(run)!), jasonJson(run.network), runNumber.get(run), w.s.steps, run.prompt, inserted, inserted);
  }
}

/** Images are drawn for unwritten runs too, so that the written ones get the first generation's bytes. */
function insertInvocations(db: Database.Database, w: WritePlan): number {
  const ins = db.prepare(
    'INSERT INTO "invocations" ("id", "run_id", "input_invocation_id", "sequence_number", "type", "model", "output_text", "output_image", "started_at", "completed_at", "inserted_at", "updated_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  let count = 0;
  let previous: InvocationPlan | undefined;
  for (const inv of w.invocations) {
    const input = previous && previous.run === inv.run ? hyphenated(previous.id) : null;
    const blob = w.imageFor(inv);
    previous = inv;
    if (!w.selection.runWritten.has(inv.run)) continue;
    const inserted = isoText(inv.completedMicros + 1_500);
    const type = inv.type === "TEXT" ? "text" : "image";
    const started = isoText(inv.startedMicros);
    ins.run(hyphenated(inv.id), hyphenated(inv.run.id), input, inv.seq, type, modelOf(inv), inv.text, blob, started, isoText(inv.completedMicros), inserted, inserted);
    count++;
  }
  return count;
}

function insertEmbeddings(db: Database.Database, w: WritePlan): Set<EmbeddingPlan> {
  const ins = db.prepare(
    'INSERT INTO "embeddings" ("id", "invocation_id", "embedding_model", "vector", "started_at", "completed_at", "inserted_at", "updated_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const written = new Set<EmbeddingPlan>();
  for (const p of w.storageOrder) {
    if (!w.selection.planWritten(p)) continue;
    const { started, completed, blob } = w.vectors.content(p);
    if (blob === null) continue; // vectorFor gave none: not computed yet, so no row
    const inserted = isoText((completed ?? started) + 2_000 + (w.vectors.indexOf(p) % 1_000));
    const completedText = completed === null ? null : isoText(completed);
    ins.run(hyphenated(p.id), hyphenated(p.invocationId), p.model.name, blob, isoText(started), completedText, inserted, inserted);
    written.add(p);
  }
  return written;
}

export function writeGen2(db: Database.Database, w: WritePlan): WriteResult {
  return db.transaction((): WriteResult => {
    const runNumber = runNumbers(w);
    insertExperiments(db, w, runNumber);
    insertRuns(db, w, runNumber);
    const invocationCount = insertInvocations(db, w);
    const written = insertEmbeddings(db, w);
    const migrated = db.prepare('INSERT INTO "schema_migrations" ("version", "inserted_at") VALUES (?, ?)');
    ELIXIR_MIGRATIONS.forEach((version, i) => migrated.run(version, isoText(w.times.t0 - 3_600_000_000 + i * 1_000_000).slice(0, 19)));
    return { invocationCount, written };
  })();
}
