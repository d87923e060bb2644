"""``vosframe models``: the shipped models (names for ``--model``, J&F, FPS, default τ),
then the registered base models, backbones and plugins."""

from __future__ import annotations

import argparse
import json

from vosframe.app.zoo import ZOO, most_accurate


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``models`` subcommand."""
    p = sub.add_parser(
        "models",
        help="list the shipped models (J&F, FPS, default tau) and the registered parts",
        description="List the shipped models: the names --model takes, their J&F on held-out "
        "DAVIS-2016 train folds and on DAVIS-2016 val, speed and default reuse-gate "
        "threshold; then the registered base models, backbones and plugins (for configs).",
        epilog="examples:\n  vosframe models\n  vosframe models --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def shipped_models() -> list[dict]:
    """One row per shipped model, from :data:`vosframe.app.zoo.ZOO`."""
    return [
        {
            "name": name,
            "J&F": c.jf,
            "held_out_J&F": c.heldout_jf,
            "held_out": c.heldout,
            "fps": c.fps,
            "tau": c.tau,
            "summary": c.summary,
            "results": c.results,
        }
        for name, c in ZOO.items()
    ]


def format_shipped(rows: list[dict]) -> list[str]:
    """A table of the shipped models, fastest and most accurate marked.

    "Most accurate" is :func:`vosframe.app.zoo.most_accurate` (the base model with the best
    held-out-fold J&F, on videos the recipe never saw), not the best val J&F.
    """
    best_name = most_accurate()
    best_fps = max((r["fps"] for r in rows if r["fps"] is not None), default=None)
    lines = [
        "shipped models (--model NAME; J&F on held-out DAVIS-2016 train folds and on DAVIS-2016 "
        "val, FPS on val with 1 CPU thread; benchmarks/results/<results>):",
        f"  {'name':<9} {'held-out':>8} {'val':>5} {'FPS':>6} {'tau':>4}  summary",
    ]
    for r in rows:
        held = "-" if r["held_out_J&F"] is None else f"{r['held_out_J&F']:.1f}"
        jf = "-" if r["J&F"] is None else f"{r['J&F']:.1f}"
        fps = "-" if r["fps"] is None else f"{r['fps']:.1f}"
        tau = "-" if r["tau"] is None else f"{r['tau']:g}"
        marks = [
            m
            for m, v, b in (
                ("most accurate", r["name"], best_name),
                ("fastest", r["fps"], best_fps),
            )
            if v is not None and v == b
        ]
        note = f" [{', '.join(marks)}]" if marks else ""
        lines.append(f"  {r['name']:<9} {held:>8} {jf:>5} {fps:>6} {tau:>4}  {r['summary']}{note}")
    lines.append(
        "  (held-out figures come from different folds and runs per model: compare a gated "
        "model with its base model on the same runs, docs/model_zoo.md; most accurate: the "
        "best base model)"
    )
    return lines


def run(args: argparse.Namespace) -> int:
    """Print the shipped models and the registry contents."""
    from vosframe.app.registered import describe_registered

    info = describe_registered()
    shipped = shipped_models()
    if args.json:
        print(json.dumps({"shipped": shipped, **info}, indent=2))
        return 0
    print("\n".join(format_shipped(shipped)))
    for key in ("models", "backbones", "plugins", "datasets", "metrics", "losses"):
        print(f"{key}:")
        for row in info[key]:
            print(f"  {row['name']:<22} [{row['distribution']}] {row['summary']}")
            for sp in row.get("skip_points") or []:
                src = f", from the {sp['source']}" if sp.get("source") else ""
                print(
                    f"      skip point {sp['name']:<8} {sp['kind']:<12} stride {sp['stride']:<3}"
                    f" {sp['channels']:>4} ch{src}  {sp['caches']}"
                )
            if row.get("skip_points_error"):
                print(f"      (skip points need a config: {row['skip_points_error']})")
            if row.get("needs"):
                print(f"      needs: {'; '.join(row['needs'])}")
    for f in info["failures"]:
        print(f"failed plugin {f['name']} from {f['distribution']} ({f['stage']}): {f['error']}")
    return 0
