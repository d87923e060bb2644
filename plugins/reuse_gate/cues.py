"""The reuse gate's cues: what changed since an object's last computed frame.

Pure functions on tensors, shared by inference (:mod:`~.frame_cues`) and training on
traces. Feature cues compare F_t with the object's last computed F_t (:func:`change_cue`);
pixel cues compare the frame, average-pooled to the stride-4 grid (:func:`pool_image`),
with the object's last computed frame around its mask's boundary
(:func:`image_change_cue`). Motion: a copy may move the object's last computed mask with
its pixels (:func:`estimate_shift`: the integer shift on the stride-4 grid whose masked
sum of squared differences is smallest; translation only), and the pixel cue may then
measure the change beyond that shift (:func:`moved_cue`). The pre-gate reads a few
scalars that need no feature of the frame (:func:`pre_gate_inputs`).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .networks import downsample_mask


def dilate(x: torch.Tensor, k: int) -> torch.Tensor:
    """``max_pool2d(x, k, stride=1, padding=k // 2)`` (odd ``k``), computed separably as
    shifted maxima: the same values without the indices ``max_pool2d`` builds."""
    r, (h, w) = k // 2, x.shape[-2:]
    rows = F.pad(x, (0, 0, r, r), value=float("-inf"))
    out = rows[..., 0:h, :]
    for i in range(1, k):
        out = torch.maximum(out, rows[..., i : i + h, :])
    cols = F.pad(out, (r, r, 0, 0), value=float("-inf"))
    out = cols[..., :, 0:w]
    for j in range(1, k):
        out = torch.maximum(out, cols[..., :, j : j + w])
    return out


def change_cue(
    feature: torch.Tensor,
    last_feature: torch.Tensor,
    prob: torch.Tensor,
    object_stats: bool = False,
) -> torch.Tensor:
    """Channels telling the gate how much the frame changed since the last computed one.

    ``e = mean_c |F_t - F_last| / mean |F_last|`` (scale-free) and ``e * M`` with ``M`` the
    last output mask at the F_t grid: change anywhere, and change where the object was.

    With ``object_stats``, three constant maps follow, scalars relative to the object's
    size (what decides how much IoU a stale mask loses: the same motion costs a small
    object more): ``log1p(sum(e * M) / |M|)``, ``log1p(sum(e * dilate(M)) / |M|)`` (change
    inside the mask and in a one-cell band around it, per object cell; ``|M| = max(sum M,
    1)``) and ``log(mean M + 1e-4)`` (the object's area).

    Args:
        feature: ``(1, C, h, w)`` F_t of the frame.
        last_feature: ``(N, C, h, w)`` F_t of each object's last computed frame.
        prob: ``(N, 1, H, W)`` each object's last output mask.
        object_stats: Append the three object-relative scalars.

    Returns:
        ``(N, 2, h, w)`` float32, or ``(N, 5, h, w)`` with ``object_stats``.
    """
    f, last = feature.float(), last_feature.float()
    e = (f - last).abs().mean(1, keepdim=True)
    e = e / (last.abs().mean((1, 2, 3), keepdim=True) + 1e-6)
    m = downsample_mask(prob.float(), tuple(f.shape[-2:]))
    maps = [e, e * m]
    if object_stats:
        area = m.sum((2, 3), keepdim=True).clamp(min=1.0)
        band = dilate(m, 3)
        scalars = [
            torch.log1p((e * m).sum((2, 3), keepdim=True) / area),
            torch.log1p((e * band).sum((2, 3), keepdim=True) / area),
            torch.log(m.mean((2, 3), keepdim=True) + 1e-4),
        ]
        maps += [v.expand_as(e) for v in scalars]
    return torch.cat(maps, 1)


#: Stride of the grid the pixel cue compares frames on.
PIXEL_CUE_STRIDE = 4


def pool_image(image: torch.Tensor) -> torch.Tensor:
    """The frame as the pixel cue keeps it: average-pooled to :data:`PIXEL_CUE_STRIDE`.

    A single float32 CPU frame whose sides are multiples of the stride is pooled by
    OpenCV's ``INTER_AREA`` on its ``H x W x 3`` view (the same box average up to float
    rounding, and cheaper on the CPU); anything else by ``avg_pool2d`` (partial windows at
    the border average the pixels they cover).
    """
    s = PIXEL_CUE_STRIDE
    h, w = image.shape[-2:]
    if (
        image.device.type == "cpu"
        and image.dtype == torch.float32
        and image.shape[:2] == (1, 3)
        and h % s == 0
        and w % s == 0
    ):
        hwc = np.ascontiguousarray(image[0].permute(1, 2, 0).numpy())
        out = cv2.resize(hwc, (w // s, h // s), interpolation=cv2.INTER_AREA)
        return torch.from_numpy(out).permute(2, 0, 1)[None]
    return F.avg_pool2d(image.float(), s, ceil_mode=True)


def boundary_band(mask: torch.Tensor) -> torch.Tensor:
    """``dilate(M) - erode(M)`` (5x5) of a mask on the pixel cue's grid."""
    return dilate(mask, 5) + dilate(-mask, 5)


def image_change_cue(
    pooled: torch.Tensor,
    last_pooled: torch.Tensor,
    prob: torch.Tensor,
    band: torch.Tensor | None = None,
) -> torch.Tensor:
    """How much the frame changed where the object's boundary was (two scalars per object).

    ``d = mean_rgb |I_t - I_last|`` on the stride-4 grid (:func:`pool_image`);
    ``B = dilate(M) - erode(M)`` (5x5 on that grid: a ~20-pixel band around the boundary of
    the last output mask ``M``). Returns ``log(1e-3 + sum(d B) / sum(B))`` (the change in
    the band) and ``log(1e-3 + sum(d B) / sum(M))`` (the same per object cell: a moved
    boundary costs a small object more IoU). A mask is only stale where its boundary zone
    changed, which stride-8 features blur for thin or small parts.

    Args:
        pooled: ``(1, 3, h, w)`` the frame, pooled.
        last_pooled: ``(N, 3, h, w)`` each object's last computed frame, pooled.
        prob: ``(N, 1, H, W)`` each object's last output mask (or already on the grid).
        band: :func:`boundary_band` of ``prob`` on the grid, when already computed.

    Returns:
        ``(N, 2, 1, 1)`` float32.
    """
    d = (pooled.float() - last_pooled.float()).abs().mean(1, keepdim=True)
    m = downsample_mask(prob.float(), tuple(d.shape[-2:]))
    band = boundary_band(m) if band is None else band
    changed = (d * band).sum((2, 3), keepdim=True)
    per_band = changed / band.sum((2, 3), keepdim=True).clamp(min=1.0)
    per_cell = changed / m.sum((2, 3), keepdim=True).clamp(min=1.0)
    return torch.log(torch.cat([per_band, per_cell], 1) + 1e-3)


def coarse_mask(prob: torch.Tensor) -> torch.Tensor:
    """``(N, 1, H, W)`` masks area-downsampled to the pixel cue's stride-4 grid."""
    h, w = prob.shape[-2:]
    s = PIXEL_CUE_STRIDE
    return downsample_mask(prob.float(), (-(-h // s), -(-w // s)))


def mask_change(mask: torch.Tensor, last_mask: torch.Tensor) -> torch.Tensor:
    """``(N,)`` ``1 - IoU`` of two sets of coarse masks (thresholded at 0.5; 0 if both empty)."""
    a, b = mask > 0.5, last_mask > 0.5
    inter = (a & b).sum((1, 2, 3)).float()
    union = (a | b).sum((1, 2, 3)).float()
    return torch.where(union > 0, 1.0 - inter / union.clamp(min=1.0), torch.zeros_like(union))


def pre_gate_inputs(
    image: torch.Tensor,
    last_image: torch.Tensor,
    prob: torch.Tensor,
    age: torch.Tensor,
    pixel: torch.Tensor | None = None,
) -> torch.Tensor:
    """``(N, 5)`` pre-gate inputs, all logarithmic.

    Args:
        image: ``(1, 3, h, w)`` the frame, pooled (:func:`pool_image`).
        last_image: ``(N, 3, h, w)`` each object's last computed frame, pooled.
        prob: ``(N, 1, H, W)`` each object's last output mask (or already on the grid of
            ``image``).
        age: ``(N,)`` frames since each object's last computed frame.
        pixel: ``(N, 2, 1, 1)`` :func:`image_change_cue` of the objects, when already
            computed (as ``gate_input``'s ``pixel``).

    Returns:
        The boundary-band change and its per-cell form
        (:func:`image_change_cue`), the frame's mean change, the object's area and the
        cache age.
    """
    last = last_image.float()
    if pixel is None:
        pixel = image_change_cue(image, last, prob)
    band = pixel.flatten(1)
    change = (image.float() - last).abs().mean((1, 2, 3))
    area = downsample_mask(prob.float(), tuple(last.shape[-2:])).mean((1, 2, 3))
    cols = [band, torch.log(change + 1e-3)[:, None], torch.log(area + 1e-4)[:, None]]
    cols.append(torch.log(age.float().to(band.device))[:, None])
    return torch.cat(cols, 1)


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


def inner_band(mask: torch.Tensor) -> torch.Tensor:
    """``M - erode(M)`` (5x5): the object's side of its boundary band.

    The band the pixel cue reads with ``moved_cues``: after moving the last frame by the
    object's shift, the object's own pixels should match and the background around it
    need not (it stays, or moves with the camera), so only the object's side tells whether
    the object changed beyond the shift.
    """
    return mask + dilate(-mask, 5)


def moved_cue(
    image: torch.Tensor, last_image: torch.Tensor, mask: torch.Tensor, shift: tuple[int, int]
) -> torch.Tensor:
    """:func:`image_change_cue` of one object beyond its shift (``moved_cues``).

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


def shift_mask(prob: torch.Tensor, cells: tuple[int, int]) -> torch.Tensor:
    """A full-resolution mask moved by ``cells`` of the stride-4 grid."""
    s = PIXEL_CUE_STRIDE
    return shift_map(prob, cells[0] * s, cells[1] * s)
