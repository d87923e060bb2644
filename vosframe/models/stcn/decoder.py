"""STCN's decoder as a :class:`~vosframe.core.stages.Refiner` (official ``Decoder``).

Levels, coarse to fine (``N`` objects; features batch 1):

* stride 16: ``compress = ResBlock(2 Cv -> c16o)`` on ``cat(readout, query value)``;
* stride 8: ``skip8(f8) + up2(x) -> ResBlock(c16o -> c8o)`` (``up_16_8``);
* stride 4: ``skip4(f4) + up2(x) -> ResBlock(c8o -> c4o)`` (``up_8_4``);
* head: ``conv3x3(ReLU(x)) -> 1`` logit, bilinearly resized to the output size.

Each level's output is a re-entry point (``R_t@16``, ``R_t@8``, ``R_t@4``).

Decision (widths): STCN uses 512 / 256 / 256 channels for a GPU; here (128, 64, 32) by
default, because at 480p on a 2-core CPU the stride-4 and stride-8 levels dominate the
decoder's cost (it runs per object on every frame) and the EfficientNet-Lite0 skip
features are only 40 (stride 8) and 24 (stride 4) channels wide.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vosframe.core.stages import Refiner
from vosframe.core.state import Features

from .modules import ResBlock


class MemoryDecoder(Refiner):
    """STCN's decoder with configurable widths.

    Args:
        score_channels: Channels of the localizer output (``2 Cv``).
        c8: Stride-8 feature channels.
        c4: Stride-4 feature channels.
        widths: Output channels of the stride-16, 8 and 4 levels.
    """

    levels = (16, 8, 4)

    def __init__(
        self, score_channels: int, c8: int, c4: int, widths: tuple[int, int, int] = (128, 64, 32)
    ) -> None:
        super().__init__()
        w16, w8, w4 = (int(w) for w in widths)
        self.channels = {16: w16, 8: w8, 4: w4}
        self.compress = ResBlock(score_channels, w16)
        self.skip8 = nn.Conv2d(c8, w16, 3, padding=1)
        self.up8 = ResBlock(w16, w8)
        self.skip4 = nn.Conv2d(c4, w8, 3, padding=1)
        self.up4 = ResBlock(w8, w4)
        self.pred = nn.Conv2d(w4, 1, 3, padding=1)

    def stage(
        self, stride: int, x: torch.Tensor | None, score: torch.Tensor, features: Features
    ) -> torch.Tensor:
        """Run one level (see the module notes)."""
        if stride == 16:
            return self.compress(score)
        assert x is not None, f"level {stride} needs the previous level's output"
        if stride not in (8, 4):
            raise ValueError(f"MemoryDecoder has no level at stride {stride}")
        f = features[stride]
        skip = self.skip8(f) if stride == 8 else self.skip4(f)
        up = F.interpolate(x, size=tuple(f.shape[-2:]), mode="bilinear", align_corners=False)
        block = self.up8 if stride == 8 else self.up4
        return block(skip.to(up.dtype) + up)

    def head(
        self, x: torch.Tensor, score: torch.Tensor, features: Features, out_size: tuple[int, int]
    ) -> torch.Tensor:
        """``(N, 1, H, W)`` logits at ``out_size``."""
        logit = self.pred(F.relu(x))
        return F.interpolate(logit, size=out_size, mode="bilinear", align_corners=False).float()
