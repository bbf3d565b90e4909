/**
 * DuckDB's Node API and bindings, loaded with require(). Both are CommonJS;
 * importing them as ES modules makes Node scan the source of each of the
 * API's ~60 files for export names: measured 200 ms instead of 100 ms, on
 * the main thread of every run that computes.
 */
import { createRequire } from "node:module";
import type * as Api from "@duckdb/node-api";
import type Bindings from "@duckdb/node-bindings";

const require = createRequire(import.meta.url);
export const duckdbApi = require("@duckdb/node-api") as typeof Api;
export const duckdbBindings = require("@duckdb/node-bindings") as typeof Bindings;
