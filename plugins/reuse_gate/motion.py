"""Motion-compensated copies: move the copied mask with the object's pixels.

The ``copy`` variant outputs the mask of the object's last computed frame ``c``. With
``ReuseGate(copy_motion=True)`` that mask is first translated by the object's motion from
``c`` to the current frame ``t``, estimated from pixels alone: the object's pixels in the
pooled frame ``c`` (the pixel cue's stride-4 grid, :func:`~.modules.pool_image`), masked by
its computed mask there, are matched against frame ``t`` at every integer shift within
``radius`` grid cells, and the shift with the smallest masked sum of squared differences
wins (:func:`estimate_shift`; a tie keeps the mask in place). The mask is then moved by
that many cells times the stride, with zeros where it leaves the frame (:func:`shift_map`).

Why: on DAVIS-2016 val, with FRTM's own outputs, the copied mask's IoU against the full
path's output at age 1 / 2 / 3 rises from 0.77 / 0.65 / 0.56 to 0.83 / 0.75 / 0.68 on
``dog`` and from 0.87 / 0.81 / 0.77 to 0.88 / 0.85 / 0.82 on ``blackswan``, and it falls
on none of the ten sequences by more than 0.001 (an estimate by phase correlation of the
whole neighbourhood instead followed the background and lost on seven of them).

``ReuseGate(moved_cues=True)`` (a gate input, so the gate is trained with it) makes the
pixel cue of the gate and the pre-gate measure the change *beyond* the shift: the last
computed frame and mask are moved by the object's shift before the change is read, in the
object's side of its boundary band (:func:`inner_band`), so a rigidly moving object looks
unchanged and one that deforms does not. With ``copy_motion``, training on traces targets
the moved copy's quality (:func:`~.traces.moved_sample`).

The drift budget keeps measuring the plain mask change (measured after the move it did
worse on the held-out sequences). Translation only: no rotation, scale or deformation, no
sub-cell shifts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch

from vosframe.core.errors import DataError
from vosframe.core.plugin import AltOutput
from vosframe.core.state import FrameState, ObjectState

from .inputs import coarse_mask
from .modules import PIXEL_CUE_STRIDE, dilate, image_change_cue
from .state import GateObjectState

if TYPE_CHECKING:
    from .traces import SequenceTrace


def estimate_shift(
    last_image: torch.Tensor, image: torch.Tensor, mask: torch.Tensor, radius: int
) -> tuple[int, int]:
    """The object's translation ``(dy, dx)`` in grid cells from ``last_image`` to ``image``.

    Args:
        last_image: ``(1, 3, h, w)`` the pooled frame the mask belongs to.
        image: ``(1, 3, h, w)`` the pooled current frame.
        mask: ``(1, 1, h, w)`` the object's mask on ``last_image`` (foreground > 0.5).
        radius: Largest shift tried along each axis, in cells.

    Returns:
        The shift minimising the masked sum of squared differences; ``(0, 0)`` for an
        empty mask or a tie with no shift.
    """
    m = (mask[0, 0] > 0.5).cpu().numpy()
    ys, xs = np.nonzero(m)
    if len(ys) == 0 or radius < 1:
        return 0, 0
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    last = last_image[0].permute(1, 2, 0).float().cpu().numpy()
    now = image[0].permute(1, 2, 0).float().cpu().numpy()
    templ = np.ascontiguousarray(last[y0:y1, x0:x1])
    weight = np.ascontiguousarray(np.repeat(m[y0:y1, x0:x1, None], 3, 2).astype(np.float32))
    r = int(radius)
    padded = cv2.copyMakeBorder(now, r, r, r, r, cv2.BORDER_REPLICATE)
    search = np.ascontiguousarray(padded[y0 : y1 + 2 * r, x0 : x1 + 2 * r])
    ssd = cv2.matchTemplate(search, templ, cv2.TM_SQDIFF, mask=weight)
    best = float(ssd.min())
    if ssd[r, r] <= best:
        return 0, 0
    dy, dx = np.unravel_index(int(np.argmin(ssd)), ssd.shape)
    return int(dy) - r, int(dx) - r


def shift_map(x: torch.Tensor, dy: int, dx: int, edge: bool = False) -> torch.Tensor:
    """``x`` ``(N, C, H, W)`` moved by ``dy`` rows and ``dx`` columns.

    Where it left: zeros, or with ``edge`` the nearest moved row / column (for images, so
    the border does not look like a change).
    """
    if dy == 0 and dx == 0:
        return x
    h, w = x.shape[-2:]
    if abs(dy) >= h or abs(dx) >= w:
        return torch.zeros_like(x)
    if edge:
        rows = (torch.arange(h) - dy).clamp(0, h - 1)
        cols = (torch.arange(w) - dx).clamp(0, w - 1)
        return x[..., rows, :][..., cols]
    out = torch.zeros_like(x)
    src_y, dst_y = slice(max(0, -dy), h - max(0, dy)), slice(max(0, dy), h - max(0, -dy))
    src_x, dst_x = slice(max(0, -dx), w - max(0, dx)), slice(max(0, dx), w - max(0, -dx))
    out[..., dst_y, dst_x] = x[..., src_y, src_x]
    return out


def moved_cue(
    image: torch.Tensor, last_image: torch.Tensor, mask: torch.Tensor, shift: tuple[int, int]
) -> torch.Tensor:
    """:func:`~.modules.image_change_cue` of one object beyond its shift (``moved_cues``).

    Args:
        image: ``(1, 3, h, w)`` the pooled frame.
        last_image: ``(1, 3, h, w)`` the pooled frame of the object's last computed mask.
        mask: ``(1, 1, h, w)`` that mask on the same grid.
        shift: The object's shift (:func:`estimate_shift`), in cells.

    Returns:
        ``(1, 2, 1, 1)``: the change between ``image`` and ``last_image`` moved by the
        shift (the border filled from the edge), read in :func:`inner_band` of the moved mask.
    """
    moved = shift_map(mask, *shift)
    last = shift_map(last_image, *shift, edge=True)
    return image_change_cue(image, last, moved, band=inner_band(moved))


def trace_shift(
    trace: SequenceTrace, start: int, last: int, t: int, prob: torch.Tensor, radius: int
) -> tuple[int, int]:
    """:func:`estimate_shift` of a traced object's mask ``prob`` (full resolution) from its
    frame ``last`` to ``t`` (both counted from the object's first frame ``start``).

    Raises:
        DataError: The trace has no pooled frames.
    """
    if trace.images is None:
        raise DataError(f"trace {trace.name} has no images; record it again for copy_motion")
    images = trace.images[start:]
    return estimate_shift(
        images[last : last + 1].float(), images[t : t + 1].float(), coarse_mask(prob), radius
    )


def inner_band(mask: torch.Tensor) -> torch.Tensor:
    """``M - erode(M)`` (5x5): the object's side of its boundary band.

    The band the pixel cue reads with ``moved_cues``: after moving the last frame by the
    object's shift, the object's own pixels should match and the background around it
    need not (it stays, or moves with the camera), so only the object's side tells whether
    the object changed beyond the shift.
    """
    return mask + dilate(-mask, 5)


def shift_mask(prob: torch.Tensor, cells: tuple[int, int]) -> torch.Tensor:
    """A full-resolution mask moved by ``cells`` of the stride-4 grid."""
    s = PIXEL_CUE_STRIDE
    return shift_map(prob, cells[0] * s, cells[1] * s)


class MotionCopy:
    """Mixin of :class:`~vosframe.plugins.reuse_gate.plugin.ReuseGate`: ``copy_motion``.

    Uses the plugin's ``key``, ``copy_motion``, ``motion_radius`` and ``frame_image``.
    Per object it keeps (in :class:`~.state.GateObjectState`) the output mask of its last
    computed frame (``prob``), that frame pooled (``image``) and the shift of its current
    output (``shift``).
    """

    key: str
    copy_motion: bool
    motion_radius: int
    frame_image: Callable[[FrameState], torch.Tensor]

    def object_shift(self, frame: FrameState, obj: ObjectState) -> tuple[int, int]:
        """The object's shift from its last computed frame to ``frame``, in stride-4
        cells (once per frame and object: ``frame.scratch``)."""
        key = (self.key, "shift", obj.obj_id)
        if key not in frame.scratch:
            st = obj.plugins[self.key]
            mask = self._computed_mask(st)
            frame.scratch[key] = estimate_shift(
                st.image, self.frame_image(frame), mask, self.motion_radius
            )
        return frame.scratch[key]

    def moved_pixel_cue(
        self, frame: FrameState, objs: Sequence[ObjectState], masks: torch.Tensor
    ) -> torch.Tensor:
        """``moved_cues``: :func:`moved_cue` of each object (``masks``: their cue masks,
        ``(N, 1, h, w)`` on the pooled grid) with its :meth:`object_shift`."""
        image = self.frame_image(frame)
        return torch.cat(
            [
                moved_cue(
                    image, o.plugins[self.key].image, masks[i : i + 1], self.object_shift(frame, o)
                )
                for i, o in enumerate(objs)
            ]
        )

    def moved_copies(self, frame: FrameState, objects: Sequence[ObjectState]) -> AltOutput:
        """The copies of ``objects``: each one's last computed mask moved with its pixels.

        When no object's shift differs from its current output's, the outputs are kept
        (``keep_last``: the frame costs what a plain copy costs).
        """
        states = [obj.plugins[self.key] for obj in objects]
        shifts = [self.object_shift(frame, obj) for obj in objects]
        if all(sh == st.shift for sh, st in zip(shifts, states)):
            return AltOutput(None, None, keep_last=True)
        probs = [shift_mask(st.prob, sh) for st, sh in zip(states, shifts)]
        for st, sh in zip(states, shifts):
            st.shift = sh
        return AltOutput(None, None, probs=torch.cat(probs))

    @staticmethod
    def _computed_mask(state: GateObjectState) -> torch.Tensor:
        """``prob`` on the stride-4 grid: ``mask`` when the drift is tracked (kept from the
        same computed frame), else computed here."""
        return state.mask if state.mask is not None else coarse_mask(state.prob)

    def observe_computed(self, state: GateObjectState, obj: ObjectState) -> None:
        """After a computed frame: its output is the mask later copies move."""
        if self.copy_motion:
            state.prob, state.shift = obj.last_prob, (0, 0)
