"""Small objects: when an object covers too few localizer cells, and how much to zoom.

A base model's target localizer scores objects on a coarse grid (stride 16 for FRTM and
TTVOS). An object of 0.5% of a 240 x 432 frame is about 23 px across, 1.4 cells: its
first-frame fit and every later update see one or two feature vectors, and it is lost
within a few frames. A session can track such objects at a scale where they cover
:attr:`SmallObjects.min_cells` cells across, in one of two ways (``Session(small_objects=)``):

* ``"crop"``: each small object is tracked in its own window, ``context`` times its size,
  centred on it and resampled so that the object spans ``min_cells`` cells; the window
  follows the object and the result is pasted back (:mod:`vosframe.core.crops`). The cost
  is one extra pass of the model over a fixed-size crop per small object.
* ``"upscale"``: the whole session runs at an internal size enlarged so that the smallest
  object given on the first frame spans ``min_cells`` cells (at most ``max_zoom`` times
  the usual internal size). The cost grows with the square of the zoom.

Objects that already span ``min_cells`` cells are not affected by either mode, so a
session whose objects are all large computes exactly what it computes without the option.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Literal

import attrs
import numpy as np

from vosframe.core.errors import InputError

SmallObjectMode = Literal["crop", "upscale"]


def _positive(instance: object, attribute: attrs.Attribute, value: float) -> None:
    if not value > 0:
        raise InputError(f"SmallObjects.{attribute.name} must be > 0, got {value!r}")


@attrs.frozen
class SmallObjects:
    """How a session tracks objects that cover few localizer cells.

    Attributes:
        mode: ``"crop"`` (a window per small object) or ``"upscale"`` (a larger internal
            size for the whole session).
        min_cells: An object is small when the side of a square of its area, at the
            session's internal size, spans fewer localizer cells than this; it is then
            tracked at a zoom where it spans this many.
        max_zoom: Upper bound of the zoom (relative to the input frame for ``crop``, to the
            usual internal size for ``upscale``); bounds the cost for tiny objects.
        context: ``crop`` only: side of the window as a multiple of the object's side
            (the room the object has to move and deform between frames).
    """

    mode: SmallObjectMode = attrs.field(default="crop")
    min_cells: float = attrs.field(default=3.0, validator=_positive)
    max_zoom: float = attrs.field(default=4.0, validator=_positive)
    context: float = attrs.field(default=5.0, validator=_positive)

    @mode.validator
    def _check_mode(self, attribute: attrs.Attribute, value: str) -> None:
        if value not in ("crop", "upscale"):
            raise InputError(
                f"small_objects mode must be 'crop' or 'upscale', got {value!r}. "
                f"Fix: small_objects='crop' (or None to turn it off)."
            )

    @classmethod
    def parse(cls, value: SmallObjects | str | None) -> SmallObjects | None:
        """A session's ``small_objects`` option: None/``"off"``, a mode name, or an instance.

        Raises:
            InputError: Any other value.
        """
        if value is None or value == "off":
            return None
        if isinstance(value, SmallObjects):
            return value
        if isinstance(value, str):
            return cls(mode=value)  # type: ignore[arg-type]
        raise InputError(
            f"small_objects must be None, 'off', 'crop', 'upscale' or a SmallObjects, got {value!r}"
        )


def object_cells(mask: np.ndarray, scale: float, stride: int) -> float:
    """Side of a square of the mask's area, in localizer cells, at ``scale`` x its size.

    Args:
        mask: Binary ``(H, W)`` mask at input size.
        scale: Internal size / input size.
        stride: The localizer's stride.
    """
    return math.sqrt(float(np.count_nonzero(mask))) * scale / stride


def zoom_for(cells: float, policy: SmallObjects) -> float:
    """The zoom that makes an object of ``cells`` span ``policy.min_cells`` (1 if it does,
    or if the mask is empty: there is nothing to zoom for), at most ``policy.max_zoom``."""
    if cells <= 0 or cells >= policy.min_cells:
        return 1.0
    return min(policy.max_zoom, policy.min_cells / cells)


def upscale_zoom(
    masks: Iterable[np.ndarray], scale: float, stride: int, policy: SmallObjects
) -> float:
    """``upscale`` mode: the session's zoom, from the smallest non-empty given mask."""
    cells = [object_cells(m, scale, stride) for m in masks]
    cells = [c for c in cells if c > 0]
    return zoom_for(min(cells), policy) if cells else 1.0
