#!/usr/bin/python3
"""Independent reference values for @brats/metrics, computed with scipy the way medpy/nnU-Net do.

Run from the repository root (needs Debian's python3-scipy, python3-numpy and python3-nibabel under
/usr/bin/python3):

    /usr/bin/python3 packages/metrics/scripts/reference_metrics.py

It writes packages/metrics/src/__golden__/reference.json with
  random  seeded random label volumes (blobs, scattered voxels, border-touching masks, empty and
          one-empty masks, anisotropic spacings, every label convention, label maps, both empty
          policies); each volume is stored as run-length pairs over its Fortran-order (x fastest)
          flattening so the TypeScript test rebuilds the exact input;
  real    the deepbrainseg predictions in <repo>/../shared/data/peer-predictions/deepbrainseg scored
          against <repo>/../shared/data/brats/<ID>/<ID>_seg.nii.gz, raw and with the label map 3->4;
          only metrics and timings are stored, never voxel data (the BraTS volumes are not
          redistributed). Skipped, and said so in the JSON, when ../shared is absent.
reference.json is deterministic for a given numpy/scipy; the time scipy took per real case (read, and
all regions + labels) goes to src/__golden__/reference-timings.json, apart, because it varies.

Timing mode (used by bench/metrics.bench.ts):

    /usr/bin/python3 scripts/reference_metrics.py --time PRED GT [--label-map 3=4] [--repeat N]

prints one JSON object {"readSeconds": [...], "metricSeconds": [...], "peakRssMiB", "regions",
"labels"} after reading both files and scoring every region and label of brats2021, N times
(default 1).

Definitions (medpy.metric.binary, as nnU-Net's BraTS evaluation uses them):
  surface(M)      = M xor binary_erosion(M, generate_binary_structure(3, 1), iterations=1); scipy's
                    default border_value=0 makes voxels on the image border surface voxels
  d(A -> B)       = distance_transform_edt(~surface(B), sampling=spacing)[surface(A)]
  hd95            = np.percentile(np.hstack((d(P->G), d(G->P))), 95)  (linear interpolation)
  hd              = max of both directions;  assd = mean(mean(d(P->G)), mean(d(G->P)))
  dice            = 2 TP / (2 TP + FP + FN);  jaccard = TP / (TP + FP + FN)
  precision       = TP / (TP + FP);  sensitivity = TP / (TP + FN);  specificity = TN / (TN + FP)
  volume (mL)     = voxel count * prod(spacing) / 1000
Empty policies:
  "brats" (default): both masks empty -> dice, jaccard, precision, sensitivity 1 and hd/hd95/assd 0;
          exactly one empty -> hd/hd95/assd = emptyDistance (373.12866 mm, the diagonal of a
          240x240x155 image) and any other zero-denominator ratio 0. Specificity's denominator
          TN + FP is 0 only when the ground truth fills the image: 1 if the prediction does too,
          else 0 (the same rule applied to the complements).
  "nan":  every zero-denominator ratio is NaN; hd/hd95/assd are NaN when either mask is empty.
NaN is written as null in the JSON.
"""

import json
import math
import os
import resource
import sys
import time

import nibabel as nib
import numpy as np
import scipy
from scipy.ndimage import binary_erosion, distance_transform_edt, generate_binary_structure

EMPTY_DISTANCE = 373.12866
STRUCTURE = generate_binary_structure(3, 1)

CONVENTIONS = {
    "brats2021": {"labels": [1, 2, 4], "regions": {"WT": [1, 2, 4], "TC": [1, 4], "ET": [4]}},
    "brats2023": {"labels": [1, 2, 3], "regions": {"WT": [1, 2, 3], "TC": [1, 3], "ET": [3]}},
    "brats2015": {
        "labels": [1, 2, 3, 4],
        "regions": {"WT": [1, 2, 3, 4], "TC": [1, 3, 4], "ET": [4]},
    },
}
METRIC_KEYS = [
    "dice",
    "hd95",
    "hd",
    "assd",
    "sensitivity",
    "specificity",
    "precision",
    "jaccard",
    "volumePredMl",
    "volumeGtMl",
]

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_DIR = os.path.dirname(HERE)
REPO_ROOT = os.path.dirname(os.path.dirname(PACKAGE_DIR))
SHARED = os.path.join(os.path.dirname(REPO_ROOT), "shared", "data")
OUT = os.path.join(PACKAGE_DIR, "src", "__golden__", "reference.json")
TIMINGS_OUT = os.path.join(PACKAGE_DIR, "src", "__golden__", "reference-timings.json")


# ---------------------------------------------------------------------------------------------
# Metrics



def peak_rss_mib():
    """Peak resident memory in MiB: VmHWM on Linux (ru_maxrss would include the memory of the
    process that spawned this one, inherited through fork), else ru_maxrss (KiB on Linux)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def surface(mask):
    return mask ^ binary_erosion(mask, structure=STRUCTURE, iterations=1)


def directed_distances(from_surface, to_surface, spacing):
    # The EDT measures the distance to the nearest zero, hence the inverted target surface.
    return distance_transform_edt(~to_surface, sampling=spacing)[from_surface]


def ratio(num, den, both_empty, policy, full_both=None):
    if den > 0:
        return num / den
    if policy == "nan":
        return math.nan
    ok = both_empty if full_both is None else full_both
    return 1.0 if ok else 0.0


def binary_metrics(pred, gt, spacing, policy="brats", empty_distance=EMPTY_DISTANCE):
    pred = pred.astype(bool)
    gt = gt.astype(bool)
    n_pred = int(np.count_nonzero(pred))
    n_gt = int(np.count_nonzero(gt))
    tp = int(np.count_nonzero(pred & gt))
    fp = n_pred - tp
    fn = n_gt - tp
    tn = pred.size - tp - fp - fn
    both_empty = n_pred == 0 and n_gt == 0
    both_full = n_pred == pred.size and n_gt == gt.size
    voxel_ml = float(np.prod(np.asarray(spacing, dtype=np.float64))) / 1000.0
    m = {
        "dice": ratio(2 * tp, 2 * tp + fp + fn, both_empty, policy),
        "jaccard": ratio(tp, tp + fp + fn, both_empty, policy),
        "precision": ratio(tp, tp + fp, both_empty, policy),
        "sensitivity": ratio(tp, tp + fn, both_empty, policy),
        "specificity": ratio(tn, tn + fp, both_empty, policy, full_both=both_full),
        "volumePredMl": n_pred * voxel_ml,
        "volumeGtMl": n_gt * voxel_ml,
    }
    if n_pred > 0 and n_gt > 0:
        sp = surface(pred)
        sg = surface(gt)
        d_pg = directed_distances(sp, sg, spacing)
        d_gp = directed_distances(sg, sp, spacing)
        m["hd95"] = float(np.percentile(np.hstack((d_pg, d_gp)), 95))
        m["hd"] = float(max(d_pg.max(), d_gp.max()))
        m["assd"] = float(np.mean((d_pg.mean(), d_gp.mean())))
    elif policy == "nan":
        m["hd95"] = m["hd"] = m["assd"] = math.nan
    elif both_empty:
        m["hd95"] = m["hd"] = m["assd"] = 0.0
    else:
        m["hd95"] = m["hd"] = m["assd"] = float(empty_distance)
    return {k: float(m[k]) for k in METRIC_KEYS}


def apply_label_map(labels, label_map):
    if not label_map:
        return labels
    out = labels.copy()
    for src, dst in label_map.items():
        out[labels == src] = dst
    return out


def evaluate_case(pred, gt, spacing, convention="brats2021", label_map=None, policy="brats",
                  empty_distance=EMPTY_DISTANCE):
    """Every region and label of the convention; label maps apply to the prediction only."""
    conv = CONVENTIONS[convention]
    pred = apply_label_map(pred, label_map)
    out = {"regions": {}, "labels": {}}
    # The same label set scores the same (brats2021's ET is label 4): compute each set once.
    scored = {}

    def score(members):
        key = tuple(sorted(members))
        if key not in scored:
            scored[key] = binary_metrics(
                np.isin(pred, members), np.isin(gt, members), spacing, policy, empty_distance
            )
        return dict(scored[key])

    for region, members in conv["regions"].items():
        out["regions"][region] = score(members)
    for label in conv["labels"]:
        out["labels"][str(label)] = score([label])
    known = set(conv["labels"]) | {0}
    unknown_pred = sorted(int(v) for v in np.unique(pred) if int(v) not in known)
    unknown_gt = sorted(int(v) for v in np.unique(gt) if int(v) not in known)
    if unknown_pred or unknown_gt:
        out["unknownLabels"] = {"pred": unknown_pred, "gt": unknown_gt}
    return out


# ---------------------------------------------------------------------------------------------
# Random cases


def rle(volume):
    """[value, run, value, run, ...] over the Fortran-order flattening."""
    flat = np.asarray(volume).ravel(order="F").astype(np.int64)
    if flat.size == 0:
        return []
    starts = np.concatenate(([0], np.flatnonzero(flat[1:] != flat[:-1]) + 1))
    runs = np.diff(np.concatenate((starts, [flat.size])))
    out = []
    for s, r in zip(starts.tolist(), runs.tolist()):
        out.extend((int(flat[s]), int(r)))
    return out


def unrle(pairs, shape):
    flat = np.repeat(np.asarray(pairs[0::2], dtype=np.int64), np.asarray(pairs[1::2], dtype=np.int64))
    return flat.reshape(shape, order="F")


def grid(shape):
    return np.meshgrid(*(np.arange(n, dtype=np.float64) for n in shape), indexing="ij")


def ellipsoid(shape, centre, radii):
    x, y, z = grid(shape)
    return (
        ((x - centre[0]) / radii[0]) ** 2
        + ((y - centre[1]) / radii[1]) ** 2
        + ((z - centre[2]) / radii[2]) ** 2
    ) <= 1.0


def random_blobs(rng, shape, n_blobs, centre=None):
    """Blob parameters (centre, radii) for `paint`; centred at `centre` when given."""
    blobs = []
    for _ in range(n_blobs):
        c = list(centre) if centre is not None else [rng.uniform(0.25, 0.75) * (n - 1) for n in shape]
        r = [max(1.0, rng.uniform(0.12, 0.3) * n) for n in shape]
        blobs.append((c, r))
    return blobs


def perturb(rng, blobs, shift, scale):
    """A prediction's blobs: the same tumour moved by ~shift voxels and re-sized by ~scale."""
    return [
        ([ci + rng.normal(0, shift) for ci in c], [ri * (1 + rng.normal(0, scale)) for ri in r])
        for c, r in blobs
    ]


def paint(shape, blobs, labels):
    """Nested ellipsoids: an outer shell labelled like oedema, inner cores like ET and NCR."""
    vol = np.zeros(shape, dtype=np.int64)
    ed, ncr, et = labels
    for c, r in blobs:
        vol[ellipsoid(shape, c, r)] = ed
        vol[ellipsoid(shape, c, [ri * 0.65 for ri in r])] = et
        vol[ellipsoid(shape, c, [ri * 0.4 for ri in r])] = ncr
    return vol


def tumour(rng, shape, labels, n_blobs=2, centre=None):
    return paint(shape, random_blobs(rng, shape, n_blobs, centre), labels)


def tumour_pair(rng, shape, labels, n_blobs=2, shift=1.0, scale=0.1, centre=None):
    """(prediction, ground truth): the prediction is a perturbed copy of the ground truth's blobs."""
    blobs = random_blobs(rng, shape, n_blobs, centre)
    return paint(shape, perturb(rng, blobs, shift, scale), labels), paint(shape, blobs, labels)


def flip_some(rng, vol, fraction, values):
    out = vol.copy()
    hit = rng.random(vol.shape) < fraction
    out[hit] = rng.choice(values, size=int(hit.sum()))
    return out


def scattered(rng, shape, density, values):
    vol = np.zeros(shape, dtype=np.int64)
    hit = rng.random(shape) < density
    vol[hit] = rng.choice(values, size=int(hit.sum()))
    return vol


def make_random_cases():
    rng = np.random.default_rng(20240603)
    cases = []

    def add(name, pred, gt, spacing, convention="brats2021", label_map=None, policy="brats",
            empty_distance=None):
        opts = {"convention": convention}
        if label_map:
            opts["labelMap"] = {str(k): v for k, v in label_map.items()}
        if policy != "brats":
            opts["emptyPolicy"] = policy
        if empty_distance is not None:
            opts["emptyDistance"] = empty_distance
        result = evaluate_case(
            pred, gt, spacing, convention, label_map, policy,
            EMPTY_DISTANCE if empty_distance is None else empty_distance,
        )
        case = {
            "name": name,
            "shape": list(gt.shape),
            "spacing": [float(s) for s in spacing],
            "options": opts,
            "pred": rle(pred),
            "gt": rle(gt),
        }
        case.update(result)
        cases.append(case)

    spacings = [
        (1.0, 1.0, 1.0),
        (0.5, 0.8, 2.5),
        (1.2, 0.9375, 3.0),
        (2.0, 1.0, 1.0),
        (0.7, 0.7, 0.7),
        (1.0, 3.3, 0.45),
    ]
    shapes = [(24, 20, 16), (31, 17, 12), (16, 28, 9), (40, 36, 30), (13, 13, 13), (9, 33, 21)]

    # Blobs: a ground-truth tumour and a prediction that is a shifted, re-sized, noisy copy.
    for i in range(12):
        shape = shapes[i % len(shapes)]
        spacing = spacings[i % len(spacings)]
        pred, gt = tumour_pair(rng, shape, (2, 1, 4), 1 + i % 3, shift=0.5 + i % 4, scale=0.15)
        if i % 4 == 3:
            # A false-positive blob elsewhere: a long tail of distances for HD and HD95.
            pred = np.maximum(pred, tumour(rng, shape, (2, 1, 4), n_blobs=1))
        if i % 2 == 0:
            pred = flip_some(rng, pred, 0.01, [0, 1, 2, 4])
        add(f"blobs-{i}", pred, gt, spacing)

    # Prediction = ground truth with sparse label noise: many tiny distances, many ties.
    for i in range(4):
        shape = shapes[(i + 2) % len(shapes)]
        gt = tumour(rng, shape, (2, 1, 4), n_blobs=2)
        pred = flip_some(rng, gt, 0.02 * (i + 1), [0, 1, 2, 4])
        add(f"noisy-copy-{i}", pred, gt, spacings[(i + 1) % len(spacings)])

    # Scattered voxels: surfaces are most of the mask, distances small and irregular.
    for i, density in enumerate([0.002, 0.01, 0.05, 0.2]):
        shape = shapes[i % len(shapes)]
        gt = scattered(rng, shape, density, [1, 2, 4])
        pred = scattered(rng, shape, density * 1.5, [1, 2, 4])
        add(f"scattered-{i}", pred, gt, spacings[(i + 3) % len(spacings)])

    # Masks touching the image border (border voxels are surface voxels).
    for i in range(4):
        shape = shapes[i % len(shapes)]
        corner = [0 if (i >> a) & 1 else n - 1 for a, n in enumerate(shape)]
        pred, gt = tumour_pair(rng, shape, (2, 1, 4), 1, shift=1.0, scale=0.2, centre=corner)
        add(f"border-{i}", pred, gt, spacings[i % len(spacings)])
    full_slab_gt = np.zeros((12, 10, 8), dtype=np.int64)
    full_slab_gt[:, :, :3] = 2
    full_slab_gt[:, :5, :2] = 4
    full_slab_pred = np.zeros((12, 10, 8), dtype=np.int64)
    full_slab_pred[:, :, :4] = 2
    full_slab_pred[:, :4, :2] = 4
    add("border-slabs", full_slab_pred, full_slab_gt, (1.0, 1.5, 2.0))

    # Empty and one-empty masks, per label and per region.
    shape = (20, 18, 14)
    gt = tumour(rng, shape, (2, 1, 4), n_blobs=2)
    empty = np.zeros(shape, dtype=np.int64)
    add("empty-pred", empty, gt, (1.0, 1.0, 1.0))
    add("empty-gt", gt, empty, (0.5, 0.8, 2.5))
    add("both-empty", empty, empty, (1.0, 1.0, 1.0))
    no_et = gt.copy()
    no_et[no_et == 4] = 1
    add("no-et-in-pred", no_et, gt, (1.0, 1.0, 1.0))
    add("no-et-in-gt", gt, no_et, (1.2, 0.9375, 3.0))
    add("no-et-anywhere", no_et, no_et.copy(), (1.0, 1.0, 1.0))
    add("empty-pred-nan", empty, gt, (1.0, 1.0, 1.0), policy="nan")
    add("both-empty-nan", empty, empty, (1.0, 1.0, 1.0), policy="nan")
    add("no-et-in-gt-nan", gt, no_et, (0.7, 0.7, 0.7), policy="nan")
    add("empty-pred-distance-100", empty, gt, (1.0, 1.0, 1.0), empty_distance=100.0)

    # Single voxels and degenerate shapes.
    one = np.zeros((5, 6, 7), dtype=np.int64)
    one[2, 3, 4] = 4
    other = np.zeros((5, 6, 7), dtype=np.int64)
    other[0, 0, 0] = 4
    add("single-voxels", one, other, (1.0, 2.0, 3.0))
    add("single-voxel-same", one, one.copy(), (1.0, 2.0, 3.0))
    add("one-slice", *tumour_pair(rng, (1, 20, 20), (2, 1, 4), 2, shift=1.5), (1.0, 0.5, 0.5))
    line = scattered(rng, (7, 1, 9), 0.4, [1, 2, 4])
    add("one-row", scattered(rng, (7, 1, 9), 0.4, [1, 2, 4]), line, (3.0, 1.0, 1.0))
    add("two-cube", scattered(rng, (2, 2, 2), 0.6, [1, 2, 4]),
        scattered(rng, (2, 2, 2), 0.6, [1, 2, 4]), (1.0, 1.0, 1.0))
    full = np.full((4, 3, 5), 2, dtype=np.int64)
    add("full-gt-and-pred", full, full.copy(), (1.0, 1.0, 1.0))
    partial = full.copy()
    partial[0, 0, 0] = 0
    add("full-gt-partial-pred", partial, full, (1.0, 1.0, 1.0))

    # Label conventions and label maps.
    for i, convention in enumerate(["brats2023", "brats2015", "brats2023", "brats2015"]):
        shape = shapes[(i + 1) % len(shapes)]
        labels = (2, 1, 3) if convention == "brats2023" else (2, 3 if i % 2 else 1, 4)
        pred, gt = tumour_pair(rng, shape, labels, 2, shift=1.0, scale=0.15)
        if convention == "brats2015":
            # brats2015 uses 1 and 3 together in the core: mix both into the prediction.
            pred = flip_some(rng, pred, 0.03, [1, 3])
        add(f"{convention}-{i}", pred, gt, spacings[(i + 2) % len(spacings)], convention)
    shape = (24, 20, 16)
    gt = tumour(rng, shape, (2, 1, 4), n_blobs=2)
    pred_et3 = gt.copy()
    pred_et3[gt == 4] = 3
    pred_et3 = flip_some(rng, pred_et3, 0.01, [0, 1, 2, 3])
    add("et-as-3-raw", pred_et3, gt, (1.0, 1.0, 1.0))
    add("et-as-3-mapped", pred_et3, gt, (1.0, 1.0, 1.0), label_map={3: 4})
    add("label-map-two-entries", pred_et3, gt, (1.0, 1.0, 1.0), label_map={3: 4, 2: 0})
    add("label-map-swap", pred_et3, gt, (0.5, 0.8, 2.5), label_map={3: 4, 4: 3})
    odd = gt.copy()
    odd[0, 0, 0] = 7
    odd_pred = gt.copy()
    odd_pred[1, 1, 1] = 255
    add("unknown-labels-both", odd_pred, odd, (1.0, 1.0, 1.0))
    add("brats2023-pred-uses-4", gt, pred_et3, (1.0, 1.0, 1.0), "brats2023")
    return cases


# ---------------------------------------------------------------------------------------------
# Real predictions


def load_labels(path):
    img = nib.load(path)
    # Label volumes are integer-valued; float64 keeps any datatype exact without scaling surprises.
    data = np.asarray(img.get_fdata(dtype=np.float64))
    if not np.all(data == np.round(data)):
        raise ValueError(f"{path}: non-integer labels")
    return data.astype(np.int64), tuple(float(z) for z in img.header.get_zooms()[:3])


def parse_label_map(text):
    out = {}
    for pair in text.split(","):
        src, dst = pair.split("=")
        out[int(src)] = int(dst)
    return out


def real_cases():
    pred_dir = os.path.join(SHARED, "peer-predictions", "deepbrainseg")
    gt_dir = os.path.join(SHARED, "brats")
    if not (os.path.isdir(pred_dir) and os.path.isdir(gt_dir)):
        return {"skipped": f"{pred_dir} or {gt_dir} is absent"}, [], []
    cases = []
    timings = []
    for name in sorted(os.listdir(pred_dir)):
        if not name.endswith(".nii.gz"):
            continue
        case_id = name[: -len(".nii.gz")]
        gt_path = os.path.join(gt_dir, case_id, f"{case_id}_seg.nii.gz")
        if not os.path.exists(gt_path):
            continue
        t0 = time.perf_counter()
        pred, pred_spacing = load_labels(os.path.join(pred_dir, name))
        gt, spacing = load_labels(gt_path)
        read_seconds = time.perf_counter() - t0
        for label_map in (None, {3: 4}):
            t1 = time.perf_counter()
            result = evaluate_case(pred, gt, spacing, "brats2021", label_map)
            seconds = time.perf_counter() - t1
            entry = {
                "case": case_id,
                "pred": f"peer-predictions/deepbrainseg/{name}",
                "gt": f"brats/{case_id}/{case_id}_seg.nii.gz",
                "shape": list(gt.shape),
                "spacing": list(spacing),
                "options": {"convention": "brats2021"},
            }
            if label_map:
                entry["options"]["labelMap"] = {str(k): v for k, v in label_map.items()}
            entry.update(result)
            cases.append(entry)
            timings.append({"case": case_id, "labelMap": entry["options"].get("labelMap"),
                            "readSeconds": round(read_seconds, 3),
                            "metricSeconds": round(seconds, 3)})
            print(f"{case_id} labelMap={label_map}: {seconds:.2f} s", file=sys.stderr)
    return None, cases, timings


# ---------------------------------------------------------------------------------------------


def to_json(value):
    """NaN -> null (JSON has no NaN); everything else unchanged."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return value


def time_mode(argv):
    pred_path, gt_path = argv[0], argv[1]
    label_map = None
    repeat = 1
    rest = argv[2:]
    while rest:
        flag = rest.pop(0)
        if flag == "--label-map":
            label_map = parse_label_map(rest.pop(0))
        elif flag == "--repeat":
            repeat = int(rest.pop(0))
        else:
            raise SystemExit(f"unknown option {flag}")
    read_seconds, metric_seconds = [], []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        pred, _ = load_labels(pred_path)
        gt, spacing = load_labels(gt_path)
        t1 = time.perf_counter()
        result = evaluate_case(pred, gt, spacing, "brats2021", label_map)
        t2 = time.perf_counter()
        read_seconds.append(t1 - t0)
        metric_seconds.append(t2 - t1)
    peak_mib = peak_rss_mib()
    print(json.dumps(to_json({"readSeconds": read_seconds, "metricSeconds": metric_seconds,
                              "peakRssMiB": peak_mib, "regions": result["regions"],
                              "labels": result["labels"]})))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--time":
        time_mode(sys.argv[2:])
        return
    random_cases = make_random_cases()
    # Self-check: the stored run-lengths rebuild the exact volumes the metrics were computed on.
    for case in random_cases[:3]:
        shape = tuple(case["shape"])
        assert rle(unrle(case["pred"], shape)) == case["pred"]
    skipped, real, timings = real_cases()
    out = {
        "generator": "packages/metrics/scripts/reference_metrics.py",
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__,
                     "nibabel": nib.__version__},
        "emptyDistance": EMPTY_DISTANCE,
        "volumeEncoding": "run-length pairs [value, count, ...] over the Fortran-order flattening",
        "random": random_cases,
        "real": real,
    }
    if skipped:
        out["realSkipped"] = skipped
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(to_json(out), f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print(f"wrote {OUT}: {len(random_cases)} random cases, {len(real)} real", file=sys.stderr)
    if timings:
        # Kept apart so that reference.json stays byte-identical from run to run.
        with open(TIMINGS_OUT, "w") as f:
            json.dump({"machine": os.uname().machine, "cpus": os.cpu_count(), "cases": timings},
                      f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
