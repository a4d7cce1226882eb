import { defineProject } from "vitest/config";

// "source" resolves @brats/* to their TypeScript sources (no build needed); Vite applies
// resolve.conditions to the browser environment and ssr.resolve.conditions to Node tests.
export default defineProject({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: { name: "train-app", include: ["src/**/*.test.ts"], testTimeout: 120_000 },
});
