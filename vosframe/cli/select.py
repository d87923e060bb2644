"""``vosframe select``: J&F on the held-out folds of DAVIS-2016 train (never val).

Usage::

    vosframe select --config CFG --checkpoint 'work_dirs/x_fold{fold}/vosframe_latest.pt' \\
        --name x_folds
    vosframe select --model frtm --folds 0 --seen-in-training --name frtm_folds_smoke
    vosframe select --model g-frtm --grid tau=1,0.7,0.5 --grid SpatialPrior.margin=0.3,0.5
    vosframe select --compare BASE/selection.json CAND/selection.json --name cand_vs_base

All logic lives in :func:`vosframe.app.selection.run_folds` (and, for ``--compare``,
:func:`vosframe.app.comparison.compare_selections`); this module parses, prints and writes
``benchmarks/results/<name>/selection.{json,md}`` (``comparison.{json,md}``). The protocol is
``docs/selection_protocol.md``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from vosframe.cli._common import add_threads
from vosframe.core.errors import InputError

DEFAULT_DATA = "../shared/data/davis2016/train_240p"

EXAMPLES = """\
examples:
  vosframe select --config CFG --checkpoint 'work_dirs/x_fold{fold}/vosframe_latest.pt' --name x
  vosframe select --model frtm --folds 0 --seen-in-training --threads 1
  vosframe select --model g-frtm --grid tau=1,0.7,0.5 --grid SpatialPrior.margin=0.3,0.5
  vosframe select --model g-frtm --grid tau=0.9,0.7 --grid path_policy.drift_budget=1,2,4
  vosframe select --merge A/selection.json B/selection.json --name x_folds  # e.g. a fold each
  vosframe select --compare BASE/selection.json CAND/selection.json --min-gain 1 --name x_vs_base
"""


def _ints(text: str) -> list[int]:
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected fold numbers like 0,1,2, got {text!r}"
        ) from None


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``select`` subcommand."""
    p = sub.add_parser(
        "select",
        help="J&F on the held-out folds of DAVIS-2016 train, where every choice is made",
        description=(
            "Segment the held-out select videos of each fold (DAVIS-2016 train, 5 folds of 24 "
            "fit / 6 select videos) and score the official DAVIS J&F, per video, per fold, "
            "mean and spread over folds and seeds, for one or more inference-setting "
            "variants. Writes selection.json and selection.md. Never run it on val."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="shipped model name (see `vosframe models`)")
    src.add_argument("--config", help="model config file")
    src.add_argument(
        "--merge",
        nargs="+",
        metavar="SELECTION_JSON",
        help="merge earlier runs' selection.json files (e.g. one fold per process, or a "
        "seed trained later: each checkpoint is a seed) into one report under --name, "
        "aggregated as if run at once; runs nothing",
    )
    src.add_argument(
        "--compare",
        nargs=2,
        metavar=("BASE_JSON", "CANDIDATE_JSON"),
        help="pair two recipes' selection.json files video by video (each recipe's fold "
        "models run on their own) and judge the candidate by the rule --min-gain, "
        "--min-median-gain, --max-fold-loss, fixed before scoring; writes "
        "comparison.{json,md} under --name; runs nothing",
    )
    p.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="PATH",
        help="checkpoint; '{fold}' in it is the fold number; repeat for several seeds",
    )
    p.add_argument(
        "--plugin-weights",
        action="append",
        default=[],
        metavar="PATH",
        help="a gate's own weights file for each --checkpoint (same order; '{fold}' as "
        "there), e.g. from `vosframe train-gate CONFIG --fold K`",
    )
    p.add_argument(
        "--data", default=DEFAULT_DATA, help="DAVIS-2016 train folder (default %(default)s)"
    )
    p.add_argument("--folds", type=_ints, help="comma-separated fold numbers (default: all 5)")
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="K=V[,K=V]",
        help="an inference setting to compare, e.g. max_internal_size=240, "
        "SpatialPrior.margin=0.3,tau=0.7 or path_policy.drift_budget=1 (a gate's per-session "
        "policy); repeat for several. With --merge: merge only the variants of these names "
        "(as the reports write them)",
    )
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="K=V1,V2",
        help="sweep every combination of these values (repeatable), e.g. tau=1,0.7,0.5",
    )
    p.add_argument(
        "--short-side",
        type=int,
        default=480,
        help="resize the videos to this shorter side first, as DAVIS val (default %(default)s; "
        "0: as stored)",
    )
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto")
    add_threads(p)
    p.add_argument(
        "--seen-in-training",
        action="store_true",
        help="the weights were trained on these videos (e.g. the shipped ones): label so",
    )
    from vosframe.app.comparison import AdoptionRule

    default = AdoptionRule()  # the flags' defaults are the rule's (None: not given)
    rule = p.add_argument_group("--compare's adoption rule (J&F points, candidate - base)")
    rule.add_argument(
        "--min-gain", type=float, help=f"least mean gain (default {default.min_mean_gain})"
    )
    rule.add_argument(
        "--min-median-gain",
        type=float,
        help=f"least gain of the median video (default {default.min_median_gain})",
    )
    rule.add_argument(
        "--max-fold-loss",
        type=float,
        help=f"most any one fold may lose (default {default.max_fold_loss})",
    )
    rule.add_argument(
        "--compare-variants",
        nargs=2,
        metavar=("BASE_VARIANT", "CANDIDATE_VARIANT"),
        help="which variant of each report to compare (default: each one's first)",
    )
    p.add_argument("--name", help="results folder name (default: <model>_folds)")
    p.add_argument(
        "--out", default="benchmarks/results", help="parent folder (default %(default)s)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing results")
    p.set_defaults(func=run)


def _grid(items: list[str]) -> dict[str, list]:
    from vosframe.app.selection import parse_variant

    grid: dict[str, list] = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not values:
            raise InputError(f"--grid {item!r} is not KEY=V1,V2. Fix: e.g. --grid tau=1,0.7")
        grid[key.strip()] = [parse_variant(f"x={v}").settings["x"] for v in values.split(",")]
    return grid


def _read_reports(flag: str, paths: list[str]) -> list[dict]:
    """The selection reports at ``paths``, each checked to be one."""
    import json

    reports = []
    for path in paths:
        try:
            reports.append(json.loads(Path(path).read_text()))
        except (OSError, ValueError) as err:
            raise InputError(
                f"{flag} {path}: not a readable selection.json ({err}). Fix: give the "
                "selection.json files that `vosframe select` wrote."
            ) from None
        if not isinstance(reports[-1], dict) or "runs" not in reports[-1]:
            raise InputError(f"{flag} {path}: not a selection report (no 'runs')")
    return reports


def _compare(args: argparse.Namespace) -> int:
    """``--compare``: pair the two reports, judge by the rule, write and print."""
    from vosframe.app.comparison import (
        AdoptionRule,
        compare_selections,
        format_comparison,
        write_comparison,
    )

    if not args.name:
        raise InputError("--compare needs --name (the comparison's results folder under --out)")
    given = {
        "min_mean_gain": args.min_gain,
        "min_median_gain": args.min_median_gain,
        "max_fold_loss": args.max_fold_loss,
    }
    rule = AdoptionRule(**{k: v for k, v in given.items() if v is not None})
    out = Path(args.out) / args.name
    if not args.overwrite and (out / "comparison.json").exists():
        raise InputError(f"{out} already holds a comparison. Fix: --name NEW or --overwrite")
    base, candidate = _read_reports("--compare", args.compare)
    variants = args.compare_variants or (None, None)
    comparison = compare_selections(
        base, candidate, rule=rule, base_variant=variants[0], candidate_variant=variants[1]
    )
    outputs = write_comparison(comparison, out, overwrite=args.overwrite)
    print(format_comparison(comparison))
    print(f"wrote {outputs['json']} and {outputs['markdown']}")
    return 0


def _merge(args: argparse.Namespace) -> int:
    """``--merge``: read the reports, merge, write under ``--out/--name`` and print."""
    from vosframe.app.selection import format_selection, merge_selections, write_selection

    if not args.name:
        raise InputError("--merge needs --name (the merged results folder under --out)")
    report = merge_selections(_read_reports("--merge", args.merge), args.variant or None)
    outputs = write_selection(report, Path(args.out) / args.name, overwrite=args.overwrite)
    print(format_selection(report))
    print(f"wrote {outputs['json']} and {outputs['markdown']}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the folds, write the results and print the summary."""
    from vosframe.app.selection import (
        format_selection,
        parse_variant,
        run_folds,
        variant_grid,
        write_selection,
    )
    from vosframe.app.zoo import card, load_model, weights_path
    from vosframe.threads import resolve_threads

    if args.compare:
        return _compare(args)
    rule_flags = ("min_gain", "min_median_gain", "max_fold_loss", "compare_variants")
    stray = [f"--{f.replace('_', '-')}" for f in rule_flags if getattr(args, f) is not None]
    if stray:
        raise InputError(f"{', '.join(stray)} only apply to --compare. Fix: drop them.")
    if args.merge:
        return _merge(args)
    if args.variant and args.grid:
        raise InputError("give --variant or --grid, not both")
    variants = [parse_variant(v) for v in args.variant] or variant_grid(_grid(args.grid)) or None
    checkpoints: list[str | None] = list(args.checkpoint)
    if args.model:
        card(args.model)  # unknown names fail before anything runs
        checkpoints = checkpoints or [str(weights_path(card(args.model).weights))]
    elif not checkpoints:
        raise InputError(
            "--config needs --checkpoint (one per seed; '{fold}' in the path for per-fold "
            "models trained with `vosframe train CONFIG --fold K`)"
        )
    gates: list[str] = list(args.plugin_weights)
    if gates and len(gates) != len(checkpoints):
        raise InputError(
            f"give one --plugin-weights per --checkpoint ({len(checkpoints)}), got {len(gates)}"
        )
    name = args.name or f"{Path(args.model or args.config).stem}_folds"
    out = Path(args.out) / name
    if not args.overwrite and (out / "selection.json").exists():
        raise InputError(f"{out} already holds selection results. Fix: --name NEW or --overwrite")

    def gate_for(checkpoint: str | None) -> str | None:
        """The --plugin-weights paired with the (fold-formatted) ``checkpoint``."""
        from vosframe.data.folds import fold_table

        for template, gate in zip(checkpoints, gates):
            for k in args.folds or range(fold_table().num_folds):
                if template is not None and template.replace("{fold}", str(k)) == checkpoint:
                    return gate.replace("{fold}", str(k))
        return None

    def models(checkpoint: str | None):
        gate = gate_for(checkpoint)
        if args.model:
            return load_model(args.model, checkpoint=checkpoint, plugin_weights=gate)
        return load_model(config=args.config, checkpoint=checkpoint, plugin_weights=gate)

    with tqdm(unit="frame", desc="select") as bar:
        report = run_folds(
            models,
            args.data,
            checkpoints=checkpoints,
            folds=args.folds,
            variants=variants,
            short_side=args.short_side or None,
            precision=args.precision,
            threads=resolve_threads(args.threads),
            seen_in_training=True if args.seen_in_training else None,
            label=args.model or args.config,
            progress=bar.update,
        )
    outputs = write_selection(report, out, overwrite=args.overwrite)
    print(format_selection(report))
    print(f"wrote {outputs['json']} and {outputs['markdown']}")
    return 0
