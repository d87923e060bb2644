"""Reading frames from folders and video files, and the errors for bad files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vosframe.core.errors import DataError, InputError
from vosframe.data import (
    FolderFrames,
    VideoFrames,
    VideoWriter,
    list_images,
    open_frames,
    read_frame,
)


def _write_rgb(path: Path, rgb: np.ndarray, quality: int = 95) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(
        str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )


def _red(h: int = 24, w: int = 32) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = 250
    return img


def test_folder_frames_are_rgb_lazy_and_naturally_sorted(tmp_path: Path) -> None:
    for name in ("frame10.png", "frame2.png", "frame1.jpg"):
        _write_rgb(tmp_path / name, _red())
    (tmp_path / ".DS_Store").write_bytes(b"\0")  # hidden files are ignored
    frames = open_frames(tmp_path)
    assert isinstance(frames, FolderFrames)
    assert frames.names == ["frame1", "frame2", "frame10"]
    assert len(frames) == 3
    first = frames[0]
    assert first.dtype == np.uint8 and first.shape == (24, 32, 3)
    assert first[..., 0].mean() > 200 and first[..., 2].mean() < 30  # RGB, not BGR
    assert sum(1 for _ in frames) == 3


def test_video_file_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    with VideoWriter(path, fps=10) as writer:
        for i in range(6):
            img = _red(48, 64)
            img[:, : 8 * (i + 1), 1] = 200
            writer.write(img)
    video = open_frames(path)
    assert isinstance(video, VideoFrames)
    frames = list(video)
    assert len(frames) == 6 and len(video) == 6
    assert frames[0].shape == (48, 64, 3)
    assert frames[0][..., 0].mean() > 150  # red stays red after the BGR round trip
    np.testing.assert_allclose(video[3].astype(float), frames[3].astype(float), atol=2)
    assert video.names[:2] == ["00000", "00001"]


def test_corrupt_and_truncated_images(tmp_path: Path) -> None:
    (tmp_path / "garbage.jpg").write_bytes(b"this is not a jpeg")
    with pytest.raises(DataError, match="garbage.jpg is corrupt"):
        read_frame(tmp_path / "garbage.jpg")
    _write_rgb(
        tmp_path / "ok.jpg", np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)
    )
    data = (tmp_path / "ok.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="truncated JPEG"):
        read_frame(tmp_path / "cut.jpg")
    with pytest.raises(DataError, match="does not exist"):
        read_frame(tmp_path / "missing.jpg")


def test_folder_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="is empty"):
        FolderFrames(empty)
    mixed = tmp_path / "mixed"
    _write_rgb(mixed / "00000.jpg", _red())
    (mixed / "notes.txt").write_text("x")
    with pytest.raises(DataError, match="non-frame file 'notes.txt'"):
        list_images(mixed)
    with pytest.raises(DataError, match="does not exist"):
        open_frames(tmp_path / "nope")
    (tmp_path / "doc.txt").write_text("x")
    with pytest.raises(InputError, match="neither a folder"):
        open_frames(tmp_path / "doc.txt")
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    with pytest.raises(DataError, match="bad.mp4"):
        open_frames(tmp_path / "bad.mp4")
