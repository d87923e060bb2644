"""Overlays: mask colours blended on frames, written as PNG frames or an mp4 video."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import attrs
import cv2
import numpy as np

from vosframe.core.errors import DataError, InputError
from vosframe.data.masks import check_label_map, davis_palette


def overlay(
    frame: np.ndarray,
    mask: np.ndarray,
    alpha: float = 0.5,
    contour: bool = True,
    palette: np.ndarray | None = None,
) -> np.ndarray:
    """Blend object colours over a frame.

    Args:
        frame: RGB ``uint8`` frame ``H x W x 3``.
        mask: Label map ``H x W`` (0 is background and stays untouched).
        alpha: Opacity of the colours in object pixels (0..1).
        contour: Draw each object's outline in its colour at full opacity.
        palette: ``(N, 3)`` colours (default: DAVIS palette).

    Returns:
        New RGB ``uint8`` frame.

    Raises:
        InputError: Bad shapes, dtypes or ``alpha``.
    """
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise InputError(
            f"overlay needs an RGB uint8 frame H x W x 3, got {frame.shape} {frame.dtype}"
        )
    labels = check_label_map(mask)
    if labels.shape != frame.shape[:2]:
        raise InputError(
            f"mask is {labels.shape[1]}x{labels.shape[0]} but the frame is "
            f"{frame.shape[1]}x{frame.shape[0]}; resize the mask to the frame first"
        )
    if not 0.0 <= alpha <= 1.0:
        raise InputError(f"alpha must be in [0, 1], got {alpha}")
    pal = davis_palette() if palette is None else np.asarray(palette, dtype=np.uint8)
    colours = pal[labels].astype(np.float32)
    out = frame.astype(np.float32)
    fg = labels > 0
    out[fg] = (1.0 - alpha) * out[fg] + alpha * colours[fg]
    result = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    if contour:
        for obj in np.unique(labels[fg]):
            binary = (labels == obj).astype(np.uint8)
            edge = binary - cv2.erode(binary, np.ones((3, 3), np.uint8))
            result[edge > 0] = pal[obj]
    return result


def write_overlay_frames(
    out_dir: str | Path,
    frames: Iterable[np.ndarray],
    masks: Iterable[np.ndarray],
    names: Iterable[str] | None = None,
    alpha: float = 0.5,
) -> list[Path]:
    """Write overlays as PNG files ``<out_dir>/<name>.png``.

    Args:
        out_dir: Output folder (created).
        frames: RGB frames.
        masks: Label maps, one per frame.
        names: File stems (default ``00000``, ``00001``, ...).
        alpha: Colour opacity.

    Returns:
        The written paths.

    Raises:
        InputError: Different numbers of frames and masks, or bad arrays.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    name_iter = iter(names) if names is not None else None
    for i, (frame, mask) in enumerate(_pairs(frames, masks)):
        name = next(name_iter, None) if name_iter is not None else None
        path = out_dir / f"{name if name is not None else f'{i:05d}'}.png"
        image = cv2.cvtColor(overlay(frame, mask, alpha), cv2.COLOR_RGB2BGR)
        if not cv2.imwrite(str(path), image):
            raise DataError(f"cannot write {path}; check that the folder is writable")
        paths.append(path)
    return paths


@attrs.define(eq=False)
class VideoWriter:
    """Writes RGB frames to an mp4 file (OpenCV ``mp4v``); usable as a context manager.

    Attributes:
        path: Output video file.
        fps: Frame rate.
    """

    path: Path = attrs.field(converter=Path)
    fps: float = 24.0
    _writer: cv2.VideoWriter | None = attrs.field(init=False, default=None, repr=False)
    _size: tuple[int, int] | None = attrs.field(init=False, default=None, repr=False)
    count: int = attrs.field(init=False, default=0)

    def write(self, frame: np.ndarray) -> None:
        """Append one RGB ``uint8`` frame (all frames must have the first frame's size)."""
        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise InputError(f"video frames must be RGB uint8 H x W x 3, got {frame.shape}")
        size = (frame.shape[1], frame.shape[0])
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fourcc = cv2.VideoWriter_fourcc(*"mp4v")
            self._writer = cv2.VideoWriter(str(self.path), fourcc, float(self.fps), size)
            if not self._writer.isOpened():
                self._writer = None
                raise DataError(
                    f"OpenCV cannot open {self.path} for writing (mp4v); check the folder "
                    "and the .mp4 suffix, or write PNG frames instead"
                )
            self._size = size
        elif size != self._size:
            raise InputError(f"frame {self.count} is {size}, earlier frames were {self._size}")
        self._writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        self.count += 1

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_overlay_video(
    path: str | Path,
    frames: Iterable[np.ndarray],
    masks: Iterable[np.ndarray],
    fps: float = 24.0,
    alpha: float = 0.5,
) -> Path:
    """Write overlays as an mp4 video.

    Args:
        path: Output ``.mp4`` file.
        frames: RGB frames.
        masks: Label maps, one per frame.
        fps: Frame rate.
        alpha: Colour opacity.

    Returns:
        The written path.

    Raises:
        InputError: Different numbers of frames and masks, or no frame at all.
    """
    path = Path(path)
    with VideoWriter(path, fps) as writer:
        for frame, mask in _pairs(frames, masks):
            writer.write(overlay(frame, mask, alpha))
        if writer.count == 0:
            raise InputError("no frame to write; give at least one frame and mask")
    return path


def _pairs(frames: Iterable[np.ndarray], masks: Iterable[np.ndarray]):
    frame_iter, mask_iter = iter(frames), iter(masks)
    index = 0
    while True:
        frame = next(frame_iter, None)
        mask = next(mask_iter, None)
        if frame is None and mask is None:
            return
        if frame is None or mask is None:
            have = "masks" if frame is None else "frames"
            raise InputError(
                f"more {have} than {'frames' if frame is None else 'masks'}: "
                f"the other ran out at index {index}; give one mask per frame"
            )
        yield frame, mask
        index += 1
