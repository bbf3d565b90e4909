/**
 * The layering rules, checked by `npm test` (npm run check:layers).
 *
 * Data walks one way: sources → frame (Arrow batches) → kernel → sink, with
 * reference vectors beside it, stream/threads joining them, compute running
 * the flow, summary and plot reading its frame, and cli on top. Each folder
 * may import only the folders listed for it (and its own); `common` holds
 * small helpers every layer uses and imports nothing of ours.
 */
const allowed = {
  common: [],
  frame: ["common"],
  kernel: ["frame"],
  sources: ["common", "frame"],
  sink: ["common", "frame"],
  reference: ["common", "frame", "kernel", "sink", "sources"],
  stream: ["common", "frame", "kernel", "sources"],
  threads: ["common", "frame", "kernel", "sources", "stream", "reference"],
  compute: ["common", "frame", "kernel", "sources", "sink", "reference", "stream", "threads"],
  summary: ["common", "frame", "kernel", "sink", "sources"],
  plot: ["common", "frame", "kernel", "sink", "summary"],
};

const folders = Object.keys(allowed).concat(["cli"]);

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "No import cycles, lazy import() included: each module can be read after the ones it imports.",
      from: {},
      to: { circular: true },
    },
    ...Object.entries(allowed).map(([folder, may]) => ({
      name: `layer-${folder}`,
      severity: "error",
      comment: `src/${folder}/ may import only ${may.length === 0 ? "itself" : may.map((f) => `src/${f}/`).join(", ")} (see .dependency-cruiser.cjs).`,
      from: { path: `^src/${folder}/` },
      to: { path: `^src/(?!(${[folder, ...may].join("|")})/)` },
    })),
    {
      name: "only-known-folders",
      severity: "error",
      comment: "Every module of src/ lives in one of the layered folders (or is src/index.ts).",
      from: { path: "^src/", pathNot: `^src/((${folders.join("|")})/|index\\.ts$)` },
      to: {},
    },
    {
      name: "src-not-to-test",
      severity: "error",
      comment: "The library never imports test code.",
      from: { path: "^src/" },
      to: { path: "^test/" },
    },
    {
      name: "not-to-dev-dependencies",
      severity: "error",
      comment: "What ships (src/) never imports a devDependency.",
      from: { path: "^src/" },
      to: { dependencyTypes: ["npm-dev"] },
    },
    {
      name: "no-orphans",
      severity: "error",
      comment: "A module nothing imports is dead (workers are started by URL and are entry points).",
      from: { orphan: true, path: "^src/", pathNot: "^src/(index\\.ts|cli/main\\.ts|threads/scanWorker\\.ts|sources/export/parquetExportWorker\\.ts)$" },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
