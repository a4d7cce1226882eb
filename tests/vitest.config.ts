import { bratsProject } from "../vitest.shared";

// Repository-level tests (release packaging, changesets, README examples) live in tests/*.test.ts.
const project = bratsProject("repo", 300_000);
export default { ...project, test: { ...project.test, include: ["*.test.ts"] } };
