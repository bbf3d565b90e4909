import { openSource } from "./src/sources/openSource.ts";
import { workerDriftStream } from "./src/parallel/workerDriftStream.ts";
import { localDriftStream } from "./src/driftStream.ts";
import { ParquetSink } from "./src/sink/parquetSink.ts";
import { ReferenceResolver } from "./src/reference/referenceResolver.ts";
const path = process.argv[2]!;
const workers = Number(process.argv[3] ?? 2);
const sinkOn = process.argv[4] !== "nosink";
const t0 = performance.now();
const src = openSource(path);
const resolver = new ReferenceResolver([]);
const opts = { excludePrompts: new Set<string>(), batchRows: 2048, metric: "euclid" as const, lookup: (p: any) => resolver.resolve(p)?.vector };
const stream = workers > 1 ? await workerDriftStream(src, { ...opts, workers, fileVectors: [] }) : localDriftStream(src, opts);
const sink = sinkOn ? await ParquetSink.open("/work/scratch/prof.parquet", { memoryLimit: process.env.MEM ?? "256MB" }) : undefined;
let tAppend = 0, n = 0, tFirst = 0;
for await (const { batch, drift } of stream.batches()) {
  if (!tFirst) tFirst = performance.now() - t0;
  const t = performance.now();
  await sink?.append(batch, drift);
  tAppend += performance.now() - t; n += batch.numRows;
}
const tScan = performance.now() - t0;
const t = performance.now();
await sink?.finish({});
console.log({ workers, rows: n, first: (tFirst/1000).toFixed(2), scanDone: (tScan / 1000).toFixed(2), append: (tAppend / 1000).toFixed(2), copy: ((performance.now() - t) / 1000).toFixed(2) });
src.close();
