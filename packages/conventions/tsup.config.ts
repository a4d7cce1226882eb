import { defineConfig } from "tsup";

// Browser-safe: no Node APIs, so one build serves Node and bundlers alike.
export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm"],
  dts: { entry: "src/index.ts" },
  sourcemap: true,
  clean: true,
  target: "es2022",
  platform: "neutral",
});
