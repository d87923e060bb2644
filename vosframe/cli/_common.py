"""Options and checks shared by the subcommands.

Everything here runs before torch is imported: argument types reject bad values at parse
time, and :func:`check_model_source` checks the model options before the (slow) build.
:func:`load_cli_model` turns library errors about checkpoints into short messages with
command-line fixes.
"""

from __future__ import annotations

import argparse
import ast
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

from vosframe.app.zoo import ZOO
from vosframe.core.errors import CheckpointError, InputError

if TYPE_CHECKING:
    from vosframe.core.model import VOSModel

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def strip_ansi(text: str) -> str:
    """Remove terminal colour codes (torch's error texts hold some)."""
    return _ANSI.sub("", text)


def _literal(text: str) -> object:
    """A Python literal, else the text itself (a bare word is a string)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def cfg_option(text: str) -> tuple[str, object]:
    """``--cfg-options`` item ``KEY=VALUE``: the key and the parsed value.

    The value is a Python literal (``2``, ``1e-3``, ``None``, ``['bear', 'boat']``);
    otherwise a list when it is bracketed or holds commas, with bare words as strings
    (``[bear,boat]`` and ``bear,boat`` both give ``['bear', 'boat']``, as mmengine's
    ``--cfg-options``); otherwise the text as a string.
    """
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(
            f"expected KEY=VALUE (e.g. train_cfg.max_epochs=2), got {text!r}"
        )
    parsed = _literal(value)
    if parsed is value and ("," in value or (value.startswith("[") and value.endswith("]"))):
        inner = value[1:-1] if value.startswith("[") and value.endswith("]") else value
        parsed = [_literal(v.strip()) for v in inner.split(",") if v.strip()]
    return key.strip(), parsed


def tau_arg(text: str) -> float:
    """``--tau``: a finite number in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(
            f"must be in [0, 1] (0: reuse whenever possible, 1: never reuse), got {text}"
        )
    return value


def positive_int(text: str) -> int:
    """A whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text}")
    return value


def fps_arg(text: str) -> float:
    """``--target-fps``: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected frames per second > 0, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of frames per second > 0, got {text}")
    return value


def threads_arg(text: str) -> int | str:
    """``--threads``: ``auto`` or a whole number >= 1."""
    return "auto" if text == "auto" else positive_int(text)


def add_threads(p: argparse.ArgumentParser) -> None:
    """Add ``--threads`` (default ``auto``: one per physical core, less one)."""
    p.add_argument(
        "--threads",
        type=threads_arg,
        default="auto",
        metavar="N|auto",
        help="torch CPU threads (default auto: one per physical core less one, at least "
        "one, which keeps its speed when another program is busy; see the README)",
    )


def add_model_source(p: argparse.ArgumentParser, default: str | None) -> None:
    """Add ``--model`` / ``--config`` / ``--checkpoint`` / ``--allow-untrained``."""
    src = p.add_mutually_exclusive_group(required=default is None)
    dflt = f" (default {default})" if default else ""
    src.add_argument("--model", metavar="NAME", help=f"shipped model: {', '.join(ZOO)}{dflt}")
    src.add_argument("--config", metavar="CFG", help="model config file instead")
    p.add_argument("--checkpoint", metavar="CKPT", help="trained weights (needed with --config)")
    p.add_argument(
        "--plugin-weights",
        metavar="FILE",
        help="a plugin's own weights file (e.g. a gate from `vosframe train-gate`), loaded "
        "after --checkpoint; it must have been trained on those base weights",
    )
    p.add_argument(
        "--allow-untrained",
        action="store_true",
        help="run --config without --checkpoint (random weights: for testing the plumbing)",
    )


def check_model_source(args: argparse.Namespace) -> None:
    """Check the model options before anything is built.

    Raises:
        InputError: ``--config`` without ``--checkpoint`` (and no ``--allow-untrained``),
            or a ``--config``/``--checkpoint`` path that does not exist.
    """
    model = getattr(args, "model", None)
    if model is not None and model not in ZOO:
        raise InputError(
            f"no shipped model {model!r}; shipped models: {', '.join(ZOO)}. Fix: pass one of "
            f"them to --model (see `vosframe models`), or --config CFG --checkpoint CKPT."
        )
    if args.config is not None and not Path(args.config).is_file():
        raise InputError(f"--config {args.config} does not exist. Fix: check the path.")
    if args.checkpoint is not None and not Path(args.checkpoint).is_file():
        raise InputError(
            f"--checkpoint {args.checkpoint} does not exist"
            + (" (it is a folder)" if Path(args.checkpoint).is_dir() else "")
            + ". Fix: check the path (trained weights are the .pt file that `vosframe "
            "train` prints at the end)."
        )
    plugin = getattr(args, "plugin_weights", None)
    if plugin is not None and not Path(plugin).is_file():
        raise InputError(
            f"--plugin-weights {plugin} does not exist. Fix: check the path (`vosframe "
            f"train-gate` prints the gate file it wrote)."
        )
    if args.config is not None and args.checkpoint is None and not args.allow_untrained:
        raise InputError(
            f"--config {args.config} without --checkpoint would run an untrained model "
            f"(random weights: useless masks). Fix: pass --checkpoint CKPT with its trained "
            f"weights, use a shipped model (--model {', '.join(ZOO)}), or pass "
            f"--allow-untrained if random weights are what you want."
        )


def _checkpoint_message(exc: CheckpointError, path: str | None) -> str:
    """A short message with command-line fixes for a checkpoint that cannot be used."""
    text = strip_ansi(str(exc))
    where = path or "the shipped weights"
    if "does not match" in text:
        head = text.split(". Fix:")[0]
        if len(head) > 600:
            head = head[:600].rsplit(" ", 1)[0] + " ..."
        return (
            f"{head}. Fix: pass the --config the checkpoint was trained with (its metadata "
            f"names it), or the --checkpoint trained for this --config."
        )
    if "fingerprint" in text:
        return (
            f"--plugin-weights {text.split(' (fingerprint')[0]}, not on {where}. Fix: pass "
            f"the --checkpoint it was trained on, or train a gate for yours: vosframe "
            f"train-gate CONFIG (with load_from_vosframe = your checkpoint)."
        )
    if "cannot read checkpoint" in text or "is not a vosframe checkpoint" in text:
        return (
            f"--checkpoint {where} is not a vosframe checkpoint, or is corrupt (vosframe only "
            f"loads plain tensor files, never pickled code). Fix: pass the .pt file written "
            f"by `vosframe train` or `vosframe train-gate`."
        )
    return text


def load_cli_model(args: argparse.Namespace, default: str | None = None) -> tuple[VOSModel, str]:
    """Build the model named by the options; returns ``(model, label)``.

    Raises:
        CheckpointError: With a message whose fixes are command-line options.
    """
    from vosframe.app.zoo import load_model

    try:
        plugin = getattr(args, "plugin_weights", None)
        if args.config:
            model = load_model(
                config=args.config, checkpoint=args.checkpoint, plugin_weights=plugin
            )
            return model, args.config
        name = args.model or default
        return load_model(name, checkpoint=args.checkpoint, plugin_weights=plugin), name
    except CheckpointError as exc:
        raise CheckpointError(_checkpoint_message(exc, args.checkpoint)) from None


def tau_options(
    model: VOSModel, tau: float | None, target_fps: float | None = None
) -> dict[str, float]:
    """Session options for ``--tau`` / ``--target-fps`` (empty without them): session
    options, so the shared model is not changed.

    Raises:
        InputError: One of them given for a model without a reuse gate.
    """
    given = {k: v for k, v in (("tau", tau), ("target_fps", target_fps)) if v is not None}
    if not given:
        return {}
    if model.threshold_plugin is None:
        from vosframe.app.zoo import ZOO

        flag = "--tau" if tau is not None else "--target-fps"
        gated = ", ".join(name for name, c in ZOO.items() if c.tau is not None)
        raise InputError(
            f"{flag} needs a model with a reuse gate. Fix: use --model with one of {gated}, "
            f"or leave {flag} out."
        )
    return given
