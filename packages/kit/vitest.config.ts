import { bratsProject } from "../../vitest.shared";

export default bratsProject("kit", 30_000);
