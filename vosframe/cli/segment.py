"""``vosframe segment``: segment a video (folder or file) given first-frame masks.

Every option and input is checked before the model is built (see
:func:`vosframe.app.segment.prepare_segment`); all logic lives in :mod:`vosframe.app.segment`.
"""

from __future__ import annotations

import argparse
import json

from vosframe.app.zoo import most_accurate
from vosframe.cli._common import (
    add_model_source,
    add_threads,
    check_model_source,
    fps_arg,
    load_cli_model,
    positive_int,
    tau_arg,
    tau_options,
)

DEFAULT_MODEL = most_accurate()
"""The shipped model with the best held-out-fold J&F (:func:`vosframe.app.zoo.most_accurate`)."""

EXAMPLES = """\
examples:
  vosframe segment --frames video.mp4 --masks first.png --out masks/   # the default model
  vosframe segment --model frtm --frames frames/ --masks annotations/ --out masks/
  vosframe segment --model g-frtm --tau 0.5 --frames frames/ --masks first.png --out masks/
  vosframe segment --model g-frtm --target-fps 15 --frames video.mp4 --masks first.png --out m/
  vosframe segment --frames frames/ --masks soft.png --mask-format binary --out masks/
  vosframe segment --config my.py --checkpoint my.pt --frames f/ --masks m.png --out o/

--masks is one PNG for the first frame, or a folder of PNGs named like the frames (objects
may start on any of them). --out gets one indexed PNG per frame, named like the frames; it
must be a new folder, or an existing one replaced as a whole with --overwrite (the new
masks are written beside it and swapped in at the end: an error or Ctrl-C leaves it as it
was). --out may not be, hold or sit inside --frames or --masks.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``segment`` subcommand."""
    p = sub.add_parser(
        "segment",
        help="segment a video given first-frame masks",
        description="Segment every frame of a video from the masks of its first frame.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_source(p, DEFAULT_MODEL)
    p.add_argument("--frames", required=True, help="folder of frames or a video file")
    p.add_argument("--masks", required=True, help="first-frame mask PNG, or a folder of PNGs")
    p.add_argument("--out", required=True, help="output folder for indexed PNGs (new)")
    p.add_argument(
        "--overwrite", action="store_true", help="replace an existing --out folder as a whole"
    )
    p.add_argument(
        "--mask-format",
        choices=("auto", "binary", "indexed"),  # vosframe.data.masks.MASK_FORMATS
        default="auto",
        help="how to read --masks: binary (any non-zero pixel is object 1), indexed (pixel "
        "values are object ids) or auto (default: 0/255 grayscale is binary, soft-edged "
        "grayscale is read as binary with a warning, anything else indexed)",
    )
    speed = p.add_mutually_exclusive_group()
    speed.add_argument(
        "--tau",
        type=tau_arg,
        help="reuse-gate threshold in [0, 1] for the gated models (default: the model's, "
        "see `vosframe models`; lower reuses more and runs faster; 1 = the base model)",
    )
    speed.add_argument(
        "--target-fps",
        type=fps_arg,
        metavar="FPS",
        help="instead of --tau: hold this frame rate by adapting the gate's tau from frame "
        "to frame (the most accuracy the gate gives at that speed; see docs/reuse_gate.md)",
    )
    p.add_argument(
        "--precision",
        choices=("auto", "bf16", "fp32"),
        default="auto",
        help="auto (default): bf16 on CPUs with bf16 instructions, fp32 otherwise",
    )
    p.add_argument(
        "--max-internal-size",
        type=positive_int,
        metavar="PIXELS",
        help="process frames whose shorter side exceeds this downscaled to it (default: "
        "the model's); masks keep the input size",
    )
    p.add_argument(
        "--small-objects",
        choices=("off", "crop", "upscale"),
        help="objects spanning few localizer cells: crop (each tracked in a zoomed window "
        "that follows it), upscale (the whole video at a larger size) or off (default: the "
        "session's; see docs/small_objects.md)",
    )
    add_threads(p)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check everything, segment and print a summary."""
    check_model_source(args)
    from vosframe.app.segment import prepare_segment

    names = {"frames": "--frames", "masks": "--masks", "out": "--out", "overwrite": "--overwrite"}
    job = prepare_segment(
        args.frames,
        args.masks,
        args.out,
        mask_format=args.mask_format,
        overwrite=args.overwrite,
        arg_names=names,
    )
    from tqdm import tqdm

    from vosframe.app.segment import run_segment
    from vosframe.threads import apply_threads

    threads = apply_threads(args.threads)
    model, _ = load_cli_model(args, DEFAULT_MODEL)
    options: dict = {
        "precision": args.precision,
        **tau_options(model, args.tau, args.target_fps),
    }
    if args.max_internal_size:
        options["max_internal_size"] = args.max_internal_size
    if args.small_objects:
        options["small_objects"] = args.small_objects
    with tqdm(total=len(job.names), unit="frame", disable=args.json, desc="segment") as bar:
        summary = run_segment(model, job, session_options=options, progress=bar.update)
    summary["threads"] = threads
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{summary['frames']} frames, {summary['fps']:.2f} FPS, "
            f"reuse rate {100 * summary['reuse_rate']:.1f}%"
            + (f", mean tau {summary['tau_mean']:.2f}" if args.target_fps else "")
            + f" -> {summary['output']}"
        )
    return 0
