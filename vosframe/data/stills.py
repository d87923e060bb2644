"""Clips made from one still image: the static-image stage of STM's training recipe.

STM (Oh et al., ICCV 2019, Sec. 4) pre-trains on clips made from single annotated images by
random affine transforms, because a few dozen videos show too few objects, scales and
poses to learn matching that generalises. :func:`still_clip` turns one annotated frame
into ``length`` frames: each frame is the image under its own random affine (one clip-level
zoom, crop and flip of :class:`~vosframe.data.augment.ClipAugment`, then a per-frame
rotation, zoom, shear and shift, wider than for real clips: up to 20 degrees and 10% of
the frame, since one image has no motion of its own; our choice, not STM's published
ranges) and a smooth random elastic displacement, with the same warp applied to the label
map (nearest neighbour, so labels stay exact), then colour jitter. STM draws every frame
independently around the clip's geometry (no motion continuity), and so does this: the
matching stages must find the object after any such change, and consecutive frames of a
fast real video differ as much.

A still frame of a single-object dataset shows one object, so clips made from it teach
nothing about telling several objects apart. :func:`paste_still_object` adds one: an object
cut from another annotated image, scaled and placed at random, moved by its own still-clip
warps and composited on top (it may occlude the frame's objects, as in the synthetic
clips of :mod:`vosframe.data.synthetic` and STM's multi-object still images).
"""

from __future__ import annotations

import attrs
import cv2
import numpy as np

from vosframe.core.errors import InputError
from vosframe.data.augment import ClipAugment


@attrs.frozen
class StillClipRecipe:
    """How a still image becomes a clip.

    Attributes:
        augment: The per-clip and per-frame affine and colour ranges.
        elastic: Largest elastic displacement of the field's control points, as a fraction
            of the shorter side (0: none; see :func:`elastic_field`).
        elastic_grid: Control points along the shorter side of the random displacement
            field (upsampled smoothly to every pixel): fewer points, smoother warps.
        min_fraction: A frame keeps at least this fraction of each object's pixels of the
            source image (scaled by the area change of the warp); frames where an object
            falls (mostly) out of the crop make the whole clip be redrawn, up to
            ``retries`` times (then the last draw is kept).
        retries: Redraws of a clip before its last draw is kept.
    """

    augment: ClipAugment = attrs.field(factory=lambda: ClipAugment(rotation=20.0, translate=0.1))
    elastic: float = 0.02
    elastic_grid: int = 4
    min_fraction: float = 0.3
    retries: int = 5

    def __attrs_post_init__(self) -> None:
        if not 0.0 <= self.elastic < 0.25:
            raise InputError(f"elastic must be in [0, 0.25), got {self.elastic}")
        if self.elastic_grid < 2:
            raise InputError(f"elastic_grid must be at least 2, got {self.elastic_grid}")
        if not 0.0 <= self.min_fraction <= 1.0:
            raise InputError(f"min_fraction must be in [0, 1], got {self.min_fraction}")


def elastic_field(
    rng: np.random.Generator, size: tuple[int, int], amplitude: float, grid: int
) -> tuple[np.ndarray, np.ndarray]:
    """A smooth random displacement field as ``cv2.remap`` maps.

    Args:
        rng: Random generator.
        size: ``(H, W)`` of the field.
        amplitude: Largest displacement of the control points in pixels; the cubic
            upsampling overshoots it between them (bounded by 1.9 times; about 1.5 in
            practice).
        grid: Control points along the shorter side.

    Returns:
        ``(map_x, map_y)`` float32 arrays of ``size``: sample positions per output pixel.
    """
    h, w = size
    gh = max(2, round(grid * h / min(h, w)))
    gw = max(2, round(grid * w / min(h, w)))
    dx = rng.uniform(-amplitude, amplitude, (gh, gw)).astype(np.float32)
    dy = rng.uniform(-amplitude, amplitude, (gh, gw)).astype(np.float32)
    dx = cv2.resize(dx, (w, h), interpolation=cv2.INTER_CUBIC)
    dy = cv2.resize(dy, (w, h), interpolation=cv2.INTER_CUBIC)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return xs + dx, ys + dy


def still_clip(
    frame: np.ndarray,
    mask: np.ndarray,
    rng: np.random.Generator,
    length: int,
    out_size: tuple[int, int],
    recipe: StillClipRecipe | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A ``length``-frame clip from one annotated image.

    Args:
        frame: RGB ``uint8`` image ``(H, W, 3)``.
        mask: Its label map ``(H, W)`` (0 background, 255 ignored).
        rng: Random generator (the only source of randomness).
        length: Number of frames, at least 2.
        out_size: ``(H, W)`` of the clip.
        recipe: The warp ranges (default :class:`StillClipRecipe`).

    Returns:
        ``length`` frames and label maps of ``out_size``.

    Raises:
        InputError: ``frame`` and ``mask`` differ in size, or ``length`` < 2.
    """
    if frame.shape[:2] != mask.shape[:2]:
        raise InputError(f"frame {frame.shape[:2]} and mask {mask.shape[:2]} differ in size")
    if length < 2:
        raise InputError(f"a still clip needs at least 2 frames, got {length}")
    recipe = recipe or StillClipRecipe()
    aug = recipe.augment
    ids, counts = np.unique(mask, return_counts=True)
    area = {int(i): int(n) for i, n in zip(ids, counts) if i not in (0, 255)}
    dsize = (out_size[1], out_size[0])
    amplitude = recipe.elastic * min(out_size)
    for _attempt in range(recipe.retries + 1):
        matrices = aug.sample_geometry(rng, length, frame.shape[:2], out_size)
        frames: list[np.ndarray] = []
        masks: list[np.ndarray] = []
        for m in matrices:
            f = cv2.warpAffine(frame, m, dsize, flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
            k = cv2.warpAffine(mask, m, dsize, flags=cv2.INTER_NEAREST, borderValue=0)
            if amplitude > 0:
                mx, my = elastic_field(rng, out_size, amplitude, recipe.elastic_grid)
                f = cv2.remap(f, mx, my, cv2.INTER_LINEAR, borderValue=(0, 0, 0))
                k = cv2.remap(k, mx, my, cv2.INTER_NEAREST, borderValue=0)
            frames.append(f)
            masks.append(k)
        if all(_kept(k, m, area, recipe.min_fraction) for k, m in zip(masks, matrices)):
            break
    return aug.colour(rng, frames), masks


def _kept(mask: np.ndarray, matrix: np.ndarray, area: dict[int, int], fraction: float) -> bool:
    """Every object keeps ``fraction`` of its source area (scaled by the warp's zoom)."""
    gain = abs(float(np.linalg.det(matrix[:, :2])))
    return all(int((mask == obj).sum()) >= fraction * n * gain for obj, n in area.items())


def place_object(
    frame: np.ndarray,
    mask: np.ndarray,
    rng: np.random.Generator,
    out_size: tuple[int, int],
    scale: tuple[float, float] = (0.3, 0.6),
) -> tuple[np.ndarray, np.ndarray]:
    """One object of an annotated image, scaled and moved to a random place of a canvas.

    Args:
        frame: RGB ``uint8`` image ``(H, W, 3)``.
        mask: Its binary object mask ``(H, W)`` (non-zero: the object).
        rng: Random generator.
        out_size: ``(H, W)`` of the canvas.
        scale: Range of the object's larger bounding-box side after scaling, as a fraction
            of the canvas's shorter side.

    Returns:
        The moved image and its binary mask (``uint8``, 1 on the object) of ``out_size``.

    Raises:
        InputError: The mask is empty, or differs from the frame in size.
    """
    if frame.shape[:2] != mask.shape[:2]:
        raise InputError(f"frame {frame.shape[:2]} and mask {mask.shape[:2]} differ in size")
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        raise InputError("the object to place has an empty mask")
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    side = float(rng.uniform(*scale)) * min(out_size)
    zoom = side / max(y1 - y0, x1 - x0)
    bh, bw = (y1 - y0) * zoom, (x1 - x0) * zoom
    ty = float(rng.uniform(0, max(0.0, out_size[0] - bh))) - y0 * zoom
    tx = float(rng.uniform(0, max(0.0, out_size[1] - bw))) - x0 * zoom
    m = np.array([[zoom, 0.0, tx], [0.0, zoom, ty]], np.float32)
    dsize = (out_size[1], out_size[0])
    moved = cv2.warpAffine(frame, m, dsize, flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    obj = (mask > 0).astype(np.uint8)
    return moved, cv2.warpAffine(obj, m, dsize, flags=cv2.INTER_NEAREST, borderValue=0)


def paste_still_object(
    frames: list[np.ndarray],
    masks: list[np.ndarray],
    donor: tuple[np.ndarray, np.ndarray],
    rng: np.random.Generator,
    recipe: StillClipRecipe | None = None,
    min_visible: float = 0.5,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Composite another image's object, moving on its own, over a still clip.

    The donor object is placed at random (:func:`place_object`), given its own still-clip
    warps (:func:`still_clip`) and drawn on top of every frame with the next free label.
    A placement that hides more than ``1 - min_visible`` of any of the clip's objects in
    any frame is redrawn (up to ``recipe.retries`` times, then the last is kept), so the
    clip's own objects stay targets.

    Args:
        frames: The clip's RGB frames.
        masks: Their label maps (0 background, 255 ignored).
        donor: ``(image, binary mask)`` of the object to paste (any size).
        rng: Random generator (the only source of randomness).
        recipe: The warp ranges of the pasted object (default :class:`StillClipRecipe`).
        min_visible: Least visible share of each of the clip's objects per frame.

    Returns:
        The composited frames and label maps (the pasted object has label
        ``max(label) + 1``, ignoring 255).

    Raises:
        InputError: Frames and masks differ in number or size, or the label space is full.
    """
    if len(frames) != len(masks) or any(f.shape[:2] != m.shape[:2] for f, m in zip(frames, masks)):
        raise InputError("a still clip's frames and label maps must match in number and size")
    recipe = recipe or StillClipRecipe()
    size = frames[0].shape[:2]
    labels = np.unique(np.stack(masks))
    new_id = int(max([int(i) for i in labels if i != 255] + [0])) + 1
    if new_id >= 255:
        raise InputError("no free label left for a pasted object")
    own = [{int(i): int((m == i).sum()) for i in np.unique(m) if i not in (0, 255)} for m in masks]
    for _attempt in range(recipe.retries + 1):
        image, obj = place_object(*donor, rng, size)
        d_frames, d_masks = still_clip(image, obj, rng, len(frames), size, recipe)
        visible = all(
            int(((m == i) & (d == 0)).sum()) >= min_visible * n
            for m, d, areas in zip(masks, d_masks, own)
            for i, n in areas.items()
        )
        if visible:
            break
    out_frames, out_masks = [], []
    for f, m, df, dm in zip(frames, masks, d_frames, d_masks):
        on = dm > 0
        f, m = f.copy(), m.copy()
        f[on] = df[on]
        m[on] = new_id
        out_frames.append(f)
        out_masks.append(m)
    return out_frames, out_masks
