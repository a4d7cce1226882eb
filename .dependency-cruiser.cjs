// Layer rules of the @brats monorepo (see ARCHITECTURE.md): arrows point down, apps -> packages.
// Run with `pnpm deps:check`. Paths are matched after resolution, so "@brats/train-app" is seen
// as apps/train/src/index.ts (the "source" export condition) and an npm import as node_modules/...;
// an import that cannot be resolved keeps its bare name, hence the `(^|/)` in the npm patterns.
// Rules name folders (packages/<dir>), so a package is covered as soon as its folder appears.

/** Tests may reach across layers (infer's end-to-end tests train a model first). */
const TEST = "\\.test\\.ts$|(^|/)test-utils\\.ts$|\\.testutil\\.ts$";

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "No cycles, type-only imports included (tsPreCompilationDeps).",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-app-to-app",
      severity: "error",
      comment:
        "An app never imports another app (types included) outside tests; shared run-folder code lives in @brats/runs.",
      from: { path: "^apps/([^/]+)/", pathNot: ["^apps/demo/", TEST] },
      to: { path: "^apps/", pathNot: "^apps/$1/" },
    },
    {
      name: "demo-imports-only-train-and-infer",
      severity: "error",
      comment: "The demo drives the train and infer apps, and no other app.",
      from: { path: "^apps/demo/" },
      to: { path: "^apps/", pathNot: "^apps/(demo|train|infer)/" },
    },
    {
      name: "no-package-to-app",
      severity: "error",
      comment: "Packages are libraries: they never import an app.",
      from: { path: "^packages/" },
      to: { path: "^apps/|(^|/)@brats/[a-z0-9-]+-app(/|$)" },
    },
    {
      name: "leaf-packages-no-tfjs",
      severity: "error",
      comment:
        "metrics, viz, nifti and conventions run without TF.js: no @brats/unet3d or @brats/tfjs-onednn, no @tensorflow/*.",
      from: { path: "^packages/(metrics|viz|nifti|conventions)/" },
      to: {
        path: "^packages/(unet3d|tfjs-onednn)/|(^|/)@brats/(unet3d|tfjs-onednn)(/|$)|(^|/)@tensorflow/",
      },
    },
    {
      name: "conventions-imports-nothing",
      severity: "error",
      comment:
        "@brats/conventions is dependency-free and browser-safe: no @brats/*, no node:*, no npm package.",
      from: { path: "^packages/conventions/src/", pathNot: TEST },
      to: { pathNot: "^packages/conventions/" },
    },
    {
      name: "kit-is-plumbing",
      severity: "error",
      comment:
        "@brats/kit is the bottom layer: it imports no other @brats package or app. (Any package may import kit; " +
        "that published ones bundle it and list it in devDependencies only is a packaging check, not an import rule.)",
      from: { path: "^packages/kit/" },
      to: { path: "^(packages|apps)/", pathNot: "^packages/kit/" },
    },
    {
      name: "onednn-imports-only-tfjs",
      severity: "error",
      comment:
        "@brats/tfjs-onednn sits under unet3d and over TF.js: it imports no other @brats package or app " +
        "(unet3d imports it, for the conv geometry and the native kernels).",
      from: { path: "^packages/tfjs-onednn/" },
      to: { path: "^(packages|apps)/|(^|/)@brats/", pathNot: "^packages/tfjs-onednn/" },
    },
    {
      name: "no-unresolvable",
      severity: "error",
      comment: "Every import resolves (else the rules above could not see where it points).",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "(^|/)node_modules/" },
    // bin/ files only start the built dist/ (which is not cruised), so they hold no arrow to check.
    exclude: { path: "^(packages|apps)/[^/]+/(dist|coverage|bin)/|^tests/fixtures/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.base.json" },
    enhancedResolveOptions: {
      // @brats/* resolve through their workspace symlinks to src/ via the "source" condition.
      exportsFields: ["exports"],
      conditionNames: ["source", "types", "import", "node", "default"],
      mainFields: ["types", "module", "main"],
      extensions: [".ts", ".d.ts", ".js", ".mjs", ".cjs", ".json"],
    },
  },
};
