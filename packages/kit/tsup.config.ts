import { defineConfig } from "tsup";

// Built for tools that read dist (benches run under tsx without the "source" condition); the
// published packages bundle these modules into their own dist (tsup noExternal).
export default defineConfig({
  entry: ["src/cli.ts", "src/progress.ts", "src/fs.ts", "src/bench.ts", "src/random.ts"],
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  platform: "node",
});
