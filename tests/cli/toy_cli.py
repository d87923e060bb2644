"""Run ``vosframe`` with the test toys registered (for subprocess tests of the CLI).

``python tests/cli/toy_cli.py segment --config toy.py ...`` behaves as ``vosframe segment``,
except that the toy base models of ``tests/toys.py`` are registered just before a model is
built (so that argument and path errors stay as fast as the real command's).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for toys.py


def _register_toys() -> None:
    from toys import ToyOnline, ToyTemplate

    from vosframe.registry import MODELS

    MODELS.register_module(module=ToyOnline, force=True)
    MODELS.register_module(module=ToyTemplate, force=True)


def main() -> int:
    import vosframe.cli._common as common

    load = common.load_cli_model

    def load_with_toys(args, default=None):
        _register_toys()
        return load(args, default)

    common.load_cli_model = load_with_toys  # before the subcommand modules import it
    from vosframe.cli.main import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
