"""Reading and writing label masks: indexed palette PNGs, binary PNGs, per-object folders.

A mask is an integer label map ``H x W`` (``uint8``): 0 is background, 1..254 are object
ids (possibly non-contiguous) and 255 is DAVIS's "void" label in indexed masks. Label PNGs
are read with PIL, because OpenCV expands palette PNGs to colour.

Formats accepted by :func:`read_mask`:

* indexed (``P`` mode) PNGs: the palette indices are the labels (DAVIS 2017, YouTube-VOS);
* grayscale (``L``/``1`` mode, or 16-bit ``I;16``/``I``) PNGs with values in {0, 255}:
  DAVIS 2016 binary masks, where 255 is object 1 (in ``auto`` format; 8 and 16 bits read
  alike, and a 16-bit {0, 65535} mask too); other grayscale values are labels as they are,
  except a soft-edged (anti-aliased) binary mask, which ``auto`` reads as binary with a
  warning (see :func:`is_soft_binary`) instead of one object per grey level;
* RGB PNGs whose colours are all DAVIS-palette colours (converted back to indices).

Masks are written as indexed PNGs with the DAVIS palette (:func:`write_mask`).
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, UnidentifiedImageError

from vosframe.core.errors import DataError, InputError
from vosframe.data.frames import list_images, natural_key, read_image_bytes

MaskFormat = Literal["auto", "indexed", "binary"]
"""How to interpret mask values.

``indexed``: values are labels as stored. ``binary``: any non-zero value is object 1.
``auto``: binary for grayscale PNGs whose values are all in {0, 255} (DAVIS 2016), binary
with a warning for a soft-edged grayscale mask (:func:`is_soft_binary`), indexed otherwise.
"""

MASK_FORMATS: tuple[str, ...] = ("auto", "binary", "indexed")
"""The accepted values of :data:`MaskFormat`."""

GRAY_MODES: frozenset[str] = frozenset({"L", "1", "I", "I;16"})
"""PIL modes of grayscale PNGs (8-bit, 1-bit and 16-bit)."""

SOFT_MAX_LEVELS = 16
"""A grayscale mask with more distinct non-zero values than this is a soft (anti-aliased or
blurred) mask, not a label map: no dataset stores that many objects as grey levels."""

SOFT_EDGE_SHARE = 0.1
"""A grayscale mask whose largest value holds all but this share of its non-zero pixels,
the rest spread over other grey levels, is a binary mask with soft edges."""


class SoftMaskWarning(UserWarning):
    """A grayscale mask looked soft-edged and was read as binary (``auto`` format)."""


VOID_LABEL = 255
"""DAVIS "void" label in indexed masks (set to background by the semi-supervised protocol)."""

MASK_EXTENSIONS: frozenset[str] = frozenset({".png"})
"""Mask files must be PNGs (lossy formats corrupt labels)."""


def davis_palette() -> np.ndarray:
    """The DAVIS / PASCAL VOC palette: 256 RGB colours, index 1 is ``(128, 0, 0)``.

    Returns:
        A new ``(256, 3)`` ``uint8`` array.
    """
    index = np.arange(256)
    palette = np.zeros((256, 3), dtype=np.int64)
    for bit in range(8):
        for channel in range(3):
            palette[:, channel] |= ((index >> (3 * bit + channel)) & 1) << (7 - bit)
    return palette.astype(np.uint8)


def read_label_png(path: str | Path) -> tuple[np.ndarray, str]:
    """Read a label PNG as stored, with PIL.

    Args:
        path: PNG file.

    Returns:
        ``(array, mode)``: the array ``np.array(Image.open(path))`` (palette indices for
        ``P`` mode, values for ``L``) and the PIL mode; RGB PNGs are converted to DAVIS
        palette indices and reported as mode ``P``.

    Raises:
        DataError: The file is missing, corrupt, not a PNG, or an RGB/RGBA PNG with colours
            outside the DAVIS palette.
    """
    path = Path(path)
    data = read_image_bytes(path)
    try:
        with Image.open(io.BytesIO(data)) as image:
            mode = image.mode
            if image.format != "PNG":
                raise DataError(
                    f"mask {path} is a {image.format} file; masks must be PNGs "
                    "(lossy formats corrupt labels): save it as an indexed PNG"
                )
            image.load()
            if mode in ("RGB", "RGBA"):
                return _rgb_to_labels(np.asarray(image.convert("RGB")), path), "P"
            if mode not in ("P", "L", "1", "I", "I;16"):
                raise DataError(
                    f"mask {path} has PIL mode {mode}; write masks as indexed (P) or "
                    "grayscale (L) PNGs, e.g. with vosframe.data.write_mask"
                )
            array = np.array(image)
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise DataError(f"mask {path} is corrupt or not a PNG ({exc}); replace the file") from None
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    elif array.dtype != np.uint8:
        if array.size and np.isin(array, (0, 65535)).all() and array.max() == 65535:
            array = np.where(array > 0, 255, 0)  # 16-bit binary mask: same as 8-bit 0/255
        if array.min() < 0 or array.max() > 255:
            raise DataError(f"mask {path} has labels outside 0..255; object ids must fit in uint8")
        array = array.astype(np.uint8)
    return array, mode


def _rgb_to_labels(rgb: np.ndarray, path: Path) -> np.ndarray:
    palette = davis_palette().astype(np.int64)
    codes = (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
    pal_codes = (palette[:, 0] << 16) | (palette[:, 1] << 8) | palette[:, 2]
    order = np.argsort(pal_codes, kind="stable")
    sorted_codes = pal_codes[order]
    pos = np.clip(np.searchsorted(sorted_codes, codes), 0, 255)
    found = sorted_codes[pos] == codes
    if not found.all():
        bad = rgb[~found][0]
        raise DataError(
            f"mask {path} is an RGB PNG with colour {tuple(int(c) for c in bad)}, which is not "
            "a DAVIS palette colour; save masks as indexed (P) PNGs"
        )
    return order[pos].astype(np.uint8)


def is_binary_png(array: np.ndarray, mode: str) -> bool:
    """True for a grayscale PNG (8 or 16 bits) whose values are all in {0, 255} (DAVIS 2016)."""
    if mode not in GRAY_MODES:
        return False
    values = np.unique(array)
    return bool(np.isin(values, (0, 255)).all())


def is_soft_binary(array: np.ndarray, mode: str) -> bool:
    """True for a grayscale mask that is a binary mask with soft (anti-aliased) edges.

    That is: more than :data:`SOFT_MAX_LEVELS` distinct non-zero values, or a largest value
    of at least 128 that holds all but :data:`SOFT_EDGE_SHARE` of the non-zero pixels while
    other grey levels hold the rest. Palette (``P``) masks are never soft: their values are
    labels by construction.
    """
    if mode not in GRAY_MODES or is_binary_png(array, mode):
        return False
    values, counts = np.unique(array[array > 0], return_counts=True)
    if len(values) > SOFT_MAX_LEVELS:
        return True
    if len(values) < 2 or values[-1] < 128:
        return False
    return bool(counts[-1] >= (1.0 - SOFT_EDGE_SHARE) * counts.sum())


def _check_format(fmt: str) -> None:
    if fmt not in MASK_FORMATS:
        raise InputError(
            f"unknown mask format {fmt!r}; use {', '.join(repr(f) for f in MASK_FORMATS)} "
            "(on the command line: --mask-format auto|binary|indexed)"
        )


def _soft_to_binary(array: np.ndarray, path: str | Path) -> np.ndarray:
    levels = len(np.unique(array))
    warnings.warn(
        f"mask {path} is a grayscale mask with {levels} grey levels (soft or anti-aliased "
        f"edges); reading it as binary (pixels >= half the largest value are the object). "
        f"Fix: pass --mask-format binary (read_mask(..., fmt='binary')) to say so, or "
        f"--mask-format indexed if the grey levels are object ids.",
        SoftMaskWarning,
        stacklevel=3,
    )
    return _half_max(array)


def _half_max(array: np.ndarray) -> np.ndarray:
    """Binary reading of a soft mask: pixels at least half the largest value are object 1."""
    top = int(array.max(initial=0))
    return ((array.astype(np.int64) * 2 >= top) & (array > 0)).astype(np.uint8)


def read_mask(path: str | Path, fmt: MaskFormat = "auto") -> np.ndarray:
    """Read a mask PNG as a label map.

    Args:
        path: PNG file (indexed, grayscale or DAVIS-palette RGB).
        fmt: ``auto``, ``indexed`` or ``binary`` (see :data:`MaskFormat`).

    Returns:
        ``uint8`` label map ``H x W``.

    Raises:
        DataError: The file is missing, corrupt or not a usable PNG.
        InputError: ``fmt`` is unknown.

    Warns:
        SoftMaskWarning: ``auto`` read a soft-edged grayscale mask as binary.
    """
    _check_format(fmt)
    array, mode = read_label_png(path)
    if fmt == "binary" or (fmt == "auto" and is_binary_png(array, mode)):
        return (array > 0).astype(np.uint8)
    if fmt == "auto" and is_soft_binary(array, mode):
        return _soft_to_binary(array, path)
    return array


def list_masks(folder: str | Path) -> list[Path]:
    """List the PNG masks of a folder in natural order (errors as :func:`list_images`)."""
    return list_images(folder, MASK_EXTENSIONS, what="mask")


def read_masks(folder: str | Path, fmt: MaskFormat = "auto") -> dict[str, np.ndarray]:
    """Read every mask of a folder.

    In ``auto`` format the whole folder is treated as binary when its first mask is a
    {0, 255} grayscale PNG (DAVIS 2016), so all frames of a sequence are read alike.

    Args:
        folder: Folder of ``<frame>.png`` masks.
        fmt: Mask format (see :data:`MaskFormat`).

    Returns:
        Label maps keyed by frame name (file stem), in natural order.
    """
    _check_format(fmt)
    paths = list_masks(folder)
    if fmt == "auto":
        first, mode = read_label_png(paths[0])
        if is_soft_binary(first, mode):
            _soft_to_binary(first, paths[0])  # warns once for the whole folder
            masks = {p.stem: _half_max(read_label_png(p)[0]) for p in paths}
            _check_same_shape(masks, Path(folder))
            return masks
        fmt = "binary" if is_binary_png(first, mode) else "indexed"
    masks = {p.stem: read_mask(p, fmt) for p in paths}
    _check_same_shape(masks, Path(folder))
    return masks


def read_object_folders(root: str | Path) -> dict[str, np.ndarray]:
    """Merge per-object binary mask folders ``root/<object id>/<frame>.png`` into label maps.

    Each sub-folder is named by its integer object id and holds binary PNGs (any non-zero
    pixel is the object) for some frames. Where objects overlap, the higher id wins.

    Args:
        root: Folder of per-object folders.

    Returns:
        Label maps keyed by frame name, in natural order, for every frame any object has.

    Raises:
        DataError: A sub-folder name is not an id in 1..254, the folder holds files, or
            masks of one frame differ in size.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"object mask folder {root} does not exist; check the path")
    objects: list[tuple[int, Path]] = []
    for entry in root.iterdir():
        if entry.name.startswith("."):
            continue
        if not entry.is_dir() or not entry.name.isdigit() or not 1 <= int(entry.name) <= 254:
            raise DataError(
                f"{root} should only hold one folder per object named by its id (1..254), "
                f"found {entry.name!r}; move it elsewhere"
            )
        objects.append((int(entry.name), entry))
    if not objects:
        raise DataError(f"object mask folder {root} is empty; add one folder per object id")
    merged: dict[str, np.ndarray] = {}
    for obj_id, folder in sorted(objects):
        for path in list_masks(folder):
            binary = read_mask(path, "binary").astype(bool)
            current = merged.get(path.stem)
            if current is None:
                current = merged[path.stem] = np.zeros(binary.shape, np.uint8)
            if current.shape != binary.shape:
                raise DataError(
                    f"mask {path} is {binary.shape[1]}x{binary.shape[0]} but other objects' "
                    f"masks of frame {path.stem} are {current.shape[1]}x{current.shape[0]}; "
                    "all masks of a frame must have the same size"
                )
            current[binary] = obj_id
    return {k: merged[k] for k in sorted(merged, key=natural_key)}


def _check_same_shape(masks: dict[str, np.ndarray], folder: Path) -> None:
    shapes = {m.shape for m in masks.values()}
    if len(shapes) > 1:
        raise DataError(
            f"masks in {folder} have different sizes {sorted(shapes)}; "
            "all masks of a sequence must have the same size"
        )


def check_label_map(mask: np.ndarray, name: str = "mask") -> np.ndarray:
    """Validate an in-memory label map and return it as ``uint8``.

    Raises:
        InputError: Not 2-D, not an integer/bool array, or labels outside 0..255.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise InputError(f"{name} must be a 2-D label map H x W, got shape {mask.shape}")
    if mask.dtype == bool:
        return mask.astype(np.uint8)
    if not np.issubdtype(mask.dtype, np.integer):
        raise InputError(
            f"{name} must hold integer labels, got dtype {mask.dtype}; "
            "convert probabilities to labels (argmax) first"
        )
    if mask.size and (mask.min() < 0 or mask.max() > 255):
        raise InputError(f"{name} has labels outside 0..255; object ids must fit in uint8")
    return mask.astype(np.uint8, copy=False)


def write_mask(path: str | Path, mask: np.ndarray, palette: np.ndarray | None = None) -> Path:
    """Write a label map as an indexed PNG with the DAVIS palette.

    Args:
        path: Output file (``.png``); parent folders are created.
        mask: Label map ``H x W`` with labels 0..255.
        palette: Optional ``(N, 3)`` palette (defaults to :func:`davis_palette`).

    Returns:
        The written path.

    Raises:
        InputError: The mask is not a valid label map or the path is not a ``.png``.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InputError(f"masks are written as PNG; {path} has suffix {path.suffix!r}")
    labels = check_label_map(mask)
    pal = davis_palette() if palette is None else np.asarray(palette, dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = labels.shape
    image = Image.frombytes("P", (width, height), np.ascontiguousarray(labels).tobytes())
    image.putpalette(pal.reshape(-1).tolist())
    image.save(path, format="PNG")
    return path


def colorize(mask: np.ndarray, palette: np.ndarray | None = None) -> np.ndarray:
    """Map a label map to RGB colours (DAVIS palette by default)."""
    labels = check_label_map(mask)
    pal = davis_palette() if palette is None else np.asarray(palette, dtype=np.uint8)
    return pal[labels]
