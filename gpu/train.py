"""Time-budgeted training of the memory model for a one-shot GPU run (CPU works too).

``run`` trains one model through its stages, each a separate process (a fresh mmengine
Runner), each stage limited by wall time (:class:`vosframe.training.time_budget.TimeBudgetHook`)
and starting from the previous stage's export:

1. ``configs/stcn/stcn_effnetlite0_synthetic.py`` (synthetic clips);
2. ``configs/stcn/stcn_effnetlite0_davis16.py`` (DAVIS-2016 train + synthetic, curriculum);
3. optionally ``configs/stcn/stcn_rde_effnetlite0_davis16.py`` (RDE memory + its losses).

On CUDA the model trains there (the Runner moves it; the data preprocessor moves batches)
with bf16 autocast (``AmpOptimWrapper``); DataLoader workers decode and synthesise clips.

Usage::

    python gpu/train.py run --name all_s0 --seconds 360 [--fold 0] [--seed 0] [--rde 0.15]
        [--data gpu_data/davis2016/train_240p] [--workers 3] [--runs /tmp/gpu_runs]
    python gpu/train.py stage CONFIG --work-dir DIR --seconds S [...]   (one stage)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

CONFIGS = {
    "s1": "configs/stcn/stcn_effnetlite0_synthetic.py",
    "s2": "configs/stcn/stcn_effnetlite0_davis16.py",
    "rde": "configs/stcn/stcn_rde_effnetlite0_davis16.py",
}
# The packed DAVIS copy keeps every 2nd frame (gpu/pack_data.py): STCN's curriculum skips
# (5, 10, 15, 20, 25, 5 original frames) become these.
PACKED_SKIPS = {
    "s2": [(0.0, 3), (0.1, 5), (0.2, 8), (0.3, 10), (0.4, 13), (0.9, 3)],
    "rde": [(0.0, 3), (0.3, 5), (0.8, 3)],
}


def stage(args: argparse.Namespace) -> int:
    """Train one config for ``args.seconds``; writes ``summary.json`` in the work dir."""
    import torch

    from vosframe.builder import load_config
    from vosframe.training.time_budget import TimeBudgetHook
    from vosframe.training.train import _trust_own_checkpoints, build_runner, set_fold

    torch.set_flush_denormal(True)
    torch.set_num_threads(args.threads)
    import cv2

    cv2.setNumThreads(1)  # DataLoader workers (forked) decode and warp: one thread each
    cfg = load_config(args.config)
    cuda = torch.cuda.is_available()
    for source in cfg.train_dataset.sources:
        if source.get("type") == "davis" and args.data:
            source["root"] = args.data
    if args.data and args.packed_skips in PACKED_SKIPS:
        cfg.train_dataset.max_skip = PACKED_SKIPS[args.packed_skips]
    cfg.train_dataset.samples_per_epoch = args.samples_per_epoch
    cfg.train_dataloader = dict(
        batch_size=args.batch_size or cfg.train_dataloader.get("batch_size", 8),
        num_workers=args.workers,
        persistent_workers=False,
    )
    cfg.train_cfg = dict(by_epoch=True, max_epochs=10**6)
    cfg.param_scheduler = None  # the time-budget hook decays the rate once
    cfg.seed = args.seed
    cfg.load_from_vosframe = args.load_from or None
    if cuda:
        cfg.optim_wrapper = dict(
            type="AmpOptimWrapper", dtype="bfloat16", optimizer=cfg.optim_wrapper.optimizer
        )
    if args.fold is not None and any(
        src.get("type") == "davis" for src in cfg.train_dataset.sources
    ):
        set_fold(cfg, args.fold)
    runner = build_runner(cfg, args.work_dir)
    _trust_own_checkpoints(runner.work_dir)
    for hook in runner.hooks:  # only the vosframe export is kept (no mmengine checkpoints)
        if type(hook).__name__ == "CheckpointHook":
            hook.interval = 10**9
            hook.save_last = False
    runner.register_hook(TimeBudgetHook(args.seconds, decay_at=0.8, gamma=0.1))
    t0 = time.monotonic()
    runner.train()
    hub = runner.message_hub
    scalars = {
        k.removeprefix("train/"): float(v.mean(50))
        for k, v in hub.log_scalars.items()
        if k.startswith("train/") and ("loss" in k or "iou" in k)
    }
    summary = {
        "config": args.config,
        "device": "cuda" if cuda else "cpu",
        "seconds": round(time.monotonic() - t0, 1),
        "iterations": runner.iter,
        "epochs": runner.epoch,
        "last50": scalars,
        "fold": args.fold,
        "seed": args.seed,
    }
    Path(runner.work_dir, "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary))
    return 0


def run(args: argparse.Namespace) -> int:
    """All stages of one model, each in its own process; copies the exports to ``--out``."""
    start = time.monotonic()
    root = Path(args.runs) / args.name
    root.mkdir(parents=True, exist_ok=True)
    s2 = args.s2 if args.s2 is not None else 1.0 - args.s1 - args.rde
    plan = [("s1", args.s1), ("s2", s2)]
    if args.rde > 0:
        plan.append(("rde", args.rde))
    previous = ""
    summaries = {}
    for i, (key, share) in enumerate(plan):
        # the time left, split over the stages still to run (+ the reserve) by their
        # shares, so each stage's startup cost is shared instead of eating the last stage
        left = args.seconds - (time.monotonic() - start)
        rest = sum(sh for _, sh in plan[i:]) + args.reserve
        seconds = max(5.0, left * share / rest)
        work = root / key
        cmd = [
            sys.executable, __file__, "stage", CONFIGS[key], "--work-dir", str(work),
            "--seconds", str(seconds), "--seed", str(args.seed), "--workers", str(args.workers),
            "--threads", str(args.threads), "--samples-per-epoch", str(args.samples_per_epoch),
            "--packed-skips", key, "--load-from", previous, "--data", args.data,
        ]  # fmt: skip
        if args.fold is not None:
            cmd += ["--fold", str(args.fold)]
        batch = args.rde_batch if key == "rde" and args.rde_batch else args.batch_size
        if batch:
            cmd += ["--batch-size", str(batch)]
        with open(root / f"{key}.log", "w") as log:
            rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT)
        if rc != 0:
            print(f"{args.name}: stage {key} failed (rc {rc}); see {root / f'{key}.log'}")
            return rc
        previous = str(work / "vosframe_latest.pt")
        summaries[key] = json.loads((work / "summary.json").read_text())
        if args.out and key in ("s2", "rde"):
            out = Path(args.out) / f"stcn{'_rde' if key == 'rde' else ''}_{args.name}.pt"
            out.write_bytes(Path(previous).read_bytes())
    (root / "summary.json").write_text(json.dumps(summaries, indent=1))
    print(f"{args.name}: done in {time.monotonic() - start:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="all stages of one model")
    r.add_argument("--name", required=True)
    r.add_argument("--seconds", type=float, required=True, help="budget of all stages")
    r.add_argument("--s1", type=float, default=0.3, help="share of the synthetic stage")
    r.add_argument("--s2", type=float, default=None, help="share of the DAVIS stage")
    r.add_argument("--rde", type=float, default=0.0, help="share of the RDE stage (0: none)")
    r.add_argument(
        "--reserve",
        type=float,
        default=0.0,
        help="share of the budget left unused at the end (same stage times as a run with an "
        "RDE stage of that share)",
    )
    r.add_argument("--rde-batch", type=int, default=0)
    r.add_argument("--batch-size", type=int, default=0, help="0: the configs' batch size")
    r.add_argument("--runs", default="/tmp/gpu_runs")
    r.add_argument("--out", default=os.environ.get("OUT", ""))
    s = sub.add_parser("stage", help="one stage")
    s.add_argument("config")
    s.add_argument("--work-dir", required=True)
    s.add_argument("--seconds", type=float, required=True)
    s.add_argument("--load-from", default="")
    s.add_argument("--packed-skips", default="")
    s.add_argument("--batch-size", type=int, default=0)
    for q in (r, s):
        q.add_argument("--fold", type=int, default=None)
        q.add_argument("--seed", type=int, default=0)
        q.add_argument("--data", default="gpu_data/davis2016/train_240p")
        q.add_argument("--workers", type=int, default=3)
        q.add_argument("--threads", type=int, default=2)
        q.add_argument("--samples-per-epoch", type=int, default=240)
    args = p.parse_args(argv)
    return stage(args) if args.cmd == "stage" else run(args)


if __name__ == "__main__":
    sys.exit(main())
