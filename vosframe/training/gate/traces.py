"""Training the ``copy`` gate on inference traces of its frozen base model.

Why: the generic clip loop (:mod:`~vosframe.training.gate.clip`) trains the gate
on short training clips where the base model runs with its *training-time* localizer (for
FRTM, a target model fitted in a few iterations and never updated). There the full path is
much worse than at inference (see the logged ``iou_full``), so "copy the previous mask"
looks as good as computing on most frames and the gate learns little about *which* frames
are safe. The
``copy`` variant's alternative path has no trainable part, so its gate can be trained on
exactly what it sees at inference instead:

1. :func:`record_traces` runs the base model (gate off) as a normal inference session over
   training sequences and keeps, per frame, F_t at the feature cut and, per object, the
   output mask, the localizer score and the ground truth.
2. :func:`train_gate_on_traces` samples ``(frame t, cache age n)`` pairs: the cache is the
   frame ``t - n`` (the object's last computed frame; ``n <= max_reuse_run`` at
   inference), the alternative output is the mask of ``t - n`` and the target is the
   ``alt_quality`` target of :func:`~vosframe.training.gate.clip.alt_quality_target`
   (1 when copying loses no IoU against the full path's output at ``t``, 0 when it loses
   ``quality_scale`` or more). Only the gate's template generator, matching module and gate
   function learn (the loss is the paper's Eq. 5 form with ``m2 = 0``).
3. :func:`gate_calibration` reports, on held-out sequences, the reuse rate and the IoU
   copying loses at each ``tau`` (the frames are treated independently: an upper bound of
   the reuse rate a ``max_reuse_run`` cap allows).

Sequences can also be recorded on every k-th frame (``gate_traces.frame_steps``): the
model then sees k times the motion per frame: more samples of the fast motion where
copying fails, from the same few videos.

Approximations: the trace's full path at ``t`` comes from a run that computed every frame
(at inference, reused frames skip the localizer's updates); a copied mask is the last
*output*, which after a reused frame equals the last computed one, as here. The object's
first frame has no localizer score, so the trace repeats the second frame's there; at
inference a ``"score"`` previous point starts from the first mask instead (see
:meth:`~vosframe.plugins.reuse_gate.ReuseGate.init_object`). This touches only samples
whose cache is the first frame (about 1 in 30 on DAVIS).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vosframe.core.errors import ConfigError, DataError
from vosframe.data.frames import resize_short_side
from vosframe.plugins.reuse_gate import ReuseGate
from vosframe.plugins.reuse_gate.cues import (
    coarse_mask,
    estimate_shift,
    moved_cue,
    pool_image,
    shift_mask,
)
from vosframe.plugins.reuse_gate.networks import mask_as_score

from .clip import alt_quality_target

if TYPE_CHECKING:
    from vosframe.core.model import VOSModel
    from vosframe.core.session import Session
    from vosframe.data.datasets import VideoSequence


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
            :func:`~vosframe.plugins.reuse_gate.cues.pool_image` (for ``pixel_cue``).
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


TRACE_VARIANTS = ("copy", "reuse", "reuse_mask")
"""Gate variants trained on traces: ``copy`` (this module), ``reuse``
(:mod:`~vosframe.training.gate.reuse_traces`) and ``reuse_mask``
(:mod:`~vosframe.training.gate.mask_traces`). ``fusion`` runs a ``reuse`` gate's weights."""


def trace_gate(model: VOSModel, variant: str) -> ReuseGate:
    """The model's ReuseGate, checked to be of ``variant`` (one of :data:`TRACE_VARIANTS`).

    Raises:
        ConfigError: The model has no ReuseGate, or its variant is not ``variant``.
    """
    gate = model.path_plugin
    if not isinstance(gate, ReuseGate):
        raise ConfigError(
            "training on traces needs a model with a ReuseGate plugin. Fix: build the model "
            f"from a config with plugins=[dict(type='ReuseGate', variant='{variant}', ...)]"
        )
    if gate.arch.variant != variant:
        raise ConfigError(
            f"this trace recipe trains the '{variant}' variant only; this gate's variant is "
            f"{gate.arch.variant!r}. Fix: `vosframe train-gate` trains 'copy', 'reuse' and "
            f"'reuse_mask' gates (each with its recipe; a 'fusion' config runs a 'reuse' "
            f"gate's weights), or train with `vosframe train` (the clip loop)"
        )
    return gate


def copy_gate(model: VOSModel) -> ReuseGate:
    """The model's ``copy`` ReuseGate (:func:`trace_gate`), the one this module trains."""
    return trace_gate(model, "copy")


def _label_masks(labels: np.ndarray, ids: Iterable[int], size: tuple[int, int]) -> torch.Tensor:
    """``(N, 1, H, W)`` bool masks of ``ids`` at ``size`` (nearest)."""
    t = torch.from_numpy(labels.astype(np.int64))[None, None].float()
    if tuple(t.shape[-2:]) != size:
        t = F.interpolate(t, size=size, mode="nearest")
    return torch.cat([t == i for i in ids]) if ids else t.new_zeros((0, 1, *size), dtype=bool)


def record_sequence(
    model: VOSModel,
    seq: VideoSequence,
    short_side: int | None = None,
    frame_step: int = 1,
    *,
    gate: ReuseGate | None = None,
    on_frame: Callable[[Session], None] | None = None,
    **session_options: Any,
) -> SequenceTrace:
    """Run the base model (gate off) on one fully annotated sequence and keep its trace.

    Args:
        model: The model with its ReuseGate.
        seq: The sequence (every frame annotated).
        short_side: Resize frames and masks to this shorter side first (None: as stored).
            Recording 240p training data at the 360p the model runs at on 480p videos keeps
            the scale the gate sees (object sizes in cells, motion in pixels) as at test.
        gate: The gate whose feature cut is kept (None: :func:`copy_gate` of the model).
        on_frame: Called with the session after each recorded frame, for recipes that keep
            more of what the model computed (``session.last_frame``, ``session.objects``).
        session_options: Options of the session (precision, max_internal_size).

    Raises:
        DataError: A frame of the sequence has no ground-truth mask.
    """
    gate = copy_gate(model) if gate is None else gate
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
    given = {
        i: resize_short_side(m, short_side, nearest=True) for i, m in seq.given_masks().items()
    }
    for i in kept:
        frame = resize_short_side(seq.read_frame(i), short_side)
        labels = resize_short_side(seq.read_mask(i), short_side, nearest=True)
        session.step(frame, given.get(i))
        seen = session.last_frame  # what the model computed on this frame
        assert seen is not None
        if on_frame is not None:
            on_frame(session)
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
    record: Callable[..., SequenceTrace] | None = None,
    **session_options: Any,
) -> list[SequenceTrace]:
    """:func:`record_sequence` (or ``record``, a function with its signature) for every
    sequence and frame step (``session_options`` go to the session). Each sequence gives
    one trace per entry of ``frame_steps``."""
    record = record_sequence if record is None else record
    traces = []
    for seq in sequences:
        for step in frame_steps:
            traces.append(record(model, seq, short_side, int(step), **session_options))
            if progress is not None:
                progress(seq.name if step == 1 else f"{seq.name} (frame step {step})")
    return traces


# ----------------------------------------------------------------------------- samples
Sample = tuple[int, int, int, int]


def trace_samples(traces: Sequence[SequenceTrace], ages: Sequence[int]) -> list[Sample]:
    """Every ``(sequence, object, t, n)`` with the cache frame ``t - n`` on or after the
    object's first frame (``t`` counted from the object's first frame)."""
    out = []
    for s, tr in enumerate(traces):
        for obj_id, obj in tr.objects.items():
            for t in range(1, obj.gt.shape[0]):
                out += [(s, obj_id, t, n) for n in ages if t - n >= 0]
    return out


def nonempty_samples(traces: Sequence[SequenceTrace], ages: Sequence[int]) -> list[Sample]:
    """:func:`trace_samples`, which a training step needs at least one of.

    Raises:
        DataError: The traces hold no frame after an object's first frame.
    """
    samples = trace_samples(traces, ages)
    if not samples:
        raise DataError("the traces hold no frame after an object's first frame")
    return samples


@attrs.frozen
class GateInputs:
    """What the gate reads for one sample, as it reads it at inference.

    Attributes:
        cut: ``(1, C, h, w)`` F_t of frame ``t`` as the gate sees it.
        prev: ``(1, C_p, h, w)`` the previous information of the cache frame ``t - n``.
        template: ``(1, K, K)`` the object's template (from its first frame).
        cues: The cue maps (``motion_cue``), else None.
        copied: ``(1, 1, H, W)`` the copy path's mask at ``t`` (the mask of ``t - n``,
            moved with ``copy_motion``).
    """

    cut: torch.Tensor
    prev: torch.Tensor
    template: torch.Tensor
    cues: torch.Tensor | None
    copied: torch.Tensor


def gate_inputs(gate: ReuseGate, traces: Sequence[SequenceTrace], sample: Sample) -> GateInputs:
    """The gate's inputs for one ``(sequence, object, t, n)`` sample.

    Raises:
        DataError: The gate reads pixel cues and the trace has no pooled frames.
    """
    s, obj_id, t, n = sample
    tr, obj = traces[s], traces[s].objects[obj_id]
    feats = tr.features[obj.start :]
    f0, ft, fl = (gate.cut_feature(feats[i : i + 1].float()) for i in (0, t, t - n))
    grid = (int(f0.shape[-2]), int(f0.shape[-1]))
    template = gate.make_template(f0, obj.gt[0:1])
    last_prob = obj.prob[t - n : t - n + 1].float()
    last_score = obj.score[t - n : t - n + 1].float() if obj.score is not None else None
    prev = gate.previous_info(last_score, last_prob, tr.image_size, grid)
    copied, pixel = moved_sample(gate, tr, obj.start, t, n, last_prob)
    cues = None
    if gate.arch.motion_cue:
        it = il = None
        if gate.arch.pixel_cue and pixel is None:
            if tr.images is None:
                raise DataError(f"trace {tr.name} has no images; record it again for pixel_cue")
            frames = tr.images[obj.start :]
            it, il = frames[t : t + 1].float(), frames[t - n : t - n + 1].float()
        cues = gate.cue_maps(ft, fl, last_prob, pixel=pixel, image=it, last_image=il)
    return GateInputs(ft, prev, template, cues, copied)


AltOutput = Callable[[Sample, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
"""``(sample, D_t) -> (full, alt)``: the full path's and the alternative path's logits of
a sample at ``t`` (``(1, 1, H, W)``, > 0 where the mask is)."""


def memo_signs(alternative: AltOutput) -> AltOutput:
    """``alternative`` computed once per sample, keeping only the signs of its two outputs
    (bit packed; returned as logits of +-0.5, which is all the ``alt_quality`` target
    reads). Valid while a sample's ``D_t`` does not change, as when only the gate function
    learns: the alternative path then runs once per sample instead of once per draw."""
    cache: dict[Sample, tuple[np.ndarray, np.ndarray, torch.Size]] = {}

    def memoised(sample: Sample, d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if sample in cache:
            full, alt, shape = cache[sample]
            return tuple(  # type: ignore[return-value]
                torch.from_numpy(np.unpackbits(b, count=shape.numel()).reshape(shape)).float() - 0.5
                for b in (full, alt)
            )
        full, alt = alternative(sample, d)
        cache[sample] = (
            np.packbits((full > 0).numpy().ravel()),
            np.packbits((alt > 0).numpy().ravel()),
            alt.shape,
        )
        return full, alt

    return memoised


def set_first_scores(trace: SequenceTrace, first: Mapping[int, torch.Tensor] | None = None) -> None:
    """Set each scored object's first-frame score to the ``S_{t-n}`` inference reads there
    (:func:`record_sequence` repeats the second frame's): ``first[obj_id]`` where given,
    else the first mask at the score grid (a ``"score"`` previous point's
    :func:`~vosframe.plugins.reuse_gate.networks.mask_as_score`)."""
    for obj_id, obj in trace.objects.items():
        if obj.score is None:
            continue
        if first is None:
            value = mask_as_score(obj.gt[0:1].float(), obj.score.shape[-2:], obj.score.shape[1])
        else:
            value = first[obj_id]
        obj.score[0] = value[0].to(obj.score.dtype)


def sample_batch(
    gate: ReuseGate,
    traces: Sequence[SequenceTrace],
    batch: Sequence[Sample],
    quality_scale: float = 0.2,
    alternative: AltOutput | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reuse probabilities (with grad) and ``alt_quality`` targets of a batch, through the
    gate's own forward (:meth:`~vosframe.plugins.reuse_gate.ReuseGate.gate_forward`).

    Args:
        gate: The gate.
        traces: Recorded sequences.
        batch: Samples.
        quality_scale: See :func:`~vosframe.training.gate.clip.alt_quality_target`.
        alternative: The alternative path's output of a sample, given its ``D_t`` (None:
            the ``copy`` path, the recorded output of ``t - n`` against the recorded
            output at ``t``).
    """
    p_all, targets = [], []
    for sample in batch:  # one sample at a time: frames differ in size
        obj = traces[sample[0]].objects[sample[1]]
        t = sample[2]
        x = gate_inputs(gate, traces, sample)
        d, p = gate.gate_forward(x.cut, x.prev, x.template, x.cues)
        p_all.append(p)
        gt = obj.gt[t : t + 1].float()
        if alternative is None:
            full = obj.prob[t : t + 1].float() - 0.5  # as logits: > 0 where the mask is
            alt = x.copied - 0.5
        else:
            full, alt = alternative(sample, d)
        targets.append(alt_quality_target(full, alt, gt, quality_scale))
    return torch.cat(p_all), torch.stack(targets).flatten()


def trace_shift(
    trace: SequenceTrace, start: int, last: int, t: int, prob: torch.Tensor, radius: int
) -> tuple[int, int]:
    """:func:`~vosframe.plugins.reuse_gate.cues.estimate_shift` of a traced object's mask
    ``prob`` (full resolution) from its frame ``last`` to ``t`` (both counted from the
    object's first frame ``start``).

    Raises:
        DataError: The trace has no pooled frames.
    """
    if trace.images is None:
        raise DataError(f"trace {trace.name} has no images; record it again for copy_motion")
    images = trace.images[start:]
    return estimate_shift(
        images[last : last + 1].float(), images[t : t + 1].float(), coarse_mask(prob), radius
    )


def moved_sample(
    gate: ReuseGate, trace: SequenceTrace, start: int, t: int, n: int, last_prob: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A sample's copy at ``t`` of the mask of ``t - n`` as the gate makes it (moved with
    ``copy_motion``) and, with ``moved_cues``, its pixel cue beyond the shift (else None)."""
    if not gate.policy.copy_motion:
        return last_prob, None
    shift = trace_shift(trace, start, t - n, t, last_prob, gate.policy.motion_radius)
    pixel = None
    if gate.arch.moved_cues:
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
    quality_scale: float = 0.2,
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
        quality_scale: IoU loss of a copy at which its target reaches 0
            (:func:`~vosframe.training.gate.clip.alt_quality_target`).

    Returns:
        The mean loss of each logging period.
    """
    gate = copy_gate(model)
    if ages is None:
        run = gate.policy.max_reuse_run
        ages = tuple(range(1, run + 1)) if run else (1, 2)
    return fit_gate_function(
        gate,
        traces,
        ages,
        (gate.template, gate.matching, gate.gate),
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        log=log,
        log_every=log_every,
        quality_scale=quality_scale,
    )


def fit_gate_function(
    gate: ReuseGate,
    traces: Sequence[SequenceTrace],
    ages: Sequence[int],
    modules: Sequence[nn.Module],
    *,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    log: Callable[[int, float], None] | None,
    log_every: int,
    quality_scale: float,
    alternative: AltOutput | None = None,
    frozen: Sequence[nn.Module] = (),
) -> list[float]:
    """The loop of :func:`train_gate_on_traces`: ``modules`` (parts of the gate, in train
    mode while it runs) learn ``p_reuse`` = the ``alt_quality`` target of the alternative
    path (:func:`sample_batch`; ``alternative`` None: the copy path). ``frozen`` modules
    (those that make ``D_t`` and the path it judges, when only the gate function learns)
    have no gradients while it runs.

    Returns:
        The mean loss of each logging period.

    Raises:
        DataError: The traces hold no frame after an object's first frame.
    """
    samples = nonempty_samples(traces, ages)
    rng = random.Random(seed)
    torch.manual_seed(seed)
    params = [p for m in modules for p in m.parameters()]
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, steps))
    for m in modules:
        m.train()
    for m in frozen:
        m.requires_grad_(False)
    history, running = [], []
    try:
        for step in range(1, steps + 1):
            batch = rng.sample(samples, min(batch_size, len(samples)))
            p, target = sample_batch(gate, traces, batch, quality_scale, alternative)
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
        for m in frozen:
            m.requires_grad_(True)
    return history


PathLosses = Callable[[Sample, torch.Tensor], dict[str, torch.Tensor]]
"""``(sample, D_t) -> {name: loss}``: an alternative path's unweighted losses on a sample."""


def fit_path(
    gate: ReuseGate,
    traces: Sequence[SequenceTrace],
    ages: Sequence[int],
    modules: Sequence[nn.Module],
    losses_of: PathLosses,
    weights: dict[str, float],
    *,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    log: Callable[[int, dict[str, float]], None] | None,
    log_every: int,
) -> list[dict[str, float]]:
    """The loop that trains an alternative path on traces (feature reuse, the translated
    mask): ``modules`` learn the ``weights``-weighted sum of ``losses_of(sample, D_t)``
    (Adam, cosine decay to 0), ``D_t`` from the gate's own forward. The gate stays in eval
    mode (samples run one at a time, so its batch norms keep their statistics) and its
    gate function does not learn.

    Returns:
        Per logging period, the mean ``loss`` (weighted sum) and each unweighted loss.

    Raises:
        DataError: The traces hold no frame after an object's first frame.
    """
    samples = nonempty_samples(traces, ages)
    rng = random.Random(seed)
    torch.manual_seed(seed)
    params = [p for m in modules for p in m.parameters()]
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, steps))
    gate.eval()
    history: list[dict[str, float]] = []
    running: list[dict[str, float]] = []
    gate.gate.requires_grad_(False)
    try:
        for p in params:
            p.requires_grad_(True)
        for step in range(1, steps + 1):
            batch = rng.sample(samples, min(batch_size, len(samples)))
            total = torch.zeros(())
            parts = dict.fromkeys(weights, 0.0)
            for sample in batch:
                x = gate_inputs(gate, traces, sample)
                d, _ = gate.gate_forward(x.cut, x.prev, x.template, x.cues)
                losses = losses_of(sample, d)
                total = total + sum(weights[k] * v for k, v in losses.items())
                for k, v in losses.items():
                    parts[k] += float(v.detach()) / len(batch)
            loss = total / len(batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            running.append({"loss": float(loss.detach()), **parts})
            if step % log_every == 0 or step == steps:
                history.append({k: sum(r[k] for r in running) / len(running) for k in running[0]})
                if log is not None:
                    log(step, history[-1])
                running = []
    finally:
        gate.gate.requires_grad_(True)
    return history
