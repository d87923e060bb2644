"""A soft-IoU (soft Jaccard) loss on the frame's mask, for any base model."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from vosframe.core.errors import ConfigError
from vosframe.core.losses import AuxLoss, LossContext


class SoftIoULoss(AuxLoss):
    """``weight * (1 - soft IoU)`` of the frame's mask probabilities and its ground truth.

    With ``p = sigmoid(logits)`` and ground truth ``g``:
    ``soft IoU = (sum(p * g) + smooth) / (sum(p + g - p * g) + smooth)`` (the soft Jaccard
    index of Rahman and Wang, "Optimizing Intersection-Over-Union in Deep Neural Networks
    for Image Segmentation", ISVC 2016).

    Why: per-pixel cross entropy on small objects is dominated by background pixels; a
    model trained with it alone can sit for a long time at probabilities below 0.5 on the
    object (empty thresholded masks at a low loss). The soft IoU weighs the object as a
    whole, whatever its size, so it pulls object pixels up from the start. It is added to
    the clip loop's cross entropy, not a replacement for it.

    On a frame whose object is absent (empty ground truth) the soft IoU is
    ``smooth / (sum(p) + smooth)``: the loss is near 1 while much is predicted and 0 for
    an empty prediction.

    Args:
        refiner_channels: Output channels per refiner level (given by the model; unused:
            the loss reads only the final logits).
        weight: Loss weight (> 0).
        smooth: Added to the intersection and the union (> 0): keeps the ratio defined on
            empty frames and its gradient finite.
    """

    def __init__(
        self,
        refiner_channels: Mapping[int, int] | None = None,
        weight: float = 1.0,
        smooth: float = 1.0,
    ) -> None:
        super().__init__()
        if not weight > 0:
            raise ConfigError(f"SoftIoULoss.weight must be > 0, got {weight}. Fix: e.g. 1.0.")
        if not smooth > 0:
            raise ConfigError(f"SoftIoULoss.smooth must be > 0, got {smooth}. Fix: e.g. 1.0.")
        self.weight, self.smooth = float(weight), float(smooth)

    def forward(self, ctx: LossContext) -> dict[str, torch.Tensor]:
        """``{"loss_iou": ...}`` of the frame."""
        p = torch.sigmoid(ctx.logits.float())
        g = ctx.gt.float()
        inter = (p * g).sum()
        union = (p + g - p * g).sum()
        soft_iou = (inter + self.smooth) / (union + self.smooth)
        return {"loss_iou": self.weight * (1.0 - soft_iou)}
