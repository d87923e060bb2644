"""TTVOS's target localizer: template attention (long-term) + short-term matching.

Per object it keeps (``TTVOSObjectState``, constant size, so memory is bounded over any
stream): the mask history (6 channels at stride 8: ``[bg, fg]`` of the last three
outputs), the previous frame's stride-16 feature, the ``C8 x C8`` template and the last
update weight.

``localize`` returns the object's *encoding* for the decoder as one stride-16 tensor
(the core contract has one score per object):

* channels ``[0, c_s)``: the short-term matching output ``ConvReLU3x3(cat(pool(mask
  history), previous s16 feature))`` (the official decoder's ``conv_s16``);
* channels ``[c_s, c_s + 4 C8)``: the template attention output ``LT_sim`` (``C8`` channels
  at stride 8) stored space-to-depth (``pixel_unshuffle`` by 2) at stride 16 -- an exact,
  lossless packing that the decoder undoes (:func:`unpack_attention`).

Decisions (official code vs paper vs here):

* **Update weight.** The official code computes ``W`` from the decoder's stride-8 feature
  ``u8``; vosframe's stages are stateless and the decoder cannot hand its features to the
  localizer's update, so ``W`` is computed from what the template generator reads
  (``cat(AddCoords(f8), new mask history)``), with the same layout (ConvReLU3x3 s2, GAP,
  1x1, sigmoid). The update is the official ``T <- (T + W T_cur) / (1 + W)`` (the new
  template's weight is at most 0.5).
* **Late objects** are initialised from the frame their mask is given on (the official
  code uses frame 0's image with frame t's mask, a bug for YouTube-VOS).
* **Mask history update** uses the aggregated probabilities at inference (official) and
  the clip's own prediction in training (official: unaggregated, one object per clip).
* The short-term branch is a learned convolution on the previous frame's feature and
  masks, not a correlation (as the official code; the paper calls it matching).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import torch
import torch.nn.functional as F

from vosframe.core.stages import TargetLocalizer
from vosframe.core.state import Features

from .modules import (
    ConvReLU,
    TemplateGenerator,
    TemplateQuery,
    UpdateWeight,
    add_coords,
    fit_to,
    mask_history_slot,
    pool_half,
)


@attrs.define(eq=False)
class TTVOSObjectState:
    """Per-object TTVOS state (all tensors batch 1).

    Attributes:
        mask_history: ``(1, 6, h8, w8)`` ``[P_{t-1}, P_{t-2}, P_{t-3}]`` as ``[bg, fg]`` pairs.
        prev_feature: ``(1, C16, h16, w16)`` the stride-16 feature of the last updated frame.
        template: ``(1, C8, C8)``.
        weight: Last update weight ``W`` (NaN before the first update).
    """

    mask_history: torch.Tensor
    prev_feature: torch.Tensor
    template: torch.Tensor
    weight: float = float("nan")


def unpack_attention(score: torch.Tensor, c_short: int, size: tuple[int, int]) -> torch.Tensor:
    """The stride-8 ``LT_sim`` stored in channels ``c_short:`` of an encoding, at ``size``."""
    return fit_to(F.pixel_shuffle(score[:, c_short:], 2), size)


class TTVOSLocalizer(TargetLocalizer):
    """Template attention module + short-term matching, per object.

    Args:
        c16: Channels of the stride-16 feature.
        c8: Channels of the stride-8 feature (template size ``c_tp``).
        c4: Channels of the stride-4 feature (sets ``inter = min(128, c4)``).
    """

    stride = 16
    feature_strides = (8, 16)
    bounded_state = True

    def __init__(self, c16: int, c8: int, c4: int) -> None:
        super().__init__()
        if c8 % 4:
            raise ValueError(f"TTVOS needs stride-8 channels divisible by 4, got {c8}")
        self.c16, self.c8 = c16, c8
        self.inter = min(128, c4)
        self.c_short = min(2 * self.inter, c16)
        self.score_channels = self.c_short + 4 * c8
        cin = c8 + 3 + 6
        self.gcm = TemplateGenerator(cin, c8)
        self.gcq = TemplateQuery(cin, c8)
        self.short = ConvReLU(c16 + 6, self.c_short, 3)
        self.update_weight = UpdateWeight(cin, (self.inter + 2) // 2)

    # ------------------------------------------------------------------ helpers
    def attention(self, f8: torch.Tensor, history: torch.Tensor, template: torch.Tensor):
        """``LT_sim`` ``(N, C8, h8, w8)`` of N objects on one frame's stride-8 feature."""
        return self.gcq(self._template_input(f8, history), template)

    def short_term(self, history: torch.Tensor, prev_feature: torch.Tensor) -> torch.Tensor:
        """Short-term matching ``(N, c_s, h16, w16)``."""
        pooled = fit_to(pool_half(history), tuple(prev_feature.shape[-2:]))
        return self.short(torch.cat([prev_feature, pooled.to(prev_feature.dtype)], 1))

    def encode(self, short: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        """Pack the short-term output and ``LT_sim`` into one stride-16 encoding."""
        h, w = short.shape[-2:]
        packed = F.pixel_unshuffle(fit_to(attention, (2 * h, 2 * w)), 2)
        return torch.cat([short, packed.to(short.dtype)], 1)

    def _template_input(self, f8: torch.Tensor, history: torch.Tensor) -> torch.Tensor:
        n = history.shape[0]
        return torch.cat([add_coords(f8).expand(n, -1, -1, -1), history.to(f8.dtype)], 1)

    # ------------------------------------------------------------------ contract
    def init_object(
        self, features: Features, mask: torch.Tensor, image: torch.Tensor
    ) -> TTVOSObjectState:
        """History = ``[1 - m, m]`` pooled to stride 8 plus four zero channels; template from it."""
        f8, f16 = features[8], features[16]
        slot = fit_to(mask_history_slot(mask.float()), tuple(f8.shape[-2:]))
        history = torch.cat([slot, torch.zeros_like(slot).repeat(1, 2, 1, 1)], 1)
        template = self.gcm(self._template_input(f8, history))
        return TTVOSObjectState(history, f16, template)

    def localize(self, features: Features, states: Sequence[TTVOSObjectState]) -> torch.Tensor:
        """The encodings ``(N, c_s + 4 C8, h16, w16)`` of the objects on this frame."""
        f8 = features[8]
        history = torch.cat([s.mask_history for s in states])
        template = torch.cat([s.template for s in states])
        prev = torch.cat([s.prev_feature for s in states])
        return self.encode(self.short_term(history, prev), self.attention(f8, history, template))

    def redetect(self, features: Features, anchors: Sequence[TTVOSObjectState]) -> torch.Tensor:
        """Encodings from the first-frame templates with no location prior: the mask
        history is uncertain everywhere (``[bg, fg] = [0.5, 0.5]``) and the short-term
        branch reads this frame's stride-16 feature, so only the template attention says
        where the object is (the anchors' own history would point at the first frame's
        position)."""
        f8, f16 = features[8], features[16]
        n = len(anchors)
        history = f8.new_full((n, 6, *f8.shape[-2:]), 0.5, dtype=anchors[0].mask_history.dtype)
        template = torch.cat([a.template for a in anchors])
        prev = f16.expand(n, -1, -1, -1)
        return self.encode(self.short_term(history, prev), self.attention(f8, history, template))

    def update(
        self,
        features: Features,
        states: Sequence[TTVOSObjectState],
        probs: torch.Tensor,
        frame_index: int,
    ) -> None:
        """Shift the mask history, keep this frame's s16 feature, blend in the new template.

        Not in-place on tensors (states get new tensors), so training can backpropagate
        through the updates of a clip.
        """
        f8, f16 = features[8], features[16]
        slot = fit_to(mask_history_slot(probs.float()), tuple(f8.shape[-2:]))
        old = torch.cat([s.mask_history for s in states])
        history = torch.cat([slot.to(old.dtype), old[:, :4]], 1)
        x = self._template_input(f8, history)
        current = self.gcm(x)
        weight = self.update_weight(x).view(-1, 1, 1)
        old_t = torch.cat([s.template for s in states])
        template = (old_t + weight.to(old_t.dtype) * current) / (1.0 + weight.to(old_t.dtype))
        for i, s in enumerate(states):
            s.mask_history = history[i : i + 1]
            s.prev_feature = f16
            s.template = template[i : i + 1]
            s.weight = float(weight[i].detach())

    def extra_repr(self) -> str:
        """Sizes."""
        return f"c8={self.c8}, inter={self.inter}, c_short={self.c_short}"
