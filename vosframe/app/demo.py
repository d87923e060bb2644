"""The offline demo: segment the built-in clip with the shipped G-FRTM and show the gate.

:func:`run_demo` needs no dataset and no network: the clip is
:func:`vosframe.data.synthetic.default_clip` (real-photo textures moved over a photo, exact
masks, near-static stretches and jumps). It segments the clip from its first-frame masks,
scores the result against the clip's own ground truth (DAVIS protocol), and writes an
overlay video and a gate timeline: per object, which frames took the alternative path,
with the clip's motion mode per frame (the gate should reuse on static frames and compute
after jumps) and the gate's reuse probability against τ.

The shipped model is loaded with :func:`vosframe.app.zoo.load_model`; until its trained
weights are installed that raises :class:`~vosframe.core.errors.CheckpointError` (the
demo never falls back to random weights). Pass ``model=`` to run any model.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

from vosframe.app.outdir import check_output_dir, staged_output_dir
from vosframe.core.errors import InputError
from vosframe.core.model import VOSModel
from vosframe.core.state import DecisionOptions
from vosframe.data.overlay import write_overlay_video
from vosframe.data.synthetic import SyntheticClip, default_clip
from vosframe.metrics.evaluate import evaluate_sequence
from vosframe.metrics.results import pooled_figures

DEFAULT_MODEL = "g-frtm"
"""The shipped model the demo runs by default."""

DEFAULT_OUT = "vosframe_demo"
"""The demo's default output folder (in the current folder; ignored by the repository)."""

REPORT_NAME = "demo.json"
"""The report file; a folder holding it is an earlier demo output, replaced without asking."""

__all__ = ["DEFAULT_MODEL", "run_demo"]


def _gate(model: VOSModel, tau: float | None) -> Any | None:
    """The model's reuse gate (a decider with a threshold), checking ``tau`` before work."""
    gate = model.threshold_plugin
    if tau is not None:
        if gate is None:
            plugin = model.path_plugin
            raise InputError(
                f"tau needs a model with a reuse gate; this {type(model).__name__} has "
                f"{type(plugin).__name__ if plugin else 'no path plugin'} (use g-frtm)"
            )
        DecisionOptions(tau=tau)  # raises InputError for a bad value
    return gate


def run_demo(
    model: VOSModel | None = None,
    *,
    out_dir: str | Path = DEFAULT_OUT,
    tau: float | None = None,
    model_name: str = DEFAULT_MODEL,
    precision: str = "auto",
    clip: SyntheticClip | None = None,
    video_fps: float = 10.0,
    model_label: str | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Segment the built-in clip, score it, and write an overlay video and a gate timeline.

    Args:
        model: The model to run (default: the shipped ``model_name``, trained weights
            required).
        out_dir: Output folder: ``overlay.mp4``, ``gate_timeline.png``, ``demo.json``.
            Checked before any work; written beside and swapped in at the end. An existing
            non-empty folder is replaced only if it holds an earlier ``demo.json`` or
            ``overwrite`` is True.
        tau: Gate threshold for this run (models with a reuse gate; restored afterwards).
        model_name: Shipped model loaded when ``model`` is None.
        precision: Session precision (``auto``, ``bf16`` or ``fp32``).
        clip: The clip (default :func:`~vosframe.data.synthetic.default_clip`); its first
            mask is given, the rest is ground truth.
        video_fps: Frame rate of the overlay video.
        model_label: Name of the model in the report (default: ``model_name`` or the
            model's class name).
        overwrite: Replace an existing non-empty ``out_dir`` that is not a demo output.

    Returns:
        ``J&F``, ``J``, ``F`` (fractions), ``fps`` (all frames, first-frame initialisation
        included), ``fps_tracked`` (frames after the first), ``reuse_rate`` (alternative-path
        share of tracked object-frames, first frame excluded), ``reuse_by_motion``,
        per-object figures, ``paths`` (per object one letter per frame: ``I`` init, ``F``
        full, ``A`` alternative, ``.`` not tracked), the model, τ, and the output paths
        ``video``, ``timeline`` and ``json``.

    Raises:
        CheckpointError: ``model`` is None and the shipped weights are not installed.
        InputError: ``tau`` for a model without a gate, or out of [0, 1]; a bad
            ``out_dir`` (see :func:`vosframe.app.outdir.check_output_dir`).
    """
    out = Path(out_dir)
    earlier_demo = (out / REPORT_NAME).is_file()
    out = check_output_dir(
        out,
        overwrite=overwrite or earlier_demo,
        out_name="the demo output folder",
        overwrite_name="--overwrite (overwrite=True)",
        will_hold="the demo's overlay video, gate timeline and demo.json",
    )
    label = model_label or (type(model).__name__ if model is not None else model_name)
    if model is None:
        from vosframe.app.zoo import load_model

        model = load_model(model_name)
    gate = _gate(model, tau)
    clip = default_clip() if clip is None else clip
    run = _segment(model, clip, precision, tau)
    used_tau = run["tau"] if gate is not None else None
    with staged_output_dir(out) as tmp:
        report = _report(run, clip, tmp, out, label, used_tau, precision, video_fps)
    return report


def _segment(
    model: VOSModel, clip: SyntheticClip, precision: str, tau: float | None
) -> dict[str, Any]:
    session = model.new_session(precision=precision, tau=tau)
    labels, ms = [], []
    paths: dict[int, list[str]] = {}
    p_reuse: dict[int, list[float]] = {}
    for t, result in enumerate(session.propagate(iter(clip.frames), masks=clip.masks[0])):
        labels.append(result.labels)
        ms.append(result.ms)
        for obj_id, rec in result.paths.items():
            paths.setdefault(obj_id, [""] * t).append(rec.path)
            p = math.nan if rec.confidence is None else rec.confidence
            p_reuse.setdefault(obj_id, [math.nan] * t).append(float(p))
        for obj_id in paths:  # objects not reported on this frame
            if len(paths[obj_id]) <= t:
                paths[obj_id].append("")
                p_reuse[obj_id].append(math.nan)
    return {
        "labels": labels,
        "ms": ms,
        "paths": paths,
        "p_reuse": p_reuse,
        "tau": session.options.tau,
    }


def _report(
    run: dict[str, Any],
    clip: SyntheticClip,
    tmp: Path,
    out: Path,
    label: str,
    tau: float | None,
    precision: str,
    video_fps: float,
) -> dict[str, Any]:
    labels, ms, paths = run["labels"], run["ms"], run["paths"]
    scores = evaluate_sequence(list(clip.masks), labels, name="default_clip", gt_format="indexed")
    figures = pooled_figures(scores)
    tracked = [(t, p) for obj in paths.values() for t, p in enumerate(obj) if p in ("full", "alt")]
    by_motion: dict[str, list[bool]] = {}
    for t, p in tracked:
        by_motion.setdefault(clip.motion[t], []).append(p == "alt")
    from vosframe.app.plots import plot_gate_timeline  # matplotlib: only when plotting

    video = out / write_overlay_video(
        tmp / "overlay.mp4", clip.frames, labels, fps=video_fps
    ).relative_to(tmp)
    title = f"{label}" + (f", τ={tau:g}" if tau is not None else "") + ": path per frame"
    timeline = out / plot_gate_timeline(
        paths,
        tmp / "gate_timeline.png",
        motion=clip.motion,
        p_reuse=run["p_reuse"],
        tau=tau,
        title=title,
    ).relative_to(tmp)
    report: dict[str, Any] = {
        "model": label,
        "tau": tau,
        "precision": precision,
        "frames": len(labels),
        "objects": sorted(paths),
        "J&F": figures["J&F-Mean"],
        "J": figures["J-Mean"],
        "F": figures["F-Mean"],
        "per_object": {
            str(o.object_id): {"J&F": (o.J_mean + o.F_mean) / 2, "J": o.J_mean, "F": o.F_mean}
            for o in scores
        },
        "fps": len(ms) / (sum(ms) / 1000.0),
        "fps_tracked": (len(ms) - 1) / (sum(ms[1:]) / 1000.0) if len(ms) > 1 else None,
        "ms_per_frame_median": statistics.median(ms),
        "reuse_rate": (sum(p == "alt" for _, p in tracked) / len(tracked)) if tracked else 0.0,
        "reuse_by_motion": {m: sum(v) / len(v) for m, v in sorted(by_motion.items())},
        "paths": {str(k): "".join(_CODE[p] for p in v) for k, v in paths.items()},
        "video": str(video),
        "timeline": str(timeline),
        "json": str(out / REPORT_NAME),
    }
    (tmp / REPORT_NAME).write_text(json.dumps(report, indent=2) + "\n")
    return report


_CODE = {"init": "I", "full": "F", "alt": "A", "": "."}
"""One letter per path in the report's ``paths`` strings."""
