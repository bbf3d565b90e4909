import { DuckDBInstance } from "@duckdb/node-api";
const i = await DuckDBInstance.create(":memory:"); const c = await i.connect();
const r = await c.runAndReadAll(process.argv[2]); console.log(r.columnNames().join(" | ")); for (const row of r.getRowsJson()) console.log(row.join(" | "));
