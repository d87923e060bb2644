"""Synthetic multi-object and re-find suites over several checkpoints of one model config.

Held-out folds of DAVIS-2016 train measure single-object accuracy only. Before a recipe
replaces a shipped model, its fold models are also run here against the base recipe's, on
fixed-seed synthetic clips that check what DAVIS-2016 cannot:

1. **Several objects, one added late**: photo-textured clips with three moving objects
   (:data:`vosframe.data.stress.LATE_OBJECT_CLIPS`), objects 1 and 2 given on frame 0 and
   object 3 on frame 4 (the clips of the shipped-model tests, over several seeds). Per
   clip and object: mean IoU over the frames after it was given. Reported: the mean over
   objects and clips, the mean of each clip's worst object, the share of objects above
   0.45 (the shipped-model test's bound) and, to tell a mask that shrinks from one that
   takes another object, the predicted over ground-truth area and the share of an
   object's predicted pixels that lie on another object.
2. **Re-find** (:mod:`vosframe.data.stress`, ``occlusion`` and ``exit``): the best IoU
   from the frame the object reappears on, with the session's recovery on.

Each ``--checkpoint`` is ``LABEL=PATH``; checkpoints with the same label (a recipe's fold
models and seeds) are summarised together. Writes ``results.json`` and ``results.md``.

Usage::

    python benchmarks/synthetic_suites.py --model ttvos \\
        --checkpoint base=work_dirs/ttvos_fold0_seed1/vosframe_latest.pt \\
        --checkpoint stills=work_dirs/ttvos_stills_fold0_seed0/vosframe_latest.pt \\
        --out benchmarks/results/ttvos_stills_synthetic_suites
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from vosframe.app.zoo import load_model
from vosframe.data.stress import LATE_OBJECT_CLIPS, LATE_OBJECT_FRAME, stress_clip
from vosframe.metrics.davis import db_eval_iou

BOUND = 0.45


def late_object(model, seed: int) -> list[float]:
    """Mean IoU of each of three objects on a clip where object 3 is given late."""
    return late_object_run(model, seed)["iou"]


def late_object_run(model, seed: int) -> dict[str, list[float]]:
    """Per object of a late-object clip, over the frames after it was given: mean IoU
    (``iou``), predicted over ground-truth area (``area``: below 1 the mask shrinks, above
    1 it spreads) and the share of its predicted pixels that lie on another object
    (``on_others``: how much of the loss is confusion between objects)."""
    clip = LATE_OBJECT_CLIPS.generate(seed=seed)
    session = model.new_session(precision="fp32")
    ious: dict[int, list[float]] = {1: [], 2: [], 3: []}
    pred = dict.fromkeys(ious, 0)
    true = dict.fromkeys(ious, 0)
    others = dict.fromkeys(ious, 0)
    for t, frame in enumerate(clip.frames):
        given = (1, 2) if t == 0 else (3,) if t == LATE_OBJECT_FRAME else ()
        result = session.step(frame, {k: clip.masks[t] == k for k in given} or None)
        for k in ious:
            if t > (LATE_OBJECT_FRAME if k == 3 else 0):
                gt, mask = clip.masks[t] == k, result.labels == k
                ious[k].append(db_eval_iou(gt, mask))
                pred[k] += int(mask.sum())
                true[k] += int(gt.sum())
                others[k] += int((mask & (clip.masks[t] > 0) & ~gt).sum())
    return {
        "iou": [float(np.mean(v)) for v in ious.values()],
        "area": [pred[k] / max(true[k], 1) for k in ious],
        "on_others": [others[k] / max(pred[k], 1) for k in ious],
    }


def refind(model, kind: str, seed: int) -> float:
    """Best IoU of object 1 from the frame it reappears on (recovery on)."""
    clip = stress_clip(kind, seed=seed)
    session = model.new_session(precision="fp32")
    ious = []
    for t in range(len(clip)):
        result = session.step(clip.frames[t], masks=clip.masks[0] if t == 0 else None)
        ious.append(db_eval_iou(clip.masks[t] == 1, result.labels == 1))
    return float(max(ious[clip.reappears :]))


def run_checkpoint(
    name: str, path: str, seeds: list[int], stress_seeds: list[int], config: str | None = None
) -> dict:
    """Both suites on one checkpoint (built from ``config`` instead of the shipped model's
    config when given)."""
    if config is not None:
        model = load_model(config=config, checkpoint=path)
    else:
        model = load_model(name, checkpoint=path)
    late = [late_object_run(model, s) for s in seeds]
    found = {k: [refind(model, k, s) for s in stress_seeds] for k in ("occlusion", "exit")}
    return {
        "path": path,
        "late_object": [r["iou"] for r in late],
        "late_area": [r["area"] for r in late],
        "late_on_others": [r["on_others"] for r in late],
        "refind": found,
    }


def summarise(runs: list[dict]) -> dict:
    """A label's figures over its checkpoints."""
    late = np.array([r["late_object"] for r in runs])  # (checkpoints, seeds, 3)
    per_ckpt = late.mean(axis=(1, 2))
    out = {
        "checkpoints": len(runs),
        "late_mean_iou": float(late.mean()),
        "late_mean_iou_per_checkpoint": per_ckpt.round(3).tolist(),
        "late_worst_object": float(late.min(axis=2).mean()),
        "late_share_above_bound": float((late > BOUND).mean()),
        "late_given_late_object": float(late[..., 2].mean()),
    }
    if all("late_area" in r for r in runs):  # reports written before these two were added
        out["late_area_ratio"] = float(np.mean([r["late_area"] for r in runs]))
        out["late_on_others"] = float(np.mean([r["late_on_others"] for r in runs]))
    for kind in ("occlusion", "exit"):
        found = np.array([r["refind"][kind] for r in runs])
        out[f"refind_{kind}_mean"] = float(found.mean())
        out[f"refind_{kind}_share_above_0.5"] = float((found >= 0.5).mean())
    return out


def _markdown(
    name: str, seeds: list[int], stress_seeds: list[int], threads: int, summary: dict
) -> str:
    lines = [
        f"# Synthetic suites: {name}",
        "",
        f"Late-object clip seeds {seeds}, stress clip seeds {stress_seeds}; {threads} "
        "thread(s), fp32. "
        "Late object: mean IoU over three objects "
        f"(object 3 given on frame {LATE_OBJECT_FRAME}); worst: each clip's worst object; "
        f"share > {BOUND}: objects above the shipped-model test's bound; area: predicted "
        "over ground-truth area (below 1: masks shrink); on others: share of an object's "
        "predicted pixels on another object. Re-find: best IoU from reappearance, share "
        ">= 0.5.",
        "",
        "| recipe | checkpoints | late: mean IoU | late: worst object | late: object 3 "
        "| late: share > 0.45 | late: area | late: on others "
        "| re-find occlusion (share) | re-find exit (share) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, s in summary.items():
        area = f"{s['late_area_ratio']:.2f}" if "late_area_ratio" in s else "-"
        on_others = f"{s['late_on_others']:.0%}" if "late_on_others" in s else "-"
        lines.append(
            f"| {label} | {s['checkpoints']} | {s['late_mean_iou']:.2f} | "
            f"{s['late_worst_object']:.2f} | {s['late_given_late_object']:.2f} | "
            f"{s['late_share_above_bound']:.0%} | {area} | {on_others} | "
            f"{s['refind_occlusion_mean']:.2f} "
            f"({s['refind_occlusion_share_above_0.5']:.0%}) | {s['refind_exit_mean']:.2f} "
            f"({s['refind_exit_share_above_0.5']:.0%}) |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="shipped model name (its config)")
    parser.add_argument(
        "--config",
        help="a config file to build the model from instead of the shipped model's "
        "(e.g. an inference-setting variant); --model still names the report",
    )
    parser.add_argument(
        "--checkpoint", action="append", required=True, metavar="LABEL=PATH", default=[]
    )
    parser.add_argument("--seeds", default="11,12,13,14,15,16", help="late-object clip seeds")
    parser.add_argument("--stress-seeds", default="0,1,2,3,4,5", help="stress clip seeds")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    pairs = []
    for item in args.checkpoint:
        label, sep, path = item.partition("=")
        if not sep or not label or not Path(path).is_file():
            parser.error(f"--checkpoint {item!r}: give LABEL=PATH of an existing file")
        pairs.append((label, path))
    if args.config is not None and not Path(args.config).is_file():
        parser.error(f"--config {args.config!r}: no such file")
    out = Path(args.out)
    if (out / "results.json").exists():
        parser.error(f"{out}/results.json exists: choose another --out")
    seeds = [int(s) for s in args.seeds.split(",")]
    stress_seeds = [int(s) for s in args.stress_seeds.split(",")]
    torch.set_num_threads(args.threads)
    runs: dict[str, list[dict]] = defaultdict(list)
    for label, path in pairs:
        runs[label].append(run_checkpoint(args.model, path, seeds, stress_seeds, args.config))
        print(label, path, runs[label][-1]["late_object"], flush=True)
    summary = {label: summarise(r) for label, r in runs.items()}
    out.mkdir(parents=True, exist_ok=True)
    res = {"model": args.model, "config": args.config, "seeds": seeds}
    res["stress_seeds"] = stress_seeds
    res["threads"] = args.threads
    res |= {"summary": summary, "runs": runs}
    (out / "results.json").write_text(json.dumps(res, indent=1))
    report = _markdown(args.model, seeds, stress_seeds, args.threads, summary)
    (out / "results.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
