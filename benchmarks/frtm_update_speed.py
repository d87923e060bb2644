"""Speed of the shipped FRTM with and without online target-model refits, side by side.

The shipped ``frtm`` runs with ``update_every=None`` (no pushes, no refits); the other
setup puts the official schedule back (a push every frame, a refit every 8th). Both run
the same frames in one process, interleaved per sequence (the order alternates per
sequence), after an untimed warm-up of each; the figure of merit is the ratio, since
other processes on the machine slow both alike. Only ``session.step`` is timed (frames
are decoded first). Accuracy is not measured here: it comes from ``vosframe select`` on
the held-out folds and ``vosframe bench`` on val.

Usage::

    python benchmarks/frtm_update_speed.py --data ../shared/data/davis2016/val_480p \
        [--sequences blackswan,dog] [--threads 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from vosframe.app.zoo import load_model
from vosframe.data.davis import open_davis

SETUPS = {"no refits (shipped)": None, "refit every 8th": 8}


def _set_schedule(model: torch.nn.Module, update_every: int | None) -> None:
    (tm,) = [m for m in model.modules() if type(m).__name__ == "FRTMTargetModel"]
    tm.update_every = update_every


def _run(model, frames, mask) -> float:
    """Milliseconds of ``session.step`` over the frames after the first."""
    session = model.new_session()
    session.step(frames[0], mask)
    start = time.perf_counter()
    for frame in frames[1:]:
        session.step(frame)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data/davis2016/val_480p")
    parser.add_argument("--sequences", default=None, help="comma-separated (default: all)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = open_davis(args.data, args.sequences.split(",") if args.sequences else None)
    models = {}
    for name, schedule in SETUPS.items():
        models[name] = load_model("frtm")
        _set_schedule(models[name], schedule)
    total = {name: 0.0 for name in SETUPS}
    frames_total = 0
    for i, seq in enumerate(data):
        frames = [seq.read_frame(k) for k in range(len(seq))]
        mask = seq.read_mask(0)
        order = list(SETUPS) if i % 2 == 0 else list(reversed(SETUPS))
        if i == 0:  # untimed warm-up of each setup
            for name in order:
                _run(models[name], frames[:6], mask)
        for name in order:
            total[name] += _run(models[name], frames, mask)
        frames_total += len(frames) - 1
        print(seq.name, {n: round(t / frames_total, 1) for n, t in total.items()}, flush=True)
    ms = {name: t / frames_total for name, t in total.items()}
    base = ms["refit every 8th"]
    result = {
        "threads": args.threads,
        "frames": frames_total,
        "ms_per_frame": ms,
        "speedup_vs_refits": {name: base / v for name, v in ms.items()},
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
