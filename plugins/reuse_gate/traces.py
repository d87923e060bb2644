"""Training the ``copy`` gate on inference traces of its frozen base model.

Why: the generic clip loop (:mod:`~vosframe.plugins.reuse_gate.training`) trains the gate
on short training clips where the base model runs with its *training-time* localizer (for
FRTM, a target model fitted in a few iterations and never updated). There the full path is
much worse than at inference (logged ``iou_full`` 0.14-0.35 on DAVIS-2016 train for the
shipped FRTM, whose inference J is ~68 on val), so "copy the previous mask" looks as good as
computing on most frames and the gate learns little about *which* frames are safe. The
``copy`` variant's alternative path has no trainable part, so its gate can be trained on
exactly what it sees at inference instead:

1. :func:`record_traces` runs the base model (gate off) as a normal inference session over
   training sequences and keeps, per frame, F_t at the feature cut and, per object, the
   output mask, the localizer score and the ground truth.
2. :func:`train_gate_on_traces` samples ``(frame t, cache age n)`` pairs: the cache is the
   frame ``t - n`` (the object's last computed frame; ``n <= max_reuse_run`` at
   inference), the alternative output is the mask of ``t - n`` and the target is the
   ``alt_quality`` target of :func:`~vosframe.plugins.reuse_gate.training.alt_quality_target`
   (1 when copying loses no IoU against the full path's output at ``t``, 0 when it loses
   ``quality_scale`` or more). Only the gate's template generator, matching module and gate
   function learn (the loss is the paper's Eq. 5 form with ``m2 = 0``).
3. :func:`gate_calibration` reports, on held-out sequences, the reuse rate and the IoU
   copying loses at each ``tau`` (the frames are treated independently: an upper bound of
   the reuse rate a ``max_reuse_run`` cap allows).

Sequences can also be recorded on every k-th frame (``gate_traces.frame_steps``): the
model then sees k times the motion per frame: more samples of the fast motion where
copying fails, from the same few videos. With ``history_cue`` a sample also draws how many
frames before the cache the object was computed last (``m``, from the reuse runs the cap
allows), and the gate sees the mask change between those two computed frames.

Approximations: the trace's full path at ``t`` comes from a run that computed every frame
(at inference, reused frames skip the localizer's updates); a copied mask is the last
*output*, which after a reused frame equals the last computed one, as here. The object's
first frame has no localizer score, so the trace repeats the second frame's there; at
inference a ``"score"`` previous point starts from the first mask instead (see
:meth:`ReuseGate.init_object`). This touches only samples whose cache is the first frame
(about 1 in 30 on DAVIS).
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import cv2
import numpy as np
import torch
import torch.nn.functional as F

from vosframe.core.errors import ConfigError, DataError

from .calibration import gate_calibration, simulate_gate
from .inputs import coarse_mask, mask_change
from .modules import GateFunction, downsample_mask, pool_image
from .motion import moved_cue, shift_mask, trace_shift
from .training import alt_quality_target

if TYPE_CHECKING:
    from vosframe.core.model import VOSModel
    from vosframe.data.datasets import VideoSequence

    from .plugin import ReuseGate


@attrs.define
class ObjectTrace:
    """One object of a recorded sequence (tensors on the CPU, frames from ``start``).

    Attributes:
        start: Index of the object's first frame.
        gt: ``(T, 1, H, W)`` bool ground truth at the internal size.
        prob: ``(T, 1, H, W)`` float16 output mask of the base model (aggregated).
        score: ``(T, C, h, w)`` float16 localizer score, or None if not kept.
    """

    start: int
    gt: torch.Tensor
    prob: torch.Tensor
    score: torch.Tensor | None


@attrs.define
class SequenceTrace:
    """A recorded sequence.

    Attributes:
        name: Sequence name.
        features: ``(T, C, h, w)`` F_t at the gate's feature cut (bfloat16 or float32).
        objects: Object traces keyed by id.
        images: ``(T, 3, h4, w4)`` float16 frames pooled by
            :func:`~vosframe.plugins.reuse_gate.modules.pool_image` (for ``pixel_cue``).
        frame_step: The sequence was recorded on every ``frame_step``-th frame.
    """

    name: str
    features: torch.Tensor
    objects: dict[int, ObjectTrace]
    images: torch.Tensor | None = None
    frame_step: int = 1

    @property
    def image_size(self) -> tuple[int, int]:
        """Internal frame size ``(H, W)``."""
        obj = next(iter(self.objects.values()))
        return int(obj.gt.shape[-2]), int(obj.gt.shape[-1])


def _copy_gate(model: VOSModel) -> ReuseGate:
    gate = model.path_plugin
    if gate is None or not hasattr(gate, "matching"):
        raise ConfigError(
            "training on traces needs a model with a ReuseGate plugin. Fix: build the model "
            "from a config with plugins=[dict(type='ReuseGate', variant='copy', ...)]"
        )
    if gate.variant != "copy":
        raise ConfigError(
            f"training on traces supports the 'copy' variant only (its alternative path has no "
            f"trainable part); this gate's variant is {gate.variant!r}. Fix: train the other "
            f"variants with `vosframe train` (the clip loop)"
        )
    return gate


def _label_masks(labels: np.ndarray, ids: Iterable[int], size: tuple[int, int]) -> torch.Tensor:
    """``(N, 1, H, W)`` bool masks of ``ids`` at ``size`` (nearest)."""
    t = torch.from_numpy(labels.astype(np.int64))[None, None].float()
    if tuple(t.shape[-2:]) != size:
        t = F.interpolate(t, size=size, mode="nearest")
    return torch.cat([t == i for i in ids]) if ids else t.new_zeros((0, 1, *size), dtype=bool)


def _rescale(array: np.ndarray, short_side: int | None, nearest: bool = False) -> np.ndarray:
    """Resize a frame or label map so its shorter side is ``short_side`` (None: as is)."""
    h, w = array.shape[:2]
    if short_side is None or min(h, w) == short_side:
        return array
    s = short_side / min(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.resize(array, size, interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR)


def record_sequence(
    model: VOSModel,
    seq: VideoSequence,
    short_side: int | None = None,
    frame_step: int = 1,
    **session_options: Any,
) -> SequenceTrace:
    """Run the base model (gate off) on one fully annotated sequence and keep its trace.

    Args:
        model: The model with its ``copy`` ReuseGate.
        seq: The sequence (every frame annotated).
        short_side: Resize frames and masks to this shorter side first (None: as stored).
            Recording 240p training data at the 360p the model runs at on 480p videos keeps
            the scale the gate sees (object sizes in cells, motion in pixels) as at test.
        session_options: Options of the session (precision, max_internal_size).

    Raises:
        DataError: A frame of the sequence has no ground-truth mask.
    """
    gate = _copy_gate(model)
    if frame_step < 1:
        raise ConfigError(f"frame_step must be >= 1, got {frame_step}")
    kept = range(0, len(seq), frame_step)
    missing = [i for i in kept if not seq.has_mask(i)]
    if missing:
        raise DataError(
            f"sequence {seq.name}: frames {missing[:5]} have no mask; traces need the ground "
            "truth of every frame (e.g. DAVIS train)"
        )
    cut = gate.points["feature_cut"].stride
    # tau 1, nothing forced: exactly the base model
    session = model.new_session(**{**session_options, "tau": 1.0, "force": None})
    feats, images, gts, probs, scores = [], [], {}, {}, {}
    starts: dict[int, int] = {}
    given = {i: _rescale(m, short_side, nearest=True) for i, m in seq.given_masks().items()}
    for i in kept:
        frame = _rescale(seq.read_frame(i), short_side)
        labels = _rescale(seq.read_mask(i), short_side, nearest=True)
        session.step(frame, given.get(i))
        seen = session.last_frame  # what the model computed on this frame
        assert seen is not None
        size = tuple(seen.image.shape[-2:])
        feats.append(seen.features[cut].detach().cpu().contiguous())
        images.append(pool_image(seen.image).cpu().half())
        ids = session.object_ids
        gt = _label_masks(labels, ids, size)
        for k, obj_id in enumerate(ids):
            o = session.objects[obj_id]
            starts.setdefault(obj_id, len(feats) - 1)
            gts.setdefault(obj_id, []).append(gt[k : k + 1])
            probs.setdefault(obj_id, []).append(o.last_prob.detach().cpu().half())
            if o.last_score is not None:
                scores.setdefault(obj_id, []).append(o.last_score.detach().float().cpu().half())
    objects = {
        obj_id: ObjectTrace(
            starts[obj_id],
            torch.cat(gts[obj_id]),
            torch.cat(probs[obj_id]),
            # the first frame has no score (the mask is given): repeat the second's
            torch.cat([scores[obj_id][0], *scores[obj_id]]) if obj_id in scores else None,
        )
        for obj_id in starts
    }
    return SequenceTrace(seq.name, torch.cat(feats), objects, torch.cat(images), frame_step)


def record_traces(
    model: VOSModel,
    sequences: Iterable[VideoSequence],
    progress: Callable[[str], None] | None = None,
    short_side: int | None = None,
    frame_steps: Sequence[int] = (1,),
    **session_options: Any,
) -> list[SequenceTrace]:
    """:func:`record_sequence` for every sequence and frame step (``session_options`` go to
    the session). Each sequence gives one trace per entry of ``frame_steps``."""
    traces = []
    for seq in sequences:
        for step in frame_steps:
            traces.append(record_sequence(model, seq, short_side, int(step), **session_options))
            if progress is not None:
                progress(seq.name if step == 1 else f"{seq.name} (frame step {step})")
    return traces


# ----------------------------------------------------------------------------- samples
Sample = tuple[int, int, int, int, int]


def _samples(
    traces: Sequence[SequenceTrace], ages: Sequence[int], gaps: Sequence[int] | None = None
) -> list[Sample]:
    """Every ``(sequence, object, t, n, m)`` with the cache frame ``t - n`` after the
    object's first frame or on it (``t`` counted from the object's first frame).

    ``gaps`` (``history_cue``): the object's computed frame before the cache is
    ``t - n - m``, for each ``m`` in ``gaps`` that stays on or after the first frame (at
    inference ``m - 1`` is the length of the reuse run before the cache). None: ``m = 0``
    (no history).
    """
    out = []
    for s, tr in enumerate(traces):
        for obj_id, obj in tr.objects.items():
            for t in range(1, obj.gt.shape[0]):
                for n in ages:
                    if gaps is None:
                        out += [(s, obj_id, t, n, 0)] if t - n >= 0 else []
                    else:
                        out += [(s, obj_id, t, n, m) for m in gaps if t - n - m >= 0]
    return out


def _batch(
    gate: ReuseGate, traces: Sequence[SequenceTrace], batch: Sequence[Sample]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reuse probabilities (with grad) and ``alt_quality`` targets of a batch."""
    p_all, targets = [], []
    for s, obj_id, t, n, m in batch:  # one sample at a time: frames differ in size
        tr, obj = traces[s], traces[s].objects[obj_id]
        feats = tr.features[obj.start :]
        f0, ft, fl = (gate.cut_feature(feats[i : i + 1].float()) for i in (0, t, t - n))
        grid = tuple(f0.shape[-2:])
        template = gate.template(f0, downsample_mask(obj.gt[0:1].float(), grid))
        last_prob = obj.prob[t - n : t - n + 1].float()
        last_score = obj.score[t - n : t - n + 1].float() if obj.score is not None else None
        prev = gate.previous_info(last_score, last_prob, tr.image_size, grid)
        d = gate.matching(ft, prev, template)
        if gate.pixel_cue:
            if tr.images is None:
                raise DataError(f"trace {tr.name} has no images; record it again for pixel_cue")
            frames = tr.images[obj.start :]
            it, il = frames[t : t + 1].float(), frames[t - n : t - n + 1].float()
        else:
            it = il = None
        history = None
        if gate.history_cue:
            before = coarse_mask(obj.prob[t - n - m : t - n - m + 1].float())
            history = mask_change(coarse_mask(last_prob), before) / m
        copied, pixel = moved_sample(gate, tr, obj.start, t, n, last_prob)
        x = gate.gate_input(d, ft, fl, last_prob, it, il, history, pixel=pixel)
        p_all.append(GateFunction.reuse_probability(gate.gate(x)))
        gt = obj.gt[t : t + 1].float()
        full = obj.prob[t : t + 1].float() - 0.5  # as logits: > 0 where the mask is
        targets.append(alt_quality_target(full, copied - 0.5, gt, gate.quality_scale))
    return torch.cat(p_all), torch.stack(targets).flatten()


def moved_sample(
    gate: ReuseGate, trace: SequenceTrace, start: int, t: int, n: int, last_prob: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A sample's copy at ``t`` of the mask of ``t - n`` as the gate makes it (moved with
    ``copy_motion``) and, with ``moved_cues``, its pixel cue beyond the shift (else None)."""
    if not gate.copy_motion:
        return last_prob, None
    shift = trace_shift(trace, start, t - n, t, last_prob, gate.motion_radius)
    pixel = None
    if gate.moved_cues:
        frames = trace.images[start:]  # type: ignore[index]  (trace_shift checked it)
        it, il = frames[t : t + 1].float(), frames[t - n : t - n + 1].float()
        pixel = moved_cue(it, il, coarse_mask(last_prob), shift)
    return shift_mask(last_prob, shift), pixel


def split_traces(
    traces: Sequence[SequenceTrace], holdout: float = 0.2
) -> tuple[list[SequenceTrace], list[SequenceTrace]]:
    """Every ``round(1 / holdout)``-th sequence (sorted by name) is held out, with all its
    traces (every frame step), so no held-out video is seen in training."""
    ordered = sorted(traces, key=lambda t: (t.name, t.frame_step))
    if holdout <= 0:
        return ordered, []
    every = max(2, round(1.0 / holdout))
    names = sorted({t.name for t in ordered})
    held_names = {n for i, n in enumerate(names) if i % every == every - 1}
    return [t for t in ordered if t.name not in held_names], [
        t for t in ordered if t.name in held_names
    ]


def train_gate_on_traces(
    model: VOSModel,
    traces: Sequence[SequenceTrace],
    *,
    steps: int = 2000,
    batch_size: int = 16,
    lr: float = 1e-3,
    ages: Sequence[int] | None = None,
    seed: int = 0,
    log: Callable[[int, float], None] | None = None,
    log_every: int = 100,
) -> list[float]:
    """Train the gate's modules on recorded traces (see the module notes).

    Args:
        model: The model with its ``copy`` ReuseGate (updated in place; the base stays).
        traces: Recorded training sequences.
        steps: Optimiser steps (Adam, cosine decay to 0).
        batch_size: Samples per step.
        lr: Initial learning rate.
        ages: Cache ages ``n`` to sample (default ``1..max_reuse_run``, or ``(1, 2)``).
        seed: Seed of the sampling and of torch.
        log: Called as ``log(step, mean loss)`` every ``log_every`` steps.
        log_every: Logging period.

    Returns:
        The mean loss of each logging period.
    """
    gate = _copy_gate(model)
    if ages is None:
        ages = tuple(range(1, gate.max_reuse_run + 1)) if gate.max_reuse_run else (1, 2)
    gaps = tuple(range(1, len(ages) + 2)) if gate.history_cue else None
    samples = _samples(traces, ages, gaps)
    if not samples:
        raise DataError("the traces hold no frame after an object's first frame")
    rng = random.Random(seed)
    torch.manual_seed(seed)
    params = [p for m in (gate.template, gate.matching, gate.gate) for p in m.parameters()]
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, steps))
    gate.train()
    history, running = [], []
    try:
        for step in range(1, steps + 1):
            p, target = _batch(gate, traces, rng.sample(samples, min(batch_size, len(samples))))
            loss = (p - target).pow(2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            running.append(float(loss.detach()))
            if step % log_every == 0 or step == steps:
                history.append(sum(running) / len(running))
                if log is not None:
                    log(step, history[-1])
                running = []
    finally:
        gate.eval()
    return history


# ----------------------------------------------------------------------------- recipe
def train_from_config(
    config: str | Path,
    work_dir: str | Path | None = None,
    options: dict[str, Any] | None = None,
    log: Callable[[str], None] = print,
) -> Path:
    """Record traces and train a ``copy`` gate from a config; returns the exported weights.

    Config keys: ``model`` (with the ReuseGate plugin), ``load_from_vosframe`` (the trained
    base model), ``gate_traces = dict(data=DAVIS-layout folder of fully annotated training
    sequences, short_side, frame_steps, steps, batch_size, lr, holdout, seed, precision,
    threads, pre_steps, pre_over_weight)``; a gate with ``pre_gate`` then fits its pre-gate. Writes
    ``vosframe_latest.pt`` (without the backbone's weights, as ``vosframe train``) and
    ``calibration.json`` (:func:`gate_calibration` and
    :func:`~vosframe.plugins.reuse_gate.calibration.simulate_gate` on the held-out
    sequences, as recorded with every frame, the inference case) to
    ``work_dir`` (default ``work_dirs/<config name>``).

    ``gate_traces.threads`` sets torch's (process-wide) thread count: the traces and the
    training depend on it; with it and ``seed`` the result is bit-reproducible.

    Raises:
        ConfigError: The config has no ``gate_traces`` or no ``load_from_vosframe``.
    """
    from vosframe.builder import build_model, load_config
    from vosframe.core.checkpoint import load_checkpoint, save_checkpoint
    from vosframe.data.davis import open_davis

    from .pre_gate import train_pre_gate

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
    _copy_gate(model)
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
        log=lambda step, loss: log(f"step {step} loss {loss:.4f}"),
    )
    if _copy_gate(model).pre_gate:
        pre_history = train_pre_gate(
            model,
            train,
            steps=int(spec.get("pre_steps", 1000)),
            seed=int(spec.get("seed", 0)),
            over_weight=float(spec.get("pre_over_weight", 1.0)),
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
    meta = {"config_file": str(config), "config": cfg.model.to_dict(), "gate_traces": spec}
    return save_checkpoint(
        model, out / "vosframe_latest.pt", meta=meta, exclude_prefixes=("feature_extractor.",)
    )
