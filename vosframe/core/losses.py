"""Auxiliary training losses any base model can enable in its config: the protocol.

This module holds :class:`AuxLoss`, :class:`LossContext` and the builder; the losses
themselves live in :mod:`vosframe.losses` and other packages. A base model lists them as
``aux_losses=[dict(type="TemporalConsistencyLoss", level=8)]``; they are built from the
:data:`vosframe.registry.LOSSES` registry with the refiner's level channels, become
submodules of the model (their heads are trained, never used at inference) and are called
by the unrolled clip loop (:mod:`vosframe.core.training`) once per frame with a
:class:`LossContext`.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import torch
import torch.nn.functional as F
from torch import nn

from vosframe.core.errors import ConfigError


@attrs.define(eq=False)
class LossContext:
    """What an auxiliary loss sees of one training frame (one object).

    Attributes:
        t: Frame index in the clip (>= 1).
        score: ``(1, C, h, w)`` the localizer's output on the frame.
        captured: Refiner level outputs keyed by stride (those the losses asked for).
        logits: ``(1, 1, H, W)`` the frame's mask logits.
        gt: ``(1, 1, H, W)`` the frame's ground truth in ``{0, 1}``.
        prev_prob: ``(1, 1, H, W)`` the previous frame's output probability (frame 0: its
            ground truth).
        extras: Model-specific tensors some losses need (e.g. ``score_full``: the score
            from an unbounded memory). A model that supports such a loss always sets the
            key (None on frames where it does not apply); a missing key means the model
            cannot feed that loss.
    """

    t: int
    score: torch.Tensor
    captured: dict[int, torch.Tensor]
    logits: torch.Tensor
    gt: torch.Tensor
    prev_prob: torch.Tensor
    extras: dict[str, torch.Tensor | None] = attrs.Factory(dict)


class AuxLoss(nn.Module):
    """Base class: ``levels`` to capture from the refiner, ``forward(ctx) -> {name: loss}``.

    Loss names contain ``loss`` (mmengine sums them into the total); other keys are logged.
    """

    levels: tuple[int, ...] = ()

    def forward(self, ctx: LossContext) -> dict[str, torch.Tensor]:  # pragma: no cover
        """The frame's losses."""
        raise NotImplementedError


def area_resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Area-average a full-size map to ``size`` (exact for integer factors)."""
    return F.adaptive_avg_pool2d(x.float(), size)


def build_aux_losses(cfgs, refiner_channels: Mapping[int, int]) -> nn.ModuleList:
    """Build ``aux_losses`` config entries with the refiner's level channels."""
    from vosframe.registry import LOSSES, build_from_cfg

    out = nn.ModuleList()
    for cfg in cfgs or ():
        loss = build_from_cfg(cfg, LOSSES, refiner_channels=dict(refiner_channels))
        if not isinstance(loss, AuxLoss):
            raise ConfigError(f"{type(loss).__name__} is not an AuxLoss (vosframe.core.losses)")
        out.append(loss)
    return out
