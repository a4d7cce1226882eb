#!/usr/bin/env node
// The installed command: all of it lives in dist/cli.js (built from src/cli.ts).
import { run } from "../dist/cli.js";

await run();
