"""Training the paper's feature reuse (variant ``reuse``) on traces of its frozen base model.

The clip loop (:mod:`~vosframe.training.gate.clip`) trains the paper's alternative path
jointly with the gate, on short clips whose full path is the base model's *training-time*
localizer. This recipe trains it the way the shipped ``copy`` gates are trained
(:mod:`~vosframe.training.gate.traces`): on what the frozen base model computes at
inference, so its weights never change and ``tau = 1`` stays bit-identical to it.

1. **Recording** (:func:`record_reuse_sequence`, :func:`record_reuse_traces`): the base
   model (gate off) runs as a normal session; besides the copy trace (F_t at the feature
   cut, each object's output mask, localizer score ``S_t`` and ground truth) it keeps, per
   frame, the frame's features at the strides the refiner's tail reads after the re-entry
   point (:func:`tail_strides`) and, per object, the re-entry feature ``R_t`` the engine
   captures on every full frame (``ObjectState.refined``). On an object's first frame the
   session at ``tau = 1`` computes no full path; the recorder computes it as the engine
   does when the gate may reuse (the localizer's ``peek`` and the refiner up to the
   re-entry point, as :class:`~vosframe.core.engine.FrameEngine` does), and the
   first frame's ``S_{t-n}`` is the inference one (the first mask at the score grid for a
   ``"score"`` previous point, the ``peek`` score for a ``"mask"`` point).
2. **The alternative path** (:func:`train_reuse_on_traces`): samples
   ``(sequence, object, t, n)`` for cache ages ``n`` (default 1..3) and runs the gate's own
   modules as inference does (:meth:`~vosframe.plugins.reuse_gate.ReuseGate.decide` and
   ``alternative``): ``D_t`` from ``gate_forward``, ``Delta_t = gate.delta(D_t)`` at the
   grid of ``S_{t-n}``, ``S_hat = S_{t-n} + Delta_t``,
   ``R_hat = gate.translator(R_{t-n}, Delta_t)``, then the base model's refiner tail from
   the re-entry point (``refiner.run(S_hat, features, size, start=(stride, R_hat))``),
   frozen (eval mode, no parameter gradients) but differentiable. The template generator,
   the matching module, the delta-generator and the refine-translator learn; the gate
   function does not.
3. **The gate function** (:func:`train_reuse_gate`): ``p_reuse`` learns the
   ``alt_quality`` target (:func:`~vosframe.training.gate.clip.alt_quality_target`) of
   the trained reuse path against the base model's own output at ``t``, with the copy
   recipe's loop (:func:`~vosframe.training.gate.traces.fit_gate_function`; only the gate
   function learns, so ``D_t`` and the path it judges stay as trained in step 2).

**Losses of step 2, and why.** All three compare the alternative path with the *base
model's own* result at ``t``, not with the ground truth: the path's job is to give what
the full path would have given, and the gate (step 3) then judges how far that is from
the ground truth. Each has a weight (``feature_weight``, ``mask_weight``, ``delta_weight``,
default 1).

* ``feature`` = ``MSE(R_hat, R_t) / mean(R_t^2)``: feature regression onto the base's own
  re-entry feature, the dense target the translator is for. Normalised by the target's
  mean square, so the weight means the same for any base model's feature scale. Alone it
  spends capacity on channels the tail ignores.
* ``mask`` = ``BCE(tail(S_hat, R_hat), sigmoid(tail(S_t, R_t)))`` less the target's
  entropy (the same gradient; 0 when the path gives the base's output): the tail's logits
  against the base model's own per-object output at ``t`` (the frozen tail on the
  recorded ``S_t`` and ``R_t``: the logits before the objects are aggregated, which both
  paths go through alike). This is what the user sees; the gradient reaches ``S_hat`` and
  ``R_hat`` through the tail, so it weighs feature errors by what they change in the mask.
  Alone it is weak where the base's mask is saturated (little gradient), hence ``feature``.
* ``delta`` = ``MSE(Delta_t, S_t - S_{t-n})``: the paper's ``L_Delta`` (Eq. 3) with the
  base's own score ``S_t`` in place of the downsampled ground truth ``y'_t``:
  ``S_hat = S_{t-n} + Delta_t`` then estimates exactly the score the tail reads on a full
  frame (the tail reads the score at every level after the re-entry point; the ground
  truth is not a score and would push ``S_hat`` out of the tail's input distribution).

The paper's gate loss is not used (step 3 replaces it) and its segmentation BCE against
the ground truth is replaced by ``mask`` (the base is frozen: matching it is the most the
path can do, and a target it can reach keeps the loss from pulling towards errors the
base makes consistently).

**Batch norm.** Samples run one at a time (frames differ in size); the gate's modules are
kept in eval mode in step 2, so the translator's batch norm keeps its statistics (an
affine layer that learns) instead of normalising each sample over its own map.

**Memory.** On top of the copy trace (F_t, pooled frame, per object the output mask and
score), a frame costs ``2 * sum_s C_s * ceil(H / s) * ceil(W / s)`` bytes for the tail's
features (``s`` in :func:`tail_strides`, bfloat16) and, per object,
``2 * C_R * ceil(H / s_R) * ceil(W / s_R)`` bytes for ``R_t`` (the re-entry stride
``s_R``); :attr:`ReuseTrace.nbytes` gives a recorded trace's total. Everything is on the
CPU; nothing grows with anything but the number of frames and objects.

Approximations: as the copy traces, the base's outputs come from a run that computed
every frame (a localizer that learns online skips the updates of reused frames at
inference), and a cache ``t - n`` is the object's last computed frame.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import torch
import torch.nn.functional as F

from vosframe.core.errors import DataError
from vosframe.core.state import Features
from vosframe.plugins.reuse_gate import ReuseGate

from .calibration import operating_points
from .clip import mask_iou
from .traces import (
    Sample,
    SequenceTrace,
    fit_gate_function,
    fit_path,
    gate_inputs,
    memo_signs,
    nonempty_samples,
    record_sequence,
    record_traces,
    set_first_scores,
    trace_gate,
)

if TYPE_CHECKING:
    from vosframe.core.model import VOSModel
    from vosframe.core.session import Session
    from vosframe.data.datasets import VideoSequence

DEFAULT_AGES = (1, 2, 3)
"""Cache ages sampled by default (``max_reuse_run`` of the shipped gates)."""


@attrs.define
class ReuseTrace(SequenceTrace):
    """A sequence recorded for feature reuse: the copy trace plus what the tail reads.

    Object scores (``objects[i].score``) hold, on the object's first frame, the inference
    ``S_{t-n}`` of that frame (see the module notes).

    Attributes:
        reentry: ``(name, stride)`` of the re-entry point.
        tail: ``(T, C_s, h_s, w_s)`` bfloat16 features per stride of :func:`tail_strides`.
        refined: Per object id, ``(T_obj, C_R, h, w)`` bfloat16 ``R_t`` (frames from the
            object's start, as its other tensors).
    """

    reentry: tuple[str, int] = ("", 0)
    tail: dict[int, torch.Tensor] = attrs.Factory(dict)
    refined: dict[int, torch.Tensor] = attrs.Factory(dict)

    @property
    def nbytes(self) -> int:
        """Bytes held by the trace's tensors."""
        tensors = [self.features, *self.tail.values(), *self.refined.values()]
        if self.images is not None:
            tensors.append(self.images)
        for obj in self.objects.values():
            tensors += [obj.gt, obj.prob] + ([obj.score] if obj.score is not None else [])
        return sum(t.numel() * t.element_size() for t in tensors)


def reuse_gate(model: VOSModel) -> ReuseGate:
    """The model's ``reuse`` ReuseGate (:func:`~.traces.trace_gate`), the one this recipe
    trains."""
    return trace_gate(model, "reuse")


def tail_strides(model: VOSModel, stride: int) -> tuple[int, ...]:
    """Feature strides the refiner reads after the re-entry level ``stride``: those of
    ``refiner.feature_strides`` finer than it."""
    return tuple(s for s in model.refiner.feature_strides if s < stride)


def _compact(x: torch.Tensor) -> torch.Tensor:
    """A recorded tensor: detached, on the CPU, bfloat16 (exact for a bf16 session; the
    float32 range for an fp32 one)."""
    return x.detach().to("cpu", torch.bfloat16).contiguous()


def _autocast(session: Session) -> contextlib.AbstractContextManager:
    """The session's precision for computations beside its own steps."""
    if session.precision == "bf16":
        return torch.autocast(session.device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


@attrs.define
class _Recorder:
    """Keeps, after each step of a session, what the reuse path reads (see the module)."""

    model: VOSModel
    gate: ReuseGate
    tail: dict[int, list[torch.Tensor]] = attrs.Factory(dict)
    refined: dict[int, list[torch.Tensor]] = attrs.Factory(dict)
    first_scores: dict[int, torch.Tensor] = attrs.Factory(dict)

    def __call__(self, session: Session) -> None:
        frame = session.last_frame
        assert frame is not None
        name, stride = self.gate.points["reentry"].name, self.gate.points["reentry"].stride
        for s in tail_strides(self.model, stride):
            self.tail.setdefault(s, []).append(_compact(frame.features[s]))
        objs = [session.objects[i] for i in session.object_ids]
        new = [o for o in objs if name not in o.refined]  # first frame: no full path ran
        new_ids = {o.obj_id for o in new}
        if new:
            with torch.no_grad(), _autocast(session):
                score = self.model.localizer.peek(frame.features, [o.localizer for o in new])
                size = tuple(frame.image.shape[-2:])
                out = self.model.refiner.run(score, frame.features, size, capture=(stride,))
            for i, o in enumerate(new):
                self.refined.setdefault(o.obj_id, []).append(
                    _compact(out.captured[stride][i : i + 1])
                )
                self.first_scores[o.obj_id] = score[i : i + 1].detach().float().cpu()
        for o in objs:
            if o.obj_id not in new_ids:
                self.refined.setdefault(o.obj_id, []).append(_compact(o.refined[name]))


def record_reuse_sequence(
    model: VOSModel,
    seq: VideoSequence,
    short_side: int | None = None,
    frame_step: int = 1,
    **session_options: Any,
) -> ReuseTrace:
    """:func:`~vosframe.training.gate.traces.record_sequence` that also keeps what the
    reuse path reads (see the module notes).

    Raises:
        ConfigError: The model's gate is not a ``reuse`` ReuseGate.
        DataError: A frame of the sequence has no ground-truth mask.
    """
    gate = reuse_gate(model)
    rec = _Recorder(model, gate)
    trace = record_sequence(
        model, seq, short_side, frame_step, gate=gate, on_frame=rec, **session_options
    )
    by_score = gate.points["previous"].source == "score"
    set_first_scores(trace, None if by_score else rec.first_scores)
    point = gate.points["reentry"]
    return ReuseTrace(
        **{f.name: getattr(trace, f.name) for f in attrs.fields(SequenceTrace)},
        reentry=(point.name, point.stride),
        tail={s: torch.cat(v) for s, v in rec.tail.items()},
        refined={i: torch.cat(v) for i, v in rec.refined.items()},
    )


def record_reuse_traces(
    model: VOSModel,
    sequences: Iterable[VideoSequence],
    progress: Callable[[str], None] | None = None,
    short_side: int | None = None,
    frame_steps: Sequence[int] = (1,),
    **session_options: Any,
) -> list[ReuseTrace]:
    """:func:`record_reuse_sequence` for every sequence and frame step (as
    :func:`~vosframe.training.gate.traces.record_traces`)."""
    return record_traces(  # type: ignore[return-value]
        model,
        sequences,
        progress,
        short_side,
        frame_steps,
        record=record_reuse_sequence,
        **session_options,
    )


# ----------------------------------------------------------------------------- the path
@attrs.frozen
class ReusePass:
    """The reuse path and the base model on one sample at ``t`` (float32).

    Attributes:
        delta: ``Delta_t`` at the grid of ``S_{t-n}``.
        refined: ``R_hat_t``.
        logits: ``(1, 1, H, W)`` the refiner tail's logits from ``(S_hat, R_hat)``.
        base_refined: The base model's ``R_t``.
        base_score: The base model's ``S_t``.
        base_score_prev: ``S_{t-n}``.
        base_logits: ``(1, 1, H, W)`` the base model's own logits at ``t`` (the tail on
            the recorded ``S_t``, ``R_t``; no gradient).
    """

    delta: torch.Tensor
    refined: torch.Tensor
    logits: torch.Tensor
    base_refined: torch.Tensor
    base_score: torch.Tensor
    base_score_prev: torch.Tensor
    base_logits: torch.Tensor


def _as_reuse_trace(trace: SequenceTrace) -> ReuseTrace:
    if not isinstance(trace, ReuseTrace):
        raise DataError(
            f"trace {trace.name} was recorded for the copy gate; feature reuse needs "
            "record_reuse_traces (it keeps R_t and the refiner tail's features)"
        )
    return trace


def reuse_pass(
    model: VOSModel,
    gate: ReuseGate,
    traces: Sequence[SequenceTrace],
    sample: Sample,
    d: torch.Tensor,
) -> ReusePass:
    """The alternative path of :meth:`~vosframe.plugins.reuse_gate.ReuseGate.alternative`
    on a sample, from its ``D_t`` (``gate_forward``), and the base model's own output.

    Raises:
        DataError: The trace was not recorded for feature reuse.
    """
    s, obj_id, t, n = sample
    tr = _as_reuse_trace(traces[s])
    obj = tr.objects[obj_id]
    assert obj.score is not None, "objects with samples have scores"
    stride = tr.reentry[1]
    score_prev = obj.score[t - n : t - n + 1].float()
    score_t = obj.score[t : t + 1].float()
    refined = tr.refined[obj_id]
    r_prev, r_t = refined[t - n : t - n + 1].float(), refined[t : t + 1].float()
    k = obj.start + t
    feats = Features({st: x[k : k + 1].float() for st, x in tr.tail.items()}, tr.image_size)
    size = tr.image_size
    delta = gate.delta(d, tuple(score_prev.shape[-2:]))  # as decide: the grid of S_{t-n}
    score_hat = score_prev + delta.to(score_prev.dtype)
    r_hat = gate.translator(r_prev, delta)
    logits = model.refiner.run(score_hat, feats, size, start=(stride, r_hat)).logits.float()
    with torch.no_grad():
        base = model.refiner.run(score_t, feats, size, start=(stride, r_t)).logits.float()
    return ReusePass(delta, r_hat, logits, r_t, score_t, score_prev, base)


def reuse_losses(p: ReusePass) -> dict[str, torch.Tensor]:
    """The three losses of a pass (see the module notes), unweighted."""
    target = p.base_refined
    feature = F.mse_loss(p.refined.float(), target) / target.pow(2).mean().clamp_min(1e-6)
    soft = torch.sigmoid(p.base_logits)
    entropy = F.binary_cross_entropy_with_logits(p.base_logits, soft)  # constant: 0 at the optimum
    mask = F.binary_cross_entropy_with_logits(p.logits, soft) - entropy
    delta = F.mse_loss(p.delta.float(), (p.base_score - p.base_score_prev).expand_as(p.delta))
    return {"feature": feature, "mask": mask, "delta": delta}


@contextlib.contextmanager
def frozen_base(model: VOSModel, gate: ReuseGate) -> Iterator[None]:
    """Within: every parameter outside the gate without gradients and the base model in
    eval mode (its batch norms keep their statistics); restored after."""
    own = {id(p) for p in gate.parameters()}
    others = [p for p in model.parameters() if id(p) not in own]
    flags = [p.requires_grad for p in others]
    stages = (model.feature_extractor, model.localizer, model.refiner)
    modes = [m.training for m in stages]
    try:
        for p in others:
            p.requires_grad_(False)
        for m in stages:
            m.eval()
        yield
    finally:
        for p, f in zip(others, flags):
            p.requires_grad_(f)
        for m, mode in zip(stages, modes):
            m.train(mode)


def _samples(traces: Sequence[SequenceTrace], ages: Sequence[int]) -> list[Sample]:
    for tr in traces:
        _as_reuse_trace(tr)
    return nonempty_samples(traces, ages)


def train_reuse_on_traces(
    model: VOSModel,
    traces: Sequence[SequenceTrace],
    *,
    ages: Sequence[int] = DEFAULT_AGES,
    steps: int = 2000,
    batch_size: int = 8,
    lr: float = 1e-3,
    seed: int = 0,
    feature_weight: float = 1.0,
    mask_weight: float = 1.0,
    delta_weight: float = 1.0,
    log: Callable[[int, dict[str, float]], None] | None = None,
    log_every: int = 100,
) -> list[dict[str, float]]:
    """Train the reuse path (template, matching, delta-generator, refine-translator) to
    give the base model's own ``R_t`` and output from ``(R_{t-n}, Delta_t)``.

    Args:
        model: The model with its ``reuse`` ReuseGate (the gate is updated in place; the
            base model's weights and statistics stay).
        traces: Traces from :func:`record_reuse_traces`.
        ages: Cache ages ``n`` to sample.
        steps: Optimiser steps (Adam, cosine decay to 0).
        batch_size: Samples per step.
        lr: Initial learning rate.
        seed: Seed of the sampling and of torch.
        feature_weight: Weight of the feature regression.
        mask_weight: Weight of the mask loss through the frozen tail.
        delta_weight: Weight of ``L_Delta``.
        log: Called as ``log(step, means)`` every ``log_every`` steps.
        log_every: Logging period.

    Returns:
        Per logging period, the mean ``loss`` (weighted sum) and each unweighted loss.

    Raises:
        ConfigError: The model's gate is not a ``reuse`` ReuseGate.
        DataError: The traces were not recorded for feature reuse, or hold no sample.
    """
    gate = reuse_gate(model)
    _samples(traces, ages)
    with frozen_base(model, gate):
        return fit_path(
            gate,
            traces,
            ages,
            (gate.template, gate.matching, gate.delta, gate.translator),
            lambda sample, d: reuse_losses(reuse_pass(model, gate, traces, sample, d)),
            {"feature": feature_weight, "mask": mask_weight, "delta": delta_weight},
            steps=steps,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            log=log,
            log_every=log_every,
        )


def reuse_alternative(
    model: VOSModel, gate: ReuseGate, traces: Sequence[SequenceTrace], memo: bool = False
) -> Callable[[Sample, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """The ``alternative`` of :func:`~vosframe.training.gate.traces.sample_batch` for
    feature reuse: the base model's own logits at ``t`` and the reuse path's (no grad).

    ``memo``: :func:`~.traces.memo_signs` (valid in :func:`train_reuse_gate`, which freezes
    the modules that make ``D_t``; the tail, the costly part, then runs once per sample).
    """

    def alternative(sample: Sample, d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            p = reuse_pass(model, gate, traces, sample, d.detach())
        return p.base_logits, p.logits

    return memo_signs(alternative) if memo else alternative


def train_reuse_gate(
    model: VOSModel,
    traces: Sequence[SequenceTrace],
    *,
    ages: Sequence[int] = DEFAULT_AGES,
    steps: int = 2000,
    batch_size: int = 16,
    lr: float = 1e-3,
    seed: int = 0,
    quality_scale: float = 0.2,
    log: Callable[[int, float], None] | None = None,
    log_every: int = 100,
) -> list[float]:
    """Train the gate function on the reuse path's quality (after
    :func:`train_reuse_on_traces`): ``p_reuse`` learns the ``alt_quality`` target of the
    reuse path's output against the base model's own output at ``t``
    (:func:`~vosframe.training.gate.traces.fit_gate_function`). Only the gate function
    learns.

    Returns:
        The mean loss of each logging period.

    Raises:
        ConfigError: The model's gate is not a ``reuse`` ReuseGate.
        DataError: The traces were not recorded for feature reuse, or hold no sample.
    """
    gate = reuse_gate(model)
    _samples(traces, ages)
    gate.eval()
    with frozen_base(model, gate):
        return fit_gate_function(
            gate,
            traces,
            ages,
            (gate.gate,),
            steps=steps,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            log=log,
            log_every=log_every,
            quality_scale=quality_scale,
            alternative=reuse_alternative(model, gate, traces, memo=True),
            frozen=(gate.template, gate.matching, gate.delta, gate.translator),
        )


# ----------------------------------------------------------------------------- reports
@torch.no_grad()
def reuse_fidelity(
    model: VOSModel, traces: Sequence[SequenceTrace], ages: Sequence[int] = (1,)
) -> dict[str, float]:
    """How close the reuse path comes to the base model on the traces' samples.

    Returns:
        Means over the samples: ``iou`` (IoU of the reuse path's mask with the base
        model's own at ``t``), ``prob_error`` (mean absolute difference of their
        probabilities), ``feature_error`` (the ``feature`` loss) and ``iou_copy`` (the
        IoU copying the base's recorded mask of ``t - n`` gives, for reference).
    """
    gate = reuse_gate(model)
    samples = _samples(traces, ages)
    gate.eval()
    sums = dict.fromkeys(("iou", "prob_error", "feature_error", "iou_copy"), 0.0)
    with frozen_base(model, gate):
        for sample in samples:
            x = gate_inputs(gate, traces, sample)
            d, _ = gate.gate_forward(x.cut, x.prev, x.template, x.cues)
            p = reuse_pass(model, gate, traces, sample, d)
            base = torch.sigmoid(p.base_logits)
            sums["iou"] += float(mask_iou(torch.sigmoid(p.logits), base))
            sums["prob_error"] += float((torch.sigmoid(p.logits) - base).abs().mean())
            sums["feature_error"] += float(reuse_losses(p)["feature"])
            sums["iou_copy"] += float(mask_iou(x.copied, base))
    return {k: v / len(samples) for k, v in sums.items()}


@torch.no_grad()
def reuse_calibration(
    model: VOSModel,
    traces: Sequence[SequenceTrace],
    taus: Sequence[float] = (0.9, 0.8, 0.7, 0.5, 0.3),
    ages: Sequence[int] = (1,),
) -> list[dict[str, float]]:
    """Per ``tau``: the share of samples the gate reuses and the IoU the reuse path loses
    there against the base model's output (frames scored one at a time with a fixed cache
    age, as :func:`~vosframe.training.gate.calibration.gate_calibration` for copies).

    Returns:
        One row per ``tau``: ``reuse``, ``iou_loss_reused`` and ``iou_loss_all``.
    """
    gate = reuse_gate(model)
    samples = _samples(traces, ages)
    gate.eval()
    ps, losses = [], []
    with frozen_base(model, gate):
        for s, obj_id, t, n in samples:
            x = gate_inputs(gate, traces, (s, obj_id, t, n))
            d, p_reuse = gate.gate_forward(x.cut, x.prev, x.template, x.cues)
            p = reuse_pass(model, gate, traces, (s, obj_id, t, n), d)
            gt = traces[s].objects[obj_id].gt[t : t + 1].float()
            lost = mask_iou((p.base_logits > 0).float(), gt) - mask_iou((p.logits > 0).float(), gt)
            ps.append(float(p_reuse[0]))
            losses.append(float(lost))
    return operating_points(torch.tensor(ps), torch.tensor(losses), taus)


__all__ = [
    "DEFAULT_AGES",
    "ReusePass",
    "ReuseTrace",
    "record_reuse_sequence",
    "record_reuse_traces",
    "reuse_alternative",
    "reuse_calibration",
    "reuse_fidelity",
    "reuse_gate",
    "reuse_losses",
    "reuse_pass",
    "tail_strides",
    "train_reuse_gate",
    "train_reuse_on_traces",
]
