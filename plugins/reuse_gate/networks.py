"""The reuse gate's modules (Park et al., CVPR 2021), sized from skip-point specs only.

All modules are batched over objects: the frame's features have batch 1, the per-object
inputs (previous information, templates, cached refined features) have batch ``N``.

* :class:`TemplateGenerator` -- the per-object template ``T`` (``width x width``) from the
  first frame's F_t features and mask (official ``Tmatching.Tgenerate``).
* :class:`DissimilarityModule` -- template matching on ``cat(F_t, previous information)``:
  the 64-channel map ``D_t`` at the F_t stride (official ``Tmatching.Tmatching``).
* :class:`GateFunction` -- two convolutions and two max-pools to two logits, index 0 =
  reuse (official ``convGS``; same layer indices).
* :class:`DeltaGenerator` -- ``Delta_t`` at the localizer score's stride and channels
  (official ``Convert_Diff``).
* :class:`RefineTranslator` -- ``R_hat_t`` from ``cat(R_{t-n}, Delta_t)`` at the re-entry
  stride: parallel dilated 3x3 convs (1/2/3), a 5x5 merge conv and a residual block
  (official ``Translate_F``).
* :class:`MaskTranslator` -- the supplement's *reuseM*: the same layout on
  ``cat(M_{t-n}, Delta_t)`` at the frame's internal size, giving mask logits.
* :class:`PreGate` -- a small MLP giving a copy probability from pixel-level scalars
  (:func:`~.cues.pre_gate_inputs`), before the backbone runs; not in the paper.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

REUSE, COMPUTE = 0, 1
"""Indices of the gate's two logits (the official order: 0 = reuse, 1 = compute)."""


def resize(x: torch.Tensor, size: tuple[int, int] | torch.Size) -> torch.Tensor:
    """Bilinear resize to ``size`` (no-op when the size already matches)."""
    size = tuple(size)
    if tuple(x.shape[-2:]) == size:
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def downsample_mask(mask: torch.Tensor, size: tuple[int, int] | torch.Size) -> torch.Tensor:
    """Area-downsample a ``(N, 1, H, W)`` mask to ``size`` (the same in training and test).

    The official code uses bilinear interpolation in training and nearest at test (a
    train/test mismatch); an area average is a proper downsampling and is used for both.
    """
    size = tuple(size)
    if tuple(mask.shape[-2:]) == size:
        return mask
    return F.adaptive_avg_pool2d(mask, size)


def probs_to_logits(prob: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """``logit(p)`` with ``p`` clamped to ``[eps, 1 - eps]`` (given masks are exactly 0/1)."""
    p = prob.float().clamp(eps, 1.0 - eps)
    return torch.log(p) - torch.log1p(-p)


class ResidualBlock(nn.Module):
    """Residual refinement block (RRB): ``h = conv1x1(x)``; ``relu(h + bblock(h))``.

    ``bblock`` = conv3x3 -> BN -> ReLU -> conv3x3 (no bias), the official indices 0/1/3.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1x1 = nn.Conv2d(channels, channels, 1)
        self.bblock = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block."""
        h = self.conv1x1(x)
        return F.relu(h + self.bblock(h))


def _branch(cin: int, width: int, act_last: bool) -> nn.Sequential:
    """conv1x1 -> grouped conv5x5 (4 channels per group), LeakyReLU(0.2) after one of them."""
    grouped = nn.Conv2d(width, width, 5, padding=2, groups=max(1, width // 4))
    if act_last:  # Tmatching: conv1x1 -> grouped 5x5 -> LeakyReLU
        return nn.Sequential(nn.Conv2d(cin, width, 1), grouped, nn.LeakyReLU(0.2))
    return nn.Sequential(nn.Conv2d(cin, width, 1), nn.LeakyReLU(0.2), grouped)  # Tgenerate


class TemplateGenerator(nn.Module):
    """The per-object template from the first frame (official ``Tgenerate``).

    ``T = softmax_K(val @ key^T / sqrt(HW))`` with ``key``/``val`` =
    conv1x1 -> LeakyReLU(0.2) -> grouped conv5x5 on ``cat(F_t, mask at the F_t stride)``.

    Args:
        feature_channels: Channels of the F_t feature.
        width: Template size ``K`` (64 officially).
    """

    def __init__(self, feature_channels: int, width: int = 64) -> None:
        super().__init__()
        self.conv_key = _branch(feature_channels + 1, width, act_last=False)
        self.conv_val = _branch(feature_channels + 1, width, act_last=False)

    def forward(self, feature: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Build templates.

        Args:
            feature: ``(N, C, h, w)`` F_t features of the first frame.
            mask: ``(N, 1, h, w)`` first mask at the F_t grid.

        Returns:
            ``(N, K, K)`` templates (rows: value channels, columns: key channels).
        """
        x = torch.cat([feature, mask.to(feature.dtype)], 1)
        key = self.conv_key(x).flatten(2)  # (N, K, HW)
        val = self.conv_val(x).flatten(2)
        logits = val @ key.transpose(1, 2) / math.sqrt(key.shape[-1])
        return torch.softmax(logits.float(), dim=-1)


class DissimilarityModule(nn.Module):
    """Template matching on ``cat(F_t, previous information)`` (official ``Tmatching``).

    ``key``/``feat`` = conv1x1 -> grouped conv5x5 -> LeakyReLU(0.2); ``sim = T @ key``;
    ``D = relu(conv1x1(grouped conv5x5(cat(feat, sim))))``.

    Args:
        feature_channels: Channels of the F_t feature.
        prev_channels: Channels of the previous information (the ``previous`` point).
        width: Output channels ``c_f`` (= template size, 64 officially).
    """

    def __init__(self, feature_channels: int, prev_channels: int, width: int = 64) -> None:
        super().__init__()
        cin = feature_channels + prev_channels
        self.conv_key = _branch(cin, width, act_last=True)
        self.conv_feat = _branch(cin, width, act_last=True)
        self.blend = nn.Sequential(
            nn.Conv2d(2 * width, 2 * width, 5, padding=2, groups=max(1, width // 2)),
            nn.Conv2d(2 * width, width, 1),
            nn.ReLU(),
        )

    def _branches(self, feature: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        """``cat(conv_key(x), conv_feat(x))`` for ``x = cat(feature, prev)``, in one pass.

        The two branches have the same layout, so their 1x1 convolutions run as one with
        the weights stacked and their grouped 5x5 convolutions as one with twice the
        groups: the same values, fewer calls.
        """
        key, feat = self.conv_key, self.conv_feat
        c = feature.shape[1]
        w1 = torch.cat([key[0].weight, feat[0].weight])
        x = F.conv2d(feature, w1[:, :c], torch.cat([key[0].bias, feat[0].bias]))
        x = x + F.conv2d(prev.to(x.dtype), w1[:, c:])
        grouped = key[1]
        x = F.conv2d(
            x,
            torch.cat([grouped.weight, feat[1].weight]),
            torch.cat([grouped.bias, feat[1].bias]),
            padding=grouped.padding,
            groups=2 * grouped.groups,
        )
        return F.leaky_relu(x, key[2].negative_slope)

    def forward(
        self, feature: torch.Tensor, prev: torch.Tensor, template: torch.Tensor
    ) -> torch.Tensor:
        """Dissimilarity maps.

        Args:
            feature: ``(1, C, h, w)`` F_t features of the frame (shared by all objects).
            prev: ``(N, C_p, h, w)`` previous information at the F_t grid.
            template: ``(N, K, K)`` the objects' templates.

        Returns:
            ``(N, width, h, w)``.
        """
        both = self._branches(feature, prev)
        key, feat = both.chunk(2, dim=1)
        n, k, h, w = key.shape
        sim = (template.to(key.dtype) @ key.flatten(2)).view(n, k, h, w)
        return self.blend(torch.cat([feat, sim], 1))


class GateFunction(nn.Module):
    """Probability of reuse from ``D_t`` (official ``convGS``; the layer indices match).

    ``layers`` = AdaptiveMaxPool2d(7), Conv(width->16, k3, s2, p1), BN(16),
    AdaptiveMaxPool2d(3), Conv(16->2, k3, s2, p0). Logit 0 = reuse, 1 = compute.

    Initialisation (AIG style, as the official code): the last bias is ``bias``
    (``P(reuse) = sigmoid(0.1 - 2.0) = 0.13``); unlike the official code, the last weight is
    drawn with std ``init_std``, so the initial ``P(reuse)`` is about 0.13 for any input, as
    the paper intends (PyTorch's default init makes it depend on the input).

    ``norm=False`` replaces the official batch norm with an identity (same layer indices):
    with one sample per step it would normalise each sample over its own 4x4 map and remove
    the dissimilarity's strength.

    Args:
        width: Input channels (the dissimilarity width, plus any cue channels).
        bias: Initial ``(reuse, compute)`` biases.
        init_std: Std of the last conv's initial weights (None: PyTorch's default).
        norm: Keep the official batch norm.
        cue_channels: Number of trailing input channels that are cue maps (0: none).
    """

    def __init__(
        self,
        width: int = 64,
        bias: tuple[float, float] = (0.1, 2.0),
        init_std: float | None = 1e-3,
        norm: bool = True,
        cue_channels: int = 0,
    ) -> None:
        super().__init__()
        self.cue_channels = int(cue_channels)
        self.layers = nn.Sequential(
            nn.AdaptiveMaxPool2d(7),
            nn.Conv2d(width, 16, 3, stride=2, padding=1),
            nn.BatchNorm2d(16) if norm else nn.Identity(),
            nn.AdaptiveMaxPool2d(3),
            nn.Conv2d(16, 2, 3, stride=2, padding=0),
        )
        last = self.layers[4]
        with torch.no_grad():
            last.bias.copy_(torch.tensor(bias, dtype=last.bias.dtype))
            if init_std is not None:
                last.weight.normal_(0.0, init_std)
        if self.cue_channels:
            self.cue_head = nn.Linear(2 * self.cue_channels, 2)
            nn.init.zeros_(self.cue_head.weight)
            nn.init.zeros_(self.cue_head.bias)

    def forward(self, d: torch.Tensor) -> torch.Tensor:
        """``(N, 2)`` float32 logits (index 0 = reuse).

        With ``cue_channels``, the last ``cue_channels`` input channels are cue maps: their
        spatial mean and max also enter the logits through a linear layer (zero at init),
        a direct path for a few scalars that the pooled convolutions learn slowly.
        """
        logits = self.layers(d).flatten(1).float()
        if self.cue_channels:
            cue = d[:, -self.cue_channels :].float()
            stats = torch.cat([cue.mean((2, 3)), cue.amax((2, 3))], 1)
            logits = logits + self.cue_head(stats)
        return logits

    @staticmethod
    def reuse_probability(logits: torch.Tensor) -> torch.Tensor:
        """``(N,)`` probability of reuse (a 2-way softmax = sigmoid of the logit gap)."""
        return torch.softmax(logits, dim=1)[:, REUSE]


class DeltaGenerator(nn.Module):
    """``Delta_t`` from ``D_t`` at the localizer score's stride and channels.

    One 3x3 convolution (official ``Convert_Diff``: stride 2 from stride 8 to 16). The
    convolution's stride is ``score_stride / feature_stride`` when that is an integer, else
    1; the output is then bilinearly resized to the score's exact size when they differ.

    Args:
        width: Input channels (the dissimilarity width).
        score_channels: Channels of the localizer score.
        feature_stride: Stride of F_t.
        score_stride: Stride of the localizer score.
    """

    def __init__(
        self, width: int, score_channels: int, feature_stride: int, score_stride: int
    ) -> None:
        super().__init__()
        ratio = score_stride // feature_stride if score_stride % feature_stride == 0 else 1
        self.conv = nn.Conv2d(width, score_channels, 3, stride=max(1, ratio), padding=1)

    def forward(self, d: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """``(N, score_channels, *size)``."""
        return resize(self.conv(d), size)


class MultiReceptiveConv(nn.Module):
    """Three parallel 3x3 convolutions with dilation 1, 2 and 3, concatenated (no activation)."""

    def __init__(self, cin: int, mid: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, mid, 3, padding=1, dilation=1)
        self.conv2 = nn.Conv2d(cin, mid, 3, padding=2, dilation=2)
        self.conv3 = nn.Conv2d(cin, mid, 3, padding=3, dilation=3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3 * mid, h, w)``."""
        return torch.cat([self.conv1(x), self.conv2(x), self.conv3(x)], 1)


class RefineTranslator(nn.Module):
    """``R_hat_t`` from ``cat(R_{t-n}, Delta_t)`` (official ``Translate_F``).

    ``conv_multi`` (dilations 1/2/3, ``mid`` each) -> ``convBlend`` (5x5, to the re-entry
    channels) -> ``postRBB`` (a residual block with BN).

    Args:
        channels: Channels of the re-entry feature R_t.
        delta_channels: Channels of ``Delta_t`` (the localizer score's).
        mid: Channels of each dilated branch (48 officially).
        merge_kernel: Kernel of the merge conv (5 officially; odd).
    """

    def __init__(
        self, channels: int, delta_channels: int, mid: int = 48, merge_kernel: int = 5
    ) -> None:
        super().__init__()
        self.conv_multi = MultiReceptiveConv(channels + delta_channels, mid)
        self.convBlend = nn.Conv2d(  # noqa: N815 (official name)
            3 * mid, channels, merge_kernel, padding=merge_kernel // 2
        )
        self.postRBB = ResidualBlock(channels)  # noqa: N815 (official name)

    def forward(self, refined: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
        """Translate the cached re-entry features.

        Args:
            refined: ``(N, C_R, h, w)`` the last computed R at the re-entry point.
            delta: ``(N, C_s, h', w')`` ``Delta_t`` (bilinearly resized to ``(h, w)``).

        Returns:
            ``(N, C_R, h, w)``.
        """
        d = resize(delta, refined.shape[-2:]).to(refined.dtype)
        return self.postRBB(self.convBlend(self.conv_multi(torch.cat([refined, d], 1))))


class MaskTranslator(nn.Module):
    """The supplement's *reuseM*: the previous mask translated by ``Delta_t`` to logits.

    Same layout as :class:`RefineTranslator` on ``cat(M_{t-n}, Delta_t)`` at the frame's
    internal size (the supplement runs it at input size), followed by a 3x3 conv to one
    channel. The output is added to ``logit(M_{t-n})`` and its last conv starts at zero: an
    untrained translator copies the previous mask, and training learns the correction (the
    supplement does not say whether the translator is residual; this keeps its
    full-resolution cost small: ``width`` 8).

    Args:
        delta_channels: Channels of ``Delta_t``.
        width: Channels of the dilated branches and of the residual block.
    """

    def __init__(self, delta_channels: int, width: int = 8) -> None:
        super().__init__()
        self.conv_multi = MultiReceptiveConv(1 + delta_channels, width)
        self.convBlend = nn.Conv2d(3 * width, width, 5, padding=2)  # noqa: N815
        self.postRBB = ResidualBlock(width)  # noqa: N815
        self.out = nn.Conv2d(width, 1, 3, padding=1)
        nn.init.zeros_(self.out.weight)  # the correction starts at 0: a copy
        nn.init.zeros_(self.out.bias)

    def forward(self, prev_prob: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, 1, H, W)`` from ``prev_prob`` ``(N, 1, H, W)`` and ``delta``."""
        base = probs_to_logits(prev_prob)
        x = torch.cat([prev_prob.float(), resize(delta.float(), prev_prob.shape[-2:])], 1)
        h = self.postRBB(self.convBlend(self.conv_multi(x)))
        return base + self.out(h).float()


class PreGate(nn.Module):
    """MLP ``inputs -> 16 -> 1`` giving the pre-gate's reuse logit; inert at init.

    The inputs are standardised by fixed statistics (``shift``, ``scale`` buffers, set from
    the training samples when it is trained).
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


def mask_as_score(
    mask: torch.Tensor, size: tuple[int, int] | torch.Size, channels: int
) -> torch.Tensor:
    """A mask area-downsampled to the score grid, repeated over the score channels (the
    initial ``S_{t-n}`` of an object, in training and at inference)."""
    return downsample_mask(mask.float(), tuple(size)).expand(-1, channels, -1, -1)
