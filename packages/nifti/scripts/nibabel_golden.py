#!/usr/bin/python3
"""Golden reference facts for @brats/nifti, computed by nibabel.

Run from the repository root (needs Debian's python3-nibabel under /usr/bin/python3):

    /usr/bin/python3 packages/nifti/scripts/nibabel_golden.py

It reads every NIfTI file in packages/nifti/test-fixtures and, when <repo>/../shared/data/brats
exists, every volume of the BraTS cases there, and writes packages/nifti/src/__golden__/nibabel.json.
Only summary facts are stored (shape, header fields, affine, statistics, checksums), never voxel data:
the BraTS volumes must not be redistributed. The output is deterministic for a given nibabel/numpy.

Per file (keyed by "<fixture dir>/<file>" or "brats/<ID>/<file>"):
  loadedAs        nibabel class used to read it
  version         NIfTI version (1 or 2)
  byteOrder       "little" | "big"
  shape           img.shape
  datatype        NIfTI datatype name ("int16", "rgb24", ...), from the header's datatype code
  pixdim          pixdim[1..ndim] as stored
  affine          img.affine (nibabel's get_best_affine)
  axcodes         "".join(nib.aff2axcodes(img.affine))
  sclSlope/Inter  raw header values; both null when the slope is 0 or NaN (nibabel then does not scale)
  qformCode/sformCode
  extensions      [{code, esize}] with esize the on-disk size including the 8-byte esize/ecode prefix
  stats           over img.get_fdata() (float64, scaled), finite values only:
                  {count, min, max, sum, mean, checksum}; absent for rgb/complex data
  dataMissing     true for a header-only .hdr without its .img (no stats, no canonical checksum)
  canonical       nib.as_closest_canonical(img): {shape, axcodes, affine, checksum}
checksum = float64 sum of value * (i % 7 + 1) over the Fortran-order (x fastest) flattening, finite
values only (i still counts non-finite positions), so a wrong axis order or flip changes it.
A file nibabel refuses gets {"nibabelError": <exception class name>}.
"""

import gzip
import json
import os
import struct
import sys

import nibabel as nib
import numpy as np

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
PACKAGE_DIR = os.path.dirname(SCRIPT_DIR)
REPO_ROOT = os.path.dirname(os.path.dirname(PACKAGE_DIR))
FIXTURE_DIR = os.path.join(PACKAGE_DIR, "test-fixtures")
BRATS_DIR = os.path.join(os.path.dirname(REPO_ROOT), "shared", "data", "brats")
OUT_PATH = os.path.join(PACKAGE_DIR, "src", "__golden__", "nibabel.json")

DATATYPE_NAMES = {
    2: "uint8",
    4: "int16",
    8: "int32",
    16: "float32",
    32: "complex64",
    64: "float64",
    128: "rgb24",
    256: "int8",
    512: "uint16",
    768: "uint32",
    1024: "int64",
    1280: "uint64",
    2304: "rgba32",
}
NO_STATS_DATATYPES = {"rgb24", "rgba32", "complex64"}
NOT_IMAGE_FILES = ("LICENSE", "COPYRIGHT", "README")


def is_image_part(name):
    """The .img half of a pair is read through its .hdr, so it gets no entry of its own."""
    return name.endswith(".img") or name.endswith(".img.gz")


def read_raw_header(path, header_class):
    """The header exactly as stored: nibabel's image header resets scl_slope/scl_inter to NaN."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        return header_class.from_fileobj(f)


def extensions_on_disk(path, raw):
    """[{code, esize}] as stored. nibabel parses some extensions (CIFTI-2 XML, DICOM) and its
    get_sizeondisk() then measures the re-serialised content, so the esizes are read from the bytes;
    the codes must agree with nibabel's."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    order = raw.endianness
    offset = int(raw["sizeof_hdr"]) + 4
    end = len(data) if raw["magic"] in (b"ni1", b"ni2") else int(raw["vox_offset"])
    found = []
    while offset + 8 <= end and len(raw.extensions) > len(found):
        esize, ecode = struct.unpack(order + "ii", data[offset : offset + 8])
        found.append({"code": ecode, "esize": esize})
        offset += esize
    codes = [int(ext.get_code()) for ext in raw.extensions]
    if [e["code"] for e in found] != codes:
        raise ValueError(f"{path}: extension codes {found} disagree with nibabel's {codes}")
    return found


def load(path):
    img = nib.load(path)
    if isinstance(img, nib.Cifti2Image):
        # CIFTI-2 is a NIfTI-2 file with a CIFTI extension; compare the plain NIfTI-2 reading.
        img = nib.Nifti2Image.from_filename(path)
    return img


def weighted_checksum(data):
    flat = np.asarray(data, dtype=np.float64).ravel(order="F")
    weights = (np.arange(flat.size, dtype=np.int64) % 7 + 1).astype(np.float64)
    finite = np.isfinite(flat)
    return float(np.sum(np.where(finite, flat, 0.0) * weights))


def stats_of(data):
    flat = np.asarray(data, dtype=np.float64).ravel(order="F")
    finite = flat[np.isfinite(flat)]
    if finite.size == 0:
        return {"count": 0, "min": None, "max": None, "sum": 0.0, "mean": None,
                "checksum": weighted_checksum(data)}
    total = float(np.sum(finite, dtype=np.float64))
    return {
        "count": int(finite.size),
        "min": float(finite.min()),
        "max": float(finite.max()),
        "sum": total,
        "mean": total / finite.size,
        "checksum": weighted_checksum(data),
    }


def affine_list(affine):
    return [[float(v) for v in row] for row in np.asarray(affine)]


def axcodes_of(affine):
    return "".join(c if c is not None else "?" for c in nib.aff2axcodes(affine))


def slope_inter(raw):
    slope = float(raw["scl_slope"])
    inter = float(raw["scl_inter"])
    if slope == 0 or np.isnan(slope):
        return None, None
    return slope, (None if np.isnan(inter) else inter)


def describe(path):
    if is_image_part(path):
        raise ValueError(f"{path}: read pairs through their .hdr")
    try:
        img = load(path)
    except nib.filebasedimages.ImageFileError as err:
        return {"nibabelError": type(err).__name__}

    raw = read_raw_header(path, type(img).header_class)
    ndim = int(raw["dim"][0])
    datatype = DATATYPE_NAMES[int(raw["datatype"])]
    slope, inter = slope_inter(raw)
    facts = {
        "loadedAs": type(img).__name__,
        "version": 2 if isinstance(raw, nib.Nifti2Header) else 1,
        "byteOrder": "little" if raw.endianness == "<" else "big",
        "shape": [int(n) for n in img.shape],
        "datatype": datatype,
        "pixdim": [float(v) for v in raw["pixdim"][1 : ndim + 1]],
        "affine": affine_list(img.affine),
        "axcodes": axcodes_of(img.affine),
        "sclSlope": slope,
        "sclInter": inter,
        "qformCode": int(raw["qform_code"]),
        "sformCode": int(raw["sform_code"]),
        "extensions": extensions_on_disk(path, raw),
    }

    image_file = img.file_map["image"].filename
    if image_file is None or not os.path.exists(image_file):
        facts["dataMissing"] = True
        # as_closest_canonical needs data; geometry does not depend on it, so give it zeros.
        stand_in = type(img)(np.zeros(img.shape, dtype=np.uint8), img.affine, img.header)
        canonical = nib.as_closest_canonical(stand_in)
        facts["canonical"] = {
            "shape": [int(n) for n in canonical.shape],
            "axcodes": axcodes_of(canonical.affine),
            "affine": affine_list(canonical.affine),
        }
        return facts

    canonical = nib.as_closest_canonical(img)
    facts["canonical"] = {
        "shape": [int(n) for n in canonical.shape],
        "axcodes": axcodes_of(canonical.affine),
        "affine": affine_list(canonical.affine),
    }
    if datatype not in NO_STATS_DATATYPES:
        facts["stats"] = stats_of(img.get_fdata())
        facts["canonical"]["checksum"] = weighted_checksum(canonical.get_fdata())
    return facts


def fixture_files():
    found = []
    for group in sorted(os.listdir(FIXTURE_DIR)):
        group_dir = os.path.join(FIXTURE_DIR, group)
        if not os.path.isdir(group_dir):
            continue
        for name in sorted(os.listdir(group_dir)):
            if name.startswith(NOT_IMAGE_FILES) or is_image_part(name):
                continue
            found.append((f"{group}/{name}", os.path.join(group_dir, name)))
    return found


def brats_files():
    if not os.path.isdir(BRATS_DIR):
        print(f"note: {BRATS_DIR} absent, BraTS entries left out", file=sys.stderr)
        return []
    found = []
    for case in sorted(os.listdir(BRATS_DIR)):
        case_dir = os.path.join(BRATS_DIR, case)
        for name in sorted(os.listdir(case_dir)):
            if name.endswith((".nii", ".nii.gz")):
                found.append((f"brats/{case}/{name}", os.path.join(case_dir, name)))
    return found


def main():
    files = {}
    for key, path in fixture_files() + brats_files():
        print(key, file=sys.stderr)
        files[key] = describe(path)
    out = {
        "generator": {
            "script": "packages/nifti/scripts/nibabel_golden.py",
            "nibabel": nib.__version__,
            "numpy": np.__version__,
        },
        "files": files,
    }
    os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
    with open(OUT_PATH, "w") as f:
        json.dump(out, f, indent=1, allow_nan=False)
        f.write("\n")
    print(f"wrote {len(files)} entries to {OUT_PATH}", file=sys.stderr)


if __name__ == "__main__":
    main()
