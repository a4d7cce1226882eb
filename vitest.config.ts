import { defineConfig } from "vitest/config";

// One run over every package and app; each resolves @brats/* imports to source
// through the "source" export condition, so tests need no build.
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*", "tests"],
  },
});
