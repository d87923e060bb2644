"""Named, shipped models: ``vosframe segment --model NAME``.

Each entry names a config in ``vosframe.configs`` (``<family>/<file>.py``: one folder per
model family, whose README lists its configs, the zoo's figures and the commands that
trained them) and a checkpoint in ``vosframe/weights/`` (trained weights only; backbone
weights come from their own package). A gated model is its base model's checkpoint plus the
gate's own weights file (:mod:`vosframe.core.plugin_weights`), which records the base
weights it was trained on. :data:`ZOO` is the one source of the shipped models:
``vosframe models``, the README's table and the family READMEs' tables are checked against
it. The recipe (config + command) that produced each checkpoint is also recorded in its
metadata and in ``vosframe/weights/README.md``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import attrs

from vosframe.core.errors import CheckpointError, RegistryError

if TYPE_CHECKING:  # torch is imported when a model is loaded, not when the zoo is listed
    from vosframe.core.model import VOSModel


@attrs.frozen
class ModelCard:
    """A shipped model.

    Attributes:
        config: Config file inside ``vosframe.configs``, as ``<family>/<file>.py``.
        weights: Checkpoint file name inside ``vosframe/weights`` (for a gated model: the
            base model's).
        summary: One line for humans.
        tau: Default reuse-gate threshold (its config's value; None without a gate).
        jf: DAVIS-2016 val J&F (percent) at the default setting, from ``results``.
        fps: Frames per second of that run (1 thread, its machine), from ``results``.
        results: The benchmark folder (``benchmarks/results/``) holding ``jf`` and ``fps``.
        plugin_weights: The gate's weights file inside ``vosframe/weights`` (None: the
            checkpoint holds every weight).
        heldout_jf: J&F (percent) of the model's recipe on the held-out folds of
            DAVIS-2016 train (trained without a fold's videos, scored on them; see
            ``docs/selection_protocol.md``): what to expect on videos nobody tuned on. None:
            not measured yet.
        heldout: Which folds and seeds ``heldout_jf`` averages, and its results folders.
    """

    config: str
    weights: str
    summary: str
    tau: float | None = None
    jf: float | None = None
    fps: float | None = None
    results: str = ""
    plugin_weights: str | None = None
    heldout_jf: float | None = None
    heldout: str = ""


ZOO: MappingProxyType[str, ModelCard] = MappingProxyType(
    {
        "frtm": ModelCard(
            "frtm/frtm_effnetlite0_davis16.py",
            "frtm_effnetlite0_davis16.pt",
            "FRTM on EfficientNet-Lite0, trained on DAVIS-2016 train (240p) + synthetic clips",
            jf=76.0,
            fps=6.5,
            results="gfrtm_noupdate_davis16val (tau 1)",
            heldout_jf=70.4,
            heldout="folds 0-4, seed 0 (folds 3-4 over seeds 0-1: 69.5, spread 2.7): "
            "gfrtm_budget_folds01234_heldout (tau 1), frtm_seeds01_folds34_heldout",
        ),
        "g-frtm": ModelCard(
            "frtm/gfrtm_effnetlite0_davis16.py",
            "frtm_effnetlite0_davis16.pt",
            "FRTM + reuse gate (G-FRTM), EfficientNet-Lite0",
            tau=0.9,
            jf=75.6,
            fps=7.7,
            results="gfrtm_tau09_budget4_davis16val (tau 0.9)",
            plugin_weights="gfrtm_gate_effnetlite0_davis16.pt",
            heldout_jf=70.2,
            heldout="folds 0-4, seed 0, tau 0.9 and drift budget 4: "
            "gfrtm_budget_folds01234_heldout",
        ),
        "ttvos": ModelCard(
            "ttvos/ttvos_effnetlite0_davis16.py",
            "ttvos_effnetlite0_davis16.pt",
            "TTVOS on EfficientNet-Lite0, trained on synthetic clips, then DAVIS-2016 train (240p)",
            jf=58.0,
            fps=38.2,
            results="gttvos_davis16val (tau 1)",
            heldout_jf=46.9,
            heldout="folds 0-4, seeds 0-1 (spread over seeds 2.1): "
            "gttvos_seeds01_folds01234_heldout (tau 1)",
        ),
        "g-ttvos": ModelCard(
            "ttvos/gttvos_effnetlite0_davis16.py",
            "ttvos_effnetlite0_davis16.pt",
            "TTVOS + the same reuse gate plugin (G-TTVOS), EfficientNet-Lite0",
            tau=0.7,
            jf=56.5,
            fps=47.4,
            results="gttvos_tau07_budget1_davis16val (tau 0.7)",
            plugin_weights="gttvos_gate_effnetlite0_davis16.pt",
            heldout_jf=47.1,
            heldout="folds 0-4, seeds 0-1 (spread over seeds 1.3), tau 0.7 and drift budget 1: "
            "gttvos_seeds01_folds01234_heldout",
        ),
        "stcn": ModelCard(
            "stcn/stcn_effnetlite0_davis16.py",
            "stcn_effnetlite0_davis16.pt",
            "STCN-style memory model (bounded memory), EfficientNet-Lite0, trained on synthetic"
            " clips, then DAVIS-2016 train (240p)",
            jf=70.0,
            fps=10.8,
            results="stcn_davis16val (tau 1)",
            heldout_jf=69.9,
            heldout="fold 0, seeds 0-1: stcn_fold0_gpu1_size",
        ),
        "g-stcn": ModelCard(
            "stcn/gstcn_effnetlite0_davis16.py",
            "stcn_effnetlite0_davis16.pt",
            "The memory model + the same reuse gate plugin (G-STM), EfficientNet-Lite0",
            tau=0.9,
            jf=70.5,
            fps=11.7,
            results="gstcn_davis16val (tau 0.9)",
            plugin_weights="gstcn_gate_effnetlite0_davis16.pt",
        ),
    }
)


def most_accurate() -> str:
    """The shipped base model with the best held-out-fold J&F (``vosframe segment``'s default).

    Judged on the held-out folds (:attr:`ModelCard.heldout_jf`), the figure every choice is
    made on, never on val; models not measured there are not candidates. Gated models are
    not candidates either: a gate trades accuracy for speed (at ``tau = 1`` it is its base
    model), and its held-out figure is measured against its own base model on the same
    fold runs, which may be other runs than those behind another model's figure.
    """
    measured = [
        (c.heldout_jf, n) for n, c in ZOO.items() if c.heldout_jf is not None and c.tau is None
    ]
    return max(measured)[1]


def config_path(name: str) -> Path:
    """Path of a shipped config file, ``name`` relative to ``vosframe.configs``
    (e.g. ``"frtm/frtm_effnetlite0_davis16.py"``)."""
    return Path(str(resources.files("vosframe.configs").joinpath(name)))


def weights_path(name: str) -> Path:
    """Path of a shipped checkpoint file."""
    return Path(str(resources.files("vosframe").joinpath("weights", name)))


def card(name: str) -> ModelCard:
    """The zoo entry ``name``; raises :class:`RegistryError` listing the names."""
    try:
        return ZOO[name]
    except KeyError:
        raise RegistryError(
            f"no shipped model {name!r}; shipped models: {', '.join(ZOO)}. Fix: use one of "
            f"them, or pass --config CFG [--checkpoint CKPT]."
        ) from None


def load_model(
    name: str | None = None,
    *,
    config: str | Path | None = None,
    checkpoint: str | Path | None = None,
    plugin_weights: str | Path | None = None,
) -> VOSModel:
    """Build a shipped model by name, or a model from a config (and optional checkpoint).

    Args:
        name: A shipped model (:data:`ZOO`).
        config: A config file instead of ``name``.
        checkpoint: Weights to load (with ``name``: instead of the shipped ones; for a
            gated model, the base model's).
        plugin_weights: A plugin's own weights file
            (:func:`~vosframe.core.plugin_weights.load_plugin_weights`), loaded after
            ``checkpoint`` (with ``name``: instead of the shipped gate's). It must have
            been trained on the loaded base weights.

    Raises:
        CheckpointError: The shipped weights are not in this install, or do not match
            (the config, or the base weights a plugin file was trained on).
        RegistryError: Unknown name.
    """
    plugin = Path(plugin_weights) if plugin_weights else None
    if name is not None:
        entry = card(name)
        cfg = config_path(entry.config)
        ckpt = Path(checkpoint) if checkpoint else weights_path(entry.weights)
        if plugin is None and entry.plugin_weights:
            plugin = weights_path(entry.plugin_weights)
        if not cfg.is_file():
            raise RegistryError(
                f"model {name!r} is listed but its config {entry.config} is not in this install "
                f"(not implemented yet in this version). Fix: pass --config CFG."
            )
        if not ckpt.is_file():
            raise CheckpointError(
                f"no trained weights for {name!r} in this install (expected {ckpt}). Fix: pass "
                f"--checkpoint CKPT, or train them: vosframe train {cfg}"
            )
    elif config is not None:
        cfg, ckpt = Path(config), Path(checkpoint) if checkpoint else None
    else:
        raise RegistryError("give a model name or a config")
    from vosframe.builder import build_model
    from vosframe.core.checkpoint import load_checkpoint
    from vosframe.core.plugin_weights import load_plugin_weights

    model = build_model(str(cfg))
    if ckpt is not None:
        load_checkpoint(model, ckpt, apart=("plugins.",) if plugin is not None else ())
    if plugin is not None:
        load_plugin_weights(model, plugin)
    return model
