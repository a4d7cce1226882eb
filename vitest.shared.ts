import { defineProject } from "vitest/config";

/**
 * The vitest project of one package or app. The "source" export condition resolves @brats/* imports
 * to their TypeScript sources, so tests need no build; Vite applies `resolve.conditions` to the
 * browser environment and `ssr.resolve.conditions` to Node tests, hence both.
 */
export function bratsProject(name: string, testTimeout = 60_000) {
  return defineProject({
    resolve: { conditions: ["source"] },
    ssr: { resolve: { conditions: ["source"] } },
    test: { name, include: ["src/**/*.test.ts"], testTimeout },
  });
}
