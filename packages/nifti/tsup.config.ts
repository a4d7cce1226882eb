import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/browser.ts", "src/orientation.ts", "src/cli.ts"],
  format: ["esm"],
  dts: { entry: ["src/index.ts", "src/orientation.ts"] },
  sourcemap: true,
  clean: true,
  target: "node20",
  platform: "node",
});
