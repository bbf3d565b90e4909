import { usageError } from "../common/errors.js";

/** `value` of option `name` of `owner` ("embedding command"), at least `min`, whole when `integer`. */
export function checkNumber(owner: string, name: string, value: number, min: number, integer: boolean): number {
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    const kind = integer ? "an integer" : "a number";
    throw usageError(`${owner} option ${name} is ${value}: it must be ${kind} of at least ${min}`);
  }
  return value;
}
