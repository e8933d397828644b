// The import-graph check `npm test` runs before tsc (dependency-cruiser: see docs/architecture.md
// for why this tool). It fails on any import cycle, type-only imports included, and on any edge
// between workspace packages that the table below does not allow: packages depend downwards only.

/** Which workspace packages each package's sources and tests may import (besides its own). */
const ALLOWED = {
  chain: [],
  clock: [],
  metrics: [],
  common: ["chain"],
  api: ["chain"],
  bls: ["chain", "clock"],
  network: ["chain", "clock", "metrics"],
  validator: ["api", "chain", "clock", "common", "metrics"],
  devnet: ["api", "chain", "common", "network"],
  flood: ["api", "bls", "chain", "common", "network"],
  node: ["api", "bls", "chain", "clock", "common", "devnet", "flood", "metrics", "network", "validator"],
};

const packages = Object.keys(ALLOWED);

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "An import cycle: modules that cannot be read, tested or moved one at a time.",
      from: {},
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment:
        "An import that resolves to nothing (a package missing from package.json is an upward edge in disguise).",
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: "undeclared-package",
      severity: "error",
      comment: "A package missing from ALLOWED in .dependency-cruiser.mjs: declare what it may import.",
      from: { path: `^packages/(?!(${packages.join("|")})/)[^/]+/` },
      to: {},
    },
    ...packages.map((name) => ({
      name: `${name}-imports-only-${ALLOWED[name].join("-") || "itself"}`,
      severity: "error",
      comment: `packages/${name} may import ${ALLOWED[name].length > 0 ? ALLOWED[name].join(", ") : "no other package"}.`,
      from: { path: `^packages/${name}/` },
      to: { path: "^packages/[^/]+/", pathNot: [`^packages/(${[name, ...ALLOWED[name]].join("|")})/`] },
    })),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)node_modules/" },
    // Type-only imports are edges too: a type cycle still ties two modules together.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    // Workspace packages resolve through node_modules symlinks to packages/<name>/src.
    preserveSymlinks: false,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "default"],
      extensions: [".ts", ".js", ".mjs", ".json"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
