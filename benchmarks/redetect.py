"""Cost and effect of lost-object recovery (vosframe.core.recovery) on a shipped model.

Three measurements, written as JSON and Markdown to ``--out``:

1. **Overhead when nothing is lost**: DAVIS-2016 *train* videos (never val) run twice,
   ``recovery=True`` and ``recovery=False``, alternating per video in one process; the
   median per-frame time of each, whether the label maps are identical, mean IoU, lost
   frames and re-finds.
2. **Cost of one re-detection**: the localizer's :meth:`redetect` on the first-frame
   snapshot plus a refiner run, timed directly on a frame of a stress clip.
3. **Stress clips** (:mod:`vosframe.data.stress`): IoU within 3 frames of reappearing and
   after, with and without recovery, and false re-finds after an object left for good.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/redetect.py --model frtm --videos 4 --frames 40 \\
        --out benchmarks/results/redetect/frtm
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from vosframe.app.zoo import load_model
from vosframe.core.state import FrameState
from vosframe.data.datasets import DavisDataset
from vosframe.data.stress import stress_clip


def _iou(pred: np.ndarray, gt: np.ndarray) -> float:
    union = np.count_nonzero(pred | gt)
    return np.count_nonzero(pred & gt) / union if union else 1.0


def run_video(model, frames, mask0, gts, recovery) -> dict:
    """Segment one video; per-frame ms, labels, IoU and the session summary."""
    session = model.new_session(precision="fp32", recovery=recovery)
    ms, labels, ious = [], [], []
    for t, frame in enumerate(frames):
        t0 = time.perf_counter()
        r = session.step(frame, masks=mask0 if t == 0 else None)
        ms.append((time.perf_counter() - t0) * 1000)
        labels.append(r.labels)
        if t > 0:
            ious.append(_iou(r.labels > 0, gts[t] > 0))
    summary = session.summary()
    return {
        "ms": ms,
        "labels": labels,
        "iou": float(np.mean(ious)),
        "lost_frames": summary["lost_frames"],
        "refinds": summary["refinds"],
    }


def overhead(model, root: Path, videos: int, frames: int) -> dict:
    """Measurement 1 (module notes)."""
    data = DavisDataset(root, year="2016", split="train", resolution="240p")
    seqs = list(data)[:: max(1, len(data) // videos)][:videos]
    rows = []
    for seq in seqs:
        n = min(frames, len(seq))
        imgs = [seq.read_frame(i) for i in range(n)]
        gts = [seq.read_mask(i) for i in range(n)]
        off = run_video(model, imgs, gts[0], gts, False)
        on = run_video(model, imgs, gts[0], gts, True)
        same = all(np.array_equal(a, b) for a, b in zip(on["labels"], off["labels"]))
        rows.append(
            {
                "video": seq.name,
                "frames": n,
                "ms_off": statistics.median(off["ms"][1:]),
                "ms_on": statistics.median(on["ms"][1:]),
                "identical": same,
                "iou_off": off["iou"],
                "iou_on": on["iou"],
                "lost_frames": on["lost_frames"],
                "refinds": on["refinds"],
            }
        )
        print(rows[-1], flush=True)
    return {"videos": rows}


def redetect_cost(model, reps: int) -> dict:
    """Measurement 2 (module notes): ms of one re-detection of one object."""
    clip = stress_clip("exit", seed=0)
    session = model.new_session(precision="fp32")
    session.step(clip.frames[0], masks=clip.masks[0])
    session.step(clip.frames[1])
    frame: FrameState = session.last_frame
    objs = list(session.objects.values())
    recovery = session.engine.recovery
    times = []
    with torch.no_grad():
        recovery._redetect(frame, objs)
        for _ in range(reps):
            t0 = time.perf_counter()
            recovery._redetect(frame, objs)
            times.append((time.perf_counter() - t0) * 1000)
    step = statistics.median(
        [
            session.step(clip.frames[t]).ms
            for t in range(2, 6)  # tracked frames: the usual per-frame cost
        ]
    )
    return {
        "size": list(frame.image.shape[-2:]),
        "redetect_ms": statistics.median(times),
        "tracked_step_ms": step,
    }


def stress(model, seeds: int) -> dict:
    """Measurement 3 (module notes)."""
    rows = []
    for kind in ("occlusion", "exit", "leave"):
        for seed in range(seeds):
            clip = stress_clip(kind, seed=seed)
            row = {"kind": kind, "seed": seed}
            for name, rec in (("off", False), ("on", True)):
                gts = list(clip.masks)
                out = run_video(model, list(clip.frames), gts[0], gts, rec)
                ious = [_iou(lab == 1, g == 1) for lab, g in zip(out["labels"], gts)]
                r = clip.reappears
                if r is None:  # left for good: frames where something was predicted
                    start = clip.hidden[0] + 2
                    row[f"false_frames_{name}"] = int(sum(i < 1.0 for i in ious[start:]))
                else:
                    row[f"within3_{name}"] = max(ious[r : r + 3])
                    row[f"after_{name}"] = float(np.mean(ious[r:]))
            rows.append(row)
            print(row, flush=True)
    return {"clips": rows}


def _markdown(model: str, res: dict) -> str:
    lines = [f"# Lost-object recovery: {model}", ""]
    lines += ["## Overhead when nothing is lost (DAVIS-2016 train, 240p, fp32)", ""]
    lines += ["| video | frames | ms/frame off | ms/frame on | identical | IoU off | IoU on |"]
    lines += ["|---|---|---|---|---|---|---|"]
    for r in res["overhead"]["videos"]:
        lines.append(
            f"| {r['video']} | {r['frames']} | {r['ms_off']:.1f} | {r['ms_on']:.1f} | "
            f"{r['identical']} | {r['iou_off']:.3f} | {r['iou_on']:.3f} |"
        )
    lines += ["", "Lost frames / re-finds with recovery on: "]
    lines[-1] += ", ".join(
        f"{r['video']} {r['lost_frames']}/{r['refinds']}" for r in res["overhead"]["videos"]
    )
    c = res["redetect_cost"]
    lines += ["", "## One re-detection", ""]
    lines += [
        f"At {c['size'][0]}x{c['size'][1]}: {c['redetect_ms']:.1f} ms per lost object and "
        f"frame (a tracked frame's step: {c['tracked_step_ms']:.1f} ms)."
    ]
    lines += ["", "## Stress clips (vosframe.data.stress, 192x320)", ""]
    lines += ["| kind | seed | IoU<=3 off | IoU<=3 on | mean after off | mean after on |"]
    lines += ["|---|---|---|---|---|---|"]
    for r in res["stress"]["clips"]:
        if "within3_on" in r:
            lines.append(
                f"| {r['kind']} | {r['seed']} | {r['within3_off']:.2f} | {r['within3_on']:.2f} "
                f"| {r['after_off']:.2f} | {r['after_on']:.2f} |"
            )
        else:
            lines.append(
                f"| {r['kind']} | {r['seed']} | frames with a false mask after leaving: off "
                f"{r['false_frames_off']}, on {r['false_frames_on']} | | | |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="frtm")
    parser.add_argument("--davis", default="../shared/data/davis2016/train_240p")
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.model)
    res = {
        "model": args.model,
        "threads": args.threads,
        "redetect_cost": redetect_cost(model, args.reps),
        "overhead": overhead(model, Path(args.davis), args.videos, args.frames),
        "stress": stress(model, args.seeds),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(res, indent=1))
    (out / "results.md").write_text(_markdown(args.model, res))
    print(_markdown(args.model, res))


if __name__ == "__main__":
    main()
