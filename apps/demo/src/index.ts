// Public API of @brats/demo-app: the demo from code (the end-to-end test runs it at reduced size).
export {
  DEMO_PRESETS,
  DemoError,
  runDemo,
  type DemoOptions,
  type DemoPreset,
  type DemoSummary,
} from "./demo.js";
