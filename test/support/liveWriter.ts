// A stand-in for a running experiment: commits new embedding rows back to back
// (far faster than panic-tda does) until killed. Usage: liveWriter.ts DB
import Database from "better-sqlite3";

const db = new Database(process.argv[2]);
db.pragma("journal_mode = WAL");
db.pragma("busy_timeout = 5000");
const invocations = db.prepare("SELECT id FROM invocation WHERE type = 'TEXT'").pluck().all() as string[];
const insert = db.prepare(
  "INSERT INTO embedding (id, started_at, completed_at, invocation_id, embedding_model, vector) VALUES (?, '2025-01-01 00:00:00.000000', '2025-01-01 00:00:01.000000', ?, 'Dummy', ?)",
);
const vector = Buffer.from(new Float32Array(768).fill(0.25).buffer);
let n = 0;
const commit = db.transaction(() => {
  for (let k = 0; k < 5; k++, n++) insert.run(`f${n.toString(16).padStart(31, "0")}`, invocations[n % invocations.length], vector);
});
process.send?.("started");
const tick = (): void => {
  commit();
  setImmediate(tick);
};
tick();
