#!/usr/bin/python3
"""Golden values for src/affine.ts and src/orientation.ts, computed by nibabel.

Run with the Debian interpreter that has nibabel 5 and numpy:

    /usr/bin/python3 packages/nifti/scripts/geometry_golden.py

Writes packages/nifti/src/__golden__/geometry.json. Inputs are random but seeded,
so the file only changes when this script does. CI reads the JSON and never needs nibabel.
Real headers come from <repo>/../shared/fixtures/nifti (MIT-licensed sample files);
only their geometry fields are stored.
"""

import json
import os
import sys

import nibabel as nib
import numpy as np
from nibabel.nifti1 import Nifti1Header
from nibabel.nifti2 import Nifti2Header
from nibabel.orientations import (
    aff2axcodes,
    axcodes2ornt,
    inv_ornt_aff,
    io_orientation,
    ornt_transform,
)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "src", "__golden__", "geometry.json")
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "shared", "fixtures", "nifti"))

rng = np.random.RandomState(20261126)


def mat(a):
    return [[float(v) for v in row] for row in np.asarray(a)]


def f32(x):
    """Round to float32 and back, as a NIfTI-1 header field stores it."""
    return float(np.float32(x))


def random_rotation():
    """Uniform random rotation (det +1) from a random unit quaternion."""
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    return nib.quaternions.quat2mat(q)


def random_affine(shear=0.0, flip=False):
    R = random_rotation()
    zooms = rng.uniform(0.4, 4.0, size=3)
    S = np.eye(3)
    if shear:
        S[0, 1], S[0, 2], S[1, 2] = rng.uniform(-shear, shear, size=3)
    M = R @ np.diag(zooms) @ S
    if flip:
        M[:, rng.randint(3)] *= -1
    A = np.eye(4)
    A[:3, :3] = M
    A[:3, 3] = rng.uniform(-150, 150, size=3)
    return A


# --- quaternion -> affine (get_qform) ------------------------------------------------------
def qform_case(b, c, d, offsets, zooms, qfac, name):
    hdr = Nifti1Header()
    hdr["quatern_b"], hdr["quatern_c"], hdr["quatern_d"] = b, c, d
    hdr["qoffset_x"], hdr["qoffset_y"], hdr["qoffset_z"] = offsets
    hdr["pixdim"][0] = qfac
    hdr["pixdim"][1:4] = zooms
    hdr["qform_code"] = 1
    s = hdr._structarr
    inputs = {
        "b": float(s["quatern_b"]),
        "c": float(s["quatern_c"]),
        "d": float(s["quatern_d"]),
        "qx": float(s["qoffset_x"]),
        "qy": float(s["qoffset_y"]),
        "qz": float(s["qoffset_z"]),
        "dx": float(s["pixdim"][1]),
        "dy": float(s["pixdim"][2]),
        "dz": float(s["pixdim"][3]),
        "qfac": float(s["pixdim"][0]),
    }
    try:
        out = {"affine": mat(hdr.get_qform())}
    except ValueError as e:
        out = {"error": str(e)}
    return {"name": name, "input": inputs, **out}


quaternion_to_affine = [
    qform_case(0, 0, 0, (0, 0, 0), (1, 1, 1), 1, "identity"),
    qform_case(0, 0, 1, (90, 126, -72), (1, 1, 1), 1, "180deg about z (LPS)"),
    qform_case(0, 0, 0, (1, 2, 3), (2, 3, 4), -1, "identity qfac -1"),
    qform_case(0, 0, np.sqrt(0.5), (0, 0, 0), (1, 2, 3), 1, "90deg about z"),
    qform_case(np.sqrt(0.5), 0, 0, (0, 0, 0), (1, 2, 3), -1, "90deg about x qfac -1"),
    # b^2+c^2+d^2 a hair above 1 in float32: nibabel's float32 threshold gives a = 0
    qform_case(0.6, 0.48, 0.64000005, (0, 0, 0), (1, 1, 1), 1, "a2 slightly negative"),
    # clearly above 1: nibabel refuses
    qform_case(0.6, 0.6, 0.6, (0, 0, 0), (1, 1, 1), 1, "a2 negative beyond threshold"),
]
for i in range(12):
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    if q[0] < 0:
        q = -q
    quaternion_to_affine.append(
        qform_case(
            q[1],
            q[2],
            q[3],
            rng.uniform(-150, 150, size=3),
            rng.uniform(0.4, 4.0, size=3),
            -1 if i % 2 else 1,
            f"random {i}",
        )
    )


# --- affine -> quaternion (set_qform); Nifti2Header keeps float64 fields -------------------
def set_qform_case(A, name):
    hdr = Nifti2Header()
    hdr.set_qform(A, code=1)
    s = hdr._structarr
    return {
        "name": name,
        "affine": mat(A),
        "quaternion": {
            "b": float(s["quatern_b"]),
            "c": float(s["quatern_c"]),
            "d": float(s["quatern_d"]),
            "qx": float(s["qoffset_x"]),
            "qy": float(s["qoffset_y"]),
            "qz": float(s["qoffset_z"]),
            "dx": float(s["pixdim"][1]),
            "dy": float(s["pixdim"][2]),
            "dz": float(s["pixdim"][3]),
            "qfac": float(s["pixdim"][0]),
        },
        # the shear-free affine the qform then encodes
        "qformAffine": mat(hdr.get_qform()),
    }


def perm_affine(perm, signs, zooms, offsets):
    A = np.zeros((4, 4))
    for col, (row, sign, zoom) in enumerate(zip(perm, signs, zooms)):
        A[row, col] = sign * zoom
    A[:3, 3] = offsets
    A[3, 3] = 1
    return A


affine_to_quaternion = [
    set_qform_case(np.eye(4), "identity"),
    set_qform_case(np.diag([-1.0, -1, 1, 1]), "LPS"),
    set_qform_case(np.diag([2.0, 3, 4, 1]), "RAS zooms"),
    set_qform_case(np.diag([-2.0, 2, 2, 1]), "LAS (qfac -1)"),
    set_qform_case(perm_affine([1, 2, 0], [1, -1, 1], [1, 2, 3], [4, 5, 6]), "permuted ASR-like"),
    set_qform_case(perm_affine([0, 2, 1], [1, 1, 1], [1, 1, 1], [0, 0, 0]), "swap y z (qfac -1)"),
]
for i in range(8):
    affine_to_quaternion.append(set_qform_case(random_affine(), f"random rotation {i}"))
for i in range(8):
    affine_to_quaternion.append(set_qform_case(random_affine(flip=True), f"random flipped {i}"))
for i in range(8):
    affine_to_quaternion.append(
        set_qform_case(random_affine(shear=0.3, flip=bool(i % 2)), f"random sheared {i}")
    )


# --- base affine ---------------------------------------------------------------------------
def base_case(shape, zooms, name):
    hdr = Nifti1Header()
    hdr.set_data_shape(shape)
    hdr.set_zooms(zooms)
    s = hdr._structarr
    return {
        "name": name,
        "dim": [int(v) for v in s["dim"]],
        "pixdim": [float(v) for v in s["pixdim"]],
        "affine": mat(hdr.get_base_affine()),
    }


base_affine = [
    base_case((3, 5, 7), (3, 2, 1), "3D nibabel docstring"),
    base_case((240, 240, 155), (1, 1, 1), "BraTS-sized"),
    base_case((64, 48), (2.5, 3.5), "2D"),
    base_case((10,), (0.5,), "1D"),
    base_case((16, 17, 18, 5), (1.2, 1.3, 1.4, 2.0), "4D"),
]


# --- orientation ---------------------------------------------------------------------------
def axc(codes):
    return "".join("?" if c is None else c for c in codes)


def orientation_case(A, name):
    ornt = io_orientation(A)
    return {
        "name": name,
        "affine": mat(A),
        "ornt": [[None if np.isnan(v) else int(v) for v in row] for row in ornt],
        "axcodes": axc(aff2axcodes(A)),
    }


orientation = [
    orientation_case(np.eye(4), "identity"),
    orientation_case(np.diag([-1.0, -1, 1, 1]), "LPS"),
    orientation_case(perm_affine([1, 2, 0], [1, -1, 1], [1, 2, 3], [4, 5, 6]), "permuted"),
    orientation_case(perm_affine([2, 0, 1], [-1, -1, -1], [1, 1, 1], [0, 0, 0]), "ILP"),
    orientation_case(np.diag([1.0, 0, 1, 1]), "zero column"),
    orientation_case(
        np.array([[1.0, 1e-3, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]), "rank 2"
    ),
]
for i in range(24):
    orientation.append(
        orientation_case(random_affine(shear=0.2 if i % 3 == 0 else 0.0, flip=bool(i % 2)), f"oblique {i}")
    )


# --- reorientation of data ------------------------------------------------------------------
def reorient_case(A, shape, target, name):
    """nibabel's reoriented data (as Fortran-order flat list) and affine."""
    n = int(np.prod(shape))
    data = np.arange(n, dtype=np.int16).reshape(shape, order="F")
    img = nib.Nifti1Image(data, A)
    start = io_orientation(A)
    if target is None:
        out = nib.as_closest_canonical(img)
        transform = start
    else:
        transform = ornt_transform(start, axcodes2ornt(tuple(target)))
        out = img.as_reoriented(transform)
    arr = np.asarray(out.dataobj)
    return {
        "name": name,
        "affine": mat(A),
        "shape": list(shape),
        "target": target,
        "transform": [[int(v) for v in row] for row in transform],
        "invOrntAffine": mat(inv_ornt_aff(transform, shape)),
        "outShape": list(arr.shape),
        "outData": [int(v) for v in arr.ravel(order="F")],
        "outAffine": mat(out.affine),
        "outAxcodes": axc(aff2axcodes(out.affine)),
    }


reorient = [
    reorient_case(np.diag([-1.0, -1, 1, 1]), (2, 3, 4), None, "LPS to RAS"),
    reorient_case(perm_affine([1, 2, 0], [1, -1, 1], [1, 2, 3], [4, 5, 6]), (2, 3, 4), None, "permuted to RAS"),
    reorient_case(np.eye(4), (2, 3, 4), "LPS", "RAS to LPS"),
    reorient_case(np.eye(4), (2, 3, 4), "SAL", "RAS to SAL"),
    reorient_case(random_affine(shear=0.1, flip=True), (3, 4, 5), None, "oblique to RAS"),
    reorient_case(random_affine(flip=True), (4, 3, 2), "PIL", "oblique to PIL"),
    reorient_case(random_affine(), (3, 2, 4, 2), None, "4D oblique to RAS"),
]


# --- real headers ---------------------------------------------------------------------------
def header_fields(h):
    s = h._structarr
    fields = {
        "dim": [int(v) for v in s["dim"]],
        "pixdim": [float(v) for v in s["pixdim"]],
        "qformCode": int(s["qform_code"]),
        "sformCode": int(s["sform_code"]),
        "quaternB": float(s["quatern_b"]),
        "quaternC": float(s["quatern_c"]),
        "quaternD": float(s["quatern_d"]),
        "qoffsetX": float(s["qoffset_x"]),
        "qoffsetY": float(s["qoffset_y"]),
        "qoffsetZ": float(s["qoffset_z"]),
        "srowX": [float(v) for v in s["srow_x"]],
        "srowY": [float(v) for v in s["srow_y"]],
        "srowZ": [float(v) for v in s["srow_z"]],
        "dimInfo": int(s["dim_info"]),
    }
    return fields


real_headers = []
if os.path.isdir(FIXTURES):
    for sub in sorted(os.listdir(FIXTURES)):
        for fname in sorted(os.listdir(os.path.join(FIXTURES, sub))):
            if not (fname.endswith(".nii") or fname.endswith(".nii.gz") or fname.endswith(".hdr") or fname.endswith(".hdr.gz")):
                continue
            path = os.path.join(FIXTURES, sub, fname)
            try:
                img = nib.load(path)
                h = img.header
                affine = img.affine
            except Exception:  # not NIfTI, or CIFTI without an affine
                continue
            if affine is None or not isinstance(h, (Nifti1Header,)):
                continue
            # header-only files have no data to reorder: stand-in zeros give the same geometry
            stand_in = img.__class__(np.zeros(img.shape, np.int8), affine, h.copy())
            canon = nib.as_closest_canonical(stand_in)
            real_headers.append(
                {
                    "file": f"{sub}/{fname}",
                    "header": header_fields(h),
                    "bestAffine": mat(h.get_best_affine()),
                    "qformAffine": mat(h.get_qform()),
                    "sformAffine": mat(h.get_sform()),
                    "baseAffine": mat(h.get_base_affine()),
                    "axcodes": axc(aff2axcodes(affine)),
                    "canonicalShape": [int(v) for v in canon.shape],
                    "canonicalAffine": mat(canon.affine),
                    "canonicalDimInfo": int(canon.header._structarr["dim_info"]),
                }
            )
else:
    print(f"warning: {FIXTURES} not found; real_headers left empty", file=sys.stderr)


golden = {
    "generator": "packages/nifti/scripts/geometry_golden.py",
    "nibabel": nib.__version__,
    "numpy": np.__version__,
    "quaternionToAffine": quaternion_to_affine,
    "affineToQuaternion": affine_to_quaternion,
    "baseAffine": base_affine,
    "orientation": orientation,
    "reorient": reorient,
    "realHeaders": real_headers,
}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump(golden, f, indent=1)
    f.write("\n")
print(f"wrote {os.path.normpath(OUT)}: "
      + ", ".join(f"{k} {len(v)}" for k, v in golden.items() if isinstance(v, list)))
