"""Held-out-fold evaluation: the figures every choice is made on (never DAVIS val).

:func:`run_folds` runs a model (one checkpoint per seed, optionally one per fold) over the
held-out *select* videos of each fold of a :class:`~vosframe.data.folds.FoldTable` and
scores them with the official DAVIS J&F (:func:`~vosframe.metrics.evaluate_folders`). With
several inference-setting variants (:class:`Variant`: session options such as
``max_internal_size``, the gate's ``tau``, or a plugin attribute such as
``SpatialPrior.margin``) it is the sweep every inference choice is made on: all variants
in one run, one table. :func:`write_selection` writes ``selection.json`` and a markdown
summary ``selection.md``. The protocol is ``docs/selection_protocol.md``.

Internal size: the DAVIS-2016 train videos are 240p, val is 480p. By default every select
video is treated as a 480p video (``short_side``), so the session's ``max_internal_size``
means what it means on val: its frames are resized once, straight to the size the session
would process a 480p video at (:func:`processing_short_side`: FRTM's 360, TTVOS's 240),
so objects cover as many pixels as on val; the predictions are resized back (nearest) and
scored at the annotations' own 240p resolution. Frames upscaled from 240p carry no more
detail than 240p ones: that difference to val remains. ``short_side=None`` runs the
videos as stored.

Held-out status, per checkpoint and fold: ``held out`` when the checkpoint's metadata lists
its DAVIS training videos (``davis_videos``, written by ``vosframe train``) and none of the
fold's select videos is among them; ``seen in training`` when some are, or when the caller
says so (the shipped weights were trained on all 30 train videos); ``unknown`` otherwise.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import cv2
import numpy as np
import torch

from vosframe._version import __version__
from vosframe.app.bench import gate_of, torch_threads
from vosframe.app.outdir import write_report_files
from vosframe.core.checkpoint import read_checkpoint
from vosframe.core.errors import DataError, InputError
from vosframe.core.model import VOSModel
from vosframe.core.state import DecisionOptions
from vosframe.data.davis import open_davis
from vosframe.data.folds import FoldTable, fold_table
from vosframe.data.frames import resize_short_side
from vosframe.data.masks import write_mask
from vosframe.metrics.evaluate import evaluate_folders, resolve_annotation_root

__all__ = [
    "POLICY_PREFIX",
    "SESSION_KEYS",
    "SELECTION_PROTOCOL",
    "Variant",
    "format_selection",
    "merge_selections",
    "parse_variant",
    "processing_short_side",
    "run_folds",
    "variant_grid",
    "write_selection",
]

SESSION_KEYS: tuple[str, ...] = ("max_internal_size", "precision")
"""Variant keys passed to ``model.new_session``; ``tau`` sets the gate's threshold,
``path_policy.<setting>`` one of its per-session policy settings (e.g.
``path_policy.drift_budget``), and ``<Class>.<attribute>`` an attribute of a plugin or model
stage of that class (e.g. ``SpatialPrior.margin``, ``FRTMTargetModel.update_every``),
restored after the run."""

POLICY_PREFIX = "path_policy."
"""Variant keys with this prefix are the path decider's per-session policy settings
(``Session(path_policy=...)``)."""

SELECTION_PROTOCOL: dict[str, str] = {
    "folds": "each fold's model (or the same weights, then not held out unless its "
    "checkpoint says so) segments that fold's select videos only",
    "J&F": "official DAVIS J&F (first and last frames not scored), per video; a fold's "
    "figure is the mean over its videos (DAVIS global: mean over objects)",
    "mean": "mean over every (seed, fold) figure",
    "spread_folds": "sample standard deviation over folds of the fold figures (averaged "
    "over seeds first)",
    "spread_seeds": "sample standard deviation over seeds of the seed figures (averaged "
    "over folds first); report mean and spread, never the best seed",
    "delta": "a variant minus the first variant on the same (seed, fold) runs (paired), "
    "averaged; its ± folds is the spread over folds of the paired differences",
    "internal_size": "each video processed as if its shorter side were short_side (default "
    "480, as DAVIS val): frames resized once to min(short_side, max_internal_size), "
    "predictions resized back (nearest) and scored at the annotation size",
}
"""How each figure of a selection report is defined (copied into every report)."""


@attrs.frozen
class Variant:
    """One inference setting to evaluate.

    Attributes:
        name: Label in the results (default: the settings, ``key=value`` joined by ``,``).
        settings: ``max_internal_size`` / ``precision`` (session options), ``tau`` (the
            reuse gate's threshold), ``path_policy.<setting>`` (a per-session policy setting
            of the gate, e.g. ``path_policy.drift_budget``) and ``<Class>.<attribute>`` (an
            attribute of a plugin or model stage).
    """

    settings: Mapping[str, Any] = attrs.field(factory=dict, converter=dict)
    name: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.name:
            label = ",".join(f"{k}={v}" for k, v in self.settings.items()) or "as configured"
            object.__setattr__(self, "name", label)


def _value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_variant(text: str) -> Variant:
    """``"max_internal_size=240,SpatialPrior.margin=0.3"`` -> a :class:`Variant`.

    Values are Python literals (``None``, numbers); anything else stays a string.

    Raises:
        InputError: An item without ``=``.
    """
    settings = {}
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(
                f"variant item {item!r} is not KEY=VALUE. Fix: e.g. "
                "max_internal_size=240,SpatialPrior.margin=0.3"
            )
        settings[key.strip()] = _value(value.strip())
    return Variant(settings)


def variant_grid(grid: Mapping[str, Sequence[Any]]) -> list[Variant]:
    """Every combination of the values in ``grid`` (``{key: [values]}``), in order."""
    keys = list(grid)
    return [Variant(dict(zip(keys, combo))) for combo in itertools.product(*grid.values())]


# ----------------------------------------------------------------------------- settings
def _component(model: VOSModel, cls: str) -> Any:
    """The plugin or model stage (any submodule) whose class is named ``cls``."""
    found = [p for p in model.plugins if type(p).__name__ == cls]
    found += [m for m in model.modules() if type(m).__name__ == cls]
    if not found:
        have = sorted(
            {type(p).__name__ for p in model.plugins} | {type(m).__name__ for m in model.children()}
        )
        raise InputError(
            f"variant setting {cls}.* needs a {cls} plugin or model stage, but the model has "
            f"{', '.join(have) or 'none'}. Fix: use a config with it, or drop the setting."
        )
    return found[0]


def _path_policy(variant: Variant) -> dict[str, Any]:
    """The variant's ``path_policy.<setting>`` values, by setting."""
    n = len(POLICY_PREFIX)
    return {k[n:]: v for k, v in variant.settings.items() if k.startswith(POLICY_PREFIX)}


def _check_variant(model: VOSModel, variant: Variant) -> None:
    """Raise InputError for a setting this model cannot take (before any work)."""
    policy = _path_policy(variant)
    if policy:
        if model.path_plugin is None:
            raise InputError(
                f"variant {variant.name!r} sets path_policy.* but {type(model).__name__} has "
                "no path-deciding plugin. Fix: use a gated model (g-frtm, g-ttvos) or drop it."
            )
        model.path_plugin.check_options(DecisionOptions(policy=policy))
    for key, value in variant.settings.items():
        if key in SESSION_KEYS or key.startswith(POLICY_PREFIX):
            continue
        if key == "tau":
            if gate_of(model) is None:
                raise InputError(
                    f"variant {variant.name!r} sets tau but {type(model).__name__} has no "
                    "reuse gate. Fix: use a gated model (g-frtm, g-ttvos) or drop tau."
                )
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise InputError(f"tau must be a number in [0, 1], got {value!r}")
            continue
        cls, dot, attr = key.partition(".")
        if not dot:
            raise InputError(
                f"unknown variant setting {key!r}. Fix: use one of {', '.join(SESSION_KEYS)}, "
                "tau, path_policy.<setting> (e.g. path_policy.drift_budget), or "
                "<Class>.<attribute> of a plugin or model stage (e.g. SpatialPrior.margin)"
            )
        plugin = _component(model, cls)
        if attr.startswith("_") or not hasattr(plugin, attr):
            raise InputError(f"{cls} has no attribute {attr!r} (variant {variant.name!r})")


def _apply(model: VOSModel, variant: Variant) -> tuple[dict[str, Any], list[tuple]]:
    """Set the variant's model-side settings; returns session options and what to restore."""
    options: dict[str, Any] = {}
    restore: list[tuple] = []
    if policy := _path_policy(variant):
        options["path_policy"] = policy
    for key, value in variant.settings.items():
        if key in SESSION_KEYS or key == "tau":  # tau: a session option of the gate
            options[key] = value
            continue
        if key.startswith(POLICY_PREFIX):
            continue
        cls, _, attr = key.partition(".")
        target = _component(model, cls)
        restore.append((target, attr, getattr(target, attr)))
        setattr(target, attr, value)
    return options, restore


# ----------------------------------------------------------------------------- running
def processing_short_side(
    model: VOSModel, options: Mapping[str, Any], short_side: int | None
) -> int | None:
    """The shorter side a session processes a video of shorter side ``short_side`` at:
    ``min(short_side, max_internal_size)`` (``None``: the video as stored)."""
    limit = options.get("max_internal_size", "model")
    if limit == "model":
        limit = model.inference_defaults.get("max_internal_size")
    if short_side is None or limit is None:
        return short_side
    return min(short_side, int(limit))


def _segment(
    model: VOSModel,
    seq: Any,
    options: dict[str, Any],
    short_side: int | None,
    out_dir: Path,
    progress: Callable[[int], None] | None,
) -> dict[str, Any]:
    """Segment one sequence as if it were ``short_side`` high; PNGs at annotation size.

    The frames are resized once, straight to the size the session would process a
    ``short_side`` video at (so no frame is upscaled and then shrunk again).
    """
    target = processing_short_side(model, options, short_side)
    given = {i: resize_short_side(m, target, nearest=True) for i, m in seq.given_masks().items()}
    frames, h, w = [], 0, 0
    for f in seq.frames():
        h, w = f.shape[:2]
        frames.append(resize_short_side(f, target))
    out_dir.mkdir(parents=True, exist_ok=True)
    session = model.new_session(**options)
    ms, full, alt = [], 0, 0
    for i, result in enumerate(session.propagate(frames, masks_at=given)):
        ms.append(result.ms)
        for rec in result.paths.values():
            full += rec.path == "full"
            alt += rec.path == "alt"
        labels = result.labels.astype(np.uint8)
        if labels.shape != (h, w):
            labels = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)
        write_mask(out_dir / f"{seq.frame_names[i]}.png", labels)
        if progress is not None:
            progress(1)
    return {"frames": len(ms), "ms": ms, "full": full, "alt": alt, "precision": session.precision}


def _status(meta: Mapping[str, Any] | None, select: Sequence[str], seen: bool | None) -> dict:
    if seen:
        return {"status": "seen in training", "why": "declared by the caller"}
    videos = None if meta is None else meta.get("davis_videos")
    if videos is None:
        if seen is False:
            return {"status": "held out", "why": "declared by the caller"}
        return {"status": "unknown", "why": "the checkpoint does not list its training videos"}
    overlap = sorted(set(videos) & set(select))
    if overlap:
        return {"status": "seen in training", "why": f"trained on {overlap}"}
    return {"status": "held out", "why": "none of the select videos is in its davis_videos"}


def _std(values: Sequence[float]) -> float | None:
    return statistics.stdev(values) if len(values) > 1 else None


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _median_ms(runs: list[dict[str, Any]]) -> float | None:
    """Median frame time over the runs: of every frame while the runs hold their ``ms``,
    else (runs read back from reports) the frame-weighted median of their medians."""
    if all("ms" in r for r in runs):
        all_ms = [m for r in runs for m in r["ms"]]
        return statistics.median(all_ms) if all_ms else None
    medians = [(r["ms_per_frame_median"], r["frames"]) for r in runs]
    weighted = [m for m, n in medians if m is not None for _ in range(n)]
    return statistics.median(weighted) if weighted else None


def _aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Figures of one variant from its (seed, fold) runs."""
    by_fold: dict[int, list[dict]] = {}
    by_seed: dict[int, list[dict]] = {}
    for r in runs:
        by_fold.setdefault(r["fold"], []).append(r)
        by_seed.setdefault(r["seed"], []).append(r)
    fold_jf = {k: _mean([r["J&F"] for r in rs]) for k, rs in sorted(by_fold.items())}
    seed_jf = {s: _mean([r["J&F"] for r in rs]) for s, rs in sorted(by_seed.items())}
    videos: dict[str, list[float]] = {}
    for r in runs:
        for name, v in r["videos"].items():
            videos.setdefault(name, []).append(v["J&F"])
    frames = sum(r["frames"] for r in runs)
    tracked = sum(r["full"] + r["alt"] for r in runs)
    statuses = sorted({r["held_out"]["status"] for r in runs})
    return {
        "J&F": _mean([r["J&F"] for r in runs]),
        "J": _mean([r["J"] for r in runs]),
        "F": _mean([r["F"] for r in runs]),
        "spread_folds": _std(list(fold_jf.values())),
        "spread_seeds": _std(list(seed_jf.values())),
        "folds": {str(k): v for k, v in fold_jf.items()},
        "seeds": {str(s): v for s, v in seed_jf.items()},
        "videos": {n: _mean(v) for n, v in sorted(videos.items())},
        "held_out": statuses[0] if len(statuses) == 1 else "mixed: " + ", ".join(statuses),
        "frames": frames,
        "ms_per_frame_median": _median_ms(runs),
        "reuse_rate": sum(r["alt"] for r in runs) / tracked if tracked else 0.0,
        "wall_s": round(sum(r["wall_s"] for r in runs), 1),
    }


def run_folds(
    models: Callable[[str | None], VOSModel],
    data: str | Path,
    *,
    checkpoints: Sequence[str | None] = (None,),
    folds: Sequence[int] | None = None,
    table: str | FoldTable | None = None,
    variants: Sequence[Variant] | None = None,
    short_side: int | None = 480,
    precision: str = "auto",
    threads: int | None = None,
    seen_in_training: bool | None = None,
    label: str = "model",
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Evaluate a model on the held-out select videos of each fold (DAVIS J&F).

    Args:
        models: Builds the model for a checkpoint path (``None``: its default weights);
            e.g. ``lambda c: vosframe.app.zoo.load_model(config=CFG, checkpoint=c)``.
        data: DAVIS-layout folder holding every video of the fold table (DAVIS-2016
            train); a folder without them (e.g. val) is refused.
        checkpoints: One entry per seed (the report's ``seed`` is its index here);
            ``{fold}`` in a path is replaced by the fold number (one model per fold,
            trained with ``vosframe train --fold K``).
        folds: Fold numbers (default: all).
        table: Fold table (default: the DAVIS-2016 train table).
        variants: Inference settings to compare (default: the model as configured).
        short_side: Each video is processed as if its shorter side were this (frames
            resized once to :func:`processing_short_side`; see the module docstring);
            ``None`` runs them as stored.
        precision: Session precision unless a variant sets it.
        threads: Torch and OpenCV threads for the run (restored afterwards).
        seen_in_training: ``True``: label every run ``seen in training`` (weights trained
            on these videos); ``False``: ``held out`` where the checkpoint does not say;
            ``None``: read from the checkpoint's ``davis_videos``.
        label: Name of the model in the report.
        progress: Called with 1 after every segmented frame.

    Returns:
        The report: settings, protocol, notes, ``variants`` (aggregated figures, one entry
        per variant in order) and ``runs`` (one entry per variant, seed and fold).

    Raises:
        DataError: The data folder lacks the select videos, or is not DAVIS layout.
        InputError: Bad folds, variants, checkpoints or short_side.
    """
    tab = fold_table(table)
    ks = list(range(tab.num_folds)) if folds is None else [tab.check_fold(k) for k in folds]
    if not ks or len(set(ks)) != len(ks):
        raise InputError(f"folds must be distinct fold numbers, got {list(folds or [])}")
    if not checkpoints:
        raise InputError("checkpoints is empty; give at least one (None: default weights)")
    if short_side is not None and (not isinstance(short_side, int) or short_side < 16):
        raise InputError(f"short_side must be an integer >= 16 or None, got {short_side!r}")
    variants = list(variants) if variants else [Variant()]
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise InputError(f"variant names must be distinct, got {names}")
    root = Path(data)
    available = set(open_davis(root).names)
    missing = [v for k in ks for v in tab.select(k) if v not in available]
    if missing:
        raise DataError(
            f"{root} lacks the select videos {missing[:6]} of the fold table {tab.name!r}: "
            f"the folds split the training set, never val. Fix: --data "
            f"../shared/data/davis2016/train_240p (or the folder the table splits)."
        )
    datasets = {k: open_davis(root, list(tab.select(k))) for k in ks}
    ckpts = []
    for c in checkpoints:
        paths = {k: None if c is None else str(c).replace("{fold}", str(k)) for k in ks}
        absent = [p for p in paths.values() if p is not None and not Path(p).is_file()]
        if absent:
            raise InputError(f"checkpoint file(s) {absent[:3]} do not exist")
        ckpts.append(paths)
    ann_root = resolve_annotation_root(root)

    runs: list[dict[str, Any]] = []
    notes: list[str] = []
    started = time.perf_counter()
    checked = False
    with torch_threads(threads), torch.no_grad(), tempfile.TemporaryDirectory() as tmp:
        for seed, paths in enumerate(ckpts):
            cache: dict[str | None, VOSModel] = {}
            for k in ks:
                path = paths[k]
                if path not in cache:
                    cache.clear()  # one model in memory at a time
                    meta = read_checkpoint(path)[1] if path is not None else None
                    cache[path] = (models(path), meta)
                model, meta = cache[path]
                if not checked:  # every variant is checked before any video is run
                    for v in variants:
                        _check_variant(model, v)
                    checked = True
                status = _status(meta, tab.select(k), seen_in_training)
                for vi, variant in enumerate(variants):
                    options, restore = _apply(model, variant)
                    options.setdefault("precision", precision)
                    pred = Path(tmp) / f"v{vi}_s{seed}_f{k}"
                    t0 = time.perf_counter()
                    try:
                        seg = {
                            s.name: _segment(model, s, options, short_side, pred / s.name, progress)
                            for s in datasets[k]
                        }
                    finally:
                        for target, attr, old in reversed(restore):
                            setattr(target, attr, old)
                    wall = time.perf_counter() - t0
                    scores = evaluate_folders(ann_root, pred, sequences=list(seg), workers=1)
                    notes += [n for n in scores.notes if n not in notes]
                    figures, per_seq = scores.global_figures(), scores.per_sequence()
                    runs.append(
                        {
                            "variant": variant.name,
                            "seed": seed,
                            "fold": k,
                            "checkpoint": path,
                            "held_out": status,
                            "precision": sorted({r["precision"] for r in seg.values()}),
                            "processing_short_side": processing_short_side(
                                model, options, short_side
                            ),
                            "J&F": figures["J&F-Mean"],
                            "J": figures["J-Mean"],
                            "F": figures["F-Mean"],
                            "videos": {
                                s: {
                                    "J&F": per_seq[s]["J&F-Mean"],
                                    "J": per_seq[s]["J-Mean"],
                                    "F": per_seq[s]["F-Mean"],
                                    "frames": seg[s]["frames"],
                                }
                                for s in seg
                            },
                            "frames": sum(r["frames"] for r in seg.values()),
                            "ms": [m for r in seg.values() for m in r["ms"]],
                            "full": sum(r["full"] for r in seg.values()),
                            "alt": sum(r["alt"] for r in seg.values()),
                            "wall_s": round(wall, 2),
                        }
                    )
    total = time.perf_counter() - started
    summary = [
        {"variant": v.name, "settings": _jsonable(v.settings)}
        | _aggregate([r for r in runs if r["variant"] == v.name])
        for v in variants
    ]
    _paired_deltas(summary, runs)
    for r in runs:
        ms = r.pop("ms")
        r["ms_per_frame_median"] = statistics.median(ms) if ms else None
    if any(s["held_out"] != "held out" for s in summary):
        notes.append(
            "not every run is held out (see held_out): such figures may not be used to "
            "choose anything; they are smoke tests or upper bounds"
        )
    return {
        "vosframe": __version__,
        "torch": torch.__version__,
        "threads": threads or torch.get_num_threads(),
        "model": label,
        "data": str(data),
        "fold_table": tab.name,
        "folds": ks,
        "select_videos": {str(k): list(tab.select(k)) for k in ks},
        "checkpoints": [c if c is None else str(c) for c in checkpoints],
        "short_side": short_side,
        "precision": precision,
        "protocol": SELECTION_PROTOCOL,
        "notes": notes,
        "total_s": round(total, 1),
        "load_average": _load(),
        "variants": summary,
        "runs": runs,
    }


MERGE_KEYS: tuple[str, ...] = ("model", "data", "fold_table", "short_side", "precision")
"""Report settings that must agree for :func:`merge_selections`."""


def merge_selections(
    reports: Sequence[Mapping[str, Any]], variants: Sequence[str] | None = None
) -> dict[str, Any]:
    """One report from several runs of :func:`run_folds` on the same model and data (e.g.
    one fold per process, another seed trained later, or more variants later), aggregated
    as if run at once.

    A seed is a checkpoint (path pattern): runs of the same checkpoint in two reports are
    the same seed, runs of different checkpoints are different seeds, numbered in the order
    the checkpoints first appear. The variants are ``variants`` in that order (each must be
    in some report; the others are left out), else the first report's, then any new ones in
    order; the first variant stays the one the deltas are paired against. A merged
    variant's ms/frame is the frame-weighted median of its runs' medians (reports keep no
    per-frame times).

    Raises:
        InputError: Fewer than two reports; reports of other models, data, fold tables,
            sizes or precisions; a (variant, seed, fold) run in two reports; one variant
            name with two settings; a requested variant in no report; or variants that do
            not cover the same (seed, fold) runs (nothing is written then).
    """
    if len(reports) < 2:
        raise InputError(f"merging needs at least two selection reports, got {len(reports)}")
    first = reports[0]
    for key in MERGE_KEYS:
        values = [r.get(key) for r in reports]
        if any(v != values[0] for v in values):
            raise InputError(
                f"the reports differ in {key} ({values}): only runs of one model on one "
                "data set, fold table, size and precision can be merged. Fix: merge those "
                "that agree."
            )
    known = {v["variant"] for report in reports for v in report["variants"]}
    if variants is not None:
        missing = [v for v in variants if v not in known]
        if missing or not variants:
            raise InputError(
                f"variants {missing or '(none)'} are in none of the reports, which hold "
                f"{sorted(known)}. Fix: name variants as the reports do."
            )
    keep = set(known if variants is None else variants)
    patterns = list(dict.fromkeys(c for report in reports for c in report["checkpoints"]))
    runs: list[dict[str, Any]] = []
    settings: dict[str, Any] = {name: None for name in variants or ()}
    seen: set[tuple] = set()
    for report in reports:
        for v in report["variants"]:
            if v["variant"] not in keep:
                continue
            if settings.get(v["variant"]) is None:
                settings[v["variant"]] = v["settings"]
            if settings[v["variant"]] != v["settings"]:
                raise InputError(
                    f"variant {v['variant']!r} has settings {settings[v['variant']]} in one "
                    f"report and {v['settings']} in another. Fix: rename one of them."
                )
        for r in report["runs"]:
            if r["variant"] not in keep:
                continue
            r = dict(r, seed=patterns.index(report["checkpoints"][r["seed"]]))
            key = (r["variant"], r["seed"], r["fold"])
            if key in seen:
                raise InputError(
                    f"variant {key[0]!r}, seed {key[1]}, fold {key[2]} is in two reports. "
                    "Fix: merge reports of distinct runs (drop the repeated variant from one)."
                )
            seen.add(key)
            runs.append(r)
    names = list(settings)
    cover = {n: sorted({(s, k) for v, s, k in seen if v == n}) for n in names}
    for name in names[1:]:
        if cover[name] != cover[names[0]]:
            raise InputError(
                f"variant {name!r} covers the (seed, fold) runs {cover[name]}, "
                f"{names[0]!r} covers {cover[names[0]]}: the merged figures would average "
                "different folds. Fix: run the missing ones first."
            )
    summary = [
        {"variant": n, "settings": settings[n]} | _aggregate([r for r in runs if r["variant"] == n])
        for n in names
    ]
    _paired_deltas(summary, runs)
    folds = sorted({k for _, _, k in seen})
    select = {str(k): v for r in reports for k, v in r["select_videos"].items()}
    return {
        "vosframe": __version__,
        "torch": torch.__version__,
        "threads": threads[0]
        if len(threads := sorted({r["threads"] for r in reports})) == 1
        else threads,
        **{key: first.get(key) for key in MERGE_KEYS},
        "folds": folds,
        "select_videos": {str(k): select[str(k)] for k in folds},
        "checkpoints": patterns,
        "protocol": SELECTION_PROTOCOL,
        "notes": list(dict.fromkeys(n for r in reports for n in r["notes"])),
        "total_s": round(sum(r["total_s"] for r in reports), 1),
        "load_average": [
            avg
            for r in reports
            for avg in (r["load_average"] if "merged_from" in r else [r.get("load_average")])
        ],
        "merged_from": [
            {"checkpoints": r["checkpoints"], "folds": r["folds"], "total_s": r["total_s"]}
            for r in reports
        ],
        "variants": summary,
        "runs": runs,
    }


def _paired_deltas(summary: list[dict[str, Any]], runs: list[dict[str, Any]]) -> None:
    """``delta``: each variant minus the first on the same (seed, fold) runs, averaged;
    ``delta_spread_folds``: the spread over folds of those paired differences."""
    first = {
        (r["seed"], r["fold"]): r["J&F"] for r in runs if r["variant"] == summary[0]["variant"]
    }
    for entry in summary:
        diffs: dict[int, list[float]] = {}
        for r in runs:
            if r["variant"] == entry["variant"]:
                diffs.setdefault(r["fold"], []).append(r["J&F"] - first[(r["seed"], r["fold"])])
        entry["delta"] = _mean([d for ds in diffs.values() for d in ds])
        entry["delta_spread_folds"] = _std([statistics.fmean(ds) for ds in diffs.values()])


def _load() -> list[float] | None:
    """The 1/5/15-minute load averages at the end of the run (timings depend on them)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # not available on every platform
        return None


def _jsonable(settings: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, (int, float, str, bool, type(None))) else repr(v)
        for k, v in settings.items()
    }


# ----------------------------------------------------------------------------- output
def _pct(v: float | None, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    text = f"{100 * v:.{digits}f}"
    return f"{0:.{digits}f}" if float(text) == 0 else text  # no "-0.0"


def format_selection(report: dict[str, Any]) -> str:
    """A markdown summary of a :func:`run_folds` report (variants, folds, videos)."""
    folds = report["folds"]
    lines = [
        f"# Held-out folds: {report['model']}",
        "",
        f"Data `{report['data']}`, fold table `{report['fold_table']}`, fold(s) "
        f"{', '.join(map(str, folds))}; {len(report['checkpoints'])} checkpoint(s) (seeds) "
        f"per fold; videos processed as if their shorter side were "
        f"{report['short_side'] or '(as stored)'}; "
        f"precision {report['precision']}, {report['threads']} thread(s); "
        f"{report['total_s']:.0f} s in all (load average {report['load_average']}). "
        "J&F in %, official DAVIS measure.",
        "",
        "| variant | held out? | J&F | ± folds | ± seeds | Δ vs first | ± folds (Δ) | J | F | "
        + " | ".join(f"fold {k}" for k in folds)
        + " | ms/frame | reuse % |",
        "|---" * (11 + len(folds)) + "|",
    ]
    for v in report["variants"]:
        ms = v["ms_per_frame_median"]
        lines.append(
            f"| {v['variant']} | {v['held_out']} | {_pct(v['J&F'])} | {_pct(v['spread_folds'])} "
            f"| {_pct(v['spread_seeds'])} | {_pct(v['delta'])} | {_pct(v['delta_spread_folds'])} "
            f"| {_pct(v['J'])} | {_pct(v['F'])} | "
            + " | ".join(_pct(v["folds"].get(str(k))) for k in folds)
            + f" | {'-' if ms is None else f'{ms:.0f}'} | {_pct(v['reuse_rate'])} |"
        )
    videos = list(report["variants"][0]["videos"]) if report["variants"] else []
    lines += [
        "",
        "Per video (J&F %, mean over seeds):",
        "",
        "| video | fold | " + " | ".join(v["variant"] for v in report["variants"]) + " |",
        "|---" * (2 + len(report["variants"])) + "|",
    ]
    fold_of = {n: k for k, names in report["select_videos"].items() for n in names}
    for name in sorted(videos, key=lambda n: (int(fold_of.get(n, 0)), n)):
        cells = " | ".join(_pct(v["videos"].get(name)) for v in report["variants"])
        lines.append(f"| {name} | {fold_of.get(name, '-')} | {cells} |")
    lines += ["", "Definitions:", ""]
    lines += [f"- {k}: {v}" for k, v in report["protocol"].items()]
    if report["notes"]:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in report["notes"]]
    return "\n".join(lines) + "\n"


def write_selection(
    report: dict[str, Any], out_dir: str | Path, *, overwrite: bool = False
) -> dict[str, str]:
    """Write ``selection.json`` and ``selection.md`` into ``out_dir`` (each atomically).

    Raises:
        InputError: ``out_dir`` already holds a selection and ``overwrite`` is False.
    """
    written = write_report_files(
        out_dir,
        {
            "selection.json": json.dumps(report, indent=2, allow_nan=True) + "\n",
            "selection.md": format_selection(report),
        },
        overwrite=overwrite,
        what="selection results",
    )
    report["outputs"] = {"json": written["selection.json"], "markdown": written["selection.md"]}
    return report["outputs"]
