import { bratsProject } from "../../vitest.shared";

export default bratsProject("train-app", 120_000);
