import { bratsProject } from "../../vitest.shared";

export default bratsProject("viz", 60_000);
