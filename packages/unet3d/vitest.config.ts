import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["source"] },
  test: { name: "unet3d", include: ["src/**/*.test.ts"], testTimeout: 120_000 },
});
