"""TTVOS's decoder (official ``REFINEV3``) as a :class:`~vosframe.core.stages.Refiner`.

Levels, coarse to fine (``inter = min(128, C4)``; ``N`` objects, features batch 1):

* stride 16: ``u16 = ConvReLU3x3(cat(s16_t, short-term output))`` -> ``inter`` channels;
* stride 8: ``out16 = ConvT4x4 s2(u16)`` (2 ch), ``u8 = ConvReLU3x3(cat(ConvReLU1x1(LT_sim),
  out16))``; output ``cat(u8, out16)`` (``inter + 2``);
* stride 4: ``out8 = ConvT4x4 s2(u8)``, ``o16 = ConvT4x4 s2(out16)``,
  ``u4 = ConvReLU3x3(cat(ConvReLU1x1(s4), out8))``; output ``cat(o16, out8, u4)``
  (``inter + 4``);
* head: ``ConvT4x4 s2`` to 8 channels at stride 2, ``PixelShuffle(2)`` -> ``[bg, fg]``
  logits at full resolution; the binary logit is ``fg - bg`` (the same softmax).

Each level's output is a re-entry point (``R_t@16``, ``R_t@8``, ``R_t@4``). On this CPU
the full-resolution tail is cheap (8 channels), so re-entering late skips almost the
whole decoder; see ``benchmarks/ttvos_stages.py``.

Decisions: the official adaptive update weight is computed from ``u8`` here; it moved to
the localizer (see :mod:`vosframe.models.ttvos.localizer`). Sizes that are not multiples
of 16 are handled by cropping each upsampled grid to the finer feature's grid instead of
reflect-padding the image (the official code pads to a multiple of 16).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vosframe.core.stages import Refiner
from vosframe.core.state import Features

from .localizer import unpack_attention
from .modules import ConvReLU, fit_to


def _deconv(cin: int, cout: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1)


class TTVOSDecoder(Refiner):
    """The TTVOS decoder.

    Args:
        c16: Stride-16 feature channels.
        c8: Stride-8 feature channels (``LT_sim`` has as many).
        c4: Stride-4 feature channels.
        c_short: Channels of the short-term part of the localizer's encoding.
    """

    levels = (16, 8, 4)

    def __init__(self, c16: int, c8: int, c4: int, c_short: int) -> None:
        super().__init__()
        inter = min(128, c4)
        self.inter, self.c_short = inter, c_short
        self.channels = {16: inter, 8: inter + 2, 4: inter + 4}
        self.blend_s16 = ConvReLU(c16 + c_short, inter, 3)
        self.deconv1_1 = _deconv(inter, 2)
        self.conv_s8 = ConvReLU(c8, inter, 1)
        self.blend_s8 = ConvReLU(inter + 2, inter, 3)
        self.deconv2 = _deconv(inter, 2)
        self.deconv1_2 = _deconv(2, 2)
        self.conv_s4 = ConvReLU(c4, inter, 1)
        self.blend_s4 = ConvReLU(inter + 2, inter, 3)
        self.deconv3 = _deconv(inter + 4, 8)

    def attention(self, score: torch.Tensor, features: Features) -> torch.Tensor:
        """``LT_sim`` from an encoding, at the stride-8 feature grid."""
        return unpack_attention(score, self.c_short, tuple(features[8].shape[-2:]))

    def stage(
        self, stride: int, x: torch.Tensor | None, score: torch.Tensor, features: Features
    ) -> torch.Tensor:
        """Run one level (see the module notes)."""
        n = score.shape[0]
        f = features[stride]
        if stride == 16:
            short = score[:, : self.c_short]
            return self.blend_s16(torch.cat([f.expand(n, -1, -1, -1), short.to(f.dtype)], 1))
        assert x is not None, f"level {stride} needs the previous level's output"
        size = tuple(f.shape[-2:])
        if stride == 8:
            out16 = fit_to(self.deconv1_1(x), size)
            lt = self.attention(score, features)
            u8 = self.blend_s8(torch.cat([self.conv_s8(lt.to(f.dtype)), out16.to(f.dtype)], 1))
            return torch.cat([u8, out16.to(u8.dtype)], 1)
        if stride == 4:
            u8, out16 = x[:, : self.inter], x[:, self.inter :]
            out8 = fit_to(self.deconv2(u8), size)
            o16 = fit_to(self.deconv1_2(out16), size)
            red = self.conv_s4(f).expand(n, -1, -1, -1)
            u4 = self.blend_s4(torch.cat([red, out8.to(red.dtype)], 1))
            return torch.cat([o16.to(u4.dtype), out8.to(u4.dtype), u4], 1)
        raise ValueError(f"TTVOSDecoder has no level at stride {stride}")

    def head(
        self, x: torch.Tensor, score: torch.Tensor, features: Features, out_size: tuple[int, int]
    ) -> torch.Tensor:
        """``(N, 1, H, W)`` logits: ``fg - bg`` of the PixelShuffle output."""
        two = F.pixel_shuffle(self.deconv3(x), 2)
        two = fit_to(two, out_size)
        return (two[:, 1:2] - two[:, 0:1]).float()
