import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/core.ts"],
  format: ["esm"],
  dts: { entry: ["src/index.ts", "src/core.ts"] },
  sourcemap: true,
  clean: true,
  target: "node20",
  platform: "node",
  // The private @brats/kit is bundled in, so the published manifest needs no dependency on it.
  noExternal: ["@brats/kit"],
});
