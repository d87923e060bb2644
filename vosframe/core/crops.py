"""Object-centred crop views: track a small object in a zoomed window that follows it.

Each small object (see :mod:`vosframe.core.scale`) gets its own child session of the same
model, fed every frame with a square window of the input frame centred on the object's
last position and resampled to a fixed size at which the object spans
:attr:`~vosframe.core.scale.SmallObjects.min_cells` localizer cells. All of the child's
state (target model, templates, masks) lives in window coordinates; because the window
follows the object, the object stays near the window's centre from frame to frame, as in
the tracking-style crops of LWL (Bhat et al., "Learning What to Learn for Video Object
Segmentation", ECCV 2020). The child's probability is pasted back into the parent's
internal frame (zero outside the window). This works for every base model: the child is
an ordinary :class:`~vosframe.core.session.Session`.

The window's size is fixed when the object is added (the child's state is at one scale);
an object that grows far beyond it is clipped to the window.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import roi_align

from vosframe.core.scale import SmallObjects, object_cells
from vosframe.core.state import ObjectState, ObjectStats, PathRecord

CROP_MULTIPLE = 16
"""Crop sides are rounded up to a multiple of this (the localizers' stride)."""

MIN_CROP = 64
"""Smallest crop side in pixels."""


@attrs.define(eq=False)
class CropTrack:
    """One small object tracked in its own window.

    Attributes:
        obj_id: The user's object id.
        session: The child session (one object, frames of ``size x size``).
        side: Side of the window in input pixels (fixed for the object's life).
        size: Side of the resampled crop the child processes, in pixels.
        center: Window centre ``(x, y)`` in input pixels (continuous coordinates: pixel
            ``i`` covers ``[i, i + 1)``).
    """

    obj_id: int
    session: Any
    side: float
    size: int
    center: tuple[float, float]

    def box(self, frame_size: tuple[int, int]) -> tuple[float, float, float, float]:
        """The window ``(x0, y0, x1, y1)``, shifted to lie inside the frame when it fits."""
        h, w = frame_size
        half = self.side / 2
        cx = w / 2 if self.side >= w else min(max(self.center[0], half), w - half)
        cy = h / 2 if self.side >= h else min(max(self.center[1], half), h - half)
        return cx - half, cy - half, cx + half, cy + half


def crop(image: torch.Tensor, box: tuple[float, float, float, float], size: int) -> torch.Tensor:
    """Bilinear resample of ``box`` of a ``(1, C, H, W)`` tensor to ``(1, C, size, size)``.

    Samples at the centres of a ``size x size`` grid over the box (one sample per cell when
    zooming in, an average of ``ceil(zoom out)`` squared samples when zooming out); zero
    outside the image.
    """
    side = box[2] - box[0]
    ratio = max(1, math.ceil(side / size))
    boxes = torch.tensor([[0.0, *box]], dtype=image.dtype, device=image.device)
    return roi_align(
        image, boxes, (size, size), spatial_scale=1.0, sampling_ratio=ratio, aligned=True
    )


def paste(
    prob: torch.Tensor,
    box: tuple[float, float, float, float],
    input_size: tuple[int, int],
    out_size: tuple[int, int],
) -> torch.Tensor:
    """Map a ``(size, size)`` window probability to ``(1, 1, *out_size)`` frame coordinates.

    Args:
        prob: The child's probability ``(size, size)``.
        box: The window in input pixels.
        input_size: ``(H, W)`` of the input frame.
        out_size: ``(h, w)`` of the parent's internal frame (may differ from the input).

    Returns:
        The probability at the parent's internal size, zero outside the window.
    """
    (h, w), (oh, ow) = input_size, out_size
    x0, y0, x1, y1 = box
    # Input coordinate of each output pixel centre, then the window's normalised coordinate.
    xs = (torch.arange(ow, dtype=torch.float32) + 0.5) * (w / ow)
    ys = (torch.arange(oh, dtype=torch.float32) + 0.5) * (h / oh)
    gx = 2 * (xs - x0) / (x1 - x0) - 1
    gy = 2 * (ys - y0) / (y1 - y0) - 1
    grid = torch.stack(torch.broadcast_tensors(gx[None, :], gy[:, None]), dim=-1)[None]
    src = prob.float().to(grid.device)[None, None]
    return F.grid_sample(src, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _centroid(prob: torch.Tensor) -> tuple[float, float] | None:
    """Centre of mass ``(x, y)`` of ``prob > 0.5`` in continuous pixel coordinates."""
    fg = prob > 0.5
    if not bool(fg.any()):
        return None
    ys, xs = torch.nonzero(fg, as_tuple=True)
    return float(xs.float().mean()) + 0.5, float(ys.float().mean()) + 0.5


class CropViews:
    """The crop views of one session (a session-owned helper; holds per-video state).

    Args:
        policy: The small-object settings (``mode="crop"``).
        stride: The model's localizer stride.
        new_child: Makes a child session (same model and precision, native internal size).
    """

    def __init__(self, policy: SmallObjects, stride: int, new_child: Callable[[], Any]) -> None:
        self.policy = policy
        self.stride = stride
        self.new_child = new_child
        self.tracks: dict[int, CropTrack] = {}

    def __len__(self) -> int:
        return len(self.tracks)

    def __contains__(self, obj_id: object) -> bool:
        return obj_id in self.tracks

    def __iter__(self) -> Iterator[int]:
        return iter(self.tracks)

    def is_small(self, mask: np.ndarray, scale: float) -> bool:
        """True if a non-empty mask spans fewer than ``min_cells`` cells at ``scale``."""
        cells = object_cells(mask, scale, self.stride)
        return 0 < cells < self.policy.min_cells

    def remove(self, obj_id: int) -> ObjectStats:
        """Stop tracking ``obj_id``; returns its counters."""
        track = self.tracks.pop(obj_id)
        return track.session.objects[obj_id].stats

    def add(
        self, obj_id: int, image: torch.Tensor, mask: np.ndarray, out_size: tuple[int, int]
    ) -> tuple[ObjectState, torch.Tensor, PathRecord]:
        """Start a crop view for a given mask and initialise its child session.

        Args:
            obj_id: The object's id.
            image: ``(1, 3, H, W)`` input frame (float, [0, 1]).
            mask: Binary ``(H, W)`` mask at input size (non-empty).
            out_size: The parent's internal size.

        Returns:
            The child's object state, its probability at ``out_size`` ``(1, 1, h, w)`` and
            its path record.
        """
        ys, xs = np.nonzero(mask)
        obj_side = math.sqrt(len(ys))
        zoom = min(self.policy.max_zoom, self.policy.min_cells * self.stride / obj_side)
        side = self.policy.context * obj_side
        size = max(MIN_CROP, math.ceil(side * zoom / CROP_MULTIPLE) * CROP_MULTIPLE)
        center = (float(xs.mean()) + 0.5, float(ys.mean()) + 0.5)
        track = CropTrack(obj_id, self.new_child(), side, size, center)
        self.tracks[obj_id] = track
        size_in = tuple(image.shape[-2:])
        box = track.box(size_in)
        window = crop(image, box, size)[0]
        m = torch.from_numpy(mask).to(image.device, torch.float32)[None, None]
        m_crop = crop(m, box, size)[0, 0] > 0.5
        if not bool(m_crop.any()):  # a mask thinner than the sampling grid: keep its centre
            m_crop[size // 2, size // 2] = True
        result = track.session.step(window, masks={obj_id: m_crop.cpu().numpy()})
        prob = self._paste_and_follow(track, result.probs[obj_id], box, size_in, out_size)
        return track.session.objects[obj_id], prob, result.paths[obj_id]

    def step(
        self, image: torch.Tensor, out_size: tuple[int, int], skip: set[int]
    ) -> tuple[list[ObjectState], list[torch.Tensor], dict[int, PathRecord]]:
        """Run every crop view on a frame (except ids in ``skip``, given on this frame).

        Args:
            image: ``(1, 3, H, W)`` input frame.
            out_size: The parent's internal size.
            skip: Ids whose masks are given on this frame (initialised by :meth:`add`).

        Returns:
            The child object states, their probabilities at ``out_size`` ``(1, 1, h, w)``
            and their path records.
        """
        size_in = tuple(image.shape[-2:])
        states, probs, records = [], [], {}
        for obj_id, track in self.tracks.items():
            if obj_id in skip:
                continue
            box = track.box(size_in)
            result = track.session.step(crop(image, box, track.size)[0])
            probs.append(
                self._paste_and_follow(track, result.probs[obj_id], box, size_in, out_size)
            )
            states.append(track.session.objects[obj_id])
            records[obj_id] = result.paths[obj_id]
        return states, probs, records

    @staticmethod
    def _paste_and_follow(
        track: CropTrack,
        prob: torch.Tensor,
        box: tuple[float, float, float, float],
        image_size: tuple[int, int],
        out_size: tuple[int, int],
    ) -> torch.Tensor:
        c = _centroid(prob)
        if c is not None:  # follow the object; a lost object keeps its window
            scale = (box[2] - box[0]) / track.size
            track.center = (box[0] + c[0] * scale, box[1] + c[1] * scale)
        return paste(prob, box, image_size, out_size)

    def stats(self) -> dict[int, ObjectStats]:
        """Per-object counters of the tracked crop objects."""
        return {i: t.session.objects[i].stats for i, t in self.tracks.items()}
