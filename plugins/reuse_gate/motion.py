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

The drift budget measures the compensated drift when the copies are compensated
(:func:`compensated_change`): what a copy of the object would lose per frame.
Translation only: no rotation, scale or deformation; no sub-cell shifts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np
import torch

from vosframe.core.plugin import AltOutput
from vosframe.core.state import FrameState, ObjectState

from .inputs import coarse_mask, mask_change
from .modules import PIXEL_CUE_STRIDE
from .state import GateObjectState


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


def shift_map(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``x`` ``(N, C, H, W)`` moved by ``dy`` rows and ``dx`` columns, zeros where it left."""
    if dy == 0 and dx == 0:
        return x
    h, w = x.shape[-2:]
    out = torch.zeros_like(x)
    if abs(dy) >= h or abs(dx) >= w:
        return out
    src_y, dst_y = slice(max(0, -dy), h - max(0, dy)), slice(max(0, dy), h - max(0, -dy))
    src_x, dst_x = slice(max(0, -dx), w - max(0, dx)), slice(max(0, dx), w - max(0, -dx))
    out[..., dst_y, dst_x] = x[..., src_y, src_x]
    return out


def shift_mask(prob: torch.Tensor, cells: tuple[int, int]) -> torch.Tensor:
    """A full-resolution mask moved by ``cells`` of the stride-4 grid."""
    s = PIXEL_CUE_STRIDE
    return shift_map(prob, cells[0] * s, cells[1] * s)


def compensated_change(
    mask: torch.Tensor,
    last_mask: torch.Tensor,
    image: torch.Tensor,
    last_image: torch.Tensor,
    radius: int,
) -> float:
    """``1 - IoU`` of a coarse mask and the previous one moved by the estimated shift.

    Args:
        mask: ``(1, 1, h, w)`` the object's mask now, on the stride-4 grid.
        last_mask: ``(1, 1, h, w)`` its mask on the earlier frame.
        image: ``(1, 3, h, w)`` the pooled frame now.
        last_image: ``(1, 3, h, w)`` the pooled earlier frame.
        radius: Search radius of :func:`estimate_shift`.
    """
    dy, dx = estimate_shift(last_image, image, last_mask, radius)
    return float(mask_change(mask, shift_map(last_mask, dy, dx))[0])


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

    def moved_copies(self, frame: FrameState, objects: Sequence[ObjectState]) -> AltOutput:
        """The copies of ``objects``: each one's last computed mask moved with its pixels.

        When no object's shift differs from its current output's, the outputs are kept
        (``keep_last``: the frame costs what a plain copy costs).
        """
        image = self.frame_image(frame)
        states = [obj.plugins[self.key] for obj in objects]
        shifts = [
            estimate_shift(st.image, image, self._computed_mask(st), self.motion_radius)
            for st in states
        ]
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
