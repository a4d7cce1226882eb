import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/cli.ts", "src/index.ts"],
  format: ["esm"],
  dts: { entry: "src/index.ts" },
  sourcemap: true,
  clean: true,
  target: "node20",
  platform: "node",
  // The private @brats/kit is bundled in, as in the published packages (dist needs no kit build).
  noExternal: ["@brats/kit"],
});
