"""Spatial prior: drop predicted regions that are far from where the object just was.

A target model learned online on coarse features (FRTM's, for one) also fires on
look-alikes elsewhere in the frame: other scooters behind a scooter, other cars, textured
background. Those regions are separate connected components of the predicted mask, away
from the object's mask on the previous frame. This plugin removes them before the model
aggregates the objects and before the localizer learns from the result (so the false
positives are not fed back into the target model's memory, where they would grow).

Rule, per object with a mask on the previous frame: the connected components (8-connected)
of ``p > 0.5`` that touch the previous mask dilated by ``margin * sqrt(area)`` pixels (at
least ``min_radius``) are kept; the other components' pixels get probability 0. The
prior only chooses among candidates, it never deletes the object:

* a mask with a single component is left alone (an object's only remaining component is
  never removed), and so is a mask none of whose components touches the zone (the object
  moved far);
* a *lost* object (:mod:`vosframe.core.recovery`: its mask collapsed or vanished) is left
  alone: its previous mask is no evidence of where it is, and the far component may be the
  object coming back.

Objects on an alternative path that keeps the last mask are not touched.

Config::

    model = dict(type="FRTM", ..., plugins=[dict(type="SpatialPrior", margin=0.5)])

Not in the FRTM paper; a classic post-processing of VOS methods (keeping the components
near the previous mask). Model-agnostic: it reads only the per-object probabilities.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
import torch

from vosframe.core.errors import ConfigError
from vosframe.core.plugin import ModelPlugin
from vosframe.core.state import FrameState, ObjectState


def near_components(
    mask: np.ndarray, previous: np.ndarray, margin: float, min_radius: int
) -> np.ndarray | None:
    """The pixels of ``mask``'s components that are far from ``previous``.

    Args:
        mask: ``(H, W)`` bool, the new mask.
        previous: ``(H, W)`` bool, the object's mask on the previous frame.
        margin: Dilation radius as a fraction of ``sqrt(area of previous)``.
        min_radius: Smallest dilation radius in pixels.

    Returns:
        ``(H, W)`` bool of the pixels to drop, or None when nothing is dropped (one
        component or none, an empty previous mask, or no component near it).
    """
    area = int(previous.sum())
    if area == 0:
        return None
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if count <= 2:  # background + at most one component
        return None
    radius = max(float(min_radius), margin * math.sqrt(area))
    # distance to the previous mask (0 inside it): linear in the pixels, unlike a dilation
    # with a disc of radius ~ object size
    outside = (~previous).astype(np.uint8)
    zone = cv2.distanceTransform(outside, cv2.DIST_L2, cv2.DIST_MASK_5) <= radius
    keep = np.bincount(labels[zone & mask], minlength=count) > 0
    keep[0] = False
    if not keep.any():
        return None
    return mask & ~keep[labels]


class SpatialPrior(ModelPlugin):
    """Removes predicted components far from the object's previous mask (module notes).

    Args:
        margin: Dilation of the previous mask, as a fraction of the square root of its
            area (0.5: half the object's size).
        min_radius: Smallest dilation radius, in pixels at the internal size.
    """

    def __init__(self, margin: float = 0.5, min_radius: int = 8) -> None:
        super().__init__()
        if not margin >= 0 or int(min_radius) < 0:
            raise ConfigError(
                f"SpatialPrior needs margin >= 0 and min_radius >= 0, got margin={margin}, "
                f"min_radius={min_radius}. Fix: e.g. margin=0.5 (half the object's size)."
            )
        self.margin = float(margin)
        self.min_radius = int(min_radius)

    def filter_probs(
        self, frame: FrameState, objects: Sequence[ObjectState], probs: torch.Tensor
    ) -> torch.Tensor:
        """Zero the components of each object's mask that are far from its previous mask
        (lost objects are left alone)."""
        out = probs
        for i, obj in enumerate(objects):
            if obj.last_prob is None or obj.last_prob.shape[-2:] != probs.shape[-2:]:
                continue
            if obj.track.status == "lost":
                continue
            mask = (probs[i, 0] > 0.5).cpu().numpy()
            previous = (obj.last_prob[0, 0] > 0.5).cpu().numpy()
            drop = near_components(mask, previous, self.margin, self.min_radius)
            if drop is None:
                continue
            if out is probs:
                out = probs.clone()
            out[i, 0][torch.from_numpy(drop).to(out.device)] = 0.0
        return out

    def extra_repr(self) -> str:
        return f"margin={self.margin}, min_radius={self.min_radius}"
