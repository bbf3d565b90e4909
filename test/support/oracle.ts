/** Runs the independent Python oracle (drift_oracle.py) and parses its JSON lines. */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface OracleRow {
  id: string;
  invocation_id: string;
  embedding_model: string;
  started_at: string | null;
  completed_at: string | null;
  run_id: string;
  sequence_number: number;
  text_model: string;
  text: string | null;
  initial_prompt: string;
  network: string | null;
  experiment_id: string | null;
  semantic_drift: number | null;
}

export const ORACLE_SCRIPT = fileURLToPath(new URL("./drift_oracle.py", import.meta.url));

/** `args` are passed through: --metric, --exclude …, --no-exclude, --prompt-vectors FILE. */
export function runOracle(dbPath: string, args: string[] = []): OracleRow[] {
  const res = spawnSync("python3", [ORACLE_SCRIPT, dbPath, ...args], {
    encoding: "utf8",
    maxBuffer: 1024 * 1024 * 1024, // near V8's string limit; big databases give big outputs
    env: { ...process.env, PYTHONIOENCODING: "utf-8" },
  });
  if (res.error) throw res.error;
  if (res.status !== 0) throw new Error(`drift_oracle.py exited with ${res.status}: ${res.stderr}`);
  return res.stdout
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as OracleRow);
}
