"""Offline image sources for synthetic clips: scikit-image photos, shapes and cut-outs.

The photos are read straight from the files scikit-image ships in ``skimage/data`` (no
``pooch`` download is ever attempted); the ``horse`` silhouette is the one real shape
among them. Procedural shapes (polygons, ellipses, smooth blobs) complete the set. Real
object cut-outs (image + exact mask) can be taken from annotated sequences, e.g. DAVIS
2016 ``train_240p`` (never from validation data).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from vosframe.core.errors import DataError
from vosframe.data.datasets import VideoSequence

PHOTOS: tuple[str, ...] = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "hubble_deep_field.jpg",
    "ihc.png",
    "motorcycle_left.png",
    "motorcycle_right.png",
)
"""Colour photos shipped with scikit-image (backgrounds and object textures)."""

GRAY_TEXTURES: tuple[str, ...] = ("brick.png", "grass.png", "gravel.png", "camera.png", "moon.png")
"""Grayscale images shipped with scikit-image, tinted to make object textures."""

SHAPES: tuple[str, ...] = ("polygon", "ellipse", "blob", "horse")
"""Kinds of procedural object shapes."""


def skimage_data_dir() -> Path:
    """Folder of the sample images installed with scikit-image."""
    import skimage

    return Path(skimage.__file__).resolve().parent / "data"


def available_photos() -> list[str]:
    """The :data:`PHOTOS` present in this scikit-image installation."""
    folder = skimage_data_dir()
    return [name for name in PHOTOS if (folder / name).is_file()]


def load_skimage_image(name: str) -> np.ndarray:
    """Read one scikit-image sample file as RGB ``uint8`` (grayscale is replicated).

    Raises:
        DataError: The file is not in the installed scikit-image.
    """
    path = skimage_data_dir() / name
    try:
        with Image.open(path) as image:
            rgb = np.asarray(image.convert("RGB"))
    except OSError:
        raise DataError(
            f"scikit-image sample {name} is not available at {path}; reinstall scikit-image"
        ) from None
    return np.ascontiguousarray(rgb)


def random_photo(rng: np.random.Generator, exclude: Iterable[str] = ()) -> tuple[str, np.ndarray]:
    """A random available photo (name and RGB array), avoiding ``exclude`` when possible."""
    names = available_photos()
    if not names:
        raise DataError("no scikit-image sample photo is installed; reinstall scikit-image")
    pool = [n for n in names if n not in set(exclude)] or names
    name = pool[int(rng.integers(len(pool)))]
    return name, load_skimage_image(name)


def noise_texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """Smooth random colour texture ``size x size x 3`` (fallback and variety)."""
    cells = int(rng.integers(3, 9))
    small = rng.integers(0, 256, size=(cells, cells, 3)).astype(np.uint8)
    return cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)


def random_texture(rng: np.random.Generator, size: int, exclude: Iterable[str] = ()) -> np.ndarray:
    """A ``size x size`` RGB texture: a photo crop, a tinted grayscale image or smooth noise."""
    kind = rng.random()
    folder = skimage_data_dir()
    grays = [n for n in GRAY_TEXTURES if (folder / n).is_file()]
    if kind < 0.6:
        _, image = random_photo(rng, exclude)
    elif kind < 0.9 and grays:
        gray = load_skimage_image(grays[int(rng.integers(len(grays)))]).astype(np.float32)
        tint = rng.uniform(0.3, 1.0, size=3).astype(np.float32)
        image = np.clip(gray * tint, 0, 255).astype(np.uint8)
    else:
        return noise_texture(rng, size)
    h, w = image.shape[:2]
    crop = int(min(h, w) * rng.uniform(0.3, 0.8))
    y = int(rng.integers(0, h - crop + 1))
    x = int(rng.integers(0, w - crop + 1))
    return cv2.resize(image[y : y + crop, x : x + crop], (size, size), interpolation=cv2.INTER_AREA)


def random_shape(rng: np.random.Generator, size: int, kind: str | None = None) -> np.ndarray:
    """A boolean ``size x size`` object shape that stays inside the central 80 %.

    Args:
        rng: Random generator.
        size: Side of the sprite.
        kind: One of :data:`SHAPES` (random when ``None``).

    Returns:
        Boolean mask with at least one pixel.
    """
    kind = kind or SHAPES[int(rng.integers(len(SHAPES)))]
    c = (size - 1) / 2.0
    r_max = 0.4 * size
    mask = np.zeros((size, size), np.uint8)
    if kind == "polygon":
        n = int(rng.integers(5, 11))
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radii = rng.uniform(0.45, 1.0, n) * r_max
        pts = np.stack([c + radii * np.cos(angles), c + radii * np.sin(angles)], axis=1)
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    elif kind == "ellipse":
        axes = (int(r_max * rng.uniform(0.5, 1.0)), int(r_max * rng.uniform(0.35, 1.0)))
        cv2.ellipse(mask, (int(c), int(c)), axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    elif kind == "blob":
        cells = int(rng.integers(3, 6))
        field = cv2.resize(
            rng.normal(size=(cells, cells)), (size, size), interpolation=cv2.INTER_CUBIC
        )
        yy, xx = np.mgrid[0:size, 0:size]
        radial = np.hypot(yy - c, xx - c) / r_max
        mask = ((field + 1.5 * (1.0 - radial)) > 0.8).astype(np.uint8)
        mask[radial > 1.0] = 0
        mask = _largest_component(mask)
    elif kind == "horse":
        mask = _horse(size, r_max)
    else:
        raise DataError(f"unknown shape kind {kind!r}; use one of {SHAPES}")
    if not mask.any():  # degenerate draw: fall back to a disc
        cv2.circle(mask, (int(c), int(c)), max(int(r_max / 2), 1), 1, -1)
    return mask.astype(bool)


def _largest_component(mask: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return mask
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return (labels == best).astype(np.uint8)


def _horse(size: int, r_max: float) -> np.ndarray:
    path = skimage_data_dir() / "horse.png"
    mask = np.zeros((size, size), np.uint8)
    if not path.is_file():
        cv2.circle(mask, (size // 2, size // 2), int(r_max), 1, -1)
        return mask
    with Image.open(path) as image:
        horse = (np.asarray(image.convert("L")) < 128).astype(np.uint8)  # black horse on white
    ys, xs = np.nonzero(horse)
    horse = horse[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = horse.shape
    scale = 2 * r_max / max(h, w)
    nh, nw = max(int(h * scale), 1), max(int(w * scale), 1)
    small = cv2.resize(horse, (nw, nh), interpolation=cv2.INTER_NEAREST)
    y0, x0 = (size - nh) // 2, (size - nw) // 2
    mask[y0 : y0 + nh, x0 : x0 + nw] = small
    return mask


def cutouts_from_sequences(
    sequences: Iterable[VideoSequence],
    per_sequence: int = 2,
    min_pixels: int = 400,
    seed: int = 0,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cut real objects (RGB crop + exact boolean mask) out of annotated sequences.

    Use training data only (e.g. DAVIS 2016 ``train_240p``), never validation sequences.

    Args:
        sequences: Annotated sequences.
        per_sequence: Annotated frames sampled per sequence.
        min_pixels: Objects smaller than this are skipped.
        seed: Frame-sampling seed.

    Returns:
        ``(rgb, mask)`` pairs cropped to each object's bounding box.
    """
    rng = np.random.default_rng(seed)
    out = []
    for seq in sequences:
        annotated = seq.annotated_indices
        if not annotated:
            continue
        picks = rng.choice(annotated, size=min(per_sequence, len(annotated)), replace=False)
        for index in sorted(int(i) for i in picks):
            frame, labels = seq.read_frame(index), seq.read_mask(index)
            for obj in np.unique(labels):
                if obj in (0, 255):
                    continue
                mask = labels == obj
                if mask.sum() < min_pixels:
                    continue
                ys, xs = np.nonzero(mask)
                box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
                out.append((frame[box].copy(), mask[box].copy()))
    return out


def cutout_sprite(
    cutout: tuple[np.ndarray, np.ndarray], size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fit a cut-out into a ``size x size`` sprite (central 80 %), keeping its aspect ratio."""
    rgb, mask = cutout
    h, w = mask.shape
    scale = 0.8 * size / max(h, w)
    nh, nw = max(int(h * scale), 1), max(int(w * scale), 1)
    sprite_rgb = np.zeros((size, size, 3), np.uint8)
    sprite_mask = np.zeros((size, size), bool)
    y0, x0 = (size - nh) // 2, (size - nw) // 2
    sprite_rgb[y0 : y0 + nh, x0 : x0 + nw] = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA)
    sprite_mask[y0 : y0 + nh, x0 : x0 + nw] = cv2.resize(
        mask.astype(np.uint8), (nw, nh), interpolation=cv2.INTER_NEAREST
    ).astype(bool)
    return sprite_rgb, sprite_mask
