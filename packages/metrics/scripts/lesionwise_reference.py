#!/usr/bin/python3
"""Independent reference for @brats/metrics' lesion-wise scores (BraTS 2023+), with numpy and scipy,
written from the challenges' published description of the metric (not from their scorer):

  per region (WT, TC, ET) of a case, with the case's spacing:
  lesions   = connected components (26) of binary_dilation(gt, 18-structure, iterations=d),
              each restricted to the original ground-truth voxels
  matches   = components (26) of pred touching binary_dilation(lesion, 18-structure, d)
  lesion    Dice(lesion, union of matches) and surface HD95 (none: 0 and 374)
  FP        = components of pred matching no lesion
  counted   = lesions of volume (voxels x voxel volume, mm^3) above t
  Dice      = sum(Dice of counted) / (counted + FP);  HD95 = (sum(HD95 of counted) + 374 FP) / (counted + FP)
              nothing counted and no FP: 1 and 0;  an infinite HD95 counts as 374
  challenges: GLI, SSA, PED d=3 t=50;  MEN d=1 t=50;  MET d=1 t=2

Surface HD95 as surface-distance (DeepMind) defines it: surfels on the grid of voxel corners, from the
8-bit code of the 2x2x2 voxels around each corner (bit 1 << (7 - (4a + 2b + c)) for the voxel at offset
(a-1, b-1, c-1)), each weighted by the marching-cubes area of its cell; distances by
distance_transform_edt(~borders, sampling=spacing); per direction the distance where the cumulative
area of the surfels, sorted by (distance, area), first reaches 95 %; the larger direction.
The areas follow these rules (this script derives them, as surfels.ts does): a vertex at the midpoint of
each edge whose ends differ; a face with four such edges cuts off its inside corners when at most four
of the cube's corners are inside, else its outside corners; face segments chain into loops; each loop
is the fan, from one of its vertices, of largest area; a triangle with area vector (u, v, w) has area
|(u sy sz, v sx sz, w sx sy)|.

Usage (from the repository root; Debian's python3-scipy and python3-nibabel under /usr/bin/python3):
  /usr/bin/python3 packages/metrics/scripts/lesionwise_reference.py golden
      writes packages/metrics/src/__golden__/lesionwise.json: synthetic multi-lesion cases (stored as
      run-length pairs of their Fortran-order flattening) and the deepbrainseg predictions of
      ../shared/data/peer-predictions scored under every challenge's parameters (metrics only)
  /usr/bin/python3 packages/metrics/scripts/lesionwise_reference.py --time PRED GT [--challenge GLI]
      prints {"readSeconds", "seconds" (scoring only), "peakRssMiB", "regions": {...}} for one case (bench)
"""

import itertools
import json
import math
import os
import resource
import sys
import time

import numpy as np
from scipy import ndimage

CHALLENGES = {"GLI": (3, 50), "SSA": (3, 50), "PED": (3, 50), "MEN": (1, 50), "MET": (1, 2)}
EMPTY = 374.0
STRUCT18 = ndimage.generate_binary_structure(3, 2)
STRUCT26 = ndimage.generate_binary_structure(3, 3)


def corner_bit(a, b, c):
    return 1 << (7 - (4 * a + 2 * b + c))


def triangle_vectors():
    """Per code, the area vectors (voxel units) of its marching-cubes triangles."""
    corners = [(a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1)]
    faces = []
    for axis in range(3):
        o0, o1 = [i for i in range(3) if i != axis]
        for v in (0, 1):
            on = [c for c in corners if c[axis] == v]
            at = lambda p, q: next(c for c in on if c[o0] == p and c[o1] == q)
            faces.append([at(0, 0), at(0, 1), at(1, 1), at(1, 0)])
    table = []
    for code in range(256):
        inside = lambda c: bool(code & corner_bit(*c))
        mid = lambda p, q: tuple((p[i] + q[i]) / 2 for i in range(3))
        cut_off = sum(inside(c) for c in corners) <= 4
        segments = []
        for face in faces:
            edges = [(face[i], face[(i + 1) % 4]) for i in range(4)]
            cut = [e for e in edges if inside(e[0]) != inside(e[1])]
            if len(cut) == 2:
                segments.append((mid(*cut[0]), mid(*cut[1])))
            elif len(cut) == 4:
                for i in range(4):
                    if inside(face[i]) == cut_off:
                        segments.append((mid(*edges[(i + 3) % 4]), mid(*edges[i])))
        loops = []
        while segments:
            a, b = segments.pop(0)
            loop = [a, b]
            while True:
                found = next((i for i, (p, q) in enumerate(segments) if loop[-1] in (p, q)), None)
                if found is None:
                    break
                p, q = segments.pop(found)
                loop.append(q if p == loop[-1] else p)
            if loop[-1] == loop[0]:
                loop.pop()
            loops.append(loop)
        vectors = []
        for loop in loops:
            best, best_area = [], -1.0
            for start in range(len(loop)):
                fan = []
                o = np.array(loop[start])
                for i in range(1, len(loop) - 1):
                    p = np.array(loop[(start + i) % len(loop)])
                    q = np.array(loop[(start + i + 1) % len(loop)])
                    fan.append(np.cross(p - o, q - o) / 2)
                area = sum(float(np.linalg.norm(v)) for v in fan)
                if area > best_area:
                    best, best_area = fan, area
            vectors.extend(best)
        table.append(vectors)
    return table


TRIANGLES = triangle_vectors()


def surfel_areas(spacing):
    sx, sy, sz = spacing
    return np.array([sum(math.hypot(u * sy * sz, v * sx * sz, w * sx * sy) for u, v, w in TRIANGLES[code])
                     for code in range(256)])


def hd95_surface(pred, gt, spacing):
    """pred, gt: boolean arrays indexed [x, y, z]."""
    both = pred | gt
    if not both.any():
        return 0.0
    lo = [int(np.nonzero(both.any(axis=tuple(j for j in range(3) if j != i)))[0].min()) for i in range(3)]
    hi = [int(np.nonzero(both.any(axis=tuple(j for j in range(3) if j != i)))[0].max()) for i in range(3)]
    areas = surfel_areas(spacing)
    kernel = np.zeros((2, 2, 2), np.int64)
    for a, b, c in itertools.product((0, 1), repeat=3):
        kernel[a, b, c] = corner_bit(a, b, c)

    def surfels(mask):
        crop = np.zeros([hi[i] - lo[i] + 2 for i in range(3)], np.int64)
        crop[:-1, :-1, :-1] = mask[lo[0]:hi[0] + 1, lo[1]:hi[1] + 1, lo[2]:hi[2] + 1]
        codes = ndimage.correlate(crop, kernel, mode="constant", cval=0)
        return (codes != 0) & (codes != 255), codes

    bg, cg = surfels(gt)
    bp, cp = surfels(pred)
    if not bg.any() or not bp.any():
        return EMPTY

    def directed(borders_from, codes_from, borders_to):
        dist = ndimage.distance_transform_edt(~borders_to, sampling=spacing)[borders_from]
        area = areas[codes_from[borders_from]]
        order = sorted(zip(dist, area))
        d = np.array([o[0] for o in order])
        a = np.array([o[1] for o in order])
        cum = np.cumsum(a) / np.sum(a)
        return d[min(int(np.searchsorted(cum, 0.95)), len(d) - 1)]

    value = max(directed(bg, cg, bp), directed(bp, cp, bg))
    return float(value) if math.isfinite(value) else EMPTY


def label_first_voxel_order(labels, n):
    """Renumbers labels 1..n by the Fortran (x-fastest) order of each one's first voxel."""
    flat = labels.ravel(order="F")
    first = {}
    for i in np.flatnonzero(flat):
        l = int(flat[i])
        if l not in first:
            first[l] = len(first) + 1
            if len(first) == n:
                break
    table = np.zeros(int(labels.max()) + 1, np.int64)
    for old, new in first.items():
        table[old] = new
    return table[labels]


def lesion_wise(pred, gt, spacing, dilation, threshold):
    voxel = float(np.prod(spacing))
    merged, n_merged = ndimage.label(ndimage.binary_dilation(gt, STRUCT18, iterations=dilation) if dilation > 0 else gt, STRUCT26)
    lesions = np.where(gt, merged, 0)
    n = len(np.unique(lesions[lesions > 0]))
    lesions = label_first_voxel_order(lesions, n)
    comps, n_comps = ndimage.label(pred, STRUCT26)
    comps = label_first_voxel_order(comps, n_comps)
    matched_any = set()
    details = []
    for lid in range(1, n + 1):
        lesion = lesions == lid
        grown = ndimage.binary_dilation(lesion, STRUCT18, iterations=dilation) if dilation > 0 else lesion
        ids = sorted(int(c) for c in np.unique(comps[grown]) if c != 0)
        matched_any.update(ids)
        voxels = int(lesion.sum())
        if ids:
            p = np.isin(comps, ids)
            dice = 2.0 * float((p & lesion).sum()) / (voxels + float(p.sum()))
            hd = hd95_surface(p, lesion, spacing)
        else:
            dice, hd = 0.0, EMPTY
        details.append({"id": lid, "voxels": voxels, "volume": voxels * voxel, "matched": ids,
                        "dice": dice, "hd95": hd, "counted": voxels * voxel > threshold})
    fps = [c for c in range(1, n_comps + 1) if c not in matched_any]
    counted = [d for d in details if d["counted"]]
    denominator = len(counted) + len(fps)
    tp = sum(1 for d in counted if d["matched"])
    if denominator == 0:
        return {"dice": 1.0, "hd95": 0.0, "tp": 0, "fn": 0, "fp": 0, "lesions": details}
    return {
        "dice": sum(d["dice"] for d in counted) / denominator,
        "hd95": (sum(d["hd95"] for d in counted) + EMPTY * len(fps)) / denominator,
        "tp": tp,
        "fn": len(counted) - tp,
        "fp": len(fps),
        "lesions": details,
    }


REGIONS_2021 = {"WT": (1, 2, 4), "TC": (1, 4), "ET": (4,)}


def score_case(pred_labels, gt_labels, spacing, challenge, regions=REGIONS_2021):
    d, t = CHALLENGES[challenge]
    out = {}
    for name, labels in regions.items():
        p = np.isin(pred_labels, labels)
        g = np.isin(gt_labels, labels)
        lw = lesion_wise(p, g, spacing, d, t)
        out[name] = {"lesionWise": lw, "hd95Surface": hd95_surface(p, g, spacing)}
    return out


def rle(flat):
    """Run-length pairs [value, count, ...] of a 1-D array."""
    out = []
    start = 0
    for i in range(1, len(flat) + 1):
        if i == len(flat) or flat[i] != flat[start]:
            out += [int(flat[start]), i - start]
            start = i
    return out


def synthetic_cases():
    rng = np.random.default_rng(2023)
    cases = []
    for k in range(6):
        shape = (40, 36, 30)
        gt = np.zeros(shape, np.uint8)
        pred = np.zeros(shape, np.uint8)
        for _ in range(int(rng.integers(2, 6))):
            c = rng.integers(4, np.array(shape) - 4)
            r = rng.integers(1, 4, size=3)
            sl = tuple(slice(int(c[i] - r[i]), int(c[i] + r[i] + 1)) for i in range(3))
            gt[sl] = rng.choice([1, 2, 4])
            shift = rng.integers(-2, 3, size=3)
            sl2 = tuple(slice(max(0, s.start + int(shift[i])), max(0, s.stop + int(shift[i]))) for i, s in enumerate(sl))
            if rng.random() < 0.8:
                pred[sl2] = rng.choice([1, 2, 4])
        for _ in range(int(rng.integers(0, 3))):  # false positives and specks
            c = rng.integers(1, np.array(shape) - 2)
            pred[int(c[0]), int(c[1]), int(c[2]):int(c[2]) + 2] = 4
        spacing = [(1.0, 1.0, 1.0), (1.0, 1.2, 2.5), (0.8, 0.8, 3.0)][k % 3]
        cases.append((f"synthetic-{k}", pred, gt, spacing))
    return cases


def golden(root):
    out = {"synthetic": [], "real": []}
    for name, pred, gt, spacing in synthetic_cases():
        entry = {"case": name, "shape": list(pred.shape), "spacing": list(spacing),
                 "pred": rle(pred.ravel(order="F")), "gt": rle(gt.ravel(order="F")), "challenges": {}}
        for ch in CHALLENGES:
            entry["challenges"][ch] = score_case(pred, gt, spacing, ch)
        out["synthetic"].append(entry)
    shared = os.path.join(root, "..", "shared", "data")
    preds = os.path.join(shared, "peer-predictions", "deepbrainseg")
    if os.path.isdir(preds):
        import nibabel as nib
        for f in sorted(os.listdir(preds)):
            if not f.endswith(".nii.gz"):
                continue
            case = f[: -len(".nii.gz")]
            gt_path = os.path.join(shared, "brats", case, f"{case}_seg.nii.gz")
            if not os.path.exists(gt_path):
                continue
            p_img = nib.load(os.path.join(preds, f))
            g_img = nib.load(gt_path)
            p = np.asarray(p_img.dataobj).astype(np.int64)
            g = np.asarray(g_img.dataobj).astype(np.int64)
            if p.shape != g.shape:
                continue
            spacing = tuple(float(z) for z in g_img.header.get_zooms()[:3])
            p = np.where(p == 3, 4, p)  # the deepbrainseg files write enhancing tumour as 3 or 4
            entry = {"case": case, "spacing": list(spacing), "labelMap": {"3": 4}, "challenges": {}}
            for ch in CHALLENGES:
                entry["challenges"][ch] = score_case(p, g, spacing, ch)
            out["real"].append(entry)
    else:
        out["realSkipped"] = f"{shared} is absent"
    path = os.path.join(root, "packages", "metrics", "src", "__golden__", "lesionwise.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print(f"wrote {path}: {len(out['synthetic'])} synthetic, {len(out['real'])} real cases")


def time_case(pred_path, gt_path, challenge):
    import nibabel as nib
    t0 = time.perf_counter()
    g_img = nib.load(gt_path)
    p = np.asarray(nib.load(pred_path).dataobj).astype(np.int64)
    g = np.asarray(g_img.dataobj).astype(np.int64)
    p = np.where(p == 3, 4, p)
    spacing = tuple(float(z) for z in g_img.header.get_zooms()[:3])
    t1 = time.perf_counter()
    regions = score_case(p, g, spacing, challenge)
    seconds = time.perf_counter() - t1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for r in regions.values():
        r["lesionWise"].pop("lesions")
    print(json.dumps({"readSeconds": t1 - t0, "seconds": seconds, "peakRssMiB": peak, "regions": regions}))


def main():
    args = sys.argv[1:]
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
    if args[:1] == ["golden"]:
        golden(root)
    elif args[:1] == ["--time"] and len(args) >= 3:
        challenge = args[args.index("--challenge") + 1] if "--challenge" in args else "GLI"
        time_case(args[1], args[2], challenge)
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
