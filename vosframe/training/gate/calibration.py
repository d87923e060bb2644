"""Calibration of a copy gate on recorded traces: reuse rate and IoU lost per ``tau``.

:func:`gate_calibration` scores frames one at a time with a fixed cache age. At inference
the gate's decisions chain: a copied frame keeps the cache of the object's last computed
frame, so the next decision sees an older cache, and
``max_reuse_run`` forces a computed frame after a run of copies. :func:`simulate_gate`
replays that loop on held-out traces of the base model, per object:

* frame ``t`` copies iff the object is ready, its run of copies is below the cap, the
  copy fits the drift budget and the pre-gate (if any) or the gate gives
  ``p_reuse > tau``; its output is then the mask of
  the last computed frame ``c`` (moved with the object's pixels with ``copy_motion``);
* otherwise the frame is computed and its output is the trace's (the base model's) mask.

The J lost on a copied frame is ``IoU(full_t, gt_t) - IoU(mask_c, gt_t)``. Approximation:
the base model's outputs come from a run that computed every frame (at inference a
localizer that learns online, such as FRTM's, skips the updates of reused frames).
This gives a train-split estimate of the operating point at a ``tau`` and a cap, for
choosing a recipe without looking at validation videos.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from vosframe.core.state import DecisionOptions
from vosframe.plugins.reuse_gate.cues import coarse_mask, mask_change, shift_mask
from vosframe.plugins.reuse_gate.policy import copy_capped, takes_alt

from .clip import mask_iou
from .pre_gate import pre_samples
from .traces import copy_gate, sample_batch, trace_samples, trace_shift

if TYPE_CHECKING:
    from vosframe.core.model import VOSModel

    from .traces import SequenceTrace


@torch.no_grad()
def gate_calibration(
    model: VOSModel,
    traces: Sequence[SequenceTrace],
    taus: Sequence[float] = (0.9, 0.8, 0.7, 0.5, 0.3),
    ages: Sequence[int] = (1,),
) -> list[dict[str, float]]:
    """Per ``tau``: the share of frames the gate reuses and the IoU copying loses there.

    Returns:
        One row per ``tau``: ``reuse`` (share of samples with ``p_reuse > tau``),
        ``iou_loss_reused`` (mean IoU lost against the full path on those samples),
        ``iou_loss_all`` (that loss spread over all samples: the mean per-frame J drop).
    """
    gate = copy_gate(model)
    gate.eval()
    policy = gate.policy
    samples = trace_samples(traces, ages)
    ps, losses = [], []
    for i in range(0, len(samples), 64):
        chunk = samples[i : i + 64]
        p, _ = sample_batch(gate, traces, chunk)
        ps.append(p)
        for s, obj_id, t, n in chunk:
            obj = traces[s].objects[obj_id]
            gt = obj.gt[t : t + 1].float()
            copied = obj.prob[t - n : t - n + 1].float()
            if policy.copy_motion:
                shift = trace_shift(traces[s], obj.start, t - n, t, copied, policy.motion_radius)
                copied = shift_mask(copied, shift)
            lost = mask_iou(obj.prob[t : t + 1].float(), gt) - mask_iou(copied, gt)
            losses.append(float(lost))
    return operating_points(torch.cat(ps), torch.tensor(losses), taus)


def operating_points(
    p_reuse: torch.Tensor, iou_loss: torch.Tensor, taus: Sequence[float]
) -> list[dict[str, float]]:
    """Per ``tau``: the share of samples with ``p_reuse > tau`` (``reuse``), the mean IoU
    the alternative path loses on them (``iou_loss_reused``) and that loss spread over all
    samples (``iou_loss_all``)."""
    n, rows = max(1, len(p_reuse)), []
    for tau in taus:
        reuse = p_reuse > tau
        k = int(reuse.sum())
        rows.append(
            {
                "tau": float(tau),
                "reuse": k / n,
                "iou_loss_reused": float(iou_loss[reuse].mean()) if k else 0.0,
                "iou_loss_all": float(iou_loss[reuse].sum()) / n,
            }
        )
    return rows


@torch.no_grad()
def simulate_gate(
    model: VOSModel,
    traces: Sequence[SequenceTrace],
    taus: Sequence[float] = (0.9, 0.8, 0.7, 0.5, 0.3),
    max_reuse_run: int | None = None,
    drift_budget: float | None = None,
) -> list[dict[str, float]]:
    """Run the copy gate frame by frame over ``traces`` at each ``tau``.

    Args:
        model: The model with its ``copy`` ReuseGate.
        traces: Recorded sequences (:func:`~vosframe.training.gate.traces.record_traces`).
        taus: Thresholds.
        max_reuse_run: The cap (default: the gate's own).
        drift_budget: The drift budget (default: the gate's own; see
            :func:`~vosframe.plugins.reuse_gate.policy.copy_capped`), on the
            traced masks as at inference (the stride-4 grid).

    Returns:
        One row per ``tau``: ``reuse`` (copied frames / frames after each object's first),
        ``j_loss`` (mean IoU lost per frame over those frames, the J drop; negative
        where copies beat the base model) and ``j_loss_worst`` (the largest per-object
        J drop); ``pre_gate_share``: the share of copies the pre-gate decided.
    """
    gate = copy_gate(model)
    gate.eval()
    policy = gate.policy
    cap = policy.max_reuse_run if max_reuse_run is None else max_reuse_run
    budget = policy.drift_budget if drift_budget is None else drift_budget
    rows = []
    for tau in taus:
        options = DecisionOptions(tau=float(tau))
        copied = frames = pre_copied = 0
        lost_total, worst = 0.0, float("-inf")
        for s, tr in enumerate(traces):
            for obj_id, obj in tr.objects.items():
                last, run, lost_obj, rate = 0, 0, 0.0, None
                n_frames = obj.gt.shape[0] - 1
                for t in range(1, obj.gt.shape[0]):
                    copy = False
                    if not copy_capped(run, rate, tau, cap, budget):
                        sample = [(s, obj_id, t, t - last)]
                        if gate.arch.pre_gate:
                            p_pre = float(gate.pre(pre_samples(gate, traces, sample)[0])[0])
                            copy = takes_alt(p_pre, options)
                            pre_copied += int(copy)
                        if not copy:
                            p, _ = sample_batch(gate, traces, sample)
                            copy = takes_alt(float(p[0]), options)
                    if copy:
                        gt = obj.gt[t : t + 1].float()
                        out = obj.prob[last : last + 1].float()
                        if policy.copy_motion:
                            shift = trace_shift(tr, obj.start, last, t, out, policy.motion_radius)
                            out = shift_mask(out, shift)
                        lost_obj += float(
                            mask_iou(obj.prob[t : t + 1].float(), gt) - mask_iou(out, gt)
                        )
                        run += 1
                        copied += 1
                    else:
                        change = mask_change(
                            coarse_mask(obj.prob[t : t + 1]), coarse_mask(obj.prob[last : last + 1])
                        )
                        rate = float(change[0]) / (t - last)
                        last, run = t, 0
                frames += n_frames
                lost_total += lost_obj
                worst = max(worst, lost_obj / max(1, n_frames))
        rows.append(
            {
                "tau": float(tau),
                "reuse": copied / max(1, frames),
                "j_loss": lost_total / max(1, frames),
                "j_loss_worst": worst if frames else 0.0,
                "pre_gate_share": pre_copied / max(1, copied),
            }
        )
    return rows
