import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["source"] },
  test: { name: "data", include: ["src/**/*.test.ts"], testTimeout: 60_000 },
});
