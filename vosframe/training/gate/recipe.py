"""The trace recipe from a config: record traces, train the copy gate (and its pre-gate),
report the held-out calibration, export the weights (``vosframe train-gate``)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from vosframe.builder import build_model, load_config
from vosframe.core.checkpoint import load_checkpoint
from vosframe.core.errors import ConfigError
from vosframe.core.plugin_weights import save_plugin_weights
from vosframe.data.davis import open_davis

from .calibration import gate_calibration, simulate_gate
from .pre_gate import train_pre_gate
from .traces import copy_gate, record_traces, split_traces, train_gate_on_traces


def train_from_config(
    config: str | Path,
    work_dir: str | Path | None = None,
    options: dict[str, Any] | None = None,
    log: Callable[[str], None] = print,
) -> Path:
    """Record traces and train a ``copy`` gate from a config; returns the exported weights.

    Config keys: ``model`` (with the ReuseGate plugin), ``load_from_vosframe`` (the trained
    base model), ``gate_traces = dict(data=DAVIS-layout folder of fully annotated training
    sequences, short_side, frame_steps, steps, batch_size, lr, quality_scale, holdout, seed,
    precision, threads, pre_steps, pre_over_weight)``; a gate with ``pre_gate`` then fits its
    pre-gate. Writes ``gate.pt`` (the gate's own weights file with the fingerprint of the
    base weights it was trained on, :func:`~vosframe.core.plugin_weights.save_plugin_weights`;
    the base model's file is not copied) and ``calibration.json`` (:func:`gate_calibration` and
    :func:`~vosframe.training.gate.calibration.simulate_gate` on the held-out
    sequences, as recorded with every frame, the inference case) to
    ``work_dir`` (default ``work_dirs/<config name>``).

    ``gate_traces.threads`` sets torch's (process-wide) thread count: the traces and the
    training depend on it; with it and ``seed`` the result is bit-reproducible.

    Raises:
        ConfigError: The config has no ``gate_traces`` or no ``load_from_vosframe``.
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
    if spec.get("threads"):  # the result depends on it (float summation order)
        torch.set_num_threads(int(spec["threads"]))
    torch.manual_seed(int(spec.get("seed", 0)))  # the gate's initial weights
    model = build_model(cfg.model.to_dict())
    load_checkpoint(model, cfg.load_from_vosframe, strict=False)
    copy_gate(model)
    out = Path(work_dir or cfg.get("work_dir") or Path("work_dirs") / Path(str(config)).stem)
    out.mkdir(parents=True, exist_ok=True)
    data = open_davis(spec["data"], spec.get("sequences"))
    precision = spec.get("precision", "auto")
    traces = record_traces(
        model,
        data,
        progress=lambda n: log(f"recorded {n}"),
        short_side=spec.get("short_side"),
        frame_steps=tuple(int(k) for k in spec.get("frame_steps", (1,))),
        precision=precision,
    )
    train, held = split_traces(traces, float(spec.get("holdout", 0.2)))
    held = [t for t in held if t.frame_step == 1] or held
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
    report = {
        "held_out": [t.name for t in held],
        "loss_history": history,
        "calibration": {f"age_{n}": gate_calibration(model, held, ages=(n,)) for n in (1, 2)}
        if held
        else {},
        "closed_loop": simulate_gate(model, held) if held else [],
    }
    tmp = out / "calibration.json.tmp"
    tmp.write_text(json.dumps(report, indent=1))
    os.replace(tmp, out / "calibration.json")
    meta = {
        "config_file": str(config),
        "config": cfg.model.to_dict(),
        "gate_traces": spec,
        "base_weights": Path(str(cfg.load_from_vosframe)).name,
    }
    return save_plugin_weights(model, out / "gate.pt", plugin=copy_gate(model).key, meta=meta)
