"""Reading video frames: a folder of images or a video file, streamed lazily.

Frames are returned as RGB ``uint8`` arrays ``H x W x 3`` (OpenCV's BGR is converted).
Every reading error is a :class:`~vosframe.core.errors.DataError` naming the file and the fix.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs
import cv2
import numpy as np

from vosframe.core.errors import DataError, InputError

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
)
"""File suffixes (lower case) accepted as frame images."""

VIDEO_EXTENSIONS: frozenset[str] = frozenset(
    {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"}
)
"""File suffixes (lower case) opened as video files."""

_JPEG_SOI = b"\xff\xd8"
_JPEG_EOI = b"\xff\xd9"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_LIBJPEG_PROBLEMS = ("Corrupt JPEG data", "Premature end of JPEG file", "Invalid JPEG file")
"""Starts of libjpeg's messages for damaged data that it decodes anyway (grey blocks)."""

_STDERR_LOCK = threading.Lock()


class CorruptFrameWarning(UserWarning):
    """A frame decoded, but its decoder reported damaged data (part of it may be grey)."""


@contextlib.contextmanager
def _captured_stderr_fd() -> Iterator[list[str]]:
    """Capture what C libraries write to file descriptor 2 (libjpeg prints its warnings
    there and OpenCV exposes no other way to see them). Yields a list that holds the text
    on exit; text that is not from the decoder is written back to stderr."""
    text: list[str] = []
    with _STDERR_LOCK, tempfile.TemporaryFile() as tmp:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(tmp.fileno(), 2)
            yield text
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text.append(tmp.read().decode("utf-8", "replace"))


def resize_short_side(image: np.ndarray, short: int | None, nearest: bool = False) -> np.ndarray:
    """Resize a frame or label map so that its shorter side is ``short`` (None: as is).

    Label maps (``nearest``) use nearest-neighbour sampling; frames are interpolated
    bilinearly when enlarged and area-averaged when reduced.
    """
    h, w = image.shape[:2]
    if short is None or min(h, w) == short:
        return image
    s = short / min(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    mode = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR if s > 1 else cv2.INTER_AREA
    return cv2.resize(image, size, interpolation=mode)


def natural_key(name: str) -> tuple:
    """Sort key that orders ``frame2`` before ``frame10`` (zero-padded names are unchanged)."""
    return tuple(int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name))


def list_images(
    folder: str | Path,
    extensions: Iterable[str] = IMAGE_EXTENSIONS,
    what: str = "frame",
) -> list[Path]:
    """List the image files of a folder in natural order.

    Hidden files (``.DS_Store``, ...) are ignored; any other file or folder that is not an
    image with one of ``extensions`` is an error, so that a stray file never shifts the
    frame numbering silently.

    Args:
        folder: Folder holding the images.
        extensions: Accepted suffixes (lower case, with the dot).
        what: Word used in error messages (``"frame"``, ``"mask"``).

    Returns:
        Sorted list of paths (at least one).

    Raises:
        DataError: The folder is missing, empty, or holds a non-image entry.
    """
    folder = Path(folder)
    exts = {e.lower() for e in extensions}
    if not folder.is_dir():
        raise DataError(f"{what} folder {folder} does not exist or is not a folder; check the path")
    files: list[Path] = []
    for entry in folder.iterdir():
        if entry.name.startswith("."):
            continue
        if not entry.is_file() or entry.suffix.lower() not in exts:
            kind = "folder" if entry.is_dir() else "file"
            raise DataError(
                f"{what} folder {folder} contains the non-{what} {kind} {entry.name!r}; "
                f"a {what} folder may only hold {'/'.join(sorted(exts))} files: "
                "move it elsewhere"
            )
        files.append(entry)
    if not files:
        raise DataError(
            f"{what} folder {folder} is empty; put the {what} images "
            f"({'/'.join(sorted(exts))}) in it"
        )
    return sorted(files, key=lambda p: natural_key(p.name))


def read_image_bytes(path: str | Path) -> bytes:
    """Read a file's bytes, turning a missing or unreadable file into a ``DataError``."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"image {path} does not exist; check the path") from None
    except OSError as exc:
        raise DataError(f"cannot read image {path}: {exc}; check its permissions") from None


def decode_rgb(data: bytes, source: str | Path = "<bytes>") -> np.ndarray:
    """Decode encoded image bytes (JPEG, PNG, ...) into an RGB ``uint8`` array.

    Args:
        data: Encoded image.
        source: Name used in error messages.

    Returns:
        ``H x W x 3`` RGB array.

    Raises:
        DataError: The bytes are not a decodable image, or a JPEG is truncated.

    Warns:
        CorruptFrameWarning: A JPEG decoded with damaged data (libjpeg's own message is
            printed without a file name; this warning names ``source``).
    """
    if data.startswith(_JPEG_SOI) and _JPEG_EOI not in data[-1024:]:
        raise DataError(
            f"image {source} is a truncated JPEG (no end-of-image marker); "
            "re-extract or re-download the frame"
        )
    if data.startswith(_PNG_SIGNATURE):
        _verify_png(data, source)
    if data.startswith(_JPEG_SOI):
        with _captured_stderr_fd() as captured:
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        _report_decoder_messages(captured[0], source)
    else:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise DataError(
            f"image {source} is corrupt or not an image OpenCV can decode; "
            "replace the file (re-extract the frame)"
        )
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _verify_png(data: bytes, source: str | Path) -> None:
    """Check a PNG's chunk checksums (OpenCV decodes a PNG whose header is damaged, e.g.
    with a wrong height, without complaint)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except Exception as exc:  # PIL raises many types for damaged files
        raise DataError(
            f"image {source} is a damaged PNG ({type(exc).__name__}: {exc}); "
            "replace the file (re-extract the frame)"
        ) from None


def _report_decoder_messages(text: str, source: str | Path) -> None:
    problems = [ln for ln in text.splitlines() if ln.startswith(_LIBJPEG_PROBLEMS)]
    other = "".join(f"{ln}\n" for ln in text.splitlines() if ln and ln not in problems)
    if other:
        sys.stderr.write(other)
    if problems:
        warnings.warn(
            f"frame {source} is a damaged JPEG ({problems[0].strip()}); it was decoded, but "
            f"part of it may be grey or garbled and its masks wrong. Fix: re-extract or "
            f"re-download the frame.",
            CorruptFrameWarning,
            stacklevel=4,
        )


def read_frame(path: str | Path) -> np.ndarray:
    """Read one frame as an RGB ``uint8`` array ``H x W x 3``.

    Raises:
        DataError: The file is missing, corrupt or truncated.
    """
    return decode_rgb(read_image_bytes(path), path)


@attrs.define(eq=False)
class FolderFrames:
    """Frames of a folder of images, read lazily one at a time.

    Attributes:
        folder: The folder.
        paths: Image paths in natural order (listed and checked at construction).
    """

    folder: Path = attrs.field(converter=Path)
    paths: tuple[Path, ...] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.paths = tuple(list_images(self.folder))

    @property
    def names(self) -> list[str]:
        """Frame names (file stems), e.g. ``00000``."""
        return [p.stem for p in self.paths]

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> np.ndarray:
        return read_frame(self.paths[index])

    def __iter__(self) -> Iterator[np.ndarray]:
        for p in self.paths:
            yield read_frame(p)


@attrs.define(eq=False)
class VideoFrames:
    """Frames of a video file decoded with OpenCV, streamed lazily.

    Attributes:
        path: The video file.
        fps: Frame rate reported by the container (0 when unknown).
    """

    path: Path = attrs.field(converter=Path)
    fps: float = attrs.field(init=False, default=0.0)
    _count: int = attrs.field(init=False, default=0, repr=False)

    def __attrs_post_init__(self) -> None:
        if not self.path.is_file():
            raise DataError(f"video {self.path} does not exist; check the path")
        cap = self._open()
        try:
            self.fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
            self._count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            ok, _ = cap.read()
        finally:
            cap.release()
        if not ok:
            raise DataError(
                f"video {self.path} has no decodable frame; the file is empty or corrupt"
            )

    def _open(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            raise DataError(
                f"cannot open video {self.path}: OpenCV cannot decode it; "
                "convert it to mp4 (H.264) or extract the frames to a folder"
            )
        return cap

    @property
    def names(self) -> list[str]:
        """Frame names ``00000``, ``00001``, ... (from the container's frame count)."""
        return [f"{i:05d}" for i in range(len(self))]

    def __len__(self) -> int:
        """Frame count reported by the container (may be approximate for some codecs)."""
        return self._count

    def __iter__(self) -> Iterator[np.ndarray]:
        cap = self._open()
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    return
                yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        finally:
            cap.release()

    def __getitem__(self, index: int) -> np.ndarray:
        if index < 0:
            index += len(self)
        cap = self._open()
        try:
            cap.set(cv2.CAP_PROP_POS_FRAMES, index)
            ok, frame = cap.read()
        finally:
            cap.release()
        if not ok:
            raise IndexError(f"frame {index} is beyond the end of video {self.path}")
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def open_frames(source: str | Path) -> FolderFrames | VideoFrames:
    """Open a frame source: a folder of images or a video file.

    Args:
        source: Folder of JPEG/PNG frames, or a video file (``.mp4``, ``.avi``, ...).

    Returns:
        A lazy, iterable, indexable frame sequence with ``names``.

    Raises:
        DataError: The path is missing, empty or unreadable.
        InputError: The path is a file that is not a known video type.
    """
    source = Path(source)
    if source.is_dir():
        return FolderFrames(source)
    if not source.exists():
        raise DataError(f"frame source {source} does not exist; give a folder or a video file")
    if source.suffix.lower() not in VIDEO_EXTENSIONS:
        raise InputError(
            f"{source} is neither a folder of frames nor a video file "
            f"({'/'.join(sorted(VIDEO_EXTENSIONS))}); pass one of those"
        )
    return VideoFrames(source)
