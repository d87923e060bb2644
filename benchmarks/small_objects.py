"""Small objects: accuracy and cost of the session's ``small_objects`` modes.

Two sources, never DAVIS val:

* ``synthetic``: one textured object of 0.3-1% of a 240 x 432 frame, 40 frames of normal
  motion (the clips of ``tests/robustness/test_small_objects.py``); mean IoU over frames
  1-39 per clip.
* ``davis-train``: the DAVIS-2016 *train* videos whose first-frame object spans fewer than
  ``min_cells`` localizer cells at the model's internal size (the only ones a mode
  changes: for the others every mode computes what ``off`` computes); J and F per video.

Per run it records mean scores and the median step time per frame (ms, one thread).

    python benchmarks/small_objects.py --model frtm --modes off crop upscale \\
        --source synthetic --seeds 0 1 2 3 4 5 6 7 --out benchmarks/results/small_objects
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from vosframe.app.zoo import load_model
from vosframe.core.scale import SmallObjects, object_cells
from vosframe.data.frames import list_images, read_frame
from vosframe.data.masks import read_mask
from vosframe.data.stress import SMALL_OBJECT_CLIPS as SYNTHETIC
from vosframe.metrics.davis import frame_scores


def run_clip(model, frames, masks, policy) -> dict:
    """Step a session over a clip; returns J/F means and the median ms per frame."""
    session = model.new_session(precision="fp32", small_objects=policy)
    js, fs, ms = [], [], []
    for t, (frame, gt) in enumerate(zip(frames, masks)):
        t0 = time.perf_counter()
        result = session.step(frame, masks=gt if t == 0 else None)
        ms.append((time.perf_counter() - t0) * 1000)
        if t:
            j, f = frame_scores(gt > 0, result.labels == 1)
            js.append(j)
            fs.append(f)
    return {
        "J": float(np.mean(js)),
        "F": float(np.mean(fs)),
        "ms_per_frame": statistics.median(ms[1:]),
        "first_frame_ms": ms[0],
    }


def davis_train_videos(root: Path, model, policy: SmallObjects) -> list[str]:
    """Train videos whose first-frame object is small at the model's internal size."""
    names = []
    limit = model.inference_defaults.get("max_internal_size")
    for video in sorted(p.name for p in (root / "Annotations").iterdir()):
        first = read_mask(sorted((root / "Annotations" / video).glob("*.png"))[0], "binary")
        scale = 1.0 if limit is None else min(1.0, limit / min(first.shape))
        if object_cells(first > 0, scale, model.localizer.stride) < policy.min_cells:
            names.append(video)
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="frtm")
    parser.add_argument("--modes", nargs="+", default=["off", "crop", "upscale"])
    parser.add_argument("--source", choices=["synthetic", "davis-train"], default="synthetic")
    parser.add_argument("--seeds", nargs="+", type=int, default=list(range(8)))
    parser.add_argument(
        "--davis-root",
        default=str(Path(__file__).resolve().parents[2] / "shared/data/davis2016/train_240p"),
    )
    parser.add_argument("--min-cells", type=float, default=SmallObjects().min_cells)
    parser.add_argument("--context", type=float, default=SmallObjects().context)
    parser.add_argument("--out", default="benchmarks/results/small_objects")
    args = parser.parse_args()
    if "val" in Path(args.davis_root).name:
        raise SystemExit("small_objects.py never runs on DAVIS val; pass a train root")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    model = load_model(args.model)
    record = {"model": args.model, "source": args.source, "threads": 1, "runs": {}}
    ref_policy = SmallObjects(min_cells=args.min_cells, context=args.context)
    if args.source == "synthetic":
        clips = {f"seed{s}": SYNTHETIC.generate(s) for s in args.seeds}
        items = {k: (c.frames, c.masks) for k, c in clips.items()}
        record["area_percent"] = {
            k: float((c.masks[0] == 1).mean() * 100) for k, c in clips.items()
        }
    else:
        root = Path(args.davis_root)
        items = {}
        for video in davis_train_videos(root, model, ref_policy):
            frames = [read_frame(p) for p in list_images(root / "JPEGImages" / video)]
            masks = [
                read_mask(p, "binary") for p in sorted((root / "Annotations" / video).glob("*.png"))
            ]
            items[video] = (frames, [m.astype(np.uint8) for m in masks])
    for mode in args.modes:
        policy = None if mode == "off" else SmallObjects(mode, args.min_cells, context=args.context)
        per = {}
        for name, (frames, masks) in items.items():
            per[name] = run_clip(model, frames, masks, policy)
            print(mode, name, {k: round(v, 3) for k, v in per[name].items()}, flush=True)
        record["runs"][mode] = {
            "settings": None
            if policy is None
            else {
                "min_cells": policy.min_cells,
                "max_zoom": policy.max_zoom,
                "context": policy.context,
            },
            "mean_J": float(np.mean([r["J"] for r in per.values()])),
            "mean_F": float(np.mean([r["F"] for r in per.values()])),
            "median_ms_per_frame": float(np.median([r["ms_per_frame"] for r in per.values()])),
            "per_clip": per,
        }
        print(mode, "mean J", round(record["runs"][mode]["mean_J"], 3), flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{args.model}_{args.source}_{'_'.join(args.modes)}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1))
    tmp.replace(path)
    print("wrote", path)


if __name__ == "__main__":
    main()
