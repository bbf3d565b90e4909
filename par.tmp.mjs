import { Worker, isMainThread, workerData, parentPort } from "node:worker_threads";
import Database from "better-sqlite3";
const SQL = "SELECT e.rowid, e.id, e.invocation_id, e.embedding_model, e.started_at, e.completed_at, i.run_id, i.sequence_number, i.model, i.output_text, e.vector FROM embedding AS e CROSS JOIN invocation AS i ON i.id = e.invocation_id WHERE i.type = 'TEXT' AND e.rowid BETWEEN ? AND ?";
if (isMainThread) {
  const n = Number(process.argv[2] ?? 2);
  const max = 200000;
  const t = performance.now();
  await Promise.all(Array.from({ length: n }, (_, k) => new Promise((res) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { from: 1 + Math.floor(k * max / n), to: Math.floor((k + 1) * max / n) } });
    w.on("message", (m) => { console.log("worker", k, m); res(); });
  })));
  console.log(n, "threads total", ((performance.now() - t) / 1000).toFixed(2));
} else {
  const db = new Database("/work/scratch/medium.sqlite", { readonly: true });
  const t = performance.now(); let c = 0;
  for (const r of db.prepare(SQL).raw(true).iterate(workerData.from, workerData.to)) c++;
  parentPort.postMessage({ rows: c, s: ((performance.now() - t) / 1000).toFixed(2) });
}
