"""Entry point of the ``vosframe`` command.

Each subcommand lives in its own module of :mod:`vosframe.cli` exposing
``add_parser(subparsers) -> None``; the parser it adds sets ``func`` (a callable taking
the parsed ``argparse.Namespace`` and returning an exit code). Subcommand modules import
torch only inside ``func``, so that ``vosframe --help`` and argument errors are instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence

from vosframe._version import __version__
from vosframe.core.errors import VosframeError

SUBCOMMANDS: tuple[str, ...] = (
    "models", "segment", "eval", "train", "train_gate", "demo", "bench", "select",
)  # fmt: skip

EXAMPLES = """\
examples:
  vosframe models                                  # shipped models: J&F, FPS, default tau
  vosframe demo                                    # built-in clip, no dataset needed
  vosframe segment --frames video.mp4 --masks first.png --out masks/
  vosframe segment --model frtm --frames frames/ --masks first.png --out masks/ --threads 1
  vosframe eval --gt DAVIS/Annotations/480p --pred results/

Run `vosframe COMMAND --help` for the options of a command.
"""


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="vosframe",
        description="Semi-supervised video object segmentation.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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


def _one_line_warnings(command: str) -> None:
    """Print warnings as ``vosframe CMD: warning: ...`` lines (no source line)."""

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
        print(f"vosframe {command}: warning: {message}", file=file or sys.stderr)

    warnings.showwarning = show


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from vosframe.app.outdir import terminate_as_interrupt
    from vosframe.cli._common import strip_ansi

    old_show = warnings.showwarning
    _one_line_warnings(args.command)
    try:
        if argv is None:  # the real command line: let SIGTERM clean up as Ctrl-C does
            terminate_as_interrupt()
        return int(args.func(args) or 0)
    except VosframeError as exc:
        print(f"vosframe {args.command}: error: {strip_ansi(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"vosframe {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = old_show


if __name__ == "__main__":
    sys.exit(main())
