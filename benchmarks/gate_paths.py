"""Where a gated model's frame time goes, per path and per stage (the reuse gate's variants).

Run from the repository root, e.g. G-FRTM's copy cascade against the paper's feature reuse::

    PYTHONPATH=. python benchmarks/gate_paths.py --model g-frtm --threads 1 \\
        --variant reuse@16 experiments/configs/frtm/gfrtm_reuse_traces_effnetlite0_davis16.py \\
            work_dirs/gfrtm_reuse_traces/gate.pt

For the main model and each variant (a gated config with its gate weights, or
``untrained`` for the gate as initialised, on the main model's base weights) one session
per setting runs over the first ``--frames`` frames of a DAVIS sequence: the base model
(``tau = 1``: the gate does not run), every tracked frame forced onto the full path
(``force="full"``: the base model plus the gate's decision) and onto the alternative path
(``force="alt"``). All settings run interleaved in one process, ``--reps`` rounds, after
an untimed warm-up round. Per setting it reports the median
``ms/frame`` of the tracked frames and the mean ms per frame of each stage:

* the stages of the core contract (``feature_extractor`` up to the feature cut / the rest,
  ``localizer.localize`` / ``peek``, ``refiner.run`` from the start or from a re-entry
  point), timed by wrapping them on the model instance;
* each module of the gate (template, matching, gate function, delta generator, translators,
  pre-gate);
* ``other``: the rest of ``session.step`` (input resize, cues, aggregation, output);
* as parts of the refiner's time (not added again): each of its levels and its head (the
  refiner's direct submodules, and the items of a ``stages`` container).

Only the outermost timed call counts (a stage inside another is part of it), so the stages
and ``other`` add up to the frame time. Forced paths ignore the gate's decision and its
run cap: ``alt`` is the cost of a frame where every object reuses.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vosframe.app.bench import gate_of, torch_threads
from vosframe.app.zoo import card, load_model, weights_path
from vosframe.builder import build_model, load_config
from vosframe.core.checkpoint import load_checkpoint
from vosframe.core.model import VOSModel
from vosframe.data.davis import open_davis


class StageClock:
    """Outermost-call wall time per stage label (seconds, summed until :meth:`reset`)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.inner: dict[str, float] = {}
        self._depth = 0

    def reset(self) -> None:
        """Forget the sums."""
        self.totals, self.inner = {}, {}

    def wrap_inner(self, fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        """``fn`` timed under ``label`` in :attr:`inner`, at any depth (a part of a stage)."""

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.inner[label] = self.inner.get(label, 0.0) + time.perf_counter() - t0

        return timed

    def wrap(self, fn: Callable[..., Any], label: Callable[..., str] | str) -> Callable[..., Any]:
        """``fn`` timed under ``label`` (a string, or a function of the call's arguments)."""

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._depth:
                return fn(*args, **kwargs)
            self._depth += 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth -= 1
                name = label if isinstance(label, str) else label(*args, **kwargs)
                self.totals[name] = self.totals.get(name, 0.0) + time.perf_counter() - t0

        return timed


def instrument(model: VOSModel, clock: StageClock) -> None:
    """Wrap the model's stages and its gate's modules (on this instance only)."""
    ext, loc, ref = model.feature_extractor, model.localizer, model.refiner

    def backbone(*args: Any, up_to: int | None = None, **kwargs: Any) -> str:
        return "backbone" if up_to is None else f"backbone to stride {up_to}"

    def refiner(*args: Any, start: Any = None, **kwargs: Any) -> str:
        return "refiner" if start is None else f"refiner tail from stride {start[0]}"

    ext.forward = clock.wrap(ext.forward, backbone)
    if hasattr(ext, "resume"):
        ext.resume = clock.wrap(ext.resume, "backbone after the cut")
    for name in ("localize", "peek"):
        if hasattr(loc, name):
            setattr(loc, name, clock.wrap(getattr(loc, name), f"localizer.{name}"))
    ref.run = clock.wrap(ref.run, refiner)
    for name, module in ref.named_modules():  # the refiner's levels and head, as parts
        depth = 1 if name.startswith("stages.") else 0
        if name not in ("", "stages") and name.count(".") == depth:
            module.forward = clock.wrap_inner(module.forward, f"refiner.{name}")
    gate = gate_of(model)
    if gate is not None:
        for name, module in gate.named_children():
            module.forward = clock.wrap(module.forward, f"gate.{name}")


def untrained_gate(config: str, base: Path) -> VOSModel:
    """The gated ``config`` on the ``base`` weights with its gate as initialised (timings
    do not depend on the gate's weights: a re-entry point can be timed before training)."""
    model = build_model(load_config(config))
    load_checkpoint(model, base, apart=("plugins.",))
    return model.eval()


def _settings(gated: bool) -> dict[str, dict[str, Any]]:
    if not gated:
        return {"base": {}}
    return {"base": {"tau": 1.0}, "full": {"force": "full"}, "alt": {"force": "alt"}}


def run(
    models: dict[str, VOSModel],
    frames: list[np.ndarray],
    mask: np.ndarray,
    reps: int,
) -> dict[str, dict[str, Any]]:
    """Time every (model, setting) pair, interleaved; see the module notes."""
    clocks = {label: StageClock() for label in models}
    for label, model in models.items():
        instrument(model, clocks[label])
    pairs = [
        (label, setting, options)
        for label, model in models.items()
        for setting, options in _settings(gate_of(model) is not None).items()
        if not (label != next(iter(models)) and setting == "base")  # one base is enough
    ]
    times: dict[tuple[str, str], list[float]] = {(a, b): [] for a, b, _ in pairs}
    stages: dict[tuple[str, str], dict[str, float]] = {(a, b): {} for a, b, _ in pairs}
    parts: dict[tuple[str, str], dict[str, float]] = {(a, b): {} for a, b, _ in pairs}
    for rep in range(reps + 1):  # round 0 warms up
        for label, setting, options in pairs:
            clock = clocks[label]
            session = models[label].new_session(**options)
            session.step(frames[0], {1: mask})
            clock.reset()
            step_times = []
            for frame in frames[1:]:
                t0 = time.perf_counter()
                session.step(frame)
                step_times.append(time.perf_counter() - t0)
            if rep == 0:
                continue
            times[(label, setting)] += step_times
            acc = stages[(label, setting)]
            for name, total in clock.totals.items():
                acc[name] = acc.get(name, 0.0) + total
            for name, total in clock.inner.items():
                parts[(label, setting)][name] = parts[(label, setting)].get(name, 0.0) + total
    out: dict[str, dict[str, Any]] = {}
    for (label, setting), values in times.items():
        n, own = len(values), parts[(label, setting)]
        per_stage = {k: 1000 * v / n for k, v in sorted(stages[(label, setting)].items())}
        mean = 1000 * sum(values) / n
        per_stage["other"] = mean - sum(per_stage.values())
        out[f"{label}/{setting}"] = {
            "ms_per_frame": 1000 * statistics.median(values),
            "mean_ms_per_frame": mean,
            "frames": n,
            "stages_ms": {k: round(v, 2) for k, v in per_stage.items()},
            "parts_ms": {k: round(1000 * v / n, 2) for k, v in sorted(own.items())},
        }
    return out


def main() -> None:
    """Parse the arguments, run, print a table and optionally write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="g-frtm", help="shipped gated model (the main one)")
    ap.add_argument("--data", default="../shared/data/davis2016/val_480p")
    ap.add_argument("--sequence", default="dog")
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--variant",
        nargs=3,
        action="append",
        metavar=("LABEL", "CONFIG", "GATE_WEIGHTS"),
        help="another gated config and its gate weights, on the main model's base weights",
    )
    ap.add_argument("--out", help="write the report as JSON to this file")
    args = ap.parse_args()
    seq = open_davis(args.data, [args.sequence])[0]
    frames = [seq.read_frame(i) for i in range(min(args.frames, len(seq)))]
    mask = (seq.read_mask(0) > 0).astype(np.uint8)
    base = weights_path(card(args.model).weights)
    models = {args.model: load_model(args.model)}
    for label, config, gate in args.variant or ():
        if gate == "untrained":
            models[label] = untrained_gate(config, base)
        else:
            models[label] = load_model(config=config, checkpoint=base, plugin_weights=gate)
    torch.set_flush_denormal(True)
    with torch_threads(args.threads):
        report = run(models, frames, mask, args.reps)
    for key, row in report.items():
        print(f"{key}: {row['ms_per_frame']:.1f} ms/frame (median of {row['frames']})")
        for stage, ms in row["stages_ms"].items():
            print(f"    {stage:<32} {ms:8.2f} ms")
        for part, ms in row["parts_ms"].items():
            print(f"      (part) {part:<25} {ms:8.2f} ms")
    if args.out:
        meta = {"threads": args.threads, "sequence": args.sequence, "frames": len(frames)}
        Path(args.out).write_text(json.dumps({**meta, "runs": report}, indent=1) + "\n")


if __name__ == "__main__":
    main()
