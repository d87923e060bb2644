"""``vosframe demo``: run the shipped G-FRTM on the built-in clip (offline, no dataset).

Usage::

    vosframe demo [--model g-frtm] [--out DIR] [--overwrite] [--tau T] [--threads N] [--json]
    vosframe demo --config CFG --checkpoint CKPT ...

All logic lives in :func:`vosframe.app.demo.run_demo`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from vosframe.cli._common import (
    add_model_source,
    add_threads,
    check_model_source,
    load_cli_model,
    tau_arg,
)

DEFAULT_MODEL = "g-frtm"
"""Same as :data:`vosframe.app.demo.DEFAULT_MODEL` (not imported: it would load torch)."""

DEFAULT_OUT = "vosframe_demo"
"""Same as :data:`vosframe.app.demo.DEFAULT_OUT`."""

EXAMPLES = f"""\
examples:
  vosframe demo                       # {DEFAULT_MODEL}, writes ./{DEFAULT_OUT}/
  vosframe demo --model frtm --out /tmp/demo_frtm
  vosframe demo --tau 0.5 --threads 1 --json

--out is replaced as a whole at the end of the run when it holds an earlier demo
(demo.json); any other non-empty folder needs --overwrite.
"""


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
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_source(p, DEFAULT_MODEL)
    p.add_argument("--out", default=DEFAULT_OUT, help="output folder (default %(default)s)")
    p.add_argument(
        "--overwrite", action="store_true", help="replace a non-empty --out that is not a demo"
    )
    p.add_argument(
        "--tau",
        type=tau_arg,
        help="reuse-gate threshold in [0, 1] (models with a gate; default the model's, 0.7)",
    )
    p.add_argument(
        "--precision",
        choices=("auto", "bf16", "fp32"),
        default="auto",
        help="auto (default): bf16 on CPUs with bf16 instructions, fp32 otherwise",
    )
    add_threads(p)
    p.add_argument("--json", action="store_true", help="print the result as a JSON object")
    p.set_defaults(func=run)


def format_result(result: dict[str, Any]) -> str:
    """Human-readable lines for a :func:`~vosframe.app.demo.run_demo` result."""
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
    """Check the options, run the demo and print its figures."""
    check_model_source(args)
    from vosframe.app.demo import REPORT_NAME, run_demo
    from vosframe.app.outdir import check_output_dir
    from vosframe.threads import apply_threads

    earlier_demo = (Path(args.out) / REPORT_NAME).is_file()
    check_output_dir(  # before the model is built
        args.out,
        overwrite=args.overwrite or earlier_demo,
        out_name="--out",
        overwrite_name="--overwrite",
        will_hold="the demo's overlay video, gate timeline and demo.json",
    )
    apply_threads(args.threads)
    model, label = load_cli_model(args, DEFAULT_MODEL)
    result = run_demo(
        model,
        out_dir=args.out,
        tau=args.tau,
        precision=args.precision,
        model_label=label,
        overwrite=args.overwrite,
    )
    print(json.dumps(result, indent=2) if args.json else format_result(result))
    return 0
