import { styleText } from "node:util";
import { colorEnabled, type CliIO } from "./cliIO.js";

/** Prefix + message, one line on stderr, coloured only where colour is welcome. */
function say(io: CliIO, label: string, color: "yellow" | "red", message: string): void {
  // We decide about colour ourselves (NO_COLOR, our stderr), not styleText from process.stdout.
  const prefix = colorEnabled(io) ? styleText(color, label, { validateStream: false }) : label;
  io.stderr.write(`panic-drift: ${prefix} ${message.replace(/\s*\n\s*/g, " ")}\n`);
}

export function printWarning(io: CliIO, message: string): void {
  say(io, "warning:", "yellow", message);
}

export function printError(io: CliIO, message: string): void {
  say(io, "error:", "red", message);
}
