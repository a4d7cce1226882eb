// Node writer: atomic .nii / .nii.gz output (temp file in the same folder, fsync, rename).
import type { FileHandle } from "node:fs/promises";
import { createGzip } from "node:zlib";
import { writeAtomicWith } from "@brats/kit/fs";
import { NiftiError } from "./errors.js";
import { niftiParts } from "./serialize.js";
import type { NiftiImage } from "./types.js";

export { serializeNifti, type SerializeNiftiOptions } from "./serialize.js";

export interface WriteNiftiOptions {
  /** gzip the file; default: true when the path ends in ".gz". */
  gzip?: boolean;
}

/**
 * Writes `image` as a single-file NIfTI-1 to `path`. The bytes go to a hidden temp file beside it
 * (`.<name>.tmp-<host>-<pid>-<random>`) first, are fsynced, then renamed over `path`, so readers never
 * see a half-written file; on any failure the temp file is removed. Invalid images are rejected
 * (BAD_HEADER) before touching the disk.
 */
export async function writeNifti(
  image: NiftiImage,
  path: string,
  opts: WriteNiftiOptions = {},
): Promise<void> {
  const gzip = opts.gzip ?? /\.gz$/i.test(path);
  const parts = niftiParts(image);
  try {
    await writeAtomicWith(path, async (handle) => {
      if (gzip) await writeGzipped(handle, [parts.header, parts.data]);
      else {
        await writeAll(handle, parts.header);
        await writeAll(handle, parts.data);
      }
    });
  } catch (error) {
    if (error instanceof NiftiError) throw error;
    const code = (error as { code?: unknown } | null)?.code;
    const detail =
      typeof code === "string" ? code : error instanceof Error ? error.message : String(error);
    throw new NiftiError("IO", `cannot write ${path}: ${detail}`, { cause: error });
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
}

/** gzip through node:zlib (thread pool), writing compressed chunks as they come. */
async function writeGzipped(handle: FileHandle, parts: Uint8Array[]): Promise<void> {
  const gzip = createGzip({ chunkSize: 1024 * 1024 });
  try {
    const pump = (async () => {
      for await (const chunk of gzip as AsyncIterable<Buffer>) await writeAll(handle, chunk);
    })();
    for (const part of parts) gzip.write(part);
    gzip.end();
    await pump;
  } finally {
    gzip.destroy();
  }
}
