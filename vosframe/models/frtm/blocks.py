"""Building blocks of the FRTM refiner (``SegNetwork`` in the official code).

Submodule and parameter names inside each block follow the official code (``reduce``,
``transform``, ``conv1x1``, ``bblock``, ``convreluconv``, ``conv1``, ``conv2``) so that an
official checkpoint maps onto these blocks by renaming only the prefix (see
:mod:`vosframe.models.frtm.convert`).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn


def conv(in_channels: int, out_channels: int, kernel_size: int, bias: bool = True) -> nn.Conv2d:
    """A 'same'-padded convolution (``padding = kernel_size // 2``), as in the official code."""
    return nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=bias)


def resize_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinearly resize ``x`` to ``size`` (``align_corners=False``); a no-op if it matches."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class TSE(nn.Module):
    """Target segmentation encoder: reduce the features, concatenate the score, transform.

    ``reduce``: conv1x1(C->oc), ReLU, conv1x1(oc->oc); ``transform``: three conv3x3 with ReLU
    on ``oc + ic`` channels, the last one mapping to ``oc``.
    """

    def __init__(self, feature_channels: int, score_channels: int, out_channels: int) -> None:
        super().__init__()
        nc = score_channels + out_channels
        self.reduce = nn.Sequential(
            conv(feature_channels, out_channels, 1), nn.ReLU(), conv(out_channels, out_channels, 1)
        )
        self.transform = nn.Sequential(
            conv(nc, nc, 3),
            nn.ReLU(),
            conv(nc, nc, 3),
            nn.ReLU(),
            conv(nc, out_channels, 3),
            nn.ReLU(),
        )

    def forward(self, reduced: torch.Tensor, score: torch.Tensor) -> torch.Tensor:
        """Transform ``cat(reduced, score)``.

        Args:
            reduced: Output of :attr:`reduce`, ``(1 or N, oc, h, w)`` (expanded to ``N``).
            score: ``(N, ic, h, w)`` score at this level's size.

        Returns:
            ``(N, oc, h, w)``.
        """
        n = score.shape[0]
        if reduced.shape[0] != n:
            reduced = reduced.expand(n, -1, -1, -1)
        return self.transform(torch.cat((reduced, score.to(reduced.dtype)), dim=1))


BNStats = Literal["running", "sample"]


class SampleStatBatchNorm2d(nn.BatchNorm2d):
    """Batch norm that normalises each sample with its own statistics, in training and at
    inference: ``instance_norm`` with the layer's affine weights.

    It keeps ``BatchNorm2d``'s parameters and buffers (the same state-dict keys, so files of
    either kind load into it) but never reads or updates the running statistics. Training
    runs the refiner on one clip at a time, so a batch-norm layer there sees a batch of one
    and normalises each sample by its own statistics; evaluating it with running averages
    of those statistics instead is not what it was trained with, and how far off it is
    depends on the mix and order of the training clips. This layer evaluates it exactly as
    it was trained, and treats each object of a batch on its own.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Per-sample, per-channel normalisation, then the affine weights."""
        return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)


def batch_norm(channels: int, stats: BNStats) -> nn.BatchNorm2d:
    """A batch-norm layer: running statistics at inference (``"running"``, PyTorch's
    ``BatchNorm2d``) or each sample's own (``"sample"``, :class:`SampleStatBatchNorm2d`)."""
    if stats == "running":
        return nn.BatchNorm2d(channels)
    if stats == "sample":
        return SampleStatBatchNorm2d(channels)
    raise ValueError(
        f"bn_stats must be 'running' or 'sample', got {stats!r}. Fix: 'running' for weights "
        f"trained on batches of clips, 'sample' for the statistics of each sample."
    )


class RRB(nn.Module):
    """Residual refinement block: ``h = conv1x1(x)``; ``relu(h + bblock(h))``."""

    def __init__(self, channels: int, use_bn: bool = True, bn_stats: BNStats = "running") -> None:
        super().__init__()
        self.conv1x1 = conv(channels, channels, 1)
        if use_bn:
            self.bblock = nn.Sequential(
                conv(channels, channels, 3),
                batch_norm(channels, bn_stats),
                nn.ReLU(),
                conv(channels, channels, 3, bias=False),
            )
        else:
            self.bblock = nn.Sequential(
                conv(channels, channels, 3), nn.ReLU(), conv(channels, channels, 3, bias=False)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1x1(x)
        return F.relu(h + self.bblock(h))


class CAB(nn.Module):
    """Channel attention block: ``shallow * sigmoid(att) + upsample(deep)``.

    ``att = convreluconv(cat(GAP(shallow), GAP(deep)))``. The official block has a
    ``deepest`` flag that skips the pooling of ``deep`` because, at the deepest level, ``deep``
    is already the ``1x1`` pooled TSE map; pooling a ``1x1`` map is the identity, and bilinear
    "upsampling" of a ``1x1`` map is a broadcast, so this block needs no flag and adds a
    ``1x1`` ``deep`` by broadcasting.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.convreluconv = nn.Sequential(
            conv(2 * channels, channels, 1), nn.ReLU(), conv(channels, channels, 1)
        )

    def forward(self, deep: torch.Tensor, shallow: torch.Tensor) -> torch.Tensor:
        """Combine the deeper level's output (or pooled map) with this level's features."""
        n = shallow.shape[0]
        shallow_pool = F.adaptive_avg_pool2d(shallow, 1)
        deep_pool = deep if deep.shape[-2:] == (1, 1) else F.adaptive_avg_pool2d(deep, 1)
        if deep_pool.shape[0] != n:
            deep_pool = deep_pool.expand(n, -1, -1, -1)
        att = self.convreluconv(torch.cat((shallow_pool, deep_pool.to(shallow_pool.dtype)), dim=1))
        out = shallow * torch.sigmoid(att)
        if deep.shape[-2:] == (1, 1):
            return out + deep.to(out.dtype)  # broadcast == bilinear upsampling of a 1x1 map
        return out + resize_to(deep, tuple(out.shape[-2:])).to(out.dtype)


def _bicubic_phase_kernels(a: float = -0.75) -> torch.Tensor:
    """The four 4x4 polyphase kernels of a x2 bicubic upsampling, shape ``(4, 1, 4, 4)``.

    Order: (even row, even col), (even, odd), (odd, even), (odd, odd), matching
    ``pixel_shuffle(·, 2)``.
    """

    def taps(d: float) -> torch.Tensor:
        x = (d + torch.arange(-1, 3, dtype=torch.float64)).abs()
        near = ((a + 2) * x**3 - (a + 3) * x**2 + 1) * (x < 1)
        far = (a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a) * ((x >= 1) & (x < 2))
        return (near + far).view(1, 4)

    even, odd = taps(-0.25), taps(-0.75)
    kernels = [even.T @ even, even.T @ odd, odd.T @ even, odd.T @ odd]
    return torch.stack(kernels).view(4, 1, 4, 4).float()


class PyrUpBicubic2d(nn.Module):
    """Fixed x2 bicubic upsampling (``a = -0.75``), as the official ``PyrUpBicubic2d``.

    Replicate-pad by 2, four depthwise 4x4 convolutions (one per output phase), interleaved
    and cropped by one pixel: ``(N, C, h, w) -> (N, C, 2h, 2w)``. The official code
    interleaves its four convolutions with ``stack``/``view`` and crops with a negative pad;
    here each phase is written straight into its strided slice of the (channels_last)
    output, crop included. The result equals ``F.interpolate(x, scale_factor=2,
    mode='bicubic', align_corners=False)`` up to rounding and the official form exactly in
    fp32 (tested). On this CPU in bf16 + channels_last at 64x90x160 it costs 2.4 ms, against
    9.8 ms for one depthwise convolution with four outputs per channel + ``pixel_shuffle``
    (oneDNN's path for a channel multiplier is slow). The kernels are a non-persistent
    buffer (no checkpoint keys).
    """

    weight: torch.Tensor

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        # (4 * C, 1, 4, 4), phase-major: rows p * C .. p * C + C - 1 are the depthwise
        # kernels of phase p = 2 * (odd row) + (odd col) (4-D, so .to(channels_last) works)
        kernels = _bicubic_phase_kernels().repeat_interleave(channels, dim=0)
        self.register_buffer("weight", kernels, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        padded = F.pad(x, (2, 2, 2, 2), mode="replicate")
        weight = self.weight.to(padded.dtype)
        p00, p01, p10, p11 = (
            F.conv2d(padded, weight[p * c : (p + 1) * c], groups=c) for p in range(4)
        )
        # The full interleave is (2h + 2) x (2w + 2) with row 2i + a from phase row i
        # (a = 1 for odd rows); the 1-pixel crop shifts it by one, so output row 2m comes
        # from an odd phase row m and row 2m + 1 from an even phase row m + 1 (same for
        # columns).
        out = torch.empty(
            (n, c, 2 * h, 2 * w),
            dtype=p00.dtype,
            device=p00.device,
            memory_format=torch.channels_last,
        )
        out[..., 0::2, 0::2] = p11[..., :h, :w]
        out[..., 0::2, 1::2] = p10[..., :h, 1:]
        out[..., 1::2, 0::2] = p01[..., 1:, :w]
        out[..., 1::2, 1::2] = p00[..., 1:, 1:]
        return out


class OfficialHead(nn.Module):
    """The official ``BackwardCompatibleUpsampler``: logits computed at full resolution.

    x2 bicubic -> conv3x3(64->32) -> ReLU -> x2 bicubic -> bilinear to the output size ->
    conv3x3(32->1). The last two steps run at full resolution on 32 channels, which makes
    this head the most expensive part of FRTM on a CPU.
    """

    def __init__(self, channels: int = 64) -> None:
        super().__init__()
        self.conv1 = conv(channels, channels // 2, 3)
        self.conv2 = conv(channels // 2, 1, 3)
        self.up1 = PyrUpBicubic2d(channels)
        self.up2 = PyrUpBicubic2d(channels // 2)

    def forward(self, x: torch.Tensor, out_size: tuple[int, int]) -> torch.Tensor:
        x = F.relu(self.conv1(self.up1(x)))
        x = resize_to(self.up2(x), out_size)
        return self.conv2(x)


class FastHead(nn.Module):
    """Cheap head: both convs at a reduced stride, then bilinear upsampling of the 1-ch logit.

    With ``stride=2`` (relative to the image, input at stride 4) the first step is the same
    x2 bicubic as :class:`OfficialHead`, so ``conv1`` sees exactly the input it sees in the
    official head; only ``conv2`` runs at stride 2 instead of full resolution. With
    ``stride=4`` both convs run on the stride-4 input directly. Parameter names and shapes
    equal :class:`OfficialHead`'s, so official weights load into either head.
    """

    def __init__(self, channels: int = 64, stride: int = 2, in_stride: int = 4) -> None:
        super().__init__()
        if stride not in (in_stride, in_stride // 2):
            raise ValueError(
                f"fast head stride must be {in_stride} or {in_stride // 2}, got {stride}"
            )
        self.stride = stride
        self.conv1 = conv(channels, channels // 2, 3)
        self.conv2 = conv(channels // 2, 1, 3)
        self.up1 = PyrUpBicubic2d(channels) if stride < in_stride else nn.Identity()

    def forward(self, x: torch.Tensor, out_size: tuple[int, int]) -> torch.Tensor:
        x = F.relu(self.conv1(self.up1(x)))
        return resize_to(self.conv2(x), out_size)
