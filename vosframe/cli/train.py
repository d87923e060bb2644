"""``vosframe train CONFIG [--work-dir DIR] [--resume] [--fold K]`` (also via torchrun)."""

from __future__ import annotations

import argparse

from vosframe.cli._common import add_threads, cfg_option

EXAMPLES = """\
examples:
  vosframe train configs/frtm/frtm_effnetlite0_davis16.py --work-dir work_dirs/frtm
  vosframe train configs/ttvos/ttvos_effnetlite0_davis16.py --cfg-options train_cfg.max_epochs=2
  torchrun --nproc-per-node 2 -m vosframe train configs/frtm/frtm_effnetlite0_davis16.py
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand."""
    p = sub.add_parser(
        "train",
        help="train a model from a config on the mmengine Runner",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("config", help="config file")
    p.add_argument("--work-dir", help="output folder (default work_dirs/<config name>)")
    p.add_argument("--resume", action="store_true", help="resume from the work dir's last run")
    p.add_argument(
        "--fold",
        type=int,
        help="train on the fit videos of this DAVIS-2016 train fold only (0-4; "
        "docs/selection_protocol.md); default work dir gets a _fold<K> suffix",
    )
    p.add_argument(
        "--cfg-options",
        nargs="*",
        default=[],
        type=cfg_option,
        metavar="KEY=VALUE",
        help="override config entries, e.g. train_cfg.max_epochs=2 or "
        "train_dataloader.dataset.sequences=[bear,boat]",
    )
    add_threads(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train and print where the exported checkpoint is."""
    from vosframe.threads import apply_threads

    apply_threads(args.threads)
    from vosframe.training.train import train

    path = train(args.config, args.work_dir, args.resume, dict(args.cfg_options), fold=args.fold)
    print(f"trained weights: {path}")
    return 0
