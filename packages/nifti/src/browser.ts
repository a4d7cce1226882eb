// Browser build of the public API (selected by the "browser" export condition): the same names and
// types as the Node entry, with no node:* imports. Paths become URLs fetched with `fetch`; gunzip runs
// through fflate. Writing to a file system is not possible here: use `serializeNifti` and save the bytes.
import { NiftiError } from "./errors.js";
import { parseNifti } from "./parse.js";
import { DEFAULT_MAX_BYTES } from "./header.js";
import type { ReadNiftiOptions } from "./read.js";
import type { WriteNiftiOptions } from "./write.js";
import type { NiftiHeader, NiftiImage } from "./types.js";

export type { ReadNiftiOptions } from "./read.js";
export type { WriteNiftiOptions } from "./write.js";
export * from "./common.js";

/** The bytes at `url`; null when the server answers 404 (a lone .hdr has no .img). */
async function fetchBytes(url: string): Promise<Uint8Array | null> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (cause) {
    throw new NiftiError("IO", `cannot fetch ${url}`, { cause });
  }
  if (response.status === 404) return null;
  if (!response.ok) throw new NiftiError("IO", `cannot fetch ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function fetchRequired(url: string): Promise<Uint8Array> {
  const bytes = await fetchBytes(url);
  if (bytes === null) throw new NiftiError("IO", `cannot fetch ${url}: HTTP 404`);
  return bytes;
}

/** The .img URL of a .hdr URL (same compression), or null for single-file NIfTI. */
function imageUrlOf(url: string): string | null {
  const match = /^(.*)\.hdr(\.gz)?(\?.*)?$/i.exec(url);
  return match ? `${match[1]}.img${match[2] ?? ""}${match[3] ?? ""}` : null;
}

/** Reads a NIfTI image from bytes, or from a URL (a `.hdr` URL fetches its `.img` too). */
export async function readNifti(
  source: string | Uint8Array,
  opts: ReadNiftiOptions = {},
): Promise<NiftiImage> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (typeof source !== "string") return parseNifti(source, { maxBytes });
  const bytes = await fetchRequired(source);
  const image = parseNifti(bytes, { maxBytes });
  const imgUrl = imageUrlOf(source);
  // Like the Node reader, a .hdr without its .img reads as a header-only image.
  if (imgUrl === null || image.data !== null) return image;
  const imgBytes = await fetchBytes(imgUrl);
  return imgBytes === null ? image : parseNifti(bytes, { maxBytes, imgBytes });
}

/** Reads only the header of bytes or of a URL. */
export async function readNiftiHeader(
  source: string | Uint8Array,
  opts: ReadNiftiOptions = {},
): Promise<NiftiHeader> {
  const bytes = typeof source === "string" ? await fetchRequired(source) : source;
  return parseNifti(bytes, { maxBytes: opts.maxBytes ?? DEFAULT_MAX_BYTES }).header;
}

/** Not available without a file system: serialise with `serializeNifti` and save the bytes. */
export function writeNifti(
  _image: NiftiImage,
  path: string,
  _opts: WriteNiftiOptions = {},
): Promise<void> {
  return Promise.reject(
    new NiftiError(
      "IO",
      `writeNifti(${path}) needs a file system; in a browser use serializeNifti() and save the bytes`,
    ),
  );
}
