"""Building blocks of the STCN-style memory model.

After STCN (Cheng et al., "Rethinking Space-Time Networks with Improved Memory Coverage for
Efficient Video Object Segmentation", NeurIPS 2021; official code ``hkchengrex/STCN``,
``model/modules.py``, ``model/cbam.py``) and RDE-VOS (Li et al., "Recurrent Dynamic
Embedding for Video Object Segmentation", CVPR 2022; official code
``Limingxing00/RDE-VOS-CVPR2022``, ``model/modules.py``: the SAM).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def fit_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Crop or zero-pad ``x`` (bottom/right) to the spatial ``size``.

    Strided convolutions round sizes up or down depending on the backbone; this makes two
    grids of the same stride agree without resampling.
    """
    h, w = x.shape[-2:]
    th, tw = size
    if (h, w) == (th, tw):
        return x
    x = x[..., : min(h, th), : min(w, tw)]
    return F.pad(x, (0, max(0, tw - w), 0, max(0, th - h)))


class ResBlock(nn.Module):
    """STCN's ``ResBlock``: ``x' + conv3x3(ReLU(conv3x3(ReLU(x))))``.

    The shortcut is a 1x1 convolution when the channel count changes (official: 3x3); the
    1x1 keeps the residual path cheap on a CPU at strides 8 and 4.

    Args:
        cin: Input channels.
        cout: Output channels.
    """

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.downsample = None if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual block."""
        r = self.conv2(F.relu(self.conv1(F.relu(x))))
        if self.downsample is not None:
            x = self.downsample(x)
        return x + r


class CBAM(nn.Module):
    """Convolutional block attention (Woo et al., ECCV 2018), as in STCN's ``cbam.py``.

    Channel gate: an MLP (reduction ``reduction``) on average- and max-pooled features;
    spatial gate: a 7x7 convolution on the channel-wise max and mean.
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        mid = max(1, channels // reduction)
        self.mlp = nn.Sequential(
            nn.Linear(channels, mid), nn.ReLU(inplace=True), nn.Linear(mid, channels)
        )
        self.spatial = nn.Conv2d(2, 1, 7, padding=3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Channel then spatial gating."""
        gate = self.mlp(x.mean((2, 3))) + self.mlp(x.amax((2, 3)))
        x = x * torch.sigmoid(gate)[..., None, None]
        pooled = torch.cat([x.amax(1, keepdim=True), x.mean(1, keepdim=True)], 1)
        return x * torch.sigmoid(self.spatial(pooled))


class FeatureFusion(nn.Module):
    """STCN's ``FeatureFusionBlock``: ``ResBlock(cat(v, f16)) -> CBAM -> ResBlock(x + r)``."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.block1 = ResBlock(cin, cout)
        self.attention = CBAM(cout)
        self.block2 = ResBlock(cout, cout)

    def forward(self, x: torch.Tensor, f16: torch.Tensor) -> torch.Tensor:
        """Fuse the mask branch ``x`` with the key encoder's stride-16 feature."""
        x = self.block1(torch.cat([x, f16.expand(x.shape[0], -1, -1, -1).to(x.dtype)], 1))
        return self.block2(x + self.attention(x))


class ValueEncoder(nn.Module):
    """Per-object memory value from the frame, the object's mask and the others' masks.

    The frame enters through the backbone's stride-4 feature (computed once per frame for
    the key encoder), concatenated with the object's mask and the sum of the other objects'
    masks at stride 4; two stride-2 convolutions bring it to stride 16, where STCN's fusion
    block mixes it with the key encoder's stride-16 feature.

    Decision (official vs here): STCN runs a second backbone (ResNet-18 with 5 input
    channels) per object on the image; that second pass is the one avoidable cost of the
    family on a CPU (SwiftNet, AOT avoid it the same way: the mask is injected into the
    query frame's own features). Widths: 32 -> 64 channels before fusion, ``value_channels``
    after; at 480p this is ~0.2 GMAC per object and memory frame before the fusion block.

    Args:
        c4: Stride-4 feature channels.
        c16: Stride-16 feature channels.
        value_channels: Output channels (the memory value).
    """

    def __init__(self, c4: int, c16: int, value_channels: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(c4 + 2, 32, 3, padding=1), nn.ReLU(inplace=True))
        self.down8 = nn.Sequential(nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(inplace=True))
        self.down16 = nn.Sequential(
            nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.ReLU(inplace=True)
        )
        self.fuse = FeatureFusion(64 + c16, value_channels)

    def forward(
        self, f4: torch.Tensor, f16: torch.Tensor, masks: torch.Tensor, others: torch.Tensor
    ) -> torch.Tensor:
        """Values ``(N, Cv, h16, w16)`` of N objects.

        Args:
            f4: ``(1, C4, h4, w4)`` stride-4 feature of the frame.
            f16: ``(1, C16, h16, w16)`` stride-16 feature of the frame.
            masks: ``(N, 1, H, W)`` each object's (soft) mask at image size.
            others: ``(N, 1, H, W)`` the sum of the other objects' masks, in ``[0, 1]``.
        """
        size4 = tuple(f4.shape[-2:])
        m = F.adaptive_avg_pool2d(torch.cat([masks, others], 1).float(), size4)
        x = torch.cat([f4.expand(m.shape[0], -1, -1, -1), m.to(f4.dtype)], 1)
        x = self.down16(self.down8(self.stem(x)))
        return self.fuse(fit_to(x, tuple(f16.shape[-2:])), f16)


# --------------------------------------------------------------------------- RDE's SAM
# RDE's SAM is written with Conv3d. Every kernel has temporal extent 1 except the final
# compression (extent 2 over exactly 2 "frames"), so it is implemented here with 2-D
# convolutions on the frames folded into the batch (and, for the compression, on the two
# frames concatenated along channels): the same functions, with 4-D weights only, so the
# model can be converted to channels_last (the sessions' bf16 mode).


def _fold(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, T, H, W)`` -> ``(N T, C, H, W)``."""
    n, c, t, h, w = x.shape
    return x.transpose(1, 2).reshape(n * t, c, h, w)


def _unfold(x: torch.Tensor, t: int) -> torch.Tensor:
    """``(N T, C, H, W)`` -> ``(N, C, T, H, W)``."""
    nt, c, h, w = x.shape
    return x.reshape(nt // t, t, c, h, w).transpose(1, 2)


class NonLocal3D(nn.Module):
    """Embedded-dot-product non-local block over ``(T, H, W)`` (RDE's ``NONLocalBlock3D``).

    ``theta``, ``phi``, ``g`` are 1x1x1 convolutions to ``C / 2``; ``phi`` and ``g`` are
    max-pooled ``(1, 2, 2)``; ``f = theta^T phi / N`` (no softmax, over all positions of
    all frames); ``z = W(f g) + x``. ``W`` starts at zero, so the block starts as the
    identity.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        inter = max(1, channels // 2)
        self.theta = nn.Conv2d(channels, inter, 1)
        self.phi = nn.Conv2d(channels, inter, 1)
        self.g = nn.Conv2d(channels, inter, 1)
        self.W = nn.Conv2d(inter, channels, 1)
        nn.init.zeros_(self.W.weight)
        nn.init.zeros_(self.W.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, T, H, W)`` -> same shape."""
        n, _, t, h, w = x.shape
        f = _fold(x)
        pool = 2 if min(h, w) >= 2 else 1
        th = _unfold(self.theta(f), t).flatten(2)
        ph = _unfold(F.max_pool2d(self.phi(f), pool), t).flatten(2)
        g = _unfold(F.max_pool2d(self.g(f), pool), t).flatten(2)
        a = th.transpose(1, 2) @ ph / ph.shape[-1]
        y = (a @ g.transpose(1, 2)).transpose(1, 2).reshape(n, -1, t, h, w)
        return _unfold(self.W(_fold(y)), t) + x


class ASPP3D(nn.Module):
    """RDE's ``ASPP3D``: four ``C/4`` branches (1x1x1 and (1,3,3) with dilation 2, 4, 6),
    concatenated, a (1,3,3) convolution with ReLU, plus a residual. The fusion convolution
    starts at zero (the block starts as the identity)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        q = max(1, channels // 4)

        def branch(d: int) -> nn.Sequential:
            if d == 1:
                conv = nn.Conv2d(channels, q, 1, bias=False)
            else:
                conv = nn.Conv2d(channels, q, 3, padding=d, dilation=d, bias=False)
            return nn.Sequential(conv, nn.ReLU(inplace=True))

        self.branches = nn.ModuleList(branch(d) for d in (1, 2, 4, 6))
        self.fuse = nn.Sequential(
            nn.Conv2d(4 * q, channels, 3, padding=1, bias=False), nn.ReLU(inplace=True)
        )
        nn.init.zeros_(self.fuse[0].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, T, H, W)`` -> same shape."""
        f = _fold(x)
        return x + _unfold(self.fuse(torch.cat([b(f) for b in self.branches], 1)), x.shape[2])


class SAM(nn.Module):
    """Spatio-temporal aggregation module: ``RDE_t = SAM(RDE_{t-1}, new memory frame)``.

    Non-local 3D block, ASPP3D, then a temporal compression (RDE: ``Conv3d`` with kernel
    ``(2, 3, 3)`` over the two stacked "frames"; here the equivalent 3x3 convolution of the
    two frames concatenated along channels), so the embedding keeps a constant size. The
    non-local output and ASPP fusion convolutions start at zero and the compression as the
    average of its two inputs (centre taps ``I / 2``), so an untrained SAM is exactly the
    running mean ``(RDE + new) / 2``: a model trained with the ``stcn`` memory runs in
    ``rde`` mode from the start, and RDE training refines the SAM from there.

    Args:
        channels: Channels of what it compresses (64 for keys, ``Cv`` for values).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.non_local = NonLocal3D(channels)
        self.aspp = ASPP3D(channels)
        self.compress = nn.Conv2d(2 * channels, channels, 3, padding=1)
        with torch.no_grad():
            self.compress.weight.zero_()
            eye = torch.eye(channels) * 0.5
            self.compress.weight[:, :channels, 1, 1] = eye
            self.compress.weight[:, channels:, 1, 1] = eye
            self.compress.bias.zero_()

    def forward(self, previous: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
        """``(N, C, h, w)`` embedding and new frame -> the new ``(N, C, h, w)`` embedding."""
        x = self.aspp(self.non_local(torch.stack([previous, new.to(previous.dtype)], 2)))
        return self.compress(torch.cat([x[:, :, 0], x[:, :, 1]], 1))
