"""Long-run check: a long synthetic stream through each shipped model; memory and per-frame
time must stay flat (a session keeps bounded state, never older frames).

The stream is generated on the fly (never held): a textured disc moving over a noise
background along a closed path, the first frame's mask given. Per window of frames it
records the process's resident memory (RSS, from ``/proc/self/statm``) and the median
step time. "Flat": the last window's RSS within ``--rss-slack-mb`` of the first window
after warm-up, and its median time within ``--time-ratio`` of it.

Usage::

    python benchmarks/long_run.py [--frames 10000] [--models frtm,g-frtm,ttvos,g-ttvos]
        [--size 240x320] [--window 500] [--threads 1] [--out benchmarks/results/long_run]

Writes ``long_run_<frames>f_<H>x<W>.json`` (+ a text table) to ``--out`` after each model;
exits 1 if a model is not flat.
``tests/cli/test_long_run.py`` runs :func:`run_stream` on a toy model for a few hundred
frames.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    """Resident memory of this process in MiB (Linux ``/proc``; NaN elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return math.nan
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def stream(n: int, h: int, w: int, seed: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``n`` synthetic RGB frames with the object's label map, generated lazily: a red,
    lightly textured disc over a smooth grey-blue background with mild noise."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(60, 140, w, dtype=np.float32)[None, :, None]
    background = np.clip(ramp + np.array([0, 10, 40]) + rng.normal(0, 8, (h, w, 3)), 0, 255)
    background = background.astype(np.uint8)
    texture = np.clip(np.array([200, 40, 30]) + rng.normal(0, 20, (h, w, 3)), 0, 255)
    texture = texture.astype(np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    r = max(4, min(h, w) // 6)
    for t in range(n):
        a = 2 * math.pi * t / 240.0  # a closed path: the same states recur
        cy = h / 2 + (h / 2 - r - 2) * math.sin(a)
        cx = w / 2 + (w / 2 - r - 2) * math.cos(1.5 * a)
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        frame = background.copy()
        frame[disc] = texture[disc]
        yield frame, disc.astype(np.uint8)


def run_stream(
    model,
    n_frames: int,
    size: tuple[int, int] = (240, 320),
    window: int = 500,
    warmup_windows: int = 1,
    session_options: dict | None = None,
) -> dict:
    """Segment a synthetic stream; returns per-window RSS and step times.

    Returns:
        ``windows``: list of ``{"end": frame, "rss_mb": ..., "median_ms": ..., "iou": ...}``;
        ``rss_growth_mb``: the last window's RSS less the first one's after
        ``warmup_windows``; ``time_ratio``: the median of the window medians of the second
        half of the run against the first half (after warm-up), which other processes on
        a shared machine disturb less than one window against another.
    """
    session = model.new_session(**(session_options or {}))
    windows, ms, ious = [], [], []
    for t, (frame, mask) in enumerate(stream(n_frames, *size)):
        t0 = time.perf_counter()
        result = session.step(frame, masks=mask if t == 0 else None)
        ms.append((time.perf_counter() - t0) * 1000.0)
        pred = result.labels > 0
        union = np.logical_or(pred, mask > 0).sum()
        ious.append(float(np.logical_and(pred, mask > 0).sum() / union) if union else 1.0)
        if (t + 1) % window == 0 or t + 1 == n_frames:
            windows.append(
                {
                    "end": t + 1,
                    "rss_mb": round(rss_mb(), 1),
                    "median_ms": round(statistics.median(ms), 3),
                    "iou": round(statistics.mean(ious), 4),
                }
            )
            ms, ious = [], []
    base = windows[min(warmup_windows, len(windows) - 1)]
    last = windows[-1]
    steady = [w["median_ms"] for w in windows[warmup_windows:]] or [last["median_ms"]]
    half = max(1, len(steady) // 2)
    early, late = statistics.median(steady[:half]), statistics.median(steady[-half:])
    return {
        "frames": n_frames,
        "size": list(size),
        "window": window,
        "windows": windows,
        "rss_growth_mb": round(last["rss_mb"] - base["rss_mb"], 1),
        "time_ratio": round(late / early, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--models", default="frtm,g-frtm,ttvos,g-ttvos")
    parser.add_argument("--size", default="240x320", help="HxW of the synthetic frames")
    parser.add_argument("--window", type=int, default=500)
    parser.add_argument("--threads", default="1")
    parser.add_argument("--rss-slack-mb", type=float, default=50.0)
    parser.add_argument("--time-ratio", type=float, default=1.5)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/long_run")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from vosframe.app.zoo import load_model
    from vosframe.threads import apply_threads

    threads = apply_threads(int(args.threads) if args.threads != "auto" else "auto")
    h, w = (int(v) for v in args.size.split("x"))
    report = {"threads": threads, "loadavg_start": os.getloadavg(), "models": {}}
    ok = True
    lines = []
    for name in args.models.split(","):
        t0 = time.perf_counter()
        res = run_stream(load_model(name), args.frames, (h, w), args.window)
        res["wall_s"] = round(time.perf_counter() - t0, 1)
        res["flat"] = (
            res["rss_growth_mb"] <= args.rss_slack_mb and res["time_ratio"] <= args.time_ratio
        )
        ok &= res["flat"]
        report["models"][name] = res
        first, base, last = (
            res["windows"][0],
            res["windows"][min(1, len(res["windows"]) - 1)],
            res["windows"][-1],
        )
        line = (
            f"{name:<8} {args.frames} frames {h}x{w}: RSS {first['rss_mb']:.0f} -> "
            f"{last['rss_mb']:.0f} MiB (growth after warm-up {res['rss_growth_mb']:+.1f}), "
            f"median ms {base['median_ms']:.1f} -> {last['median_ms']:.1f} "
            f"(x{res['time_ratio']:.2f}), "
            f"{'flat' if res['flat'] else 'NOT FLAT'}, {res['wall_s']:.0f} s"
        )
        print(line, flush=True)
        lines.append(line)
        report["loadavg_end"] = os.getloadavg()
        _write(args.out, f"{args.frames}f_{h}x{w}", report, lines)  # after each model
    return 0 if ok else 1


def _write(out: Path, tag: str, report: dict, lines: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"long_run_{tag}.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / f"long_run_{tag}.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
