"""TTVOS as a registered base model (Park et al., "TTVOS: Lightweight Video Object
Segmentation with Adaptive Template Attention Module and Temporal Consistency Loss").

Stages: a backbone with strides 4/8/16 (it stops at stride 16: TTVOS reads nothing
deeper), the template-attention + short-term localizer
(:class:`~vosframe.models.ttvos.localizer.TTVOSLocalizer`) and the decoder
(:class:`~vosframe.models.ttvos.decoder.TTVOSDecoder`). Aggregation: A-GAME's soft
aggregation (background = min of the per-object background probabilities, objects by
odds), the same rule as FRTM's (``min_odds``).

Skip points (what the reuse gate attaches to; G-TTVOS is this model + the unchanged
``ReuseGate`` plugin + a config):

* ``F_t`` -- feature cut at stride 8 (the backbone's stride-16 level is skipped on reuse).
* ``R_t@16`` -- the decoder's stride-16 feature ``u16`` (the paper-faithful re-entry).
* ``R_t@8`` -- the decoder's stride-8 output ``cat(u8, out16)``.
* ``R_t@4`` -- the decoder's stride-4 output ``cat(o16, out8, u4)``: only the 8-channel
  full-resolution tail runs after re-entry.
* ``prev`` -- the previous mask heatmap (the last output mask, as TTVOS's mask history),
  at stride 8.

Losses (training): cross-entropy on the mask (the loop's ``loss_seg``; the binary logit
is ``fg - bg`` of the official 2-way softmax), the template loss (:meth:`frame_losses`:
BCE of a 3x3 head on ``LT_sim`` against the ground truth at stride 8, official
``predictor_Tmp``), and the reusable temporal consistency loss configured with
``aux_losses=[dict(type="TemporalConsistencyLoss", level=8)]``
(:class:`vosframe.core.losses.TemporalConsistencyLoss`).

Decisions:

* **Backbone.** Frozen, features precomputed (vosframe's feature bank); the official code
  fine-tunes the last backbone stage. EfficientNet-Lite0 gives (C16, C8, C4) = (112, 40,
  24), the same C8/C4 as the official MobileNetV3 variant. ResNet-18/50 use torchvision's
  ``layer3`` as the stride-16 feature (the official RN18 keeps a dilated ``layer4``; RN50
  deletes ``layer4`` as here).
* **Input size.** No padding: each decoder level crops its upsampled grid to the finer
  feature's grid (official: reflect-pad to a multiple of 16).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from vosframe.core.losses import LossContext, area_resize
from vosframe.core.model import VOSModel
from vosframe.core.skip_points import SkipPoint, SkipPoints

from .decoder import TTVOSDecoder
from .localizer import TTVOSLocalizer, unpack_attention


class TTVOS(VOSModel):
    """TTVOS: template attention + short-term matching + a light decoder.

    Args:
        backbone: Backbone config; it is built with ``max_stride=16``.
        aggregation: Multi-object aggregation (``min_odds``: A-GAME's rule).
        max_internal_size: Default processing size (shorter side) for sessions.
        template_loss: Weight of the template loss (0 disables its head).
        aux_losses: Auxiliary losses (e.g. the temporal consistency loss).
    """

    updates_in_training = True

    def __init__(
        self,
        backbone: dict[str, Any] | None = None,
        aggregation: str = "min_odds",
        max_internal_size: int | None = None,
        template_loss: float = 1.0,
        aux_losses: list[dict[str, Any]] | None = None,
    ) -> None:
        from vosframe.registry import BACKBONES, build_from_cfg

        cfg = dict(backbone or {"type": "EfficientNetLite0"})
        cfg.setdefault("max_stride", 16)
        extractor = build_from_cfg(cfg, BACKBONES)
        c16, c8, c4 = (extractor.channels[s] for s in (16, 8, 4))
        localizer = TTVOSLocalizer(c16, c8, c4)
        decoder = TTVOSDecoder(c16, c8, c4, localizer.c_short)
        super().__init__(
            extractor,
            localizer,
            decoder,
            aggregation=aggregation,
            max_internal_size=max_internal_size,
            aux_losses=aux_losses,
        )
        self.template_weight = float(template_loss)
        self.predictor_tmp = nn.Conv2d(c8, 1, 3, padding=1) if template_loss > 0 else None

    def frame_losses(self, ctx: LossContext) -> dict[str, torch.Tensor]:
        """Configured auxiliary losses plus the template loss on ``LT_sim``."""
        out = super().frame_losses(ctx)
        if self.predictor_tmp is not None:
            h16, w16 = ctx.score.shape[-2:]
            gt8_size = (-(-ctx.gt.shape[-2] // 8), -(-ctx.gt.shape[-1] // 8))
            size = (min(gt8_size[0], 2 * h16), min(gt8_size[1], 2 * w16))
            lt = unpack_attention(ctx.score, self.localizer.c_short, size)
            logit = self.predictor_tmp(lt).float()
            target = (area_resize(ctx.gt, size) > 0.5).float()
            out["loss_template"] = self.template_weight * F.binary_cross_entropy_with_logits(
                logit, target
            )
        return out

    def skip_points(self) -> SkipPoints:
        """F_t at stride 8, R_t at the decoder's stride-16/8/4 outputs, previous mask."""
        c8 = self.feature_extractor.channels[8]
        ch = self.refiner.channels
        return SkipPoints(
            (
                SkipPoint("F_t", "feature_cut", 8, c8, "backbone features up to stride 8"),
                SkipPoint("R_t@16", "reentry", 16, ch[16], "decoder stride-16 feature u16"),
                SkipPoint("R_t@8", "reentry", 8, ch[8], "decoder stride-8 output (u8, out16)"),
                SkipPoint("R_t@4", "reentry", 4, ch[4], "decoder stride-4 output"),
                SkipPoint("prev", "previous", 8, 1, "previous mask heatmap", source="mask"),
            ),
            default_reentry="R_t@16",
        )
