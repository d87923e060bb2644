"""FRTM's first-frame augmenter, on the CPU with OpenCV.

Cut the object out, inpaint the hole (``cv2.INPAINT_TELEA``), optionally zoom and blur the
background, then paste the object back warped (rotation, scale, mirror, skew, motion blur)
at a new position on a jittered grid. Parameter lists are shuffled and drawn without
replacement, as in the official ``ImageAugmenter.generate_specs2``; the values are those
of the official ``evaluate.py``. The official code warps with a CUDA NPP extension; this
module uses ``cv2.warpAffine`` (bicubic for images, nearest for masks), which is what the
official code itself does for CPU tensors. Randomness comes from a
``numpy.random.Generator`` seeded per call, so an object's samples are reproducible.
"""

from __future__ import annotations

from typing import Any

import attrs
import cv2
import numpy as np
import torch


@attrs.frozen
class AugmentParams:
    """Augmentation choices (official test values).

    Foreground lists are sampled without replacement per batch of specs; ``bg_*`` apply to
    the inpainted background (zoom about the centre, blur).
    """

    rotation: tuple[float, ...] = (5, -5, 10, -10, 20, -20, 30, -30, 45, -45)
    fliplr: tuple[bool, ...] = (False, False, False, False, True)
    scale: tuple[float, ...] = (0.5, 0.7, 1.0, 1.5, 2.0, 2.5)
    skew: tuple[tuple[float, float], ...] = ((0.0, 0.0), (0.0, 0.0), (0.1, 0.1))
    blur_size: tuple[float, ...] = (0.0, 0.0, 0.0, 2.0)
    blur_angle: tuple[float, ...] = (0, 45, 90, 135)
    bg_scale: tuple[float, ...] = (1.0, 1.0, 1.2)
    bg_blur_size: tuple[float, ...] = (0.0, 0.0, 1.0, 2.0, 5.0)
    bg_blur_angle: tuple[float, ...] = (0, 45, 90, 135)
    min_size: int = 10
    min_px_count: int = 1
    max_retries: int = 100


def _draw(rng: np.random.Generator, values: tuple[Any, ...], n: int) -> list[Any]:
    """``n`` values drawn without replacement from ``values`` repeated as often as needed."""
    pool = list(values) * ((n + len(values) - 1) // len(values))
    order = rng.permutation(len(pool))
    return [pool[i] for i in order[:n]]


def _translate(dx: float, dy: float) -> np.ndarray:
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], dtype=np.float64)


def _rotate(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]], dtype=np.float64)


def _scale(sx: float, sy: float) -> np.ndarray:
    return np.array([[sx, 0, 0], [0, sy, 0], [0, 0, 1]], dtype=np.float64)


def _skew(kx: float, ky: float) -> np.ndarray:
    return np.array([[1, kx, 0], [ky, 1, 0], [0, 0, 1]], dtype=np.float64)


def blur_kernel(size: float, angle_deg: float) -> np.ndarray | None:
    """Oriented Gaussian motion-blur kernel of the official augmenter (None: no blur)."""
    if size <= 0:
        return None
    R = _rotate(np.deg2rad(angle_deg))[:2, :2]
    cov = R @ np.diag((size, 0.1)) @ R.T
    s = int(max(size, 0.1) / 2 + 0.5)
    s = s + (s + 1) % 2  # odd
    r = np.arange(-s, s + 1)
    X = np.stack(np.meshgrid(r, r))
    q = (X * np.tensordot(np.linalg.inv(cov), X, axes=[1, 0])).sum(0)
    G = np.exp(-0.5 * q)
    return (G / G.sum()).astype(np.float32)


def _filter(image: np.ndarray, kernel: np.ndarray | None) -> np.ndarray:
    if kernel is None:
        return image
    # Zero padding, as the official per-channel conv2d(padding=k//2).
    return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_CONSTANT)


def _warp(image: np.ndarray, tf: np.ndarray, size: tuple[int, int], nearest: bool) -> np.ndarray:
    flags = cv2.INTER_NEAREST if nearest else cv2.INTER_CUBIC
    out = cv2.warpAffine(image, tf[:2].astype(np.float32), (size[1], size[0]), flags=flags)
    return out if out.ndim == image.ndim else out[..., None]


def target_locations(n: int, size: tuple[int, int], rng: np.random.Generator) -> list[tuple]:
    """A jittered grid of ``>= n`` object centres (fractions of width, height), shuffled."""
    h, w = size
    aspect = w / h
    nrows = int(np.ceil(np.sqrt(n / aspect)))
    ncols = int(np.ceil(aspect * nrows))
    centres = []
    for r in range(nrows):
        for c in range(ncols):
            x = (c + 0.5) / ncols + rng.normal(0, 0.5 / ncols / 4)
            y = (r + 0.5) / nrows + rng.normal(0, 0.5 / nrows / 4)
            centres.append((round(float(x), 3), round(float(y), 3)))
    return [centres[i] for i in rng.permutation(len(centres))[:n]]


def _bbox(mask: np.ndarray) -> tuple[float, float, int, int]:
    ys = np.nonzero(mask.any(axis=1))[0]
    xs = np.nonzero(mask.any(axis=0))[0]
    w, h = int(xs[-1] - xs[0] + 1), int(ys[-1] - ys[0] + 1)
    return xs[0] + w / 2, ys[0] + h / 2, w, h


def _object_transform(
    loc: tuple[float, float],
    rotation: float,
    flip: bool,
    scale: float,
    skew: tuple,
    bbox: tuple[float, float, int, int],
    size: tuple[int, int],
    min_size: int,
) -> np.ndarray:
    tx, ty, tw, th = bbox
    H, W = size
    s = scale
    if s * tw > W or s * th > H:
        s = min(W / tw, H / th)
    if s * tw < min_size or s * th < min_size:
        s = max(min_size / tw, min_size / th)
    m = -1 if flip else 1
    return (
        _translate(loc[0] * W, loc[1] * H)
        @ _skew(*skew)
        @ _rotate(np.deg2rad(rotation))
        @ _scale(m * s, s)
        @ _translate(-tx, -ty)
    )


def cut_and_inpaint(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut the object out as RGBA and inpaint the hole (official ``d=1, f=1`` settings).

    With ``d = f = 1`` the official erosion and border blur are no-ops; the hole is the
    mask dilated by a 2x2 ellipse, inpainted with Telea's method, radius 1.

    Args:
        image: ``(H, W, 3)`` uint8.
        mask: ``(H, W)`` uint8 in {0, 1}.

    Returns:
        ``(target, background)``: ``(H, W, 4)`` uint8 RGBA cut-out and ``(H, W, 3)`` uint8.
    """
    m = mask[..., None]
    target = np.concatenate((image * m, m * 255), axis=-1).astype(np.uint8)
    hole = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2, 2)))
    background = cv2.inpaint(image, hole, 1, cv2.INPAINT_TELEA)
    return target, background


def augment_arrays(
    image: np.ndarray,
    mask: np.ndarray,
    num: int,
    rng: np.random.Generator,
    params: AugmentParams | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Make ``num`` augmented copies of a frame (the original is not included).

    Args:
        image: ``(H, W, 3)`` uint8 RGB.
        mask: ``(H, W)`` uint8 in {0, 1}.
        num: Number of augmented samples.
        rng: Random generator.
        params: Augmentation choices (None: :class:`AugmentParams` defaults).

    Returns:
        Lists of ``(H, W, 3)`` uint8 images and ``(H, W)`` uint8 masks; fewer than ``num``
        (possibly none) if the object is empty or no valid sample is found.
    """
    params = params or AugmentParams()
    size = image.shape[:2]
    px = int(mask.sum())
    if num <= 0 or px < params.min_px_count:
        return [], []
    no_background = px == mask.size
    bbox = _bbox(mask)
    target, background = cut_and_inpaint(image, mask)
    target_f = target.astype(np.float32)
    background_f = background.astype(np.float32)
    locations = target_locations(num + 1, size, rng)
    images: list[np.ndarray] = []
    masks: list[np.ndarray] = []
    max_px = mask.size - params.min_px_count
    for _ in range(params.max_retries + 1):
        fg = {
            k: _draw(rng, getattr(params, k), num)
            for k in ("rotation", "fliplr", "scale", "skew", "blur_size", "blur_angle")
        }
        locs = _draw(rng, tuple(locations), num)
        bg = {
            k: _draw(rng, getattr(params, k), num)
            for k in ("bg_scale", "bg_blur_size", "bg_blur_angle")
        }
        for i in range(num):
            h, w = size
            Tb = (
                _translate(w / 2, h / 2)
                @ _scale(bg["bg_scale"][i], bg["bg_scale"][i])
                @ _translate(-w / 2, -h / 2)
            )
            wimage = _warp(background_f, Tb, size, nearest=False)
            wimage = _filter(
                np.clip(wimage, 0, 255), blur_kernel(bg["bg_blur_size"][i], bg["bg_blur_angle"][i])
            )
            T = _object_transform(
                locs[i],
                fg["rotation"][i],
                fg["fliplr"][i],
                fg["scale"][i],
                fg["skew"][i],
                bbox,
                size,
                params.min_size,
            )
            wtarget = np.clip(_warp(target_f, T, size, nearest=False), 0, 255)
            wtarget = _filter(wtarget, blur_kernel(fg["blur_size"][i], fg["blur_angle"][i]))
            wmask = _warp(mask, T, size, nearest=True)
            alpha = wtarget[..., 3:] / 255
            out = (wtarget[..., :3] * alpha + wimage * (1 - alpha)).astype(np.uint8)
            n_px = int(wmask.sum())
            if n_px >= params.min_px_count and (n_px < max_px or no_background):
                images.append(out)
                masks.append(wmask)
        if len(images) >= num:
            break
    if len(images) > num:
        keep = rng.permutation(len(images))[:num]
        images = [images[i] for i in keep]
        masks = [masks[i] for i in keep]
    return images, masks


def augment_first_frame(
    image: torch.Tensor,
    mask: torch.Tensor,
    num: int,
    seed: int = 0,
    params: AugmentParams | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Augment a first frame for target-model initialisation.

    Args:
        image: ``(1, 3, H, W)`` RGB in ``[0, 1]``.
        mask: ``(1, 1, H, W)`` mask (``> 0.5`` is the object).
        num: Number of augmented samples (FRTM: ``num_aug - 1``).
        seed: Seed of the random generator (same seed, same samples).
        params: Augmentation choices (None: :class:`AugmentParams` defaults).

    Returns:
        ``(images, masks)``: ``(K, 3, H, W)`` in ``[0, 1]`` and ``(K, 1, H, W)`` in {0, 1},
        ``K <= num``, on the input's device and with the image's dtype.
    """
    im = (image[0].detach().float().clamp(0, 1) * 255).round().byte().permute(1, 2, 0)
    im_np = np.ascontiguousarray(im.cpu().numpy())
    m_np = np.ascontiguousarray((mask[0, 0] > 0.5).cpu().numpy().astype(np.uint8))
    images, masks = augment_arrays(im_np, m_np, num, np.random.default_rng(seed), params)
    H, W = im_np.shape[:2]
    if not images:
        return image.new_zeros(0, 3, H, W), image.new_zeros(0, 1, H, W)
    ims = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div_(255)
    ms = torch.from_numpy(np.stack(masks)).float()[:, None]
    return ims.to(image.device, image.dtype), ms.to(image.device, image.dtype)
