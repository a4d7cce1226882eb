"""What `brats-nifti info --json` computes, the nibabel way, for bench/info.bench.ts.

Usage: /usr/bin/python3 bench/nibabel_info.py RUNS FILE...
Per file: nib.load, get_fdata(dtype=float32), then min, max and mean of the finite values.
Prints {"seconds": [one wall time per run over all files]}; one untimed warm-up pass first.
"""

import json
import sys
import time

import nibabel as nib
import numpy as np


def info_all(files):
    out = []
    for path in files:
        data = nib.load(path).get_fdata(dtype=np.float32)
        finite = data[np.isfinite(data)]
        out.append((float(finite.min()), float(finite.max()), float(finite.mean())))
    return out


def main():
    runs = int(sys.argv[1])
    files = sys.argv[2:]
    info_all(files)
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        info_all(files)
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    main()
