"""The pre-gate: a copy decision from the pixels alone, before the backbone runs.

A frame on which every object copies its mask still pays for the backbone up to the
feature cut and for the gate (on G-FRTM at 360p: ~9 of ~14 ms), because the gate reads
F_t. The pre-gate is a first, cheaper stage of a cascade: from a few scalars that need no
feature of the frame (how much the pixels changed around the object's boundary and over
the whole frame since the object's last computed frame, the object's area, the cache age
and, with ``history_cue``, how fast its mask changed recently) a small MLP gives a
probability of reuse. Objects with ``p > pre_tau`` copy at once (``pre_tau = tau +
pre_margin * (1 - tau)``: a stricter threshold, since this stage sees less); the others
go to the full gate. When every object copies here, the engine skips the feature extractor
(:meth:`~vosframe.core.plugin.ModelPlugin.predecide`).

It starts inert (reuse probability ~0.02) and is trained on inference traces after the
gate (:func:`train_pre_gate`), on the same ``alt_quality`` target. Copy variant only.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

from vosframe.core.errors import DataError
from vosframe.core.state import FrameState, ObjectState

from .modules import downsample_mask, image_change_cue

if TYPE_CHECKING:
    from vosframe.core.model import VOSModel

    from .traces import SequenceTrace


def pre_gate_inputs(
    image: torch.Tensor,
    last_image: torch.Tensor,
    prob: torch.Tensor,
    age: torch.Tensor,
    history: torch.Tensor | None = None,
    pixel: torch.Tensor | None = None,
) -> torch.Tensor:
    """``(N, 5)`` (or ``(N, 6)`` with ``history``) pre-gate inputs, all logarithmic.

    Args:
        image: ``(1, 3, h, w)`` the frame, pooled (:func:`pool_image`).
        last_image: ``(N, 3, h, w)`` each object's last computed frame, pooled.
        prob: ``(N, 1, H, W)`` each object's last output mask (or already on the grid of
            ``image``).
        age: ``(N,)`` frames since each object's last computed frame.
        history: ``(N,)`` each object's recent mask change per frame (``history_cue``).
        pixel: ``(N, 2, 1, 1)`` :func:`image_change_cue` of the objects, when already
            computed (as ``gate_input``'s ``pixel``).

    Returns:
        The boundary-band change and its per-cell form
        (:func:`~vosframe.plugins.reuse_gate.modules.image_change_cue`), the frame's mean
        change, the object's area and the cache age (and the history rate).
    """
    last = last_image.float()
    if pixel is None:
        pixel = image_change_cue(image, last, prob)
    band = pixel.flatten(1)
    change = (image.float() - last).abs().mean((1, 2, 3))
    area = downsample_mask(prob.float(), tuple(last.shape[-2:])).mean((1, 2, 3))
    cols = [band, torch.log(change + 1e-3)[:, None], torch.log(area + 1e-4)[:, None]]
    cols.append(torch.log(age.float().to(band.device))[:, None])
    if history is not None:
        cols.append(torch.log(history.float().to(band.device) + 1e-3)[:, None])
    return torch.cat(cols, 1)


class PreGate(nn.Module):
    """MLP ``inputs -> 16 -> 1`` giving the pre-gate's reuse logit; inert at init.

    The inputs are standardised by fixed statistics (``shift``, ``scale`` buffers, set from
    the training samples by :func:`train_pre_gate`).
    """

    def __init__(self, inputs: int, hidden: int = 16) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        self.register_buffer("shift", torch.zeros(inputs))
        self.register_buffer("scale", torch.ones(inputs))
        with torch.no_grad():
            self.net[2].weight.zero_()
            self.net[2].bias.fill_(-4.0)  # P(reuse) = 0.018: never above a sane tau

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N,)`` reuse probabilities."""
        z = (x.float() - self.shift) / self.scale
        return torch.sigmoid(self.net(z)[:, 0])


class PreGating:
    """Mixin of :class:`~vosframe.plugins.reuse_gate.plugin.ReuseGate`: ``predecide``."""

    pre_gate: bool
    pre_margin: float
    pre: PreGate
    history_cue: bool
    max_reuse_run: int | None
    key: str

    def pre_tau(self, tau: float) -> float:
        """The pre-gate's threshold: ``tau + pre_margin * (1 - tau)`` (1 when ``tau`` is)."""
        return tau + self.pre_margin * (1.0 - tau)

    def predecide(self, frame: FrameState, objects: Sequence[ObjectState]) -> list[bool]:
        """Copy objects the pre-gate is sure about (``p > pre_tau``) before any feature runs."""
        options = frame.options
        decision = [False] * len(objects)
        self.clear_confidence(objects)  # type: ignore[attr-defined]
        if not self.pre_gate or not self.runs(options) or options.force is not None:  # type: ignore[attr-defined]
            return decision
        idx = []
        for i, o in enumerate(objects):
            st = o.plugins.get(self.key)
            if st is None or self.reuse_capped(st, options.tau):  # type: ignore[attr-defined]
                continue
            if self._ready(o):  # type: ignore[attr-defined]
                idx.append(i)
        if not idx:
            return decision
        states = [objects[i].plugins[self.key] for i in idx]
        objs = [objects[i] for i in idx]
        image = self.frame_image(frame)  # type: ignore[attr-defined]
        grid = (int(image.shape[-2]), int(image.shape[-1]))
        x = pre_gate_inputs(
            image,
            torch.cat([s.image for s in states]),
            self.object_masks(objs, grid),  # type: ignore[attr-defined]
            torch.tensor([s.run + 1 for s in states]),
            torch.tensor([s.mask_rate for s in states]) if self.history_cue else None,
            pixel=self.pixel_change(frame, objs),  # type: ignore[attr-defined]
        )
        p = self.pre(x).tolist()
        for k, (i, st) in enumerate(zip(idx, states)):
            if p[k] > self.pre_tau(options.tau):
                decision[i] = True
                st.p_reuse, st.copy, st.delta = p[k], True, None
        return decision


def _pre_samples(
    gate: PreGating, traces: Sequence[SequenceTrace], samples: Sequence[tuple]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pre-gate inputs and ``alt_quality`` targets of trace samples ``(s, obj, t, n, m)``."""
    from .inputs import coarse_mask, mask_change
    from .traces import moved_sample
    from .training import alt_quality_target

    xs, ys = [], []
    for s, obj_id, t, n, m in samples:
        tr, obj = traces[s], traces[s].objects[obj_id]
        if tr.images is None:
            raise DataError(f"trace {tr.name} has no images; record it again for the pre-gate")
        frames = tr.images[obj.start :]
        last_prob = obj.prob[t - n : t - n + 1].float()
        history = None
        if gate.history_cue:
            before = coarse_mask(obj.prob[t - n - m : t - n - m + 1].float())
            history = mask_change(coarse_mask(last_prob), before) / m
        copied, pixel = moved_sample(gate, tr, obj.start, t, n, last_prob)  # type: ignore[arg-type]
        xs.append(
            pre_gate_inputs(
                frames[t : t + 1].float(),
                frames[t - n : t - n + 1].float(),
                last_prob,
                torch.tensor([n]),
                history,
                pixel=pixel,
            )
        )
        full = obj.prob[t : t + 1].float() - 0.5
        ys.append(
            alt_quality_target(full, copied - 0.5, obj.gt[t : t + 1].float(), gate.quality_scale)
        )  # type: ignore[attr-defined]
    return torch.cat(xs), torch.stack(ys).flatten()


def train_pre_gate(
    model: VOSModel,
    traces: Sequence[SequenceTrace],
    *,
    steps: int = 1000,
    lr: float = 3e-3,
    seed: int = 0,
    over_weight: float = 1.0,
) -> list[float]:
    """Fit the pre-gate on every ``(t, n[, m])`` sample of the traces (full batch, Adam).

    ``over_weight`` weighs the squared error where the pre-gate over-estimates the target
    (a wrong copy costs accuracy, a wrong "ask the gate" only the gate's time), so values
    above 1 make it conservative.

    Returns:
        The loss every 100 steps.
    """
    from .traces import _copy_gate, _samples

    gate = _copy_gate(model)
    if not gate.pre_gate:
        raise DataError("this gate has no pre-gate (ReuseGate(pre_gate=True))")
    ages = tuple(range(1, (gate.max_reuse_run or 2) + 1))
    gaps = tuple(range(1, len(ages) + 2)) if gate.history_cue else None
    samples = _samples(traces, ages, gaps)
    if not samples:
        raise DataError("the traces hold no frame after an object's first frame")
    with torch.no_grad():
        x, y = _pre_samples(gate, traces, samples)
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
