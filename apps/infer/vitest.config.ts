import { bratsProject } from "../../vitest.shared";

export default bratsProject("infer-app", 300_000);
