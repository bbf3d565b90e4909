import { EXIT_USAGE, PanicDriftError } from "../errors.js";

/** A caller's mistake in options (exit 2), as opposed to a failure of the data or the tool asked. */
export function usage(message: string): PanicDriftError {
  return new PanicDriftError("USAGE", message, { exitCode: EXIT_USAGE });
}

/** `value` of option `name` of `owner` ("embedding command"), at least `min`, whole when `integer`. */
export function checkNumber(owner: string, name: string, value: number, min: number, integer: boolean): number {
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    const kind = integer ? "an integer" : "a number";
    throw usage(`${owner} option ${name} is ${value}: it must be ${kind} of at least ${min}`);
  }
  return value;
}
