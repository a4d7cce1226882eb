"""Times nibabel decoding the same files as bench/decode.bench.ts: nib.load(f).get_fdata(dtype=float32).

Usage: /usr/bin/python3 bench/nibabel_decode.py RUNS FILE...
Prints one JSON object: {"voxels": per-run voxel count, "seconds": [one wall time per run]}.
One warm-up pass (page cache, imports) is not timed.
"""

import json
import sys
import time

import nibabel as nib
import numpy as np


def decode_all(files):
    voxels = 0
    for path in files:
        data = nib.load(path).get_fdata(dtype=np.float32)
        voxels += data.size
    return voxels


def main():
    runs = int(sys.argv[1])
    files = sys.argv[2:]
    voxels = decode_all(files)
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        decode_all(files)
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"voxels": voxels, "seconds": seconds}))


if __name__ == "__main__":
    main()
