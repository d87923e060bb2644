"""Entry point of the ``vosframe`` command.

Each subcommand lives in its own module of :mod:`vosframe.cli` exposing
``add_parser(subparsers) -> None``; the parser it adds sets ``func`` (a callable taking
the parsed ``argparse.Namespace`` and returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from vosframe._version import __version__
from vosframe.core.errors import VosframeError

SUBCOMMANDS: tuple[str, ...] = (
    "models", "segment", "eval", "train", "train_gate", "demo", "bench", "select",
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="vosframe", description="Semi-supervised video object segmentation."
    )
    parser.add_argument("--version", action="version", version=f"vosframe {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"vosframe.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"vosframe.cli.{name}":
                continue  # subcommand not shipped in this build
            raise
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except VosframeError as exc:
        print(f"vosframe {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
