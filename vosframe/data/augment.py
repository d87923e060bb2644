"""Clip augmentation for training: random affine, crop, flip and colour jitter.

One :class:`ClipAugment` call transforms all frames of a clip and their masks with the same
geometry family: a clip-level scale, crop position and horizontal flip, plus a small
independent affine per frame (rotation, scale, shear, translation), as in the STM / STCN
training recipes. Masks use nearest-neighbour warping, so labels stay exact; pixels warped
in from outside the image are black in the frame and background in the mask.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs
import cv2
import numpy as np

from vosframe.core.errors import InputError


def _pair(value: Sequence[float]) -> tuple[float, float]:
    lo, hi = (float(v) for v in value)
    if lo > hi:
        raise InputError(f"range ({lo}, {hi}) has its bounds swapped")
    return lo, hi


def affine_matrix(
    center: tuple[float, float],
    angle_deg: float = 0.0,
    scale: float = 1.0,
    shear_deg: float = 0.0,
    translate: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """3x3 affine about ``center``: shear, then rotate and scale, then translate.

    Args:
        center: ``(x, y)`` fixed point of rotation, scale and shear.
        angle_deg: Counter-clockwise rotation in degrees.
        scale: Isotropic scale factor.
        shear_deg: Horizontal shear angle in degrees.
        translate: ``(dx, dy)`` added after the linear part.

    Returns:
        ``3 x 3`` float64 matrix acting on homogeneous ``(x, y, 1)`` columns.
    """
    cx, cy = center
    a = math.radians(angle_deg)
    rot = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]]) * scale
    shear = np.array([[1.0, math.tan(math.radians(shear_deg))], [0.0, 1.0]])
    lin = rot @ shear
    m = np.eye(3)
    m[:2, :2] = lin
    m[:2, 2] = np.array([cx, cy]) - lin @ np.array([cx, cy]) + np.asarray(translate)
    return m


@attrs.frozen
class ClipAugment:
    """Random geometric and photometric augmentation of a clip.

    Attributes:
        scale: Clip-level zoom range relative to "shorter side fits the output".
        rotation: Per-frame rotation range (+- degrees).
        frame_scale: Per-frame extra zoom range.
        shear: Per-frame shear range (+- degrees).
        translate: Per-frame shift range as a fraction of the output size.
        flip_prob: Probability of a clip-level horizontal flip.
        brightness: Clip-level brightness jitter (+- fraction).
        contrast: Clip-level contrast jitter (+- fraction).
        saturation: Clip-level saturation jitter (+- fraction).
        hue: Clip-level hue jitter (+- fraction of the hue circle).
        frame_jitter: Extra per-frame brightness/contrast jitter (+- fraction).
    """

    scale: tuple[float, float] = attrs.field(default=(0.8, 1.25), converter=_pair)
    rotation: float = 15.0
    frame_scale: tuple[float, float] = attrs.field(default=(0.9, 1.1), converter=_pair)
    shear: float = 10.0
    translate: float = 0.05
    flip_prob: float = 0.5
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    hue: float = 0.02
    frame_jitter: float = 0.03

    @classmethod
    def disabled(cls) -> ClipAugment:
        """No randomness: a centred resize-and-crop to the output size."""
        return cls(
            scale=(1.0, 1.0),
            rotation=0.0,
            frame_scale=(1.0, 1.0),
            shear=0.0,
            translate=0.0,
            flip_prob=0.0,
            brightness=0.0,
            contrast=0.0,
            saturation=0.0,
            hue=0.0,
            frame_jitter=0.0,
        )

    def sample_geometry(
        self,
        rng: np.random.Generator,
        n_frames: int,
        in_size: tuple[int, int],
        out_size: tuple[int, int],
    ) -> list[np.ndarray]:
        """Per-frame ``2 x 3`` matrices mapping input pixels to the output crop."""
        h, w = in_size
        oh, ow = out_size
        base = max(oh / h, ow / w) * rng.uniform(*self.scale)
        # crop centre: anywhere that keeps the crop inside the scaled image when possible
        sh, sw = h * base, w * base
        cx = rng.uniform(min(ow / 2, sw / 2), max(sw - ow / 2, sw / 2))
        cy = rng.uniform(min(oh / 2, sh / 2), max(sh - oh / 2, sh / 2))
        to_crop = np.array([[base, 0, ow / 2 - cx], [0, base, oh / 2 - cy], [0, 0, 1.0]])
        if rng.random() < self.flip_prob:
            to_crop = np.array([[-1.0, 0, ow - 1], [0, 1, 0], [0, 0, 1]]) @ to_crop
        out = []
        for _ in range(n_frames):
            jitter = affine_matrix(
                (ow / 2, oh / 2),
                rng.uniform(-self.rotation, self.rotation),
                rng.uniform(*self.frame_scale),
                rng.uniform(-self.shear, self.shear),
                (
                    rng.uniform(-self.translate, self.translate) * ow,
                    rng.uniform(-self.translate, self.translate) * oh,
                ),
            )
            out.append((jitter @ to_crop)[:2])
        return out

    def colour(self, rng: np.random.Generator, frames: list[np.ndarray]) -> list[np.ndarray]:
        """Apply clip-level colour jitter plus a small per-frame jitter."""
        b = 1.0 + rng.uniform(-self.brightness, self.brightness)
        c = 1.0 + rng.uniform(-self.contrast, self.contrast)
        s = 1.0 + rng.uniform(-self.saturation, self.saturation)
        hshift = rng.uniform(-self.hue, self.hue) * 180.0
        out = []
        for frame in frames:
            fb = b * (1.0 + rng.uniform(-self.frame_jitter, self.frame_jitter))
            fc = c * (1.0 + rng.uniform(-self.frame_jitter, self.frame_jitter))
            out.append(jitter_colour(frame, fb, fc, s, hshift))
        return out

    def __call__(
        self,
        rng: np.random.Generator,
        frames: list[np.ndarray],
        masks: list[np.ndarray],
        out_size: tuple[int, int],
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Augment a clip.

        Args:
            rng: Random generator (the only source of randomness).
            frames: RGB ``uint8`` frames of one size.
            masks: Label maps of the same size.
            out_size: Output ``(H, W)``.

        Returns:
            Augmented frames and masks, all ``out_size``.
        """
        if len(frames) != len(masks):
            raise InputError(f"{len(frames)} frames but {len(masks)} masks")
        matrices = self.sample_geometry(rng, len(frames), frames[0].shape[:2], out_size)
        dsize = (out_size[1], out_size[0])
        warped_frames = [
            cv2.warpAffine(f, m, dsize, flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
            for f, m in zip(frames, matrices)
        ]
        warped_masks = [
            cv2.warpAffine(k, m, dsize, flags=cv2.INTER_NEAREST, borderValue=0)
            for k, m in zip(masks, matrices)
        ]
        return self.colour(rng, warped_frames), warped_masks


def jitter_colour(
    frame: np.ndarray, brightness: float, contrast: float, saturation: float, hue_shift: float
) -> np.ndarray:
    """Brightness/contrast/saturation factors and a hue shift (OpenCV hue units, 0..180)."""
    out = frame.astype(np.float32)
    if brightness != 1.0:
        out *= brightness
    if contrast != 1.0:
        mean = out.mean()
        out = (out - mean) * contrast + mean
    out = np.clip(out, 0, 255)
    if saturation != 1.0 or hue_shift != 0.0:
        hsv = cv2.cvtColor(out.astype(np.uint8), cv2.COLOR_RGB2HSV).astype(np.float32)
        hsv[..., 0] = np.mod(hsv[..., 0] + hue_shift, 180.0)
        hsv[..., 1] = np.clip(hsv[..., 1] * saturation, 0, 255)
        return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)
    return np.rint(out).astype(np.uint8)
