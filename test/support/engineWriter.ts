/**
 * A deterministic stand-in for a running panic-tda experiment. Transaction k
 * either inserts a whole new run (invocations, and embedding rows with NULL
 * vectors: the engine inserts rows first) or fills in the vectors of the
 * oldest rows still missing them, as the engine does later. Replaying
 * transactions 1..k on a copy of the same start gives the database as of
 * any moment of a live run.
 *
 * As a process (`engineWriter.ts DB`): commits transaction after transaction,
 * a few milliseconds apart, until killed; `{k}` goes to the parent after each.
 */
import Database from "better-sqlite3";

const STEPS = 12;
const PROMPTS = ["a cat sitting on a windowsill", "a red bicycle leaning against a wall", "two people sharing an umbrella"];
const MODELS = ["Dummy", "Dummy2"];
/** Vectors filled per fill transaction. */
const FILL = 7;

const hex32 = (kind: number, k: number, i: number) =>
  `${kind.toString(16).padStart(2, "0")}${k.toString(16).padStart(14, "0")}${i.toString(16).padStart(16, "0")}`;
const timestamp = (k: number, i: number) => {
  const t = new Date(Date.UTC(2025, 5, 1) + k * 60_000 + i * 1_000);
  return `${t.toISOString().slice(0, 19).replace("T", " ")}.${String((k * 7919 + i * 104729) % 1_000_000).padStart(6, "0")}`;
};

/** A nonzero float32 vector for an embedding id. */
function vectorFor(id: string): Buffer {
  let seed = 0;
  for (const c of id) seed = (seed * 31 + c.charCodeAt(0)) % 1_000_003;
  return Buffer.from(Float32Array.from({ length: 768 }, (_, i) => Math.sin(seed + i * 0.5) + 0.01).buffer);
}

/** Transaction k (1, 2, …) on `db`; deterministic given the transactions before it. */
export function engineTransaction(db: Database.Database, k: number): void {
  db.transaction(() => {
    const missing = db.prepare("SELECT rowid, id FROM embedding WHERE vector IS NULL ORDER BY rowid LIMIT ?").raw(true).all(FILL) as [number, string][];
    if (k % 3 !== 1 && missing.length > 0) {
      const fill = db.prepare("UPDATE embedding SET vector = ? WHERE rowid = ?");
      for (const [rowid, id] of missing) fill.run(vectorFor(id), rowid);
      return;
    }
    const runId = hex32(1, k, 0);
    db.prepare("INSERT INTO run (id, network, seed, max_length, initial_prompt, experiment_id) VALUES (?, ?, ?, ?, ?, NULL)").run(
      runId,
      JSON.stringify(["FLUX.1-schnell", "Moondream"]),
      k,
      STEPS,
      PROMPTS[k % PROMPTS.length],
    );
    const invocation = db.prepare(
      "INSERT INTO invocation (id, started_at, completed_at, model, type, seed, run_id, sequence_number, input_invocation_id, output_text, output_image_data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
    );
    const embedding = db.prepare("INSERT INTO embedding (id, started_at, completed_at, invocation_id, embedding_model, vector) VALUES (?, ?, ?, ?, ?, NULL)");
    for (let step = 0; step < STEPS; step++) {
      const id = hex32(2, k, step);
      const text = step % 2 === 1;
      invocation.run(id, timestamp(k, step), timestamp(k, step + 1), text ? "Moondream" : "FLUX.1-schnell", text ? "TEXT" : "IMAGE", k, runId, step, text ? `caption ${k}.${step}` : null, text ? null : Buffer.alloc(64, step));
      if (text) MODELS.forEach((model, m) => embedding.run(hex32(3, k, step * 2 + m), timestamp(k, step + 1), timestamp(k, step + 2), id, model));
    }
  })();
}

/** Applies transactions from+1 … to. */
export function replay(db: Database.Database, from: number, to: number): void {
  for (let k = from + 1; k <= to; k++) engineTransaction(db, k);
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const db = new Database(process.argv[2]);
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  let k = 0;
  const tick = (): void => {
    engineTransaction(db, ++k);
    process.send?.({ k });
    setTimeout(tick, 1 + ((k * 7) % 15));
  };
  tick();
}
