"""Per-object state of the reuse gate."""

from __future__ import annotations

import attrs
import torch


@attrs.define(eq=False)
class GateObjectState:
    """Per-object state of the reuse gate (in ``ObjectState.plugins["ReuseGate"]``).

    Attributes:
        template: ``(1, K, K)`` the object's template (from its first frame).
        score: ``S_{t-n}``: the last computed localizer score (see the module notes for the
            value before the first full frame), or None if not known yet.
        feature: F_t of the object's last computed frame (``motion_cue`` only).
        run: Consecutive frames the object has taken the alternative path.
        image: The object's last computed frame, pooled (``pixel_cue`` or ``copy_motion``).
        mask: The object's last computed output mask on the stride-4 grid (with a drift
            budget), from frame ``mask_index``.
        mask_index: Frame index of ``mask``.
        mask_rate: Mask change per frame between the object's last two computed frames
            (with a drift budget; None until it has two).
        prob: The object's output mask on its last computed frame (``copy_motion`` and
            ``reuse_mask`` only: what they move or translate).
        shift: The shift of the object's current output from ``prob``, in stride-4 cells
            (``copy_motion`` only).
        mask_src: The output mask (``ObjectState.last_prob``) ``mask_maps`` were made from.
        mask_maps: ``mask_src`` area-downsampled, by grid size, and its boundary band
            (``("band", h, w)``): the cue inputs' masks, computed once while the object's
            output stays the same tensor.
    """

    template: torch.Tensor
    score: torch.Tensor | None
    feature: torch.Tensor | None = None
    run: int = 0
    image: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    mask_index: int = -1
    mask_rate: float | None = None
    prob: torch.Tensor | None = None
    shift: tuple[int, int] = (0, 0)
    mask_src: torch.Tensor | None = None
    mask_maps: dict[tuple, torch.Tensor] = attrs.Factory(dict)
