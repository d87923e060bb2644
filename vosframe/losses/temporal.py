"""TTVOS's temporal consistency loss (Park et al., TTVOS), for any base model with a refiner."""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from vosframe.core.errors import ConfigError
from vosframe.core.losses import AuxLoss, LossContext, area_resize


class TemporalConsistencyLoss(AuxLoss):
    """TTVOS's temporal consistency loss, for any base model with a refiner.

    A head (3x3 conv) on the refiner level at ``level`` predicts the transition
    ``pi_t = H_t - H_hat_{t-1}`` at that level's grid: the ground truth of frame ``t`` minus
    the model's prediction on frame ``t - 1`` (frame 0: its ground truth), both
    area-averaged to the grid. The loss is ``weight * MSE(tanh(head), pi_t)``.

    Decisions (official code vs here): the official head outputs a 2-channel *softmax*
    (>= 0) that regresses a signed target in ``[-1, 1]`` (the official TTVOS code);
    here one ``tanh`` channel predicts the foreground transition (the background one is its
    negative), so the target is reachable. The previous prediction is detached: it is part
    of the target, not something this loss should move (the official code backpropagates
    into it).

    Args:
        refiner_channels: Output channels per refiner level (given by the model).
        level: Stride of the refiner level the head reads (8 in TTVOS: ``u8``).
        weight: Loss weight (1.0 in TTVOS).
    """

    def __init__(
        self, refiner_channels: Mapping[int, int], level: int = 8, weight: float = 1.0
    ) -> None:
        super().__init__()
        if level not in refiner_channels:
            raise ConfigError(
                f"TemporalConsistencyLoss.level={level} is not a refiner level; levels: "
                f"{sorted(refiner_channels)}. Fix: pick one of them."
            )
        self.levels = (int(level),)
        self.weight = float(weight)
        self.head = nn.Conv2d(refiner_channels[level], 1, 3, padding=1)

    def forward(self, ctx: LossContext) -> dict[str, torch.Tensor]:
        """``{"loss_temporal": ...}``."""
        x = ctx.captured[self.levels[0]]
        size = tuple(x.shape[-2:])
        target = area_resize(ctx.gt, size) - area_resize(ctx.prev_prob.detach(), size)
        pred = torch.tanh(self.head(x).float())
        return {"loss_temporal": self.weight * F.mse_loss(pred, target)}
