"""The FRTM refiner (R_t): TSE / RRB / CAB / RRB per level, coarse to fine, then a head."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from vosframe.core.stages import Refiner
from vosframe.core.state import Features
from vosframe.models.frtm.blocks import (
    CAB,
    RRB,
    TSE,
    BNStats,
    FastHead,
    OfficialHead,
    resize_to,
)

HeadKind = Literal["fast", "official"]


class FRTMLevel(nn.Module):
    """One refiner level: ``tse`` -> ``rrb1`` -> ``cab`` -> ``rrb2``.

    Attributes:
        tse: Target segmentation encoder (reduces the features, adds the score).
        rrb1: Residual refinement block before the attention.
        cab: Channel attention block mixing in the deeper level.
        rrb2: Residual refinement block after the attention.
    """

    def __init__(
        self,
        feature_channels: int,
        score_channels: int,
        width: int,
        use_bn: bool,
        bn_stats: BNStats = "running",
    ) -> None:
        super().__init__()
        self.tse = TSE(feature_channels, score_channels, width)
        self.rrb1 = RRB(width, use_bn=use_bn, bn_stats=bn_stats)
        self.cab = CAB(width)
        self.rrb2 = RRB(width, use_bn=use_bn, bn_stats=bn_stats)

    def forward(
        self, feature: torch.Tensor, score: torch.Tensor, x: torch.Tensor | None
    ) -> torch.Tensor:
        """Run the level.

        Args:
            feature: ``(1 or N, C, h, w)`` backbone feature at this level's stride.
            score: ``(N, ic, h', w')`` score at any size (bilinearly resized to ``(h, w)``).
            x: The previous (deeper) level's output ``(N, width, h'', w'')``, or None at the
                first level, where the global average of the reduced features takes its place.

        Returns:
            ``(N, width, h, w)``.
        """
        n = score.shape[0]
        if feature.shape[0] not in (1, n):
            raise ValueError(f"feature batch {feature.shape[0]} does not match {n} scores")
        # The reduce step is per sample, so with batch-1 features it runs once and is
        # expanded (no copy) to the N objects; the official code repeats the features N times.
        reduced = self.tse.reduce(feature)
        deep = F.adaptive_avg_pool2d(reduced, 1) if x is None else x
        h = self.tse(reduced, resize_to(score, tuple(feature.shape[-2:])))
        h = self.rrb1(h)
        h = self.cab(deep, h)
        return self.rrb2(h)


class FRTMRefiner(Refiner):
    """FRTM's refinement network (the official ``SegNetwork``) as a :class:`Refiner`.

    Levels run coarse to fine over strides ``(32, 16, 8, 4)`` (official ``layer5`` ..
    ``layer2``), each ``TSE -> RRB -> CAB -> RRB`` with ``width`` (64) channels, batch norm in
    the RRBs. The localizer's score enters every TSE, bilinearly resized to that level. The
    output of the stride-16 level is the re-entry point R_t of the reuse gate (G-FRTM's
    ``prevX``); stride 8 can be captured as well (``Refiner.run(capture=...)``).

    Decisions where the official code and the paper differ, or where this differs from the
    official code:

    * First level: ``hpool`` (the CAB's deep input) is the global average of the TSE's
      reduced features, a ``(N, 64, 1, 1)`` map, as in the official code; "upsampling" it in
      the CAB is a broadcast (the official bilinear resize of a 1x1 map gives the same
      values).
    * Several objects: ``score`` has ``N`` rows while the features have batch 1. The
      per-sample ``reduce`` convs run once on the batch-1 features and are expanded (no
      copy) to ``N``; the official code repeats the features ``N`` times. Same result.
    * Head: ``head='official'`` is the official ``BackwardCompatibleUpsampler`` (full
      resolution 32-channel tail; most of FRTM's CPU time). ``head='fast'`` (default) runs
      both head convs at ``head_stride`` (2: after the same x2 bicubic as the official head,
      so ``conv1`` is unchanged; 4: directly on the stride-4 level) and bilinearly upsamples
      the 1-channel logit. Both heads have the same parameters, so official weights load
      into either; with official weights the fast head is an approximation.
    * Submodules: ``stages[str(stride)].{tse,rrb1,cab,rrb2}`` and ``upsampler``; the official
      ``TSE.layer4.*`` becomes ``stages.16.tse.*`` and ``project.*`` becomes ``upsampler.*``
      (:func:`vosframe.models.frtm.convert.convert_official_frtm`).

    Args:
        feature_channels: Backbone channels per stride; must contain every stride of
            ``levels`` (e.g. ResNet-18 ``{4: 64, 8: 128, 16: 256, 32: 512}``).
        levels: Strides of the levels, coarse to fine.
        width: Internal channels (64 in FRTM).
        score_channels: Channels of the localizer's score (1 for FRTM).
        use_bn: Batch norm in the RRBs (True in FRTM's released models).
        bn_stats: Which statistics those batch-norm layers normalise with.
            ``"running"``: PyTorch's batch norm (batch statistics in training, running
            averages at inference), right for weights trained on batches of clips, as the
            official models (16 clips per refiner call). ``"sample"``: each sample's own
            statistics, in training and at inference
            (:class:`~vosframe.models.frtm.blocks.SampleStatBatchNorm2d`), which is what the
            clip loop of :mod:`vosframe.core.training` trains: it calls the refiner on one
            clip at a time. The two kinds of file load into either.
        head: ``'fast'`` or ``'official'``.
        head_stride: Stride at which the fast head computes the logit (2 or 4).
    """

    def __init__(
        self,
        feature_channels: Mapping[int, int],
        *,
        levels: Sequence[int] = (32, 16, 8, 4),
        width: int = 64,
        score_channels: int = 1,
        use_bn: bool = True,
        bn_stats: BNStats = "running",
        head: HeadKind = "fast",
        head_stride: int = 2,
    ) -> None:
        super().__init__()
        levels = tuple(int(s) for s in levels)
        if list(levels) != sorted(levels, reverse=True) or len(set(levels)) != len(levels):
            raise ValueError(f"levels must be distinct strides, coarse to fine; got {levels}")
        missing = [s for s in levels if s not in feature_channels]
        if missing:
            raise ValueError(
                f"feature_channels has no entry for strides {missing}; "
                f"got strides {sorted(feature_channels)}"
            )
        self.levels = levels
        self.channels = {s: width for s in levels}
        self.width = width
        self.score_channels = score_channels
        self.head_kind: HeadKind = head
        self.stages = nn.ModuleDict(
            {
                str(s): FRTMLevel(feature_channels[s], score_channels, width, use_bn, bn_stats)
                for s in levels
            }
        )
        last = levels[-1]
        if head == "official":
            self.logit_stride = 1
            self.upsampler: nn.Module = OfficialHead(width)
        elif head == "fast":
            self.logit_stride = head_stride
            self.upsampler = FastHead(width, stride=head_stride, in_stride=last)
        else:
            raise ValueError(f"head must be 'fast' or 'official', got {head!r}")

    def stage(
        self, stride: int, x: torch.Tensor | None, score: torch.Tensor, features: Features
    ) -> torch.Tensor:
        """Run the level at ``stride`` on the previous level's output ``x`` (None first).

        Args:
            stride: A stride of :attr:`levels`.
            x: The previous level's output ``(N, width, h, w)``, or None for the first level.
            score: ``(N, score_channels, h16, w16)`` localizer score.
            features: The frame's features (batch 1, or batch N).

        Returns:
            ``(N, width, H / stride, W / stride)``.
        """
        return self.stages[str(stride)](features[stride], score, x)

    def head(
        self, x: torch.Tensor, score: torch.Tensor, features: Features, out_size: tuple[int, int]
    ) -> torch.Tensor:
        """Map the finest level's output to ``(N, 1, *out_size)`` logits."""
        return self.upsampler(x, tuple(out_size))
