// The way a nifti-reader-js user decodes a volume: its own gunzip (fflate), readHeader, readImage,
// then a scaling loop it leaves to the caller (written here the way nibabel scales).
// Shared by the benchmark and by the nifti-reader-js ↔ nibabel comparison.
import * as nifti from "nifti-reader-js";

export type NrjHeader = ReturnType<typeof nifti.readHeader>;

export interface NrjDecoded {
  header: NrjHeader;
  /** Scaled voxel values, or null when nifti-reader-js returns no image bytes. */
  values: Float32Array | null;
  /** Bytes readImage returned. */
  imageBytes: number;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? (bytes.buffer as ArrayBuffer)
    : // A copy: Node's Buffer#slice is a view into a shared pool, not a copy.
      new Uint8Array(bytes).buffer;
}

function maybeGunzip(buffer: ArrayBuffer): ArrayBuffer {
  return nifti.isCompressed(buffer) ? (nifti.decompress(buffer) as ArrayBuffer) : buffer;
}

const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reads voxel `i` of a raw image buffer; null for datatypes without a scalar value (rgb, complex). */
function makeReader(
  datatype: number,
  buffer: ArrayBuffer,
  littleEndian: boolean,
): ((i: number) => number) | null {
  if (littleEndian === hostLittleEndian) {
    // Same byte order as the host: typed arrays are the fast path a user would take.
    const typed = (() => {
      switch (datatype) {
        case 2:
          return new Uint8Array(buffer);
        case 256:
          return new Int8Array(buffer);
        case 4:
          return new Int16Array(buffer, 0, buffer.byteLength >> 1);
        case 512:
          return new Uint16Array(buffer, 0, buffer.byteLength >> 1);
        case 8:
          return new Int32Array(buffer, 0, buffer.byteLength >> 2);
        case 768:
          return new Uint32Array(buffer, 0, buffer.byteLength >> 2);
        case 16:
          return new Float32Array(buffer, 0, buffer.byteLength >> 2);
        case 64:
          return new Float64Array(buffer, 0, buffer.byteLength >> 3);
        default:
          return null;
      }
    })();
    return typed ? (i: number) => typed[i]! : null;
  }
  const view = new DataView(buffer);
  switch (datatype) {
    case 2:
      return (i) => view.getUint8(i);
    case 256:
      return (i) => view.getInt8(i);
    case 4:
      return (i) => view.getInt16(2 * i, littleEndian);
    case 512:
      return (i) => view.getUint16(2 * i, littleEndian);
    case 8:
      return (i) => view.getInt32(4 * i, littleEndian);
    case 768:
      return (i) => view.getUint32(4 * i, littleEndian);
    case 16:
      return (i) => view.getFloat32(4 * i, littleEndian);
    case 64:
      return (i) => view.getFloat64(8 * i, littleEndian);
    default:
      return null;
  }
}

/**
 * Decodes a .nii/.nii.gz (or a .hdr plus its .img bytes, empty for a header-only .hdr) with nifti-reader-js and scales the voxels
 * to Float32Array. Throws what nifti-reader-js throws.
 */
export function decodeWithNiftiReaderJs(file: Uint8Array, imgFile?: Uint8Array): NrjDecoded {
  const data = maybeGunzip(toArrayBuffer(file));
  const header = nifti.readHeader(data, imgFile !== undefined);
  let image: ArrayBuffer;
  if (imgFile === undefined) image = nifti.readImage(header, data);
  else if (imgFile.byteLength === 0)
    image = new ArrayBuffer(0); // header-only .hdr: nothing to read
  else image = nifti.readImage(header, maybeGunzip(toArrayBuffer(imgFile)));
  const bytesPerVoxel = header.numBitsPerVoxel / 8;
  const count = bytesPerVoxel > 0 ? Math.floor(image.byteLength / bytesPerVoxel) : 0;
  const read = makeReader(header.datatypeCode, image, header.littleEndian);
  if (read === null || count === 0) return { header, values: null, imageBytes: image.byteLength };
  // nibabel's rule: a slope of 0 or NaN means "not scaled"; a NaN intercept counts as 0.
  const slope = header.scl_slope;
  const scaled = slope !== 0 && !Number.isNaN(slope);
  const inter = scaled && !Number.isNaN(header.scl_inter) ? header.scl_inter : 0;
  const values = new Float32Array(count);
  if (scaled) {
    for (let i = 0; i < count; i++) values[i] = read(i) * slope + inter;
  } else {
    for (let i = 0; i < count; i++) values[i] = read(i);
  }
  return { header, values, imageBytes: image.byteLength };
}
