"""Building blocks of TTVOS (Park et al., tinyML 2021; official code ``HYOJINPARK/TTVOS``).

Shapes follow the official code. ``C8`` is the channel
count of the stride-8 backbone feature; the template is ``C8 x C8`` (``c_tp = C8``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def add_coords(x: torch.Tensor) -> torch.Tensor:
    """Append ``(x, y, r)`` coordinate channels (``x, y`` in ``[-1, 1]``, ``r = sqrt(x^2+y^2)``).

    The official ``AddCoords(with_r=True)``; the coordinates follow the tensor's grid.
    """
    n, _, h, w = x.shape
    ys = torch.linspace(-1.0, 1.0, h, device=x.device, dtype=x.dtype)
    xs = torch.linspace(-1.0, 1.0, w, device=x.device, dtype=x.dtype)
    yy = ys.view(1, 1, h, 1).expand(n, 1, h, w)
    xx = xs.view(1, 1, 1, w).expand(n, 1, h, w)
    rr = torch.sqrt(xx * xx + yy * yy)
    return torch.cat([x, xx, yy, rr], dim=1)


def pool_half(x: torch.Tensor) -> torch.Tensor:
    """Average pool ``k3 s2 p1`` (output ``ceil(h / 2)``), the official mask pooling."""
    return F.avg_pool2d(x, 3, stride=2, padding=1)


def mask_history_slot(prob: torch.Tensor, times: int = 3) -> torch.Tensor:
    """``(N, 1, H, W)`` foreground probability -> ``(N, 2, H/2^times, W/2^times)`` ``[bg, fg]``."""
    x = torch.cat([1.0 - prob, prob], dim=1)
    for _ in range(times):
        x = pool_half(x)
    return x


class ConvReLU(nn.Sequential):
    """Convolution + ReLU with the official initialisation (kaiming uniform, zero bias)."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1) -> None:
        conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2)
        nn.init.kaiming_uniform_(conv.weight, nonlinearity="relu")
        nn.init.zeros_(conv.bias)
        super().__init__(conv, nn.ReLU(inplace=True))


def grouped_branch(cin: int, cout: int, group_channels: int = 4) -> nn.Sequential:
    """``conv1x1(cin -> cout)``, grouped ``conv5x5`` (``group_channels`` per group), LeakyReLU."""
    if cout % group_channels:
        raise ValueError(f"{cout} channels cannot form groups of {group_channels}")
    return nn.Sequential(
        nn.Conv2d(cin, cout, 1),
        nn.Conv2d(cout, cout, 5, padding=2, groups=cout // group_channels),
        nn.LeakyReLU(0.2, inplace=True),
    )


class TemplateGenerator(nn.Module):
    """The template generator (official ``gcm``): ``T = softmax(key . val^T / sqrt(HW))``.

    Args:
        cin: Input channels (``C8 + 3`` coordinates ``+ 6`` mask-history channels).
        c8: Template size ``c_tp`` (the stride-8 feature's channels).
    """

    def __init__(self, cin: int, c8: int) -> None:
        super().__init__()
        self.conv_key = grouped_branch(cin, c8)
        self.conv_val = grouped_branch(cin, c8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, cin, h, w)`` -> template ``(N, c8, c8)`` (rows sum to 1)."""
        key = self.conv_key(x).flatten(2)
        val = self.conv_val(x).flatten(2)
        sim = key @ val.transpose(1, 2) / math.sqrt(key.shape[-1])
        return torch.softmax(sim.float(), dim=-1).to(key.dtype)


class TemplateQuery(nn.Module):
    """Template attention on the current frame (official ``gcq``): ``LT_sim`` at stride 8.

    ``att = T @ val``; ``out = ReLU(conv1x1(grouped conv5x5(cat(feat, att))))``.

    Args:
        cin: Input channels (``C8 + 3 + 6``).
        c8: Channels of the template and of the output.
    """

    def __init__(self, cin: int, c8: int) -> None:
        super().__init__()
        self.conv_val = grouped_branch(cin, c8)
        self.conv_feat = grouped_branch(cin, c8)
        self.blend = nn.Sequential(
            nn.Conv2d(2 * c8, 2 * c8, 5, padding=2, groups=c8 // 2),
            nn.Conv2d(2 * c8, c8, 1),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor, template: torch.Tensor) -> torch.Tensor:
        """``x`` ``(N, cin, h, w)``, ``template`` ``(N, c8, c8)`` -> ``(N, c8, h, w)``."""
        val = self.conv_val(x)
        n, c, h, w = val.shape
        att = (template.to(val.dtype) @ val.flatten(2)).view(n, c, h, w)
        return self.blend(torch.cat([self.conv_feat(x), att], dim=1))


class UpdateWeight(nn.Module):
    """The adaptive template-update weight ``W = sigmoid(conv1x1(GAP(ConvReLU3x3 s2(x))))``.

    Officially computed from the decoder's stride-8 feature ``u8``; here from the inputs of
    the template generator (see :class:`~vosframe.models.ttvos.localizer.TTVOSLocalizer`).
    """

    def __init__(self, cin: int, mid: int) -> None:
        super().__init__()
        self.conv = ConvReLU(cin, mid, 3, stride=2)
        self.out = nn.Conv2d(mid, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, cin, h, w)`` -> ``(N,)`` in ``(0, 1)``."""
        g = F.adaptive_avg_pool2d(self.conv(x), 1)
        return torch.sigmoid(self.out(g).float()).view(-1)


def fit_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Crop (or replicate-pad) the bottom/right of ``x`` to ``size``.

    Transposed convolutions double a grid; a stride-``s`` grid of an image whose side is not
    a multiple of ``2 s`` is one cell shorter than twice the coarser grid (ceil division),
    so the extra last row/column is cropped (top-left anchored, as strided convs are).
    """
    h, w = size
    x = x[..., :h, :w]
    ph, pw = h - x.shape[-2], w - x.shape[-1]
    if ph > 0 or pw > 0:
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    return x
