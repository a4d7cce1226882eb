import { bratsProject } from "../../vitest.shared";

export default bratsProject("tfjs-onednn", 120_000);
