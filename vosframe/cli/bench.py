"""``vosframe bench``: accuracy vs speed of a gated model over a τ sweep (DAVIS layout).

Usage::

    vosframe bench --model g-frtm --data ../shared/data/davis2016/val_480p
    vosframe bench --config CFG [--checkpoint CKPT] --data DIR [--sequences a,b]
        [--taus 1,0.9,0.8,0.7,0.5,0.3] [--max-internal-size N] [--precision auto|bf16|fp32]
        [--out DIR] [--json] [--variant LABEL CONFIG GATE_WEIGHTS ...]

All logic lives in :func:`vosframe.app.bench.run_bench`; this module parses, prints and exits.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from vosframe.cli._common import (
    add_model_source,
    add_threads,
    check_model_source,
    load_cli_model,
    positive_int,
)
from vosframe.core.errors import InputError

DEFAULT_TAUS_TEXT = "1,0.9,0.8,0.7,0.5,0.3"
""":data:`vosframe.app.bench.DEFAULT_TAUS` as help text (not imported: it would load torch)."""

EXAMPLES = """\
examples:
  vosframe bench --model g-frtm --data DAVIS/val_480p --sequences blackswan,dog
  vosframe bench --model g-ttvos --data DAVIS/train_240p --taus 1,0.7,0.5 --threads 1
  vosframe bench --model g-frtm --data DAVIS/train_240p --taus 1,0.7,0.5 \\
      --variant reuse@16 my_reuse_config.py work_dirs/reuse/gate.pt
"""


def _floats(text: str) -> list[float]:
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers like 1,0.7,0.5, got {text!r}"
        ) from None
    bad = [v for v in values if not 0.0 <= v <= 1.0]  # also NaN
    if bad:
        raise argparse.ArgumentTypeError(f"thresholds must be in [0, 1], got {bad}")
    return values


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``bench`` subcommand."""
    p = sub.add_parser(
        "bench",
        help="accuracy vs speed over a reuse-gate threshold sweep (DAVIS layout)",
        description=(
            "Segment every sequence of a DAVIS-layout folder at each gate threshold τ, score "
            "J&F and time the runs (all τ interleaved per sequence in one process, after a "
            "warm-up). Writes bench.json and an accuracy-vs-speed plot bench.png to --out."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_source(p, None)
    p.add_argument("--data", required=True, help="DAVIS-layout folder (JPEGImages/, Annotations/)")
    p.add_argument("--sequences", help="comma-separated sequence names (default: all)")
    p.add_argument(
        "--taus",
        type=_floats,
        help=f"comma-separated thresholds in [0, 1] (default {DEFAULT_TAUS_TEXT}; "
        "τ=1, the base model, is always run); only for models with a reuse gate",
    )
    p.add_argument(
        "--max-internal-size",
        type=positive_int,
        metavar="PIXELS",
        help="process at most this shorter side (default: the model's)",
    )
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto")
    p.add_argument("--out", default="vosframe_bench", help="output folder (default %(default)s)")
    p.add_argument("--save-predictions", action="store_true", help="keep the PNGs in --out")
    p.add_argument("--warmup", type=int, default=5, help="warm-up frames per τ (default 5)")
    add_threads(p)
    p.add_argument("--no-flops", action="store_true", help="skip counting FLOPs per path")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--variant",
        nargs=3,
        action="append",
        metavar=("LABEL", "CONFIG", "GATE_WEIGHTS"),
        help="another gated model to compare in the same run (repeatable): its config and "
        "gate weights file, on the main model's base weights; one curve per variant",
    )
    p.set_defaults(func=run)


def _base_checkpoint(args: argparse.Namespace) -> str | None:
    """The main model's base weights, which every variant loads."""
    if args.checkpoint or args.config:
        return args.checkpoint
    from vosframe.app.zoo import card, weights_path

    return str(weights_path(card(args.model).weights))


def check_variants(args: argparse.Namespace) -> None:
    """Check the ``--variant`` files and labels before anything is built.

    Raises:
        InputError: A missing file or a repeated label.
    """
    from pathlib import Path

    labels = [v[0] for v in args.variant or ()]
    if len(set(labels)) != len(labels) or "base" in labels:
        raise InputError(f"--variant labels must be distinct and not 'base', got {labels}")
    for label, config, weights in args.variant or ():
        for what, path in (("CONFIG", config), ("GATE_WEIGHTS", weights)):
            if not Path(path).is_file():
                raise InputError(
                    f"--variant {label}: {what} {path} does not exist. Fix: check the path "
                    "(`vosframe train-gate` prints the gate file it wrote)."
                )


def format_report(report: dict[str, Any]) -> str:
    """A plain-text table of a :func:`~vosframe.app.bench.run_bench` report, one row per τ."""
    lines = [
        f"{report['model']} on {report['data']} ({len(report['sequences'])} sequence(s), "
        f"precision {report['precision']}, threads {report['threads']})",
        f"{'tau':>5} {'J&F':>5} {'J':>5} {'F':>5} {'FPS':>6} {'FPS-D':>6} {'speedup':>7} "
        f"{'reuse%':>6} {'full ms med/mean':>16} {'alt ms med/mean':>15} {'GFLOP/f':>7} "
        f"{'saved%':>6}",
    ]

    def ms(s: dict) -> str:
        return "-" if not s["count"] else f"{s['median']:.0f}/{s['mean']:.0f}"

    def num(v: float | None, width: int, scale: float = 1.0) -> str:
        return "-".rjust(width) if v is None else f"{v * scale:{width}.2f}"

    if report.get("variants"):
        lines[1] = f"{'variant':>12} " + lines[1]
    for r in report["runs"]:
        tau = "conf" if r["tau"] is None else f"{r['tau']:g}"
        who = f"{r.get('variant', '')[:12]:>12} " if report.get("variants") else ""
        lines.append(
            f"{who}{tau:>5} {100 * r['J&F']:5.1f} {100 * r['J']:5.1f} {100 * r['F']:5.1f} "
            f"{r['fps_pooled']:6.2f} {r['fps_davis']:6.2f} {num(r['speedup'], 7)} "
            f"{100 * r['reuse_rate']:6.1f} {ms(r['ms_per_frame']['full']):>16} "
            f"{ms(r['ms_per_frame']['alt']):>15} {num(r['gflops_per_frame'], 7)} "
            f"{num(r['flops_saved'], 6, 100.0)}"
        )
    lines.append(
        "FPS: pooled (total frames / total time); FPS-D: mean of per-sequence FPS (DAVIS); "
        "reuse%: first frames excluded"
    )
    lines += [f"note: {n}" for n in report["notes"]]
    outputs = report.get("outputs", {})
    if outputs:
        lines.append(f"wrote {outputs['json']} and {outputs['plot']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run the sweep and print a table (or the JSON report)."""
    check_model_source(args)
    from tqdm import tqdm

    from vosframe.app.bench import run_bench
    from vosframe.data.davis import open_davis
    from vosframe.threads import resolve_threads

    sequences = [s.strip() for s in args.sequences.split(",")] if args.sequences else None
    if args.taus is not None and not args.taus:
        raise InputError("--taus is empty; give thresholds like 1,0.7,0.5")
    check_variants(args)
    open_davis(args.data, sequences)  # data errors before the (slow) model build
    model, label = load_cli_model(args)
    from vosframe.app.zoo import load_model
    from vosframe.core.errors import CheckpointError

    variants = {}
    for name, config, weights in args.variant or ():
        try:
            variants[name] = load_model(
                config=config, checkpoint=_base_checkpoint(args), plugin_weights=weights
            )
        except CheckpointError as exc:
            raise CheckpointError(f"--variant {name}: {exc}") from None
    with tqdm(unit="frame", desc="bench", disable=args.json) as bar:
        report = run_bench(
            model,
            args.data,
            sequences=sequences,
            taus=args.taus,
            precision=args.precision,
            max_internal_size=args.max_internal_size or "model",
            out_dir=args.out,
            save_predictions=args.save_predictions,
            warmup_frames=args.warmup,
            threads=resolve_threads(args.threads),
            flops=not args.no_flops,
            model_label=label,
            progress=bar.update,
            variants=variants,
        )
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0
