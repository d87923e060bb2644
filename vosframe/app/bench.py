"""Accuracy-vs-speed benchmark of a gated model: a sweep of the reuse gate's threshold τ.

For each τ the model segments every sequence of a DAVIS-layout folder; the predictions are
scored with :func:`~vosframe.metrics.evaluate_folders` (J&F, J, F) and the runs are timed.
τ = 1 switches the gate off, so that run is exactly the base model (the reference for the
speedup and the FLOPs saved).

Protocol (every report carries :data:`PROTOCOL`): all τ
run in one process, interleaved per sequence (each sequence at every τ before the next,
the τ order rotated per sequence) after an untimed warm-up at every τ, so machine noise
affects all τ alike. Frames are decoded before a sequence is timed; a frame's time is
the session's ``StepResult.ms`` (first-frame initialisation included, PNG writing not).
FPS is reported pooled (total frames / total time) and DAVIS-style (mean of per-sequence
FPS). The reuse rate excludes each object's first frame (the official code counts it as
a reuse). FLOPs per path come from ``vosframe.app.flops.path_flops`` for the
gate (paths forced), else from the first frames counted with ``FlopCounterMode``.

Variants (``variants=``): other gated models on the same base weights (another preset,
re-entry point or gate file) run in the same process, interleaved with the model's own
runs per sequence; τ = 1 is run once (it is the same base model for all), and the plot has
one curve per variant, as the paper's accuracy-vs-speed figures.
"""

from __future__ import annotations

import contextlib
import json
import math
import statistics
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from vosframe._version import __version__
from vosframe.core.errors import InputError
from vosframe.core.model import VOSModel
from vosframe.core.plugin import ModelPlugin
from vosframe.data.davis import open_davis
from vosframe.data.masks import write_mask
from vosframe.metrics.evaluate import evaluate_folders, resolve_annotation_root

DEFAULT_TAUS: tuple[float, ...] = (1.0, 0.9, 0.8, 0.7, 0.5, 0.3)
"""The thresholds swept by default (τ = 1 is the base model)."""

FLOP_FRAMES = 6
"""Tracked frames counted for the FLOPs per path of a model whose plugin cannot be forced."""

__all__ = ["DEFAULT_TAUS", "PROTOCOL", "count_path_flops", "frame_class", "gate_of"]
__all__ += ["run_bench", "torch_threads", "write_bench"]


def gate_of(model: VOSModel) -> ModelPlugin | None:
    """The model's reuse gate: its path-deciding plugin if that decides by a threshold
    ``tau`` (:attr:`~vosframe.core.model.VOSModel.threshold_plugin`), else None."""
    return model.threshold_plugin


def frame_class(paths: Sequence[str]) -> str:
    """``init`` if an object starts, ``full``/``alt`` if all objects agree, else ``mixed``."""
    kinds = set(paths)
    if "init" in kinds:
        return "init"
    if len(kinds) == 1:
        return kinds.pop()
    return "mixed"


# ----------------------------------------------------------------------------- FLOPs
def _counted_step(session: Any, frame: np.ndarray, masks: Any = None) -> tuple[float, Any]:
    with FlopCounterMode(display=False) as counter:
        result = session.step(frame, masks)
    return counter.get_total_flops() / 1e9, result


def count_path_flops(
    model: VOSModel, frames: Sequence[np.ndarray], masks: np.ndarray, **session_options: Any
) -> dict[str, float | None]:
    """GFLOPs of the first frame and of a full and an alternative frame, all objects together.

    A gate (:func:`gate_of`) at the session's ``tau < 1`` is measured with ``path_flops``
    (both paths forced on the first frame, a session option). Otherwise the first frames are
    run in a fresh session under ``FlopCounterMode`` and each path's count is the median
    over the frames that took it (``alt`` is None when no frame did).

    Args:
        model: The model.
        frames: The sequence's frames (at least the first; more for the counted run).
        masks: The first frame's label map.
        **session_options: Session options (``precision`` defaults to ``fp32``; ``tau``
            defaults to the gate's).

    Returns:
        ``{"init": ..., "full": ..., "alt": ...}`` in GFLOPs.
    """
    session_options.setdefault("precision", "fp32")
    gate = gate_of(model)
    tau = session_options.get("tau")
    if gate is not None and (tau if tau is not None else gate.default_options().tau) < 1.0:
        from vosframe.app.flops import path_flops

        out = path_flops(model, frames[0], masks, **session_options)
        return {k: out[k] for k in ("init", "full", "alt")}
    was_training = model.training
    try:
        session = model.new_session(**session_options)
        init, _ = _counted_step(session, frames[0], masks)
        seen: dict[str, list[float]] = {"full": [], "alt": []}
        for frame in frames[1 : 1 + FLOP_FRAMES]:
            flops, result = _counted_step(session, frame)
            kind = frame_class([r.path for r in result.paths.values()])
            if kind in seen:
                seen[kind].append(flops)
    finally:
        model.train(was_training)
    return {
        "init": init,
        "full": statistics.median(seen["full"]) if seen["full"] else None,
        "alt": statistics.median(seen["alt"]) if seen["alt"] else None,
    }


def _frame_gflops(cost: dict[str, float | None], paths: Sequence[str]) -> float | None:
    kind = frame_class(paths)
    if kind == "init":
        return cost["init"]
    full, alt = cost["full"], cost["alt"]
    if kind == "full" or not paths:
        return full
    if alt is None or full is None:
        return None
    share = sum(p == "alt" for p in paths) / len(paths)  # mixed frames: linear in objects
    return full + (alt - full) * share


# ----------------------------------------------------------------------------- running
def _stats(values: Sequence[float]) -> dict[str, float | int | None]:
    if not values:
        return {"count": 0, "median": None, "mean": None}
    med, mean = statistics.median(values), statistics.fmean(values)
    return {"count": len(values), "median": round(med, 3), "mean": round(mean, 3)}


def _tau_key(tau: float | None) -> str:
    return "as_configured" if tau is None else f"tau_{tau:g}"


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Torch's and OpenCV's thread counts (the session resizes frames with OpenCV)."""
    old, old_cv = torch.get_num_threads(), cv2.getNumThreads()
    if n:
        torch.set_num_threads(n)
        cv2.setNumThreads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)
        cv2.setNumThreads(old_cv)


def _resolve_taus(model: VOSModel, taus: Sequence[float] | None) -> tuple[list, list[str]]:
    gate, notes = gate_of(model), []
    if gate is None:
        plugin = model.path_plugin
        what = f"its path plugin {type(plugin).__name__} has no tau" if plugin else "no gate"
        if taus is not None:
            raise InputError(
                f"{type(model).__name__} has no reuse gate ({what}), so a τ sweep (--taus) "
                "cannot run. Fix: use a gated model (e.g. --model g-frtm, or a config with "
                "plugins=[dict(type='ReuseGate', ...)]), or drop --taus to time it once."
            )
        if plugin is None:
            notes.append("the model has no reuse gate: ran only τ=1 (the base model)")
            return [1.0], notes
        notes.append(
            f"the model has no reuse gate ({what}): ran once as configured (τ=None), no sweep"
        )
        return [None], notes
    chosen = [float(t) for t in (DEFAULT_TAUS if taus is None else taus)]
    bad = [t for t in chosen if not 0.0 <= t <= 1.0 or math.isnan(t)]
    if bad or not chosen:
        raise InputError(f"τ values must be in [0, 1], got {list(taus or [])}")
    if 1.0 not in chosen:
        notes.append("added τ=1 (the base model): speedup and FLOPs saved are relative to it")
        chosen.append(1.0)
    return sorted(set(chosen), reverse=True), notes


def _run_sequence(
    model: VOSModel,
    seq_frames: list[np.ndarray],
    names: list[str],
    given: dict[int, np.ndarray],
    options: dict[str, Any],
    out_dir: Path | None,
    progress: Callable[[int], None] | None,
) -> dict[str, Any]:
    session = model.new_session(**options)
    ms, paths = [], []
    per_obj: dict[int, dict[str, int]] = {}
    for i, result in enumerate(session.propagate(seq_frames, masks_at=given)):
        ms.append(result.ms)
        paths.append([r.path for r in result.paths.values()])
        for obj_id, rec in result.paths.items():
            per_obj.setdefault(obj_id, {"init": 0, "full": 0, "alt": 0})[rec.path] += 1
        if out_dir is not None:
            if result.labels.max(initial=0) > 255:
                raise InputError("object ids above 255 cannot be written as indexed PNGs")
            write_mask(out_dir / f"{names[i]}.png", result.labels.astype(np.uint8))
        if progress is not None:
            progress(1)
    return {"frames": len(ms), "ms": ms, "paths": paths, "objects": per_obj, "ms_total": sum(ms)}


def _summarise(
    tau: float | None,
    runs: dict[str, dict[str, Any]],
    flops: dict[str, dict[str, float | None]],
    scores: Any,
) -> dict[str, Any]:
    frames = sum(r["frames"] for r in runs.values())
    total_ms = sum(r["ms_total"] for r in runs.values())
    per_seq_fps = {s: r["frames"] / (r["ms_total"] / 1000.0) for s, r in runs.items()}
    by_class: dict[str, list[float]] = {"init": [], "full": [], "alt": [], "mixed": []}
    all_ms: list[float] = []
    obj_rates, full_n, alt_n = [], 0, 0
    gflops_total: float | None = 0.0
    for seq, r in runs.items():
        all_ms += r["ms"]
        for ms, paths in zip(r["ms"], r["paths"]):
            by_class[frame_class(paths)].append(ms)
            if gflops_total is not None and seq in flops:
                g = _frame_gflops(flops[seq], paths)
                gflops_total = None if g is None else gflops_total + g
            else:
                gflops_total = None
        for counts in r["objects"].values():
            tracked = counts["full"] + counts["alt"]
            full_n += counts["full"]
            alt_n += counts["alt"]
            if tracked:
                obj_rates.append(counts["alt"] / tracked)
    figures = scores.global_figures()
    per_seq = scores.per_sequence()
    return {
        "tau": tau,
        "J&F": figures["J&F-Mean"],
        "J": figures["J-Mean"],
        "F": figures["F-Mean"],
        "fps_pooled": frames / (total_ms / 1000.0),
        "fps_davis": statistics.fmean(per_seq_fps.values()),
        "reuse_rate": statistics.fmean(obj_rates) if obj_rates else 0.0,
        "reuse_rate_pooled": alt_n / (full_n + alt_n) if full_n + alt_n else 0.0,
        "frames": frames,
        "ms_total": round(total_ms, 3),
        "ms_per_frame": {"all": _stats(all_ms), **{k: _stats(v) for k, v in by_class.items()}},
        "gflops_per_frame": None if gflops_total is None else gflops_total / frames,
        "gflops_total": gflops_total,
        "sequences": {
            s: {
                "frames": r["frames"],
                "fps": per_seq_fps[s],
                "J&F": per_seq[s]["J&F-Mean"],
                "J": per_seq[s]["J-Mean"],
                "F": per_seq[s]["F-Mean"],
                "paths": {k: sum(c[k] for c in r["objects"].values()) for k in ("full", "alt")},
                "ms_per_frame": _stats(r["ms"]),
            }
            for s, r in runs.items()
        },
    }


def run_bench(
    model: VOSModel,
    data: str | Path,
    *,
    sequences: Sequence[str] | None = None,
    taus: Sequence[float] | None = None,
    precision: str = "auto",
    max_internal_size: int | None | str = "model",
    out_dir: str | Path | None = None,
    save_predictions: bool = False,
    warmup_frames: int = 5,
    threads: int | None = None,
    flops: bool = True,
    model_label: str | None = None,
    progress: Callable[[int], None] | None = None,
    variants: Mapping[str, VOSModel] | None = None,
) -> dict[str, Any]:
    """Sweep the gate threshold τ over a DAVIS-layout folder: J&F, FPS, reuse, FLOPs.

    Args:
        model: The model; with a reuse gate (:func:`gate_of`) τ is swept by sessions with
            different ``tau`` (the model is not changed), without one it runs once (τ=1 for
            a plain model, as configured for another path plugin).
        data: DAVIS-layout folder (``JPEGImages/``, ``Annotations/``, optional ``480p/``);
            the year (2016 binary masks or 2017 indexed) is detected from the masks.
        sequences: Sequence names (default: all).
        taus: Thresholds (default :data:`DEFAULT_TAUS`; τ=1 is always added). Giving taus
            for a model without a gate is an error.
        precision: Session precision (``auto``, ``bf16`` or ``fp32``).
        max_internal_size: Session option (``"model"``: the model's default).
        out_dir: Folder for ``bench.json`` and ``bench.png`` (None: write nothing).
        save_predictions: Keep the predicted PNGs in ``out_dir/predictions/<tau>/``
            (otherwise they go to a temporary folder).
        warmup_frames: Frames of the first sequence run untimed at every τ first.
        threads: ``torch.set_num_threads`` for the run (restored afterwards).
        flops: Count FLOPs per path (adds a few untimed counted frames per sequence shape).
        model_label: Name of the model in the report.
        progress: Called with 1 after every timed frame.
        variants: ``{label: model}``: more gated models on the same base weights, swept
            over the same τ (below 1) in the same process (see the module notes).

    Returns:
        The report (JSON-able): settings, protocol, notes and one entry per τ (and variant)
        in ``runs``; each entry's ``variant`` names the model it ran (``"base"`` at τ = 1).

    Raises:
        DataError: Missing or malformed data folder.
        InputError: ``taus`` for a model without a gate, τ outside [0, 1], unknown sequences,
            or a variant without a gate or on other base weights than ``model``.
    """
    dataset = open_davis(data, sequences)
    tau_list, notes = _resolve_taus(model, taus)
    gate = gate_of(model)
    label = model_label or type(model).__name__
    models = _variant_models(model, label, variants or {})
    # (variant, tau) pairs: tau = 1 once (the base model), every variant at the others.
    pairs = [(label, t) for t in tau_list] + [
        (name, t) for name in list(models)[1:] for t in tau_list if t is not None and t < 1.0
    ]
    options: dict[str, Any] = {"precision": precision, "max_internal_size": max_internal_size}
    if save_predictions and out_dir is None:
        raise InputError("save_predictions needs out_dir")
    tmp = None if save_predictions else tempfile.TemporaryDirectory(prefix="vosframe-bench-")
    pred_root = Path(out_dir) / "predictions" if save_predictions else Path(tmp.name)  # type: ignore[union-attr]
    keys = {pair: _run_key(pair, label) for pair in pairs}
    runs: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in keys.values()}
    cost: dict[str, dict[str, dict[str, dict[str, float | None]]]] = {n: {} for n in models}
    flop_cache: dict[tuple, dict[str, float | None]] = {}
    try:
        with torch_threads(threads), torch.no_grad():
            first = dataset.sequences[0]
            warm = [first.read_frame(i) for i in range(min(warmup_frames, len(first)))]
            for name, tau in pairs if warm else ():
                opts = _with_tau(gate, options, tau)
                _run_sequence(models[name], warm, [], first.given_masks(), opts, None, None)
            for si, seq in enumerate(dataset.sequences):
                frames, given = list(seq.frames()), seq.given_masks()
                order = pairs[si % len(pairs) :] + pairs[: si % len(pairs)]
                for name, tau in order:  # one session per run: the models are not changed
                    runs[keys[name, tau]][seq.name] = _run_sequence(
                        models[name],
                        frames,
                        seq.frame_names,
                        given,
                        _with_tau(gate, options, tau),
                        pred_root / keys[name, tau] / seq.name,
                        progress,
                    )
                if flops:
                    for name, m in models.items():
                        taus_of = [t for n, t in pairs if n == name] or [1.0]
                        cost[name][seq.name] = _count_flops(
                            m, gate, taus_of, frames, given, options, flop_cache, name
                        )
        report_runs = []
        for (name, tau), key in keys.items():
            scores = evaluate_folders(
                resolve_annotation_root(data), pred_root / key, sequences=list(runs[key])
            )
            seq_cost = {s: c[_flop_mode(gate, tau)] for s, c in cost[name].items()}
            row = _summarise(tau, runs[key], seq_cost, scores)
            row["variant"] = "base" if gate is not None and tau is not None and tau >= 1 else name
            report_runs.append(row)
            notes += [n for n in scores.notes if n not in notes]
    finally:
        if tmp is not None:
            tmp.cleanup()
    _relative(report_runs)
    report = {
        "vosframe": __version__,
        "torch": torch.__version__,
        "threads": threads or torch.get_num_threads(),
        "model": label,
        "variants": list(models)[1:],
        "path_plugin": type(model.path_plugin).__name__ if model.path_plugin else None,
        "gated": gate is not None,
        "data": str(data),
        "sequences": [s.name for s in dataset.sequences],
        "precision": precision,
        "max_internal_size": max_internal_size,
        "warmup_frames": warmup_frames,
        "protocol": PROTOCOL,
        "notes": notes,
        "path_gflops": cost[label],
        "variant_path_gflops": {n: c for n, c in cost.items() if n != label},
        "runs": report_runs,
    }
    if save_predictions:
        report["predictions"] = str(pred_root)
    if out_dir is not None:
        write_bench(report, out_dir)
    return report


PROTOCOL: dict[str, str] = {
    "fps_pooled": "total frames / total model time over all sequences (first frames included)",
    "fps_davis": "mean over sequences of frames / model time (DAVIS / official G-FRTM style)",
    "reuse_rate": "per object: alternative-path frames / tracked frames (its first frame "
    "excluded); mean over objects. reuse_rate_pooled: ratio of the totals",
    "ms_per_frame": "wall time of session.step per frame class: init (an object starts), full "
    "(all objects computed), alt (all reused), mixed",
    "gflops_per_frame": "FLOPs per path (convolutions and matrix products; target-model refits "
    "excluded) x each run's path counts, over all frames",
    "speedup": "fps_pooled / fps_pooled at tau=1 (speedup_davis: the same with fps_davis)",
    "flops_saved": "1 - gflops_total / gflops_total at tau=1",
    "timing": "all taus in one process, interleaved per sequence (tau order rotated per "
    "sequence), after an untimed warm-up at every tau; frames decoded before timing",
}
"""How each reported figure is defined (copied into every report)."""


def _variant_models(
    model: VOSModel, label: str, variants: Mapping[str, VOSModel]
) -> dict[str, VOSModel]:
    """``{label: model, **variants}``, each variant checked: gated, on ``model``'s base
    weights (so that τ = 1 is the same base model for all), a distinct label."""
    from vosframe.core.plugin_weights import base_fingerprint

    if variants and gate_of(model) is None:
        raise InputError("variants compare gated models: the main model has no reuse gate")
    out = {label: model}
    fingerprint = base_fingerprint(model) if variants else ""
    for name, m in variants.items():
        if name in out or name == "base":
            raise InputError(f"variant label {name!r} is taken; give each variant its own")
        if gate_of(m) is None:
            raise InputError(f"variant {name!r} has no reuse gate; a variant is a gated model")
        if base_fingerprint(m) != fingerprint:
            raise InputError(
                f"variant {name!r} runs on other base weights than {label}: its τ = 1 would "
                "not be the same base model. Fix: load the same base checkpoint into it."
            )
        out[name] = m
    return out


def _run_key(pair: tuple[str, float | None], main: str) -> str:
    """Folder name of a run: the τ key, prefixed by the variant's label for variants."""
    name, tau = pair
    key = _tau_key(tau)
    return key if name == main else f"{''.join(c if c.isalnum() else '_' for c in name)}_{key}"


def _with_tau(gate: Any | None, options: dict[str, Any], tau: float | None) -> dict[str, Any]:
    """Session options for a run at ``tau`` (a session option: the shared model is not
    changed); as they are without a gate (a plain model's τ=1 is the model itself)."""
    return options if gate is None or tau is None else {**options, "tau": tau}


def _flop_mode(gate: Any | None, tau: float | None) -> str:
    """Which FLOPs per path a run uses: ``base`` (gate off) or ``gated`` (forced paths,
    any τ < 1)."""
    if gate is None or tau is None or tau >= 1.0:
        return "base"
    return "gated"


def _count_flops(
    model: VOSModel,
    gate: Any | None,
    tau_list: list,
    frames: list[np.ndarray],
    given: dict[int, np.ndarray],
    options: dict[str, Any],
    cache: dict[tuple, dict[str, float | None]],
    name: str = "",
) -> dict[str, dict[str, float | None]]:
    """FLOPs per path of one sequence for every mode of ``tau_list`` (cached by model name,
    shape and object count)."""
    first = given[min(given)]
    shape = (name, frames[0].shape[:2], len(np.unique(first[first > 0])))
    out = {}
    for tau in tau_list:
        mode = _flop_mode(gate, tau)
        if (*shape, mode) not in cache:
            opts = {**_with_tau(gate, options, tau), "precision": "fp32"}
            cache[(*shape, mode)] = count_path_flops(model, frames, first, **opts)
        out[mode] = cache[(*shape, mode)]
    return out


def _relative(runs: list[dict[str, Any]]) -> None:
    base = next((r for r in runs if r["tau"] is not None and r["tau"] >= 1.0), None)
    for r in runs:
        if base is None:
            r["speedup"] = r["speedup_davis"] = r["flops_saved"] = None
            continue
        r["speedup"] = r["fps_pooled"] / base["fps_pooled"]
        r["speedup_davis"] = r["fps_davis"] / base["fps_davis"]
        g, g0 = r["gflops_total"], base["gflops_total"]
        r["flops_saved"] = None if g is None or not g0 else 1.0 - g / g0


def write_bench(report: dict[str, Any], out_dir: str | Path) -> dict[str, str]:
    """Write ``bench.json`` and the accuracy-vs-speed plot ``bench.png`` into ``out_dir``.

    Returns:
        ``{"json": ..., "plot": ...}`` (also stored in ``report["outputs"]``).
    """
    from vosframe.app.plots import plot_accuracy_speed  # matplotlib: only when plotting

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = "/".join(Path(report["data"]).parts[-2:])
    title = f"{report['model']} on {data} ({report['precision']})"
    plot = plot_accuracy_speed(report["runs"], out / "bench.png", title=title)
    report["outputs"] = {"json": str(out / "bench.json"), "plot": str(plot)}
    (out / "bench.json").write_text(json.dumps(report, indent=2, allow_nan=True) + "\n")
    return report["outputs"]
