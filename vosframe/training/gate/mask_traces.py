"""Training the supplement's *reuseM* (variant ``reuse_mask``) on traces of its frozen base
model.

``reuse_mask``'s alternative path translates the object's last computed mask by
``Delta_t`` (:class:`~vosframe.plugins.reuse_gate.networks.MaskTranslator`): it reads
nothing the copy traces do not keep (F_t at the feature cut, each object's output mask and
localizer score), so the recipe records copy traces
(:func:`~vosframe.training.gate.traces.record_traces`) and then, as the feature-reuse
recipe (:mod:`~vosframe.training.gate.reuse_traces`), trains in two steps with the base
model frozen, so ``tau = 1`` stays bit-identical to it:

1. **The alternative path** (:func:`train_mask_path_on_traces`): for samples
   ``(sequence, object, t, n)`` the gate's modules run as
   :meth:`~vosframe.plugins.reuse_gate.ReuseGate.decide` and ``alternative`` do: ``D_t``
   from ``gate_forward``, ``Delta_t = gate.delta(D_t)`` at the grid of the localizer score,
   the logits ``mask_translator(M_{t-n}, Delta_t)``. The template generator, matching
   module, delta-generator and mask translator learn; the gate function does not.
2. **The gate function** (:func:`train_mask_gate`): ``p_reuse`` learns the ``alt_quality``
   target of the trained path against the base model's own output at ``t``
   (:func:`~vosframe.training.gate.traces.fit_gate_function`).

**Losses of step 1, and why.** As for feature reuse, against the *base model's own* result
at ``t`` (the path is to give what the full path would give; the gate judges how far that
is from the ground truth):

* ``mask`` with ``target="soft"`` (default) = ``BCE(logits, M_t)`` less the entropy of
  ``M_t`` (0 when the path gives the base's output): the base model's output mask is a soft
  target, so the translator learns the base's boundaries, not the ground truth's, which the
  base does not reach either. With ``target="hard"`` the target is the base's *thresholded*
  mask ``[M_t > 0.5]`` (what the session outputs) and the loss ``BCE + (1 - soft IoU)``:
  a soft target asks for soft logits wherever the base is unsure, and thresholding those
  flips pixels, so the soft loss can fall while the output mask gets worse; the IoU term
  weighs a small object as much as a large one.
* ``delta`` = ``MSE(Delta_t, S_t - S_{t-n})``: the paper's ``L_Delta`` with the base's own
  score, for models whose previous point is a score (FRTM). It keeps ``Delta_t`` a change
  of the score rather than a free code, as the paper defines it. It is 0 without a recorded
  score, and on samples whose cache is the first frame of a model whose previous point is
  a mask (TTVOS): that frame's mask was given, so the base computed no score there.

For a model whose previous point is a score (FRTM) the first frame's ``S_{t-n}`` is the one
inference uses (the first mask at the score grid), as in the feature-reuse recipe; the
copy trace repeats the second frame's score there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import torch
import torch.nn.functional as F

from vosframe.core.errors import ConfigError
from vosframe.core.state import Features
from vosframe.plugins.reuse_gate import ReuseGate
from vosframe.plugins.reuse_gate.networks import probs_to_logits

from .calibration import operating_points
from .clip import mask_iou
from .reuse_traces import DEFAULT_AGES
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
    from vosframe.data.datasets import VideoSequence


def mask_gate(model: VOSModel) -> ReuseGate:
    """The model's ``reuse_mask`` ReuseGate (:func:`~.traces.trace_gate`)."""
    return trace_gate(model, "reuse_mask")


def record_mask_sequence(
    model: VOSModel,
    seq: VideoSequence,
    short_side: int | None = None,
    frame_step: int = 1,
    **session_options: Any,
) -> SequenceTrace:
    """:func:`~vosframe.training.gate.traces.record_sequence` with the first frame's score
    set to the one inference reads (see the module notes).

    Raises:
        ConfigError: The model's gate is not a ``reuse_mask`` ReuseGate.
        DataError: A frame of the sequence has no ground-truth mask.
    """
    gate = mask_gate(model)
    trace = record_sequence(model, seq, short_side, frame_step, gate=gate, **session_options)
    if gate.points["previous"].source == "score":
        set_first_scores(trace)
    return trace


def record_mask_traces(
    model: VOSModel,
    sequences: Iterable[VideoSequence],
    progress: Callable[[str], None] | None = None,
    short_side: int | None = None,
    frame_steps: Sequence[int] = (1,),
    **session_options: Any,
) -> list[SequenceTrace]:
    """:func:`record_mask_sequence` for every sequence and frame step."""
    return record_traces(
        model,
        sequences,
        progress,
        short_side,
        frame_steps,
        record=record_mask_sequence,
        **session_options,
    )


@attrs.frozen
class MaskPass:
    """The translated-mask path and the base model on one sample at ``t`` (float32).

    Attributes:
        delta: ``Delta_t`` at the localizer score's grid.
        logits: ``(1, 1, H, W)`` the translator's logits.
        base_logits: ``(1, 1, H, W)`` the base model's own output at ``t``, as logits.
        score_change: ``S_t - S_{t-n}`` of the base model, or None without recorded scores.
    """

    delta: torch.Tensor
    logits: torch.Tensor
    base_logits: torch.Tensor
    score_change: torch.Tensor | None


def mask_pass(
    gate: ReuseGate, traces: Sequence[SequenceTrace], sample: Sample, d: torch.Tensor
) -> MaskPass:
    """:meth:`~vosframe.plugins.reuse_gate.ReuseGate.alternative` of ``reuse_mask`` on a
    sample, from its ``D_t``, and the base model's own output at ``t``."""
    s, obj_id, t, n = sample
    tr = traces[s]
    obj = tr.objects[obj_id]
    grid = (
        obj.score.shape[-2:]
        if obj.score is not None
        else Features({}, tr.image_size).size_at(gate.score_stride)
    )
    delta = gate.delta(d, tuple(grid))  # as decide: the grid of the score
    logits = gate.mask_translator(obj.prob[t - n : t - n + 1].float(), delta).float()
    base = probs_to_logits(obj.prob[t : t + 1].float())
    change = None
    if obj.score is not None and (t > n or gate.points["previous"].source == "score"):
        change = obj.score[t : t + 1].float() - obj.score[t - n : t - n + 1].float()
    return MaskPass(delta, logits, base, change)


MASK_TARGETS = ("soft", "hard")
"""The targets of the ``mask`` loss (see the module notes)."""


def check_mask_target(target: str) -> str:
    """``target`` if it is one of :data:`MASK_TARGETS`.

    Raises:
        ConfigError: It is not (the message names the config key and the choices).
    """
    if target not in MASK_TARGETS:
        raise ConfigError(
            f"mask target must be one of {MASK_TARGETS}, got {target!r}. Fix: set "
            "gate_traces.mask_target to one of them, e.g. --cfg-options "
            "gate_traces.mask_target=hard"
        )
    return target


def mask_losses(p: MaskPass, target: str = "soft") -> dict[str, torch.Tensor]:
    """The two losses of a pass (see the module notes), unweighted.

    Raises:
        ConfigError: ``target`` is not one of :data:`MASK_TARGETS`.
    """
    if check_mask_target(target) == "hard":
        hard = (p.base_logits > 0).float()
        prob = torch.sigmoid(p.logits)
        inter = (prob * hard).sum()
        iou = (inter + 1.0) / (prob.sum() + hard.sum() - inter + 1.0)
        mask = F.binary_cross_entropy_with_logits(p.logits, hard) + 1.0 - iou
    else:
        soft = torch.sigmoid(p.base_logits)
        entropy = F.binary_cross_entropy_with_logits(p.base_logits, soft)  # 0 at the optimum
        mask = F.binary_cross_entropy_with_logits(p.logits, soft) - entropy
    delta = torch.zeros(())
    if p.score_change is not None:
        delta = F.mse_loss(p.delta.float(), p.score_change.expand_as(p.delta))
    return {"mask": mask, "delta": delta}


def train_mask_path_on_traces(
    model: VOSModel,
    traces: Sequence[SequenceTrace],
    *,
    ages: Sequence[int] = DEFAULT_AGES,
    steps: int = 1000,
    batch_size: int = 8,
    lr: float = 1e-3,
    seed: int = 0,
    mask_weight: float = 1.0,
    delta_weight: float = 1.0,
    target: str = "soft",
    log: Callable[[int, dict[str, float]], None] | None = None,
    log_every: int = 100,
) -> list[dict[str, float]]:
    """Train the path (template, matching, delta-generator, mask translator) to give the
    base model's own output at ``t`` from ``(M_{t-n}, Delta_t)``.

    Args:
        model: The model with its ``reuse_mask`` ReuseGate (updated in place; the base
            model is not run: the traces hold all it reads).
        traces: Traces from :func:`record_mask_traces`.
        ages: Cache ages ``n`` to sample.
        steps: Optimiser steps (Adam, cosine decay to 0).
        batch_size: Samples per step.
        lr: Initial learning rate.
        seed: Seed of the sampling and of torch.
        mask_weight: Weight of the mask loss.
        delta_weight: Weight of ``L_Delta``.
        target: ``"soft"`` (the base's output mask) or ``"hard"`` (its thresholded mask),
            the target of the mask loss (see the module notes).
        log: Called as ``log(step, means)`` every ``log_every`` steps.
        log_every: Logging period.

    Returns:
        Per logging period, the mean ``loss`` (weighted sum) and each unweighted loss.

    Raises:
        ConfigError: The model's gate is not a ``reuse_mask`` ReuseGate, or ``target`` is
            not one of :data:`MASK_TARGETS`.
        DataError: The traces hold no sample.
    """
    gate = mask_gate(model)
    check_mask_target(target)  # before any sample runs
    return fit_path(
        gate,
        traces,
        ages,
        (gate.template, gate.matching, gate.delta, gate.mask_translator),
        lambda sample, d: mask_losses(mask_pass(gate, traces, sample, d), target),
        {"mask": mask_weight, "delta": delta_weight},
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        log=log,
        log_every=log_every,
    )


def train_mask_gate(
    model: VOSModel,
    traces: Sequence[SequenceTrace],
    *,
    ages: Sequence[int] = DEFAULT_AGES,
    steps: int = 1500,
    batch_size: int = 16,
    lr: float = 1e-3,
    seed: int = 0,
    quality_scale: float = 0.2,
    log: Callable[[int, float], None] | None = None,
    log_every: int = 100,
) -> list[float]:
    """Train the gate function on the trained path's quality (after
    :func:`train_mask_path_on_traces`); only the gate function learns.

    Returns:
        The mean loss of each logging period.
    """
    gate = mask_gate(model)
    gate.eval()

    def alternative(sample: Sample, d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            p = mask_pass(gate, traces, sample, d.detach())
        return p.base_logits, p.logits

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
        alternative=memo_signs(alternative),  # D_t is frozen: one path run per sample
        frozen=(gate.template, gate.matching, gate.delta, gate.mask_translator),
    )


@torch.no_grad()
def mask_path_report(
    model: VOSModel,
    traces: Sequence[SequenceTrace],
    taus: Sequence[float] = (0.9, 0.8, 0.7, 0.5, 0.3),
    ages: Sequence[int] = (1,),
) -> dict[str, Any]:
    """On held-out traces: how close the path comes to the base model (``fidelity``: mean
    IoU of its mask with the base's own at ``t``, the mean absolute difference of their
    probabilities, the ``mask`` loss, and the IoU a plain copy of ``t - n`` gives) and, per
    ``tau``, the share of samples reused and the IoU lost there against the ground truth
    (``calibration``, :func:`~.calibration.operating_points`)."""
    gate = mask_gate(model)
    gate.eval()
    ps, losses = [], []
    sums = dict.fromkeys(("iou", "prob_error", "mask_loss", "iou_copy"), 0.0)
    samples = nonempty_samples(traces, ages)
    for s, obj_id, t, n in samples:
        x = gate_inputs(gate, traces, (s, obj_id, t, n))
        d, p_reuse = gate.gate_forward(x.cut, x.prev, x.template, x.cues)
        p = mask_pass(gate, traces, (s, obj_id, t, n), d)
        base, alt = (p.base_logits > 0).float(), (p.logits > 0).float()
        sums["iou"] += float(mask_iou(alt, base))
        sums["prob_error"] += float(
            (torch.sigmoid(p.logits) - torch.sigmoid(p.base_logits)).abs().mean()
        )
        sums["mask_loss"] += float(mask_losses(p)["mask"])
        prev = traces[s].objects[obj_id].prob[t - n : t - n + 1].float()
        sums["iou_copy"] += float(mask_iou(prev, base))
        gt = traces[s].objects[obj_id].gt[t : t + 1].float()
        losses.append(float(mask_iou(base, gt) - mask_iou(alt, gt)))
        ps.append(float(p_reuse[0]))
    k = len(samples)
    return {
        "fidelity": {name: v / k for name, v in sums.items()},
        "calibration": operating_points(torch.tensor(ps), torch.tensor(losses), taus),
    }


__all__ = [
    "DEFAULT_AGES",
    "MASK_TARGETS",
    "check_mask_target",
    "MaskPass",
    "mask_gate",
    "mask_losses",
    "mask_pass",
    "mask_path_report",
    "record_mask_sequence",
    "record_mask_traces",
    "train_mask_gate",
    "train_mask_path_on_traces",
]
