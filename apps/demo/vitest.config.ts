import { bratsProject } from "../../vitest.shared";

export default bratsProject("demo-app", 600_000);
