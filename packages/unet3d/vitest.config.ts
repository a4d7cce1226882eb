import { bratsProject } from "../../vitest.shared";

export default bratsProject("unet3d", 120_000);
