// Type-aware lint for every package and app; tests are linted too.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Source modules: not tests, test helpers, bench or scripts (those repeat by shape on purpose). */
const SOURCE = ["packages/*/src/**/*.ts", "apps/*/src/**/*.ts"];
const NOT_SOURCE = ["**/*.test.ts", "**/*test-utils.ts", "**/*.testutil.ts", "**/__golden__/**"];
const size = (lines, perFunction) => ({
  "max-lines": ["error", { max: lines, skipBlankLines: true, skipComments: true }],
  "max-lines-per-function": [
    "error",
    { max: perFunction, skipBlankLines: true, skipComments: true },
  ],
});

// Today's oversized modules, each held at its current size (lines, longest function) so that it
// cannot grow while it waits to be split. Shrink this list; a new entry needs a comment saying why.
const SIZE_EXCEPTIONS = {
  "apps/infer/src/run.ts": [591, 182], // runInference
  "apps/train/src/model-card.ts": [500, 167], // renderModelCard
  "packages/metrics/src/cli.ts": [577, 120],
  "packages/nifti/src/header.ts": [577, 120],
  "packages/unet3d/src/inference.ts": [500, 172], // predictVolume
  "packages/unet3d/src/onnx/export.ts": [800, 423], // exportOnnx
  "packages/unet3d/src/onnx/runtime.ts": [500, 146], // loadOnnxModel
  "packages/unet3d/src/train.ts": [655, 214], // train
  "packages/viz/src/compose.ts": [500, 174], // composeFigureWithLayout
  "packages/viz/src/plots.ts": [849, 122], // trainingCurvesScene
  "packages/viz/src/render.ts": [549, 120],
};

export default tseslint.config(
  {
    ignores: [
      "**/dist/**",
      "**/node_modules/**",
      "**/*.js",
      "**/*.cjs",
      "**/*.mjs",
      "**/*.config.ts",
      // Broken on purpose: tests/guards.test.ts shows each architecture check failing on them.
      "tests/fixtures/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  {
    files: ["**/*.test.ts", "**/bench/**/*.ts", "**/scripts/**/*.ts"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
    },
  },
  // No module over 500 lines, no function over 120 (blank lines and comments not counted).
  { files: SOURCE, ignores: NOT_SOURCE, rules: size(500, 120) },
  ...Object.entries(SIZE_EXCEPTIONS).map(([file, [lines, perFunction]]) => ({
    files: [file],
    rules: size(lines, perFunction),
  })),
);
