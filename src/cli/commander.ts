/**
 * commander, loaded with require(): it is CommonJS, and its ES module
 * wrapper costs 12 ms more on every run, the up-to-date check included.
 */
import { createRequire } from "node:module";
import type * as C from "commander";

const require = createRequire(import.meta.url);
const commander = require("commander") as typeof C;

export const { Command, Option, CommanderError, InvalidArgumentError } = commander;
export type Command = C.Command;
export type Option = C.Option;
export type CommanderError = C.CommanderError;
