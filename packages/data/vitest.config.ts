import { bratsProject } from "../../vitest.shared";

export default bratsProject("data", 60_000);
