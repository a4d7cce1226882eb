// Writes the hostile-file corpus of src/hostile.test.ts into a folder, with an index of what a
// correct reader does with each file, for trying other readers on it (nibabel, NiiVue, ...):
//   node --conditions=source --import tsx scripts/hostile-corpus.ts DIR [--no-bombs]
// The folder must not exist yet (it is never written over). The bombs are a few MB each on disk.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeHostileCorpus } from "../src/hostile-corpus.testutil.js";

const [dir, ...flags] = process.argv.slice(2);
if (dir === undefined || dir.startsWith("-")) {
  console.error("usage: hostile-corpus.ts DIR [--no-bombs]");
  process.exit(2);
}
if (existsSync(dir)) {
  console.error(`hostile-corpus.ts: ${dir} exists; choose a new folder`);
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const files = writeHostileCorpus(dir, { big: !flags.includes("--no-bombs") });
writeFileSync(join(dir, "INDEX.json"), JSON.stringify(files, null, 2) + "\n");
console.log(`${files.length} files in ${dir} (INDEX.json: what a correct reader does with each)`);
