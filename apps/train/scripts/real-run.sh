#!/usr/bin/env bash
# The documented real run of apps/train/README.md: the reference model (brats-train's defaults)
# trained for a fixed wall-clock budget on five of the six shared BraTS cases, then the last
# checkpoint segments the sixth (BraTS2021_00006) with brats-infer and brats-eval scores it.
#
#   apps/train/scripts/real-run.sh OUT_DIR [MINUTES] [ENGINE]
#
# ENGINE: native (default: the oneDNN kernels, what brats-train picks where they load) or wasm
# (BRATS_ONEDNN=0: the wasm fast kernels alone). Run from the repository root after `pnpm build`,
# on a quiet machine; ../shared/data/brats must exist. Training stops with SIGINT at the budget
# (brats-train finishes the step and saves last/), so the run can also be resumed.
set -euo pipefail
out=${1:?usage: real-run.sh OUT_DIR [MINUTES] [native|wasm]}
minutes=${2:-30}
engine=${3:-native}
data=../shared/data/brats
val=BraTS2021_00006
[ -d "$data/$val" ] || { echo "real-run.sh: no $data/$val (the shared data)" >&2; exit 2; }
[ -e "$out" ] && { echo "real-run.sh: $out exists; pick a new OUT_DIR" >&2; exit 2; }
case "$engine" in
  native) export BRATS_ONEDNN=1 ;;
  wasm) export BRATS_ONEDNN=0 ;;
  *) echo "real-run.sh: ENGINE must be native or wasm" >&2; exit 2 ;;
esac
mkdir -p "$out/val-input"
ln -s "$(cd "$data/$val" && pwd)" "$out/val-input/$val"
# One epoch of 50 steps between checkpoints, no validation inside the budget (it is scored
# after), the rest brats-train's defaults: the reference model, 64³ patches, Adam 1e-3, poly.
status=0
timeout -s INT "${minutes}m" node apps/train/bin/brats-train.js --data "$data" --out "$out/run" \
  --val "$val" --backend wasm --steps-per-epoch 50 --val-every 1000 --seed 1 --workers 1 \
  > "$out/train.out" 2> "$out/train.log" || status=$?
# 124: the budget ran out (timeout's SIGINT), which is the expected end.
if [ "$status" -ne 0 ] && [ "$status" -ne 124 ] && [ "$status" -ne 130 ]; then
  echo "real-run.sh: brats-train failed ($status); see $out/train.log" >&2
  exit 1
fi
steps=$(grep -c '"type":"step"' "$out/run/log.jsonl" || true)
node apps/infer/bin/brats-infer.js --model "$out/run" --checkpoint last --input "$out/val-input" \
  --out "$out/pred" --quiet > "$out/infer.out" 2> "$out/infer.log"
node packages/metrics/bin/brats-eval.js --pred "$out/pred" --gt "$out/val-input" --json \
  > "$out/eval.json" 2> "$out/eval.log"
echo "{\"engine\":\"$engine\",\"minutes\":$minutes,\"steps\":$steps,\"engineLine\":$(grep -m1 -o 'tfjs backend: [^"]*' "$out/train.log" | node -e 'process.stdin.on("data",d=>process.stdout.write(JSON.stringify(String(d).trim())))'),\"eval\":$(cat "$out/eval.json")}"
