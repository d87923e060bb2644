"""Per-level CPU time of the backbones, in fp32 and in bf16 autocast + channels_last.

Each level is timed on its own (the previous level's output is its input), median over
``--runs`` runs after ``--warmup`` runs, with ``torch.set_num_threads(--threads)``.

Usage::

    PYTHONPATH=. python benchmarks/backbone_speed.py [--size 480x854] [--runs 10]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time

import torch

from vosframe.models.backbones import build_backbone

MODES = ("fp32", "fp32+channels_last", "bf16+channels_last")


def time_levels(name: str, mode: str, size: tuple[int, int], runs: int, warmup: int) -> dict:
    """Median milliseconds of preprocessing and of every level of one backbone.

    Args:
        name: Backbone name for :func:`build_backbone`.
        mode: One of :data:`MODES`.
        size: ``(H, W)`` of the input image.
        runs: Timed runs.
        warmup: Untimed runs first.

    Returns:
        ``{"pre": ms, stride: ms, ..., "total": ms}``.
    """
    model = build_backbone(name)  # frozen, eval; Lite0 with its ImageNet weights
    image = torch.rand(1, 3, *size)
    bf16 = mode.startswith("bf16")
    if mode.endswith("channels_last"):
        model = model.to(memory_format=torch.channels_last)
        image = image.contiguous(memory_format=torch.channels_last)
    samples: dict = {"pre": [], **{s: [] for s in model.strides}, "total": []}
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    with torch.inference_mode(), autocast:
        for run in range(warmup + runs):
            start = time.perf_counter()
            x = model.preprocess(image)
            times = {"pre": time.perf_counter() - start}
            for key, level in model.levels.items():
                t0 = time.perf_counter()
                x = level(x)
                times[int(key)] = time.perf_counter() - t0
            times["total"] = time.perf_counter() - start
            if run >= warmup:
                for k, v in times.items():
                    samples[k].append(v * 1000.0)
    return {k: statistics.median(v) for k, v in samples.items()}


def main() -> None:
    """Print the per-level timing table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="480x854", help="HxW of the input image")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--backbones", nargs="+", default=["resnet18", "efficientnet_lite0"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    h, w = (int(v) for v in args.size.lower().split("x"))
    columns = ["pre", 2, 4, 8, 16, 32, "total"]
    print(
        f"# {h}x{w}, {args.threads} threads, median of {args.runs} runs (ms); "
        f"torch {torch.__version__}; load average before: {os.getloadavg()[0]:.2f}"
    )
    header = f"| {'backbone':<20} | {'mode':<20} | " + " | ".join(
        f"{'s' + str(c) if isinstance(c, int) else c:>7}" for c in columns
    )
    print(header + " |")
    print("|" + "|".join("-" * (len(p) + 2) for p in header[2:].split(" | ")) + "|")
    for name in args.backbones:
        for mode in MODES:
            res = time_levels(name, mode, (h, w), args.runs, args.warmup)
            cells = " | ".join(f"{res[c]:7.1f}" if c in res else f"{'-':>7}" for c in columns)
            print(f"| {name:<20} | {mode:<20} | {cells} |", flush=True)
    print(f"# load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
