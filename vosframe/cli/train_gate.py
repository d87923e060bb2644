"""``vosframe train-gate CONFIG [--work-dir DIR]``: train a ``copy`` or ``reuse`` reuse gate
on traces of its frozen base model (:func:`vosframe.training.gate.recipe.train_from_config`)."""

from __future__ import annotations

import argparse

from vosframe.cli._common import add_threads, cfg_option

EXAMPLES = """\
examples:
  vosframe train-gate configs/frtm/gfrtm_effnetlite0_davis16.py --work-dir work_dirs/gfrtm
  vosframe train-gate configs/ttvos/gttvos_effnetlite0_davis16.py \\
      --cfg-options gate_traces.steps=100
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``train-gate`` subcommand."""
    p = sub.add_parser(
        "train-gate",
        help="train a copy or reuse gate on inference traces of its frozen base model",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("config", help="config with model, load_from_vosframe and gate_traces")
    p.add_argument("--work-dir", help="output folder (default work_dirs/<config name>)")
    p.add_argument(
        "--fold",
        type=int,
        help="record only the fit videos of this DAVIS-2016 train fold (0-4; "
        "docs/selection_protocol.md); '{fold}' in load_from_vosframe is replaced by it",
    )
    p.add_argument(
        "--cfg-options",
        nargs="*",
        default=[],
        type=cfg_option,
        metavar="KEY=VALUE",
        help="override config entries, e.g. gate_traces.steps=100 or "
        "gate_traces.sequences=[bear,boat]",
    )
    add_threads(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train and print where the gate's weights file is, and how to use it."""
    from vosframe.threads import apply_threads

    apply_threads(args.threads)
    from vosframe.training.gate.recipe import train_from_config

    path = train_from_config(args.config, args.work_dir, dict(args.cfg_options), fold=args.fold)
    print(f"gate weights: {path}")
    print(
        f"use them: vosframe segment --config {args.config} --checkpoint BASE_CKPT "
        f"--plugin-weights {path} ... (BASE_CKPT: the config's load_from_vosframe)"
    )
    return 0
