import { bratsProject } from "../../vitest.shared";

export default bratsProject("runs", 120_000);
