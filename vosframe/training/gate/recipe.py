"""The trace recipes from a config: record traces, train the gate, report the held-out
calibration, export the weights (``vosframe train-gate``).

A ``copy`` gate (and its pre-gate) trains on copy traces
(:mod:`~vosframe.training.gate.traces`); a ``reuse`` gate (the paper's feature reuse)
trains its alternative path and then its gate function on reuse traces
(:mod:`~vosframe.training.gate.reuse_traces`); a ``reuse_mask`` gate does the same on copy
traces (:mod:`~vosframe.training.gate.mask_traces`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from vosframe.builder import build_model, load_config
from vosframe.core.checkpoint import load_checkpoint
from vosframe.core.errors import ConfigError
from vosframe.core.plugin_weights import save_plugin_weights
from vosframe.data.davis import open_davis
from vosframe.data.folds import fold_table
from vosframe.plugins.reuse_gate import ReuseGate
from vosframe.training.train import start_weights

from .calibration import gate_calibration, simulate_gate
from .mask_traces import (
    check_mask_target,
    mask_gate,
    mask_path_report,
    record_mask_traces,
    train_mask_gate,
    train_mask_path_on_traces,
)
from .pre_gate import train_pre_gate
from .reuse_traces import (
    DEFAULT_AGES,
    record_reuse_traces,
    reuse_calibration,
    reuse_fidelity,
    reuse_gate,
    train_reuse_gate,
    train_reuse_on_traces,
)
from .traces import (
    TRACE_VARIANTS,
    SequenceTrace,
    copy_gate,
    record_traces,
    split_traces,
    train_gate_on_traces,
)

if TYPE_CHECKING:
    from vosframe.core.model import VOSModel


def train_from_config(
    config: str | Path,
    work_dir: str | Path | None = None,
    options: dict[str, Any] | None = None,
    log: Callable[[str], None] = print,
    fold: int | None = None,
) -> Path:
    """Record traces and train a ``copy``, ``reuse`` or ``reuse_mask`` gate from a config;
    returns the exported weights.

    Config keys: ``model`` (with the ReuseGate plugin), ``load_from_vosframe`` (the trained
    base model), ``gate_traces = dict(data=DAVIS-layout folder of fully annotated training
    sequences, short_side, frame_steps, steps, batch_size, lr, quality_scale, holdout, seed,
    precision, threads, pre_steps, pre_over_weight)``; a gate with ``pre_gate`` then fits its
    pre-gate. A ``reuse`` gate reads ``reuse_steps``, ``reuse_batch_size``, ``reuse_lr``,
    ``feature_weight``, ``mask_weight``, ``delta_weight`` (its alternative path,
    :func:`~vosframe.training.gate.reuse_traces.train_reuse_on_traces`) and ``ages``
    (default 1..3) besides; a ``reuse_mask`` gate reads ``mask_steps``,
    ``mask_batch_size``, ``mask_lr``, ``mask_weight``, ``delta_weight``, ``mask_target``
    (``"soft"`` or ``"hard"``) and ``ages``
    (:func:`~vosframe.training.gate.mask_traces.train_mask_path_on_traces`). Writes
    ``gate.pt`` (the gate's own weights file with the fingerprint of the base weights it
    was trained on,
    :func:`~vosframe.core.plugin_weights.save_plugin_weights`; the base model's file is not
    copied) and ``calibration.json`` (held-out sequences, as recorded with every frame, the
    inference case: for ``copy`` :func:`gate_calibration` and
    :func:`~vosframe.training.gate.calibration.simulate_gate`; for ``reuse``
    :func:`~vosframe.training.gate.reuse_traces.reuse_fidelity` and
    :func:`~vosframe.training.gate.reuse_traces.reuse_calibration`; for ``reuse_mask``
    :func:`~vosframe.training.gate.mask_traces.mask_path_report`) to
    ``work_dir`` (default ``work_dirs/<config name>``).

    ``gate_traces.threads`` sets torch's (process-wide) thread count: the traces and the
    training depend on it; with it and ``seed`` the result is bit-reproducible.

    ``fold`` (the selection protocol, :mod:`vosframe.data.folds`): record only that fold's
    fit videos of DAVIS-2016 train, so its select videos stay unseen by the gate too;
    ``{fold}`` and ``{seed}`` in ``load_from_vosframe`` are replaced by the fold number and
    the config's ``seed`` (the fold's base model; :func:`~vosframe.training.train.start_weights`),
    and the default work dir gets a ``_fold<K>`` suffix.

    Raises:
        ConfigError: The config has no ``gate_traces`` or no ``load_from_vosframe``, its
            gate's variant is not one of those three, or a ``reuse_mask`` gate's
            ``mask_target`` is unknown, or ``{fold}`` is in ``load_from_vosframe`` without
            a fold (before any trace is recorded).
        InputError: Unknown fold, or the data folder lacks some of the fold table's videos.
    """
    torch.set_flush_denormal(True)
    cfg = load_config(str(config))
    if options:
        cfg.merge_from_dict(options)
    spec = dict(cfg.get("gate_traces") or {})
    if "data" not in spec or not cfg.get("load_from_vosframe"):
        raise ConfigError(
            f"{config}: training the gate on traces needs gate_traces=dict(data=FOLDER, ...) "
            "and load_from_vosframe=BASE_WEIGHTS in the config"
        )
    cfg.fold = fold
    base_weights = start_weights(cfg)  # before any trace: a {fold} without a fold is refused
    if fold is not None:
        table = fold_table(spec.get("fold_table"))
        spec["sequences"] = list(table.fit_of(fold, open_davis(spec["data"]).names, spec["data"]))
        spec["fold"] = fold
    if spec.get("threads"):  # the result depends on it (float summation order)
        torch.set_num_threads(int(spec["threads"]))
    torch.manual_seed(int(spec.get("seed", 0)))  # the gate's initial weights
    model = build_model(cfg.model.to_dict())
    load_checkpoint(model, base_weights, strict=False)
    plugin = model.path_plugin
    variant = plugin.arch.variant if isinstance(plugin, ReuseGate) else "copy"
    if variant not in TRACE_VARIANTS:
        variant = "copy"  # copy_gate names the variants this recipe trains
    gate = {"reuse": reuse_gate, "reuse_mask": mask_gate}.get(variant, copy_gate)(model)
    if variant == "reuse_mask":
        check_mask_target(spec.get("mask_target", "soft"))  # before any trace is recorded
    stem = Path(str(config)).stem + ("" if fold is None else f"_fold{fold}")
    out = Path(work_dir or cfg.get("work_dir") or Path("work_dirs") / stem)
    out.mkdir(parents=True, exist_ok=True)
    data = open_davis(spec["data"], spec.get("sequences"))
    record = {"reuse": record_reuse_traces, "reuse_mask": record_mask_traces}
    traces = record.get(variant, record_traces)(
        model,
        data,
        progress=lambda n: log(f"recorded {n}"),
        short_side=spec.get("short_side"),
        frame_steps=tuple(int(k) for k in spec.get("frame_steps", (1,))),
        precision=spec.get("precision", "auto"),
    )
    train, held = split_traces(traces, float(spec.get("holdout", 0.2)))
    held = [t for t in held if t.frame_step == 1] or held
    recipe = {"reuse": _train_reuse, "reuse_mask": _train_mask}.get(variant, _train_copy)
    report = {"held_out": [t.name for t in held], **recipe(model, train, held, spec, log)}
    tmp = out / "calibration.json.tmp"
    tmp.write_text(json.dumps(report, indent=1))
    os.replace(tmp, out / "calibration.json")
    meta = {
        "config_file": str(config),
        "config": cfg.model.to_dict(),
        "gate_traces": spec,
        "base_weights": Path(base_weights).name,
    }
    return save_plugin_weights(model, out / "gate.pt", plugin=gate.key, meta=meta)


def _train_copy(
    model: VOSModel,
    train: list[SequenceTrace],
    held: list[SequenceTrace],
    spec: dict[str, Any],
    log: Callable[[str], None],
) -> dict[str, Any]:
    """The copy gate (and its pre-gate); returns the report's entries."""
    history = train_gate_on_traces(
        model,
        train,
        steps=int(spec.get("steps", 1500)),
        batch_size=int(spec.get("batch_size", 16)),
        lr=float(spec.get("lr", 1e-3)),
        seed=int(spec.get("seed", 0)),
        quality_scale=float(spec.get("quality_scale", 0.2)),
        log=lambda step, loss: log(f"step {step} loss {loss:.4f}"),
    )
    if copy_gate(model).arch.pre_gate:
        pre_history = train_pre_gate(
            model,
            train,
            steps=int(spec.get("pre_steps", 1000)),
            seed=int(spec.get("seed", 0)),
            over_weight=float(spec.get("pre_over_weight", 1.0)),
            quality_scale=float(spec.get("quality_scale", 0.2)),
        )
        log(f"pre-gate loss {pre_history[0]:.4f} -> {pre_history[-1]:.4f}")
    return {
        "loss_history": history,
        "calibration": {f"age_{n}": gate_calibration(model, held, ages=(n,)) for n in (1, 2)}
        if held
        else {},
        "closed_loop": simulate_gate(model, held) if held else [],
    }


def _train_reuse(
    model: VOSModel,
    train: list[SequenceTrace],
    held: list[SequenceTrace],
    spec: dict[str, Any],
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Feature reuse: its alternative path, then its gate function; returns the report's
    entries."""
    ages = tuple(int(n) for n in spec.get("ages", DEFAULT_AGES))
    seed = int(spec.get("seed", 0))
    mib = sum(t.nbytes for t in train + held) / 2**20  # type: ignore[attr-defined]
    log(f"reuse traces: {mib:.1f} MiB")
    path_history = train_reuse_on_traces(
        model,
        train,
        ages=ages,
        steps=int(spec.get("reuse_steps", 2000)),
        batch_size=int(spec.get("reuse_batch_size", 8)),
        lr=float(spec.get("reuse_lr", 1e-3)),
        seed=seed,
        feature_weight=float(spec.get("feature_weight", 1.0)),
        mask_weight=float(spec.get("mask_weight", 1.0)),
        delta_weight=float(spec.get("delta_weight", 1.0)),
        log=_path_log(log),
    )
    history = train_reuse_gate(model, train, ages=ages, **_gate_step(spec, log))
    return {
        "reuse_path_history": path_history,
        "loss_history": history,
        "fidelity": {f"age_{n}": reuse_fidelity(model, held, ages=(n,)) for n in ages}
        if held
        else {},
        "calibration": {f"age_{n}": reuse_calibration(model, held, ages=(n,)) for n in ages}
        if held
        else {},
    }


def _train_mask(
    model: VOSModel,
    train: list[SequenceTrace],
    held: list[SequenceTrace],
    spec: dict[str, Any],
    log: Callable[[str], None],
) -> dict[str, Any]:
    """The translated mask (reuseM): its alternative path, then its gate function; returns
    the report's entries."""
    ages = tuple(int(n) for n in spec.get("ages", DEFAULT_AGES))
    seed = int(spec.get("seed", 0))
    path_history = train_mask_path_on_traces(
        model,
        train,
        ages=ages,
        steps=int(spec.get("mask_steps", 1000)),
        batch_size=int(spec.get("mask_batch_size", 8)),
        lr=float(spec.get("mask_lr", 1e-3)),
        seed=seed,
        mask_weight=float(spec.get("mask_weight", 1.0)),
        delta_weight=float(spec.get("delta_weight", 1.0)),
        target=str(spec.get("mask_target", "soft")),
        log=_path_log(log),
    )
    history = train_mask_gate(model, train, ages=ages, **_gate_step(spec, log))
    reports = {f"age_{n}": mask_path_report(model, held, ages=(n,)) for n in ages} if held else {}
    return {
        "mask_path_history": path_history,
        "loss_history": history,
        **{k: {age: r[k] for age, r in reports.items()} for k in ("fidelity", "calibration")},
    }


def _path_log(log: Callable[[str], None]) -> Callable[[int, dict[str, float]], None]:
    """A path-training logger writing ``path step N name value ...`` lines to ``log``."""
    return lambda step, m: log(
        f"path step {step} " + " ".join(f"{k} {v:.4f}" for k, v in m.items())
    )


def _gate_step(spec: dict[str, Any], log: Callable[[str], None]) -> dict[str, Any]:
    """The gate-function step's settings of ``gate_traces`` (after a path's training)."""
    return dict(
        steps=int(spec.get("steps", 1500)),
        batch_size=int(spec.get("batch_size", 16)),
        lr=float(spec.get("lr", 1e-3)),
        seed=int(spec.get("seed", 0)),
        quality_scale=float(spec.get("quality_scale", 0.2)),
        log=lambda step, loss: log(f"gate step {step} loss {loss:.4f}"),
    )
