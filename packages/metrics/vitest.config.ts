import { bratsProject } from "../../vitest.shared";

export default bratsProject("metrics", 60_000);
