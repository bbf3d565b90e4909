import type { Ora } from "ora";
import type { ScanProgress } from "../sources/driftSource.js";
import type { CliIO } from "./cliIO.js";

/** Progress as the pipeline reports it; the silent one does nothing. */
export interface Progress {
  start(text: string): void;
  update(progress: ScanProgress): void;
  stop(): void;
}

export const silentProgress: Progress = { start() {}, update() {}, stop() {} };

/** An ora spinner on stderr, only for a person at a terminal (ora is loaded only then). */
export async function createProgress(io: CliIO, options: { quiet: boolean; json: boolean; color: boolean }): Promise<Progress> {
  if (options.quiet || options.json || io.stderr.isTTY !== true) return silentProgress;
  const { default: ora } = await import("ora");
  let spinner: Ora | undefined;
  return {
    start(text) {
      // isEnabled: the TTY decision is made above; ora would otherwise also turn itself off under CI.
      spinner = ora({ text, stream: io.stderr, discardStdin: false, isEnabled: true, color: options.color ? "cyan" : false }).start();
    },
    update({ done, total, rows }) {
      if (spinner === undefined) return;
      const percent = total > 0 ? ` ${Math.min(100, Math.floor((100 * done) / total))}%` : "";
      spinner.text = `computing drift:${percent} ${rows.toLocaleString("en-US")} rows`;
    },
    stop() {
      spinner?.stop();
      spinner = undefined;
    },
  };
}
