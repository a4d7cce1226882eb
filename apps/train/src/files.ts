// Names of the files a run folder holds, and the atomic writer every one of them goes through.
import { rename, rm, writeFile } from "node:fs/promises";

export const CONFIG_JSON = "config.json";
export const CURVES_PNG = "curves.png";
export const MODEL_CARD_MD = "MODEL_CARD.md";
export const MODEL_ONNX = "model.onnx";

/** Writes a temporary file beside `path` and renames it into place: readers never see half a file. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
