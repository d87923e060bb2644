"""10,000-frame stream through the memory model in both bounded memory modes: process RSS,
the total size of every per-object state tensor, and ms/frame must stay flat.

Reuses :func:`long_run.run_stream` (the synthetic disc stream and per-window RSS/time) and
adds the memory model's own state size per window. Weights are random unless
``--checkpoint`` is given (sizes and times do not depend on them).

Usage::

    python benchmarks/stcn_long.py [--frames 10000] [--size 240x432] [--window 500]
        [--threads 2] [--modes stcn,rde] [--checkpoint CKPT]
        [--out benchmarks/results/stcn_long]

"Flat": the state bytes are the same in every window after the first, RSS grows by less
than ``--rss-slack-mb`` and the last window's median ms/frame is within ``--time-ratio``
of the first window after warm-up. Exits 1 if a mode is not flat.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from long_run import run_stream

from vosframe.models.stcn.localizer import state_nbytes


class _StateProbe:
    """Wraps a session factory so each window also records the state bytes."""

    def __init__(self, model) -> None:
        self.model = model
        self.sizes: list[int] = []
        self.session = None

    def new_session(self, **options):
        self.session = self.model.new_session(**options)
        session, sizes = self.session, self.sizes
        step = session.step

        def probed(frame, masks=None):
            out = step(frame, masks=masks)
            sizes.append(state_nbytes([o.localizer for o in session.objects.values()]))
            return out

        session.step = probed
        return session


def main() -> int:
    """Run the modes and write a JSON report per mode."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=10000)
    ap.add_argument("--size", default="240x432")
    ap.add_argument("--window", type=int, default=500)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--modes", default="stcn,rde")
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--rss-slack-mb", type=float, default=50.0)
    ap.add_argument("--time-ratio", type=float, default=1.10)
    ap.add_argument("--out", default="benchmarks/results/stcn_long")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    h, w = (int(v) for v in args.size.split("x"))
    import vosframe

    ok = True
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for mode in args.modes.split(","):
        cfg = dict(type="STCN", memory=dict(mode=mode), max_internal_size=None)
        model = vosframe.build_model(cfg)
        if args.checkpoint:
            vosframe.load_checkpoint(model, args.checkpoint, strict=False)
        probe = _StateProbe(model.eval())
        report = run_stream(probe, args.frames, (h, w), window=args.window)
        sizes = probe.sizes
        per_window = [
            sizes[min(len(sizes), k) - 1] for k in range(args.window, len(sizes) + 1, args.window)
        ]
        report["state_bytes_per_window"] = per_window
        flat_state = len(set(per_window[1:])) <= 1
        flat = (
            flat_state
            and report["rss_growth_mb"] <= args.rss_slack_mb
            and report["time_ratio"] <= args.time_ratio
        )
        report.update(mode=mode, flat=flat, threads=args.threads, size=[h, w])
        (out / f"stcn_long_{mode}_{args.frames}f_{h}x{w}.json").write_text(
            json.dumps(report, indent=1)
        )
        first = report["windows"][1] if len(report["windows"]) > 1 else report["windows"][0]
        last = report["windows"][-1]
        print(
            f"{mode}: state {per_window[0]}..{per_window[-1]} B, RSS {first['rss_mb']} -> "
            f"{last['rss_mb']} MB, ms/frame {first['median_ms']} -> {last['median_ms']} "
            f"(ratio {report['time_ratio']:.3f}), flat={flat}"
        )
        ok &= flat
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
