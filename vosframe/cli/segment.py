"""``vosframe segment``: segment a video (folder or file) given first-frame masks."""

from __future__ import annotations

import argparse
import json

from tqdm import tqdm

from vosframe.core.errors import InputError
from vosframe.segment import segment_video
from vosframe.zoo import ZOO, load_model


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``segment`` subcommand."""
    p = sub.add_parser("segment", help="segment a video given first-frame masks")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--model", help=f"shipped model: {', '.join(ZOO)} (default g-frtm)")
    src.add_argument("--config", help="model config file")
    p.add_argument("--checkpoint", help="checkpoint file (with --config, or to override)")
    p.add_argument("--frames", required=True, help="folder of frames or a video file")
    p.add_argument("--masks", required=True, help="first-frame mask PNG, or a folder of PNGs")
    p.add_argument("--out", required=True, help="output folder for indexed PNGs")
    p.add_argument("--tau", type=float, help="reuse-gate threshold (models with a gate)")
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto")
    p.add_argument("--max-internal-size", type=int, help="process at most this shorter side")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Segment and print a summary."""
    if args.config:
        model = load_model(config=args.config, checkpoint=args.checkpoint)
    else:
        model = load_model(args.model or "g-frtm", checkpoint=args.checkpoint)
    if args.tau is not None:
        gate = model.path_plugin
        if gate is None or not hasattr(gate, "tau"):
            raise InputError("--tau needs a model with a reuse gate (e.g. --model g-frtm)")
        gate.tau = args.tau
    options = {"precision": args.precision}
    if args.max_internal_size:
        options["max_internal_size"] = args.max_internal_size
    with tqdm(unit="frame", disable=args.json, desc="segment") as bar:
        summary = segment_video(
            model, args.frames, args.masks, args.out, session_options=options, progress=bar.update
        )
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{summary['frames']} frames, {summary['fps']:.2f} FPS, "
            f"reuse rate {100 * summary['reuse_rate']:.1f}% -> {summary['output']}"
        )
    return 0
