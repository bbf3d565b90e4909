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

/**
 * The narrowest terminal a spinner line is drawn on. A spinner redraws its
 * line by clearing as many rows as its text wraps onto: on a terminal that
 * reports 0 columns that is Infinity rows (ora then loops forever at full
 * CPU, deaf to signals), on a very narrow one a screenful per frame.
 */
export const MIN_SPINNER_COLUMNS = 20;

/** What a terminal says of itself, as a tty.WriteStream has it. */
export interface TerminalShape {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

/**
 * Whether progress is drawn as a spinner, or not at all: only for a person
 * at a terminal that can show one. Not with --quiet or --json, not when
 * stderr is no terminal, not on TERM=dumb (no cursor movement), and not on
 * a terminal that reports odd dimensions (fewer than MIN_SPINNER_COLUMNS
 * columns, fewer than 2 rows, or none at all): never a redraw that cannot
 * work.
 */
export function progressMode(
  stream: TerminalShape,
  env: Readonly<Record<string, string | undefined>>,
  options: { quiet: boolean; json: boolean },
): "spinner" | "none" {
  if (options.quiet || options.json || stream.isTTY !== true) return "none";
  if (env.TERM === "dumb") return "none";
  return fitsSpinner(stream) ? "spinner" : "none";
}

function fitsSpinner({ columns, rows }: TerminalShape): boolean {
  if (typeof columns !== "number" || !Number.isFinite(columns) || columns < MIN_SPINNER_COLUMNS) return false;
  // A terminal that does not say how many rows it has is taken to have enough.
  return rows === undefined || (Number.isFinite(rows) && rows >= 2);
}

/** An ora spinner on stderr, only where progressMode says so (ora is loaded only then). */
export async function createProgress(io: CliIO, options: { quiet: boolean; json: boolean; color: boolean }): Promise<Progress> {
  const stream = io.stderr as CliIO["stderr"] & TerminalShape;
  if (progressMode(stream, io.env, options) === "none") return silentProgress;
  const { default: ora } = await import("ora");
  let spinner: Ora | undefined;
  /** Once the terminal turned odd (resized to nothing), no spinner again. */
  let off = false;
  const stop = () => {
    spinner?.stop();
    spinner = undefined;
  };
  // Resized under us: ora reads the width on its next frame, so the check must come first (the resize event does).
  const onResize = () => {
    if (fitsSpinner(stream)) return;
    off = true;
    stop();
  };
  const fit = (text: string) => {
    // One row, never wrapped: the spinner and a space take 2 columns.
    const room = (stream.columns ?? 80) - 3;
    return text.length <= room ? text : `${text.slice(0, Math.max(0, room - 1))}…`;
  };
  return {
    start(text) {
      if (off || !fitsSpinner(stream)) return;
      stream.on("resize", onResize);
      // isEnabled: the TTY decision is made above; ora would otherwise also turn itself off under CI.
      spinner = ora({ text: fit(text), stream: io.stderr, discardStdin: false, isEnabled: true, color: options.color ? "cyan" : false }).start();
    },
    update({ done, total, rows }) {
      if (spinner === undefined) return;
      if (!fitsSpinner(stream)) {
        onResize();
        return;
      }
      const percent = total > 0 ? ` ${Math.min(100, Math.floor((100 * done) / total))}%` : "";
      spinner.text = fit(`computing drift:${percent} ${rows.toLocaleString("en-US")} rows`);
    },
    stop() {
      stop();
      stream.off("resize", onResize);
    },
  };
}
