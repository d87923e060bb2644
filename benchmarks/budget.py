"""Does a compute budget (``new_session(target_fps=...)``) hold the frame rate it is asked for?

One DAVIS sequence, one process: the gated model at ``tau = 1`` (the base model) and at
``tau = 0`` (the most reuse) give the reachable range; then, for targets between them, a
session with ``target_fps`` runs the same sequence. Reported per run: the FPS over the
frames after the controller's warm-up (``--warmup``) and over the whole sequence, the error
against the target, the mean and range of the ``tau`` it used, the reuse rate and the mean
J (IoU with the ground truth). Written as JSON and Markdown to ``--out``.

Usage::

    python benchmarks/budget.py --model g-frtm --data ../shared/data/davis2016/val_480p \\
        --sequence parkour --threads 1 --out DIR
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from vosframe.app.zoo import load_model
from vosframe.data.davis import open_davis
from vosframe.metrics.davis import db_eval_iou
from vosframe.threads import apply_threads


def run(model, frames, mask0, gts, warmup: int, **options) -> dict:
    """Segment the sequence with ``options``; timing, tau and accuracy."""
    session = model.new_session(precision="bf16", **options)
    ms, taus, ious = [], [], []
    for t, frame in enumerate(frames):
        r = session.step(frame, masks=mask0 if t == 0 else None)
        ms.append(r.ms)
        taus.append(r.tau)
        if t > 0:
            ious.append(
                np.mean([db_eval_iou(gts[t] == i, r.labels == i) for i in np.unique(mask0)[1:]])
            )
    after = ms[1 + warmup :]
    s = session.summary()
    return {
        **{k: v for k, v in options.items()},
        "fps_after_warmup": 1000.0 * len(after) / sum(after),
        "fps_all": 1000.0 * (len(ms) - 1) / sum(ms[1:]),
        "tau_mean": float(np.mean(taus[1:])),
        "tau_min": float(np.min(taus[1:])),
        "tau_max": float(np.max(taus[1:])),
        "reuse_rate": s["reuse_rate"],
        "J": 100.0 * float(np.mean(ious)),
        "taus": [round(float(t), 3) for t in taus],
    }


def main() -> None:
    """Run the benchmark and write the results."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="g-frtm")
    ap.add_argument("--data", required=True, help="DAVIS-layout folder")
    ap.add_argument("--sequence", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=10, help="frames before the FPS is held")
    ap.add_argument("--targets", default="1.15,1.3,1.45", help="targets as multiples of tau=1 FPS")
    ap.add_argument("--frames", type=int, default=None, help="first N frames only")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    apply_threads(args.threads)
    model = load_model(args.model)
    seq = next(iter(open_davis(args.data, [args.sequence])))
    frames = list(seq.frames())[: args.frames]
    gts = [seq.read_mask(i) for i in range(len(frames))]
    mask0 = gts[0]
    rows = [run(model, frames, mask0, gts, args.warmup, tau=1.0)]
    rows.append(run(model, frames, mask0, gts, args.warmup, tau=0.0))
    base = rows[0]["fps_all"]
    for k in (float(x) for x in args.targets.split(",")):
        row = run(model, frames, mask0, gts, args.warmup, target_fps=round(k * base, 2))
        row["error_pct"] = 100.0 * (row["fps_after_warmup"] / row["target_fps"] - 1.0)
        rows.append(row)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"model": args.model, "sequence": args.sequence, "frames": len(frames)}
    meta.update(threads=args.threads, warmup=args.warmup)
    (out / "budget.json").write_text(json.dumps({"meta": meta, "runs": rows}, indent=1))
    lines = [
        f"# Compute budget: {args.model} on {args.sequence} ({len(frames)} frames, "
        f"{args.threads} threads, bf16)",
        "",
        "| run | FPS after warm-up | FPS all | error vs target | tau mean (min-max) | reuse | J |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        name = f"target {r['target_fps']:.2f} FPS" if "target_fps" in r else f"tau = {r['tau']:g}"
        err = f"{r['error_pct']:+.1f}%" if "error_pct" in r else "-"
        lines.append(
            f"| {name} | {r['fps_after_warmup']:.2f} | {r['fps_all']:.2f} | {err} | "
            f"{r['tau_mean']:.2f} ({r['tau_min']:.2f}-{r['tau_max']:.2f}) | "
            f"{100 * r['reuse_rate']:.0f}% | {r['J']:.1f} |"
        )
    (out / "README.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
