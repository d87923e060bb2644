"""``vosframe demo``: run the shipped G-FRTM on the built-in clip (offline, no dataset).

Usage::

    vosframe demo [--model g-frtm] [--out DIR] [--tau T] [--json]
    vosframe demo --config CFG [--checkpoint CKPT] ...

All logic lives in :func:`vosframe.demo.run_demo`.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from vosframe.demo import DEFAULT_MODEL, run_demo
from vosframe.zoo import ZOO, load_model


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand."""
    p = sub.add_parser(
        "demo",
        help="segment the built-in clip with the shipped G-FRTM (offline)",
        description=(
            "Segment vosframe's built-in clip (real-photo textures, exact masks, near-static "
            "stretches and jumps) from its first-frame masks; print J&F, FPS and the reuse "
            "rate; write an overlay video and a gate timeline to --out."
        ),
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--model", help=f"shipped model: {', '.join(ZOO)} (default {DEFAULT_MODEL})")
    src.add_argument("--config", help="model config file instead of a shipped model")
    p.add_argument("--checkpoint", help="checkpoint file (with --config, or to override)")
    p.add_argument("--out", default="vosframe_demo", help="output folder (default %(default)s)")
    p.add_argument("--tau", type=float, help="reuse-gate threshold (models with a gate)")
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto")
    p.add_argument("--json", action="store_true", help="print the result as a JSON object")
    p.set_defaults(func=run)


def format_result(result: dict[str, Any]) -> str:
    """Human-readable lines for a :func:`~vosframe.demo.run_demo` result."""
    tau = f", τ={result['tau']:g}" if result["tau"] is not None else ""
    motion = ", ".join(f"{m} {100 * r:.0f}%" for m, r in result["reuse_by_motion"].items())
    return "\n".join(
        [
            f"{result['model']}{tau} on the built-in clip ({result['frames']} frames, "
            f"{len(result['objects'])} objects, {result['precision']})",
            f"J&F {100 * result['J&F']:.1f} (J {100 * result['J']:.1f}, "
            f"F {100 * result['F']:.1f})  |  {result['fps']:.2f} FPS  |  reuse rate "
            f"{100 * result['reuse_rate']:.1f}%" + (f" ({motion})" if motion else ""),
            f"overlay video: {result['video']}",
            f"gate timeline: {result['timeline']}",
        ]
    )


def run(args: argparse.Namespace) -> int:
    """Run the demo and print its figures."""
    if args.config:
        model = load_model(config=args.config, checkpoint=args.checkpoint)
        label = args.config
    else:
        label = args.model or DEFAULT_MODEL
        model = load_model(label, checkpoint=args.checkpoint)
    result = run_demo(
        model, out_dir=args.out, tau=args.tau, precision=args.precision, model_label=label
    )
    print(json.dumps(result, indent=2) if args.json else format_result(result))
    return 0
