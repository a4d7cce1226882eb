#!/usr/bin/env node
// brats-demo (`pnpm demo`): the code is dist/cli.js (`pnpm build`); this file only starts it.
import { CLI, main, runCliMain } from "../dist/cli.js";

await runCliMain(CLI, main);
