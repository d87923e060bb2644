"""``vosframe eval``: score predicted masks against ground truth (DAVIS protocol).

Usage::

    vosframe eval --gt DAVIS/Annotations/480p --pred results/ [--json]
    vosframe eval --gt train/Annotations --pred preds/ --ytvos-meta meta.json   # unofficial
    vosframe eval --pred preds/ --pack-ytvos submission.zip --ytvos-meta valid/meta.json

All logic lives in :mod:`vosframe.metrics` and :mod:`vosframe.data.ytvos_pack`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from vosframe.cli._common import add_threads
from vosframe.core.errors import InputError

EXAMPLES = """\
examples:
  vosframe eval --gt DAVIS/Annotations/480p --pred results/
  vosframe eval --gt DAVIS/Annotations/480p --pred results/ --sequences blackswan,dog --json
  vosframe eval --pred preds/ --pack-ytvos submission.zip --ytvos-meta valid/meta.json
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``eval`` subcommand."""
    p = subparsers.add_parser(
        "eval",
        help="score predicted masks against ground truth (DAVIS J&F)",
        description=(
            "Score predicted masks against ground truth with the official DAVIS "
            "semi-supervised protocol (first and last frame not scored, objects from the "
            "first GT frame, F tolerance from the GT resolution). Figures are fractions."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--gt", type=Path, help="GT folder: <gt>/<sequence>/<frame>.png")
    p.add_argument("--pred", type=Path, required=True, help="predictions: <pred>/<sequence>/")
    p.add_argument(
        "--json",
        action="store_true",
        help="print only the global figures as a JSON object (the table goes to stderr)",
    )
    p.add_argument("--sequences", help="comma-separated sequences to score (default: all GT)")
    p.add_argument(
        "--skip-missing",
        action="store_true",
        help="score only the GT sequences that have a prediction folder",
    )
    p.add_argument(
        "--gt-format",
        choices=("auto", "indexed", "binary"),
        default="auto",
        help="GT masks: auto (0/255 grayscale = DAVIS 2016, binary), indexed or binary",
    )
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: auto)")
    p.add_argument(
        "--csv-dir",
        type=Path,
        default=Path("."),
        help="folder for the run's CSV files (default: current folder)",
    )
    p.add_argument("--no-csv", action="store_true", help="do not write CSV files")
    p.add_argument(
        "--ytvos-meta",
        type=Path,
        help="YouTube-VOS meta.json: score in the (unofficial) YouTube-VOS mode, or with "
        "--pack-ytvos, check the submission against it",
    )
    p.add_argument(
        "--seen-meta",
        type=Path,
        help="YouTube-VOS mode: training meta.json whose categories count as seen",
    )
    p.add_argument(
        "--pack-ytvos",
        type=Path,
        metavar="ZIP",
        help="pack --pred into a YouTube-VOS submission zip instead of scoring",
    )
    p.add_argument(
        "--images",
        type=Path,
        help="with --pack-ytvos: the split's JPEGImages, to restore original sizes",
    )
    add_threads(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``vosframe eval``; returns the exit code."""
    from vosframe.threads import apply_threads

    apply_threads(args.threads)
    if args.pack_ytvos is not None:
        return _pack(args)
    if args.gt is None:
        raise InputError("--gt is required to score predictions (or use --pack-ytvos)")
    if args.ytvos_meta is not None:
        return _ytvos(args)
    from vosframe.metrics import evaluate_folders, format_table, global_json, write_csv

    sequences = [s for s in args.sequences.split(",") if s] if args.sequences else None
    start = time.perf_counter()
    result = evaluate_folders(
        args.gt,
        args.pred,
        sequences=sequences,
        skip_missing=args.skip_missing,
        gt_format=args.gt_format,
        workers=args.workers,
        progress=sys.stderr.isatty(),
    )
    elapsed = time.perf_counter() - start
    table_out = sys.stderr if args.json else sys.stdout
    frames = sum(len(o.frames) for o in result.objects)
    title = (
        f"DAVIS semi-supervised evaluation of {args.pred} ({len(result.sequences)} sequences, "
        f"{len(result.objects)} objects, {frames} object-frames, {elapsed:.2f} s)"
    )
    print(format_table(result, title), file=table_out)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if not args.no_csv:
        prefix = f"{Path(args.pred).resolve().name}_"
        paths = write_csv(result, args.csv_dir, prefix)
        print(f"CSV written: {', '.join(str(p) for p in paths)}", file=sys.stderr)
    if args.json:
        print(global_json(result))
    return 0


def _ytvos(args: argparse.Namespace) -> int:
    from vosframe.metrics import categories_of, evaluate_youtube_vos, format_table, write_csv

    seen = categories_of(args.seen_meta) if args.seen_meta is not None else None
    videos = [s for s in args.sequences.split(",") if s] if args.sequences else None
    out = evaluate_youtube_vos(
        args.gt, args.pred, args.ytvos_meta, seen_categories=seen, videos=videos
    )
    figures = out.figures()
    table_out = sys.stderr if args.json else sys.stdout
    print(
        format_table(out.result, "YouTube-VOS style evaluation (UNOFFICIAL convention)"),
        file=table_out,
    )
    print(
        "  ".join(f"{k}: {'nan' if math.isnan(v) else f'{v:.3f}'}" for k, v in figures.items()),
        file=table_out,
    )
    if not args.no_csv:
        prefix = f"{Path(args.pred).resolve().name}_ytvos_"
        paths = write_csv(out.result, args.csv_dir, prefix)
        print(f"CSV written: {', '.join(str(p) for p in paths)}", file=sys.stderr)
    if args.json:
        print(json.dumps({k: (None if math.isnan(v) else v) for k, v in figures.items()}))
    return 0


def _pack(args: argparse.Namespace) -> int:
    from vosframe.data.ytvos_pack import pack_youtube_vos

    summary = pack_youtube_vos(
        args.pred,
        args.pack_ytvos,
        meta_path=args.ytvos_meta,
        images_dir=args.images,
        videos=[s for s in args.sequences.split(",") if s] if args.sequences else None,
    )
    print(
        f"wrote {summary.path}: {summary.videos} videos, {summary.frames} masks "
        f"({summary.resized} resized to the original size)"
    )
    return 0
