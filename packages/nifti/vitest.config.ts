import { bratsProject } from "../../vitest.shared";

export default bratsProject("nifti", 60_000);
