"""Training the pre-gate (:class:`~vosframe.plugins.reuse_gate.networks.PreGate`) on traces.

The pre-gate copies an object's mask from pixel cues before the backbone runs; it starts
inert and is fitted after the gate, on the same traces and the same ``alt_quality`` target
(:func:`~vosframe.training.gate.clip.alt_quality_target`), with its inputs standardised by
the training samples' statistics.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from vosframe.core.errors import DataError
from vosframe.plugins.reuse_gate import ReuseGate
from vosframe.plugins.reuse_gate.cues import pre_gate_inputs

from .clip import alt_quality_target
from .traces import Sample, copy_gate, moved_sample, nonempty_samples

if TYPE_CHECKING:
    from vosframe.core.model import VOSModel

    from .traces import SequenceTrace


def pre_samples(
    gate: ReuseGate,
    traces: Sequence[SequenceTrace],
    samples: Sequence[Sample],
    quality_scale: float = 0.2,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pre-gate inputs and ``alt_quality`` targets of trace samples ``(s, obj, t, n)``."""
    xs, ys = [], []
    for s, obj_id, t, n in samples:
        tr, obj = traces[s], traces[s].objects[obj_id]
        if tr.images is None:
            raise DataError(f"trace {tr.name} has no images; record it again for the pre-gate")
        frames = tr.images[obj.start :]
        last_prob = obj.prob[t - n : t - n + 1].float()
        copied, pixel = moved_sample(gate, tr, obj.start, t, n, last_prob)
        xs.append(
            pre_gate_inputs(
                frames[t : t + 1].float(),
                frames[t - n : t - n + 1].float(),
                last_prob,
                torch.tensor([n]),
                pixel=pixel,
            )
        )
        full = obj.prob[t : t + 1].float() - 0.5
        ys.append(alt_quality_target(full, copied - 0.5, obj.gt[t : t + 1].float(), quality_scale))
    return torch.cat(xs), torch.stack(ys).flatten()


def train_pre_gate(
    model: VOSModel,
    traces: Sequence[SequenceTrace],
    *,
    steps: int = 1000,
    lr: float = 3e-3,
    seed: int = 0,
    over_weight: float = 1.0,
    quality_scale: float = 0.2,
) -> list[float]:
    """Fit the pre-gate on every ``(t, n)`` sample of the traces (full batch, Adam).

    ``over_weight`` weighs the squared error where the pre-gate over-estimates the target
    (a wrong copy costs accuracy, a wrong "ask the gate" only the gate's time), so values
    above 1 make it conservative. ``quality_scale``: as the gate's training
    (:func:`~vosframe.training.gate.clip.alt_quality_target`).

    Returns:
        The loss every 100 steps.
    """
    gate = copy_gate(model)
    if not gate.arch.pre_gate:
        raise DataError("this gate has no pre-gate (ReuseGate(pre_gate=True))")
    ages = tuple(range(1, (gate.policy.max_reuse_run or 2) + 1))
    samples = nonempty_samples(traces, ages)
    with torch.no_grad():
        x, y = pre_samples(gate, traces, samples, quality_scale)
    pre = gate.pre
    pre.shift.copy_(x.mean(0))
    pre.scale.copy_(x.std(0).clamp(min=1e-3))
    torch.manual_seed(seed)
    random.seed(seed)
    with torch.no_grad():  # a fresh start (the inert init has a zero last layer)
        for layer in (pre.net[0], pre.net[2]):
            layer.reset_parameters()
    params = list(pre.parameters())
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=lr)
    history = []
    pre.train()
    for step in range(1, steps + 1):
        p = pre(x)
        weight = torch.where(p.detach() > y, over_weight, 1.0)
        loss = (weight * (p - y).pow(2)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == steps:
            history.append(float(loss.detach()))
    pre.eval()
    return history
