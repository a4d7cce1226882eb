import { bratsProject } from "../../vitest.shared";

export default bratsProject("conventions", 60_000);
