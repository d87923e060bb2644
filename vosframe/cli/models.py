"""``vosframe models``: list registered base models, backbones and plugins."""

from __future__ import annotations

import argparse
import json

from vosframe.inspect import describe_registered


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``models`` subcommand."""
    p = sub.add_parser("models", help="list registered models, backbones and plugins")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the registry contents."""
    info = describe_registered()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
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
